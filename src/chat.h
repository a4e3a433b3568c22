/* Chat templates (internal): llama.cpp's built-in renderer, not a Jinja engine.
 *
 * The family is detected from the text of `tokenizer.chat_template` with the same heuristics as llama.cpp's
 * llm_chat_detect_template (a template may also be given by family name: "chatml", "llama3", "zephyr", ...),
 * and messages are rendered exactly as llama.cpp's llm_chat_apply_template renders them.
 * A missing (NULL) template renders ChatML, as llama.cpp does; an unrecognised template also renders ChatML but
 * reports the family PLM_CHAT_FALLBACK so callers can warn that the model's own format is not known.
 */
#ifndef PLM_CHAT_H
#define PLM_CHAT_H

#include "pocketlm.h"

#define PLM_CHAT_FALLBACK "chatml-fallback"

/* Family name detected for a template text ("chatml", "llama2-sys", "llama3", ...), or NULL when unknown. */
const char *plm_chat_detect(const char *tmpl);

/* Renders msgs (+ the assistant prompt when add_assistant). bos_text / eos_text are the model's BOS / EOS token
 * texts; llama.cpp's renderer writes the literal strings each family was built for, so they only serve as a
 * fallback should a family need them (none does today) and may be NULL.
 * Returns the bytes needed (excluding the NUL); writes up to cap bytes (NUL-terminated when there is room);
 * -1 on bad arguments. *family (if given) gets the family name, PLM_CHAT_FALLBACK for an unknown template. */
int plm_chat_render(const char *tmpl, const plm_chat_message *msgs, int n, int add_assistant, const char *bos_text,
                    const char *eos_text, char *buf, int cap, const char **family);

#endif
