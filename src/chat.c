/* Chat templates: llama.cpp's llm_chat_detect_template (substring heuristics over the Jinja text) and
 * llm_chat_apply_template (one hand-written renderer per family), reproduced byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "chat.h"

enum fam {
    F_UNKNOWN, F_CHATML, F_LLAMA2, F_LLAMA2_SYS, F_LLAMA2_SYS_BOS, F_LLAMA2_SYS_STRIP, F_MISTRAL_V1, F_MISTRAL_V3,
    F_MISTRAL_V3_TEKKEN, F_MISTRAL_V7, F_MISTRAL_V7_TEKKEN, F_PHI3, F_PHI4, F_FALCON3, F_ZEPHYR, F_MONARCH, F_GEMMA,
    F_ORION, F_OPENCHAT, F_VICUNA, F_VICUNA_ORCA, F_DEEPSEEK, F_DEEPSEEK2, F_DEEPSEEK3, F_COMMAND_R, F_LLAMA3,
    F_CHATGLM3, F_CHATGLM4, F_GLMEDGE, F_MINICPM, F_EXAONE3, F_EXAONE4, F_RWKV_WORLD, F_GRANITE, F_GIGACHAT,
    F_MEGREZ, F_YANDEX, F_BAILING, F_BAILING_THINK, F_BAILING2, F_LLAMA4, F_SMOLVLM, F_DOTS1, F_HUNYUAN_MOE, F_OPENAI_MOE,
    F_HUNYUAN_DENSE, F_KIMI_K2, F_SEED_OSS, F_GROK2, F_PANGU_EMBED, F_COUNT
};

/* family names as llama.cpp spells them (llama_chat_builtin_templates) */
static const char *const fam_names[F_COUNT] = {
    [F_CHATML] = "chatml", [F_LLAMA2] = "llama2", [F_LLAMA2_SYS] = "llama2-sys",
    [F_LLAMA2_SYS_BOS] = "llama2-sys-bos", [F_LLAMA2_SYS_STRIP] = "llama2-sys-strip",
    [F_MISTRAL_V1] = "mistral-v1", [F_MISTRAL_V3] = "mistral-v3", [F_MISTRAL_V3_TEKKEN] = "mistral-v3-tekken",
    [F_MISTRAL_V7] = "mistral-v7", [F_MISTRAL_V7_TEKKEN] = "mistral-v7-tekken", [F_PHI3] = "phi3", [F_PHI4] = "phi4",
    [F_FALCON3] = "falcon3", [F_ZEPHYR] = "zephyr", [F_MONARCH] = "monarch", [F_GEMMA] = "gemma", [F_ORION] = "orion",
    [F_OPENCHAT] = "openchat", [F_VICUNA] = "vicuna", [F_VICUNA_ORCA] = "vicuna-orca", [F_DEEPSEEK] = "deepseek",
    [F_DEEPSEEK2] = "deepseek2", [F_DEEPSEEK3] = "deepseek3", [F_COMMAND_R] = "command-r", [F_LLAMA3] = "llama3",
    [F_CHATGLM3] = "chatglm3", [F_CHATGLM4] = "chatglm4", [F_GLMEDGE] = "glmedge", [F_MINICPM] = "minicpm",
    [F_EXAONE3] = "exaone3", [F_EXAONE4] = "exaone4", [F_RWKV_WORLD] = "rwkv-world", [F_GRANITE] = "granite",
    [F_GIGACHAT] = "gigachat", [F_MEGREZ] = "megrez", [F_YANDEX] = "yandex", [F_BAILING] = "bailing",
    [F_BAILING_THINK] = "bailing-think", [F_BAILING2] = "bailing2", [F_LLAMA4] = "llama4", [F_SMOLVLM] = "smolvlm",
    [F_DOTS1] = "dots1", [F_HUNYUAN_MOE] = "hunyuan-moe", [F_OPENAI_MOE] = "gpt-oss", [F_HUNYUAN_DENSE] = "hunyuan-dense",
    [F_KIMI_K2] = "kimi-k2", [F_SEED_OSS] = "seed_oss", [F_GROK2] = "grok-2", [F_PANGU_EMBED] = "pangu-embedded",
};

#define U_BAR_L "\xef\xbd\x9c"     /* U+FF5C FULLWIDTH VERTICAL LINE */
#define U_SP "\xe2\x96\x81"        /* U+2581 LOWER ONE EIGHTH BLOCK */
#define DS_EOS "<" U_BAR_L "end" U_SP "of" U_SP "sentence" U_BAR_L ">"

static enum fam detect(const char *t) {
#define HAS(s) (strstr(t, (s)) != NULL)
    for (int f = 1; f < F_COUNT; f++)
        if (fam_names[f] && !strcmp(t, fam_names[f]) && f != F_DOTS1) return (enum fam)f; /* not a llama.cpp name */
    if (HAS("<|im_start|>")) {
        return HAS("<|im_sep|>") ? F_PHI4 : HAS("<end_of_utterance>") ? F_SMOLVLM : F_CHATML;
    } else if (strncmp(t, "mistral", 7) == 0 || HAS("[INST]")) {
        if (HAS("[SYSTEM_PROMPT]")) return F_MISTRAL_V7;
        if (HAS("' [INST] ' + system_message") || HAS("[AVAILABLE_TOOLS]")) {
            if (HAS(" [INST]")) return F_MISTRAL_V1;
            if (HAS("\"[INST]\"")) return F_MISTRAL_V3_TEKKEN;
            return F_MISTRAL_V3;
        }
        int sys = HAS("<<SYS>>"), bos_inside = HAS("bos_token + '[INST]"), strip = HAS("content.strip()");
        if (strip) return F_LLAMA2_SYS_STRIP;
        if (bos_inside) return F_LLAMA2_SYS_BOS;
        if (sys) return F_LLAMA2_SYS;
        return F_LLAMA2;
    } else if (HAS("<|assistant|>") && HAS("<|end|>")) {
        return F_PHI3;
    } else if (HAS("[gMASK]<sop>")) {
        return F_CHATGLM4;
    } else if (HAS("<|assistant|>") && HAS("<|user|>")) {
        return HAS("</s>") ? F_FALCON3 : F_GLMEDGE;
    } else if (HAS("<|{{ item['role'] }}|>") && HAS("<|begin_of_image|>")) {
        return F_GLMEDGE;
    } else if (HAS("<|user|>") && HAS("<|endoftext|>")) {
        return F_ZEPHYR;
    } else if (HAS("bos_token + message['role']")) {
        return F_MONARCH;
    } else if (HAS("<start_of_turn>")) {
        return F_GEMMA;
    } else if (HAS("'\\n\\nAssistant: ' + eos_token")) {
        return F_ORION;
    } else if (HAS("GPT4 Correct ")) {
        return F_OPENCHAT;
    } else if (HAS("USER: ") && HAS("ASSISTANT: ")) {
        return HAS("SYSTEM: ") ? F_VICUNA_ORCA : F_VICUNA;
    } else if (HAS("### Instruction:") && HAS("<|EOT|>")) {
        return F_DEEPSEEK;
    } else if (HAS("<|START_OF_TURN_TOKEN|>") && HAS("<|USER_TOKEN|>")) {
        return F_COMMAND_R;
    } else if (HAS("<|start_header_id|>") && HAS("<|end_header_id|>")) {
        return F_LLAMA3;
    } else if (HAS("[gMASK]sop")) {
        return F_CHATGLM3;
    } else if (HAS("<\xe7\x94\xa8\xe6\x88\xb7>")) { /* <用户> */
        return F_MINICPM;
    } else if (HAS("'Assistant: ' + message['content'] + eos_token")) {
        return F_DEEPSEEK2;
    } else if (HAS("<" U_BAR_L "Assistant" U_BAR_L ">") && HAS("<" U_BAR_L "User" U_BAR_L ">") && HAS(DS_EOS)) {
        return F_DEEPSEEK3;
    } else if (HAS("[|system|]") && HAS("[|assistant|]") && HAS("[|endofturn|]")) {
        return HAS("[|tool|]") ? F_EXAONE4 : F_EXAONE3;
    } else if (HAS("rwkv-world") || HAS("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}")) {
        return F_RWKV_WORLD;
    } else if (HAS("<|start_of_role|>")) {
        return F_GRANITE;
    } else if (HAS("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]")) {
        return F_GIGACHAT;
    } else if (HAS("<|role_start|>")) {
        return F_MEGREZ;
    } else if (HAS(" \xd0\x90\xd1\x81\xd1\x81\xd0\xb8\xd1\x81\xd1\x82\xd0\xb5\xd0\xbd\xd1\x82:")) { /* " Ассистент:" */
        return F_YANDEX;
    } else if (HAS("<role>ASSISTANT</role>") && HAS("'HUMAN'")) {
        return F_BAILING;
    } else if (HAS("<role>ASSISTANT</role>") && HAS("\"HUMAN\"") && HAS("<think>")) {
        return F_BAILING_THINK;
    } else if (HAS("<role>ASSISTANT</role>") && HAS("<role>HUMAN</role>") && HAS("<|role_end|>")) {
        return F_BAILING2;
    } else if (HAS("<|header_start|>") && HAS("<|header_end|>")) {
        return F_LLAMA4;
    } else if (HAS("<|endofuserprompt|>")) {
        return F_DOTS1;
    } else if (HAS("<|extra_0|>") && HAS("<|extra_4|>")) {
        return F_HUNYUAN_MOE;
    } else if (HAS("<|start|>") && HAS("<|channel|>")) {
        return F_OPENAI_MOE;
    } else if (HAS("<" U_BAR_L "hy_Assistant" U_BAR_L ">") &&
               HAS("<" U_BAR_L "hy_place" U_SP "holder" U_SP "no" U_SP "3" U_BAR_L ">")) {
        return F_HUNYUAN_DENSE;
    } else if (HAS("<|im_assistant|>assistant<|im_middle|>")) {
        return F_KIMI_K2;
    } else if (HAS("<seed:bos>")) {
        return F_SEED_OSS;
    } else if (HAS("'Assistant: '  + message['content'] + '<|separator|>")) {
        return F_GROK2;
    } else if (HAS("[unused9]系统：[unused10]")) {
        return F_PANGU_EMBED;
    }
    return F_UNKNOWN;
#undef HAS
}

const char *plm_chat_detect(const char *tmpl) {
    if (!tmpl) return fam_names[F_CHATML];
    enum fam f = detect(tmpl);
    return f == F_UNKNOWN ? NULL : fam_names[f];
}

/* ---- output ---- */

typedef struct out { char *buf; size_t cap, n; } out;

static void putn(out *o, const char *s, size_t n) {
    if (o->n < o->cap) {
        size_t k = o->cap - o->n < n ? o->cap - o->n : n;
        memcpy(o->buf + o->n, s, k);
    }
    o->n += n;
}
static void puts_(out *o, const char *s) { putn(o, s, strlen(s)); }

static int c_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

/* llama.cpp's trim(): C-locale isspace at both ends */
static void put_trim(out *o, const char *s) {
    size_t a = 0, b = strlen(s);
    while (a < b && c_space(s[a])) a++;
    while (b > a && c_space(s[b - 1])) b--;
    putn(o, s + a, b - a);
}

static int is(const char *role, const char *r) { return strcmp(role, r) == 0; }

/* Most families put fixed markers around each message. A turn: the text before and after the content of a message
 * with that role (role NULL: any role), "%r" in `pre` standing for the message's own role, and whether the content
 * is trimmed. The first turn that matches a message renders it; a message none matches is left out. `begin` comes
 * once before the messages, `gen` after them when the assistant's reply is asked for. */
typedef struct turn { const char *role, *pre, *post; int trim; } turn;
typedef struct layout { const char *begin, *gen; turn t[6]; } layout;

#define ANY NULL
#define SYS "system"
#define USR "user"
#define AST "assistant"
#define TOOL "tool"
#define USER_ZH "<\xe7\x94\xa8\xe6\x88\xb7>" /* <用户> */
#define USER_RU " \xd0\x9f\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xb7\xd0\xbe\xd0\xb2\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c: " /* " Пользователь: " */
#define ASSISTANT_RU " \xd0\x90\xd1\x81\xd1\x81\xd0\xb8\xd1\x81\xd1\x82\xd0\xb5\xd0\xbd\xd1\x82:" /* " Ассистент:" */
#define DS3(s) "<" U_BAR_L s U_BAR_L ">"

static const layout layouts[F_COUNT] = {
    [F_CHATML] = {"", "<|im_start|>assistant\n", {{ANY, "<|im_start|>%r\n", "<|im_end|>\n", 0}}},
    [F_MISTRAL_V7] = {"", "", {{SYS, "[SYSTEM_PROMPT] ", "[/SYSTEM_PROMPT]", 0}, {USR, "[INST] ", "[/INST]", 0},
                               {ANY, " ", "</s>", 0}}},
    [F_MISTRAL_V7_TEKKEN] = {"", "", {{SYS, "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", 0}, {USR, "[INST]", "[/INST]", 0},
                                      {ANY, "", "</s>", 0}}},
    [F_PHI3] = {"", "<|assistant|>\n", {{ANY, "<|%r|>\n", "<|end|>\n", 0}}},
    [F_PHI4] = {"", "<|im_start|>assistant<|im_sep|>", {{ANY, "<|im_start|>%r<|im_sep|>", "<|im_end|>", 0}}},
    [F_FALCON3] = {"", "<|assistant|>\n", {{ANY, "<|%r|>\n", "\n", 0}}},
    [F_ZEPHYR] = {"", "<|assistant|>\n", {{ANY, "<|%r|>\n", "<|endoftext|>\n", 0}}},
    [F_VICUNA] = {"", "ASSISTANT:", {{SYS, "", "\n\n", 0}, {USR, "USER: ", "\n", 0}, {AST, "ASSISTANT: ", "</s>\n", 0}}},
    [F_VICUNA_ORCA] = {"", "ASSISTANT:", {{SYS, "SYSTEM: ", "\n", 0}, {USR, "USER: ", "\n", 0},
                                          {AST, "ASSISTANT: ", "</s>\n", 0}}},
    [F_DEEPSEEK] = {"", "### Response:\n", {{SYS, "", "", 0}, {USR, "### Instruction:\n", "\n", 0},
                                            {AST, "### Response:\n", "\n<|EOT|>\n", 0}}},
    [F_DEEPSEEK2] = {"", "Assistant:", {{SYS, "", "\n\n", 0}, {USR, "User: ", "\n\n", 0}, {AST, "Assistant: ", DS_EOS, 0}}},
    [F_DEEPSEEK3] = {"", DS3("Assistant"), {{SYS, "", "\n\n", 0}, {USR, DS3("User"), "", 0},
                                            {AST, DS3("Assistant"), DS_EOS, 0}}},
    [F_COMMAND_R] = {"", "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
                     {{SYS, "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>", 1},
                      {USR, "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>", 1},
                      {AST, "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>", 1}}},
    [F_LLAMA3] = {"", "<|start_header_id|>assistant<|end_header_id|>\n\n",
                  {{ANY, "<|start_header_id|>%r<|end_header_id|>\n\n", "<|eot_id|>", 1}}},
    [F_CHATGLM3] = {"[gMASK]sop", "<|assistant|>", {{ANY, "<|%r|>\n ", "", 0}}},
    [F_CHATGLM4] = {"[gMASK]<sop>", "<|assistant|>\n", {{ANY, "<|%r|>\n", "", 0}}},
    [F_GLMEDGE] = {"", "<|assistant|>", {{ANY, "<|%r|>\n", "", 0}}},
    [F_MINICPM] = {"", "", {{USR, USER_ZH, "<AI>", 1}, {ANY, "", "", 1}}},
    [F_EXAONE3] = {"", "[|assistant|]", {{SYS, "[|system|]", "[|endofturn|]\n", 1}, {USR, "[|user|]", "\n", 1},
                                          {AST, "[|assistant|]", "[|endofturn|]\n", 1}}},
    [F_EXAONE4] = {"", "[|assistant|]", {{SYS, "[|system|]", "[|endofturn|]\n", 1}, {USR, "[|user|]", "\n", 1},
                                          {AST, "[|assistant|]", "[|endofturn|]\n", 1},
                                          {TOOL, "[|tool|]", "[|endofturn|]\n", 1}}},
    [F_GRANITE] = {"", "<|start_of_role|>assistant<|end_of_role|>",
                   {{"assistant_tool_call", "<|start_of_role|>%r<|end_of_role|><|tool_call|>", "<|end_of_text|>\n", 0},
                    {ANY, "<|start_of_role|>%r<|end_of_role|>", "<|end_of_text|>\n", 0}}},
    [F_MEGREZ] = {"", "<|role_start|>assistant<|role_end|>", {{ANY, "<|role_start|>%r<|role_end|>", "<|turn_end|>", 0}}},
    [F_YANDEX] = {"", ASSISTANT_RU "[SEP]", {{USR, USER_RU, "\n\n", 0}, {AST, ASSISTANT_RU " ", "\n\n", 0}}},
    [F_LLAMA4] = {"", "<|header_start|>assistant<|header_end|>\n\n",
                  {{ANY, "<|header_start|>%r<|header_end|>\n\n", "<|eot|>", 1}}},
    [F_SMOLVLM] = {"<|im_start|>", "Assistant:", {{SYS, "", "\n\n", 0}, {USR, "User: ", "<end_of_utterance>\n", 0},
                                                  {ANY, "Assistant: ", "<end_of_utterance>\n", 0}}},
    [F_DOTS1] = {"", "<|response|>", {{SYS, "<|system|>", "<|endofsystem|>", 0},
                                      {USR, "<|userprompt|>", "<|endofuserprompt|>", 0},
                                      {ANY, "<|response|>", "<|endofresponse|>", 0}}},
    [F_HUNYUAN_MOE] = {"", "", {{SYS, "<|startoftext|>", "<|extra_4|>", 0}, {AST, "", "<|eos|>", 0},
                                {ANY, "<|startoftext|>", "<|extra_0|>", 0}}},
    [F_OPENAI_MOE] = {"", "<|start|>assistant", {{AST, "<|start|>%r<|message|>", "<|return|>", 0},
                                                 {ANY, "<|start|>%r<|message|>", "<|end|>", 0}}},
    [F_KIMI_K2] = {"", "<|im_assistant|>assistant<|im_middle|>",
                   {{SYS, "<|im_system|>system<|im_middle|>", "<|im_end|>", 0},
                    {USR, "<|im_user|>user<|im_middle|>", "<|im_end|>", 0},
                    {AST, "<|im_assistant|>assistant<|im_middle|>", "<|im_end|>", 0},
                    {TOOL, "<|im_system|>tool<|im_middle|>", "<|im_end|>", 0}, {ANY, "", "<|im_end|>", 0}}},
    [F_SEED_OSS] = {"", "<seed:bos>assistant\n", {{AST, "<seed:bos>%r\n", "<seed:eos>", 1},
                                                 {ANY, "<seed:bos>%r\n", "<seed:eos>", 0}}},
    [F_GROK2] = {"", "Assistant:", {{SYS, "System: ", "<|separator|>\n\n", 1}, {USR, "Human: ", "<|separator|>\n\n", 1},
                                    {AST, "Assistant: ", "<|separator|>\n\n", 0}}},
};

static void put_content(out *o, const char *s, int trim) {
    if (trim) put_trim(o, s);
    else puts_(o, s);
}

/* `pre` with each "%r" replaced by role */
static void put_marker(out *o, const char *pre, const char *role) {
    for (const char *p; (p = strstr(pre, "%r")); pre = p + 2) {
        putn(o, pre, (size_t)(p - pre));
        puts_(o, role);
    }
    puts_(o, pre);
}

static void render_layout(const layout *l, const plm_chat_message *m, int n, int add_ass, out *o) {
    puts_(o, l->begin);
    for (int i = 0; i < n; i++) {
        const turn *t = l->t;
        while (t->pre && t->role && !is(m[i].role, t->role)) t++;
        if (!t->pre) continue;
        put_marker(o, t->pre, m[i].role);
        put_content(o, m[i].content, t->trim);
        puts_(o, t->post);
    }
    if (add_ass) puts_(o, l->gen);
}

/* the first n bytes of s (at most its length), ASCII letters in capitals */
static void put_upper(out *o, const char *s, size_t n) {
    for (; n && *s; s++, n--) {
        const char c = *s >= 'a' && *s <= 'z' ? (char)(*s - 32) : *s;
        putn(o, &c, 1);
    }
}

/* The families with state across messages: llama.cpp's renderers, one statement per line. */
static void render_mistral(enum fam f, const plm_chat_message *m, int n, out *o) {
    const char *lead = f == F_MISTRAL_V1 ? " " : "", *trail = f == F_MISTRAL_V3_TEKKEN ? "" : " ";
    int inside = 0;
    for (int i = 0; i < n; i++) {
        if (!inside) {
            puts_(o, lead);
            puts_(o, "[INST]");
            puts_(o, trail);
            inside = 1;
        }
        if (is(m[i].role, "system")) {
            puts_(o, m[i].content);
            puts_(o, "\n\n");
        } else if (is(m[i].role, "user")) {
            puts_(o, m[i].content);
            puts_(o, lead);
            puts_(o, "[/INST]");
        } else {
            puts_(o, trail);
            put_content(o, m[i].content, f == F_MISTRAL_V3);
            puts_(o, "</s>");
            inside = 0;
        }
    }
}

static void render_llama2(enum fam f, const plm_chat_message *m, int n, out *o) {
    const int sys = f != F_LLAMA2, strip = f == F_LLAMA2_SYS_STRIP;
    int inside = 1;
    puts_(o, "[INST] ");
    for (int i = 0; i < n; i++) {
        if (!inside) {
            inside = 1;
            puts_(o, f == F_LLAMA2_SYS_BOS ? "<s>[INST] " : "[INST] ");
        }
        if (is(m[i].role, "system") && sys) {
            puts_(o, "<<SYS>>\n");
            put_content(o, m[i].content, strip);
            puts_(o, "\n<</SYS>>\n\n");
        } else if (is(m[i].role, "system")) {
            put_content(o, m[i].content, strip);
            puts_(o, "\n");
        } else if (is(m[i].role, "user")) {
            put_content(o, m[i].content, strip);
            puts_(o, " [/INST]");
        } else {
            put_content(o, m[i].content, strip);
            puts_(o, "</s>");
            inside = 0;
        }
    }
}

/* Gemma and Orion have no system role: the system texts since the last user turn go in front of the next one
 * (Gemma: trimmed, and in front of any non-model turn). */
static void render_gemma(const plm_chat_message *m, int n, int add_ass, out *o) {
    int from = -1, to = -1;
    for (int i = 0; i < n; i++) {
        if (is(m[i].role, "system")) {
            if (from < 0) from = i;
            to = i;
            continue;
        }
        const char *role = is(m[i].role, "assistant") ? "model" : m[i].role;
        puts_(o, "<start_of_turn>");
        puts_(o, role);
        puts_(o, "\n");
        if (from >= 0 && !is(role, "model")) {
            const size_t before = o->n;
            for (int k = from; k <= to; k++)
                if (is(m[k].role, "system")) put_trim(o, m[k].content);
            if (o->n > before) puts_(o, "\n\n");
            from = to = -1;
        }
        put_trim(o, m[i].content);
        puts_(o, "<end_of_turn>\n");
    }
    if (add_ass) puts_(o, "<start_of_turn>model\n");
}

static void render_orion(const plm_chat_message *m, int n, out *o) {
    int from = -1, to = -1;
    for (int i = 0; i < n; i++) {
        if (is(m[i].role, "system")) {
            if (from < 0) from = i;
            to = i;
        } else if (is(m[i].role, "user")) {
            puts_(o, "Human: ");
            if (from >= 0) {
                const size_t before = o->n;
                for (int k = from; k <= to; k++)
                    if (is(m[k].role, "system")) puts_(o, m[k].content);
                if (o->n > before) puts_(o, "\n\n");
                from = to = -1;
            }
            puts_(o, m[i].content);
            puts_(o, "\n\nAssistant: </s>");
        } else {
            puts_(o, m[i].content);
            puts_(o, "</s>");
        }
    }
}

static void render(enum fam f, const plm_chat_message *m, int n, int add_ass, out *o) {
    if (f == F_UNKNOWN || f == F_COUNT) f = F_CHATML;
    if (layouts[f].t[0].pre) {
        render_layout(&layouts[f], m, n, add_ass, o);
        return;
    }
    switch (f) {
    case F_MISTRAL_V1:
    case F_MISTRAL_V3:
    case F_MISTRAL_V3_TEKKEN:
        render_mistral(f, m, n, o);
        break;
    case F_LLAMA2:
    case F_LLAMA2_SYS:
    case F_LLAMA2_SYS_BOS:
    case F_LLAMA2_SYS_STRIP:
        render_llama2(f, m, n, o);
        break;
    case F_GEMMA:
        render_gemma(m, n, add_ass, o);
        break;
    case F_ORION:
        render_orion(m, n, o);
        break;
    case F_MONARCH: /* <s> between messages, not before the first */
        for (int i = 0; i < n; i++) {
            if (i > 0) puts_(o, "<s>");
            puts_(o, m[i].role);
            puts_(o, "\n");
            puts_(o, m[i].content);
            puts_(o, "</s>\n");
        }
        if (add_ass) puts_(o, "<s>assistant\n");
        break;
    case F_OPENCHAT: /* the role, capitalized */
        for (int i = 0; i < n; i++) {
            if (!is(m[i].role, "system")) {
                const char *r = m[i].role;
                puts_(o, "GPT4 Correct ");
                put_upper(o, r, 1);
                puts_(o, *r ? r + 1 : "");
                puts_(o, ": ");
            }
            puts_(o, m[i].content);
            puts_(o, "<|end_of_turn|>");
        }
        if (add_ass) puts_(o, "GPT4 Correct Assistant:");
        break;
    case F_RWKV_WORLD: /* the assistant's cue only after a last user message */
        for (int i = 0; i < n; i++) {
            const char *tag = is(m[i].role, "system") ? "System: " : is(m[i].role, "user") ? "User: "
                            : is(m[i].role, "assistant") ? "Assistant: " : NULL;
            if (!tag) continue;
            puts_(o, tag);
            put_trim(o, m[i].content);
            puts_(o, "\n\n");
            if (i == n - 1 && is(m[i].role, "user")) puts_(o, "Assistant:");
        }
        break;
    case F_GIGACHAT: { /* a leading system message goes inside the opening <s> */
        const int has_sys = n > 0 && is(m[0].role, "system");
        puts_(o, "<s>");
        if (has_sys) {
            puts_(o, m[0].content);
            puts_(o, "<|message_sep|>");
        }
        for (int i = has_sys; i < n; i++) {
            if (is(m[i].role, "user")) {
                puts_(o, "user<|role_sep|>");
                puts_(o, m[i].content);
                puts_(o, "<|message_sep|>");
                puts_(o, "available functions<|role_sep|>[]<|message_sep|>");
            } else if (is(m[i].role, "assistant")) {
                puts_(o, "assistant<|role_sep|>");
                puts_(o, m[i].content);
                puts_(o, "<|message_sep|>");
            }
        }
        if (add_ass) puts_(o, "assistant<|role_sep|>");
        break;
    }
    case F_BAILING:
    case F_BAILING_THINK:
    case F_BAILING2: /* roles in capitals, user as HUMAN; bailing2 adds a default system turn */
        if (f == F_BAILING2 && !(n > 0 && is(m[0].role, "system")))
            puts_(o, "<role>SYSTEM</role>detailed thinking off<|role_end|>");
        for (int i = 0; i < n; i++) {
            puts_(o, "<role>");
            put_upper(o, is(m[i].role, "user") ? "HUMAN" : m[i].role, strlen(m[i].role) + 5);
            puts_(o, "</role>");
            puts_(o, m[i].content);
            if (f == F_BAILING2) puts_(o, "<|role_end|>");
        }
        if (add_ass) puts_(o, f == F_BAILING_THINK ? "<role>ASSISTANT</role><think>" : "<role>ASSISTANT</role>");
        break;
    case F_HUNYUAN_DENSE: /* only a first system message is kept */
#define HY(s) "<" U_BAR_L "hy_" s U_BAR_L ">"
        for (int i = 0; i < n; i++) {
            if (i == 0 && is(m[i].role, "system")) {
                puts_(o, m[i].content);
                puts_(o, HY("place" U_SP "holder" U_SP "no" U_SP "3"));
            } else if (is(m[i].role, "assistant")) {
                puts_(o, HY("Assistant"));
                puts_(o, m[i].content);
                puts_(o, HY("place" U_SP "holder" U_SP "no" U_SP "2"));
            } else if (is(m[i].role, "user")) {
                puts_(o, HY("User"));
                puts_(o, m[i].content);
                puts_(o, HY("Assistant"));
            }
        }
#undef HY
        break;
    case F_PANGU_EMBED: /* an empty system turn when the first message is not one */
        for (int i = 0; i < n; i++) {
            if (i == 0 && !is(m[i].role, "system")) puts_(o, "[unused9]系统：[unused10]");
            const char *tag = is(m[i].role, "system") ? "[unused9]系统：" : is(m[i].role, "user") ? "[unused9]用户："
                            : is(m[i].role, "assistant") ? "[unused9]助手：" : is(m[i].role, "tool") ? "[unused9]工具："
                            : is(m[i].role, "function") ? "[unused9]方法：" : NULL;
            if (!tag) continue;
            puts_(o, tag);
            puts_(o, m[i].content);
            puts_(o, "[unused10]");
        }
        if (add_ass) puts_(o, "[unused9]助手：");
        break;
    default:
        break;
    }
}

int plm_chat_render(const char *tmpl, const plm_chat_message *msgs, int n, int add_assistant, const char *bos_text,
                    const char *eos_text, char *buf, int cap, const char **family) {
    (void)bos_text;
    (void)eos_text;
    if (n < 0 || (n > 0 && !msgs) || cap < 0 || (cap > 0 && !buf)) return -1;
    for (int i = 0; i < n; i++) if (!msgs[i].role || !msgs[i].content) return -1;
    enum fam f = tmpl ? detect(tmpl) : F_CHATML;
    if (family) *family = f == F_UNKNOWN ? PLM_CHAT_FALLBACK : fam_names[f];
    out o = {buf, cap > 0 ? (size_t)cap - 1 : 0, 0};
    render(f, msgs, n, add_assistant, &o);
    if (cap > 0) buf[o.n < o.cap ? o.n : o.cap] = 0;
    return o.n > (size_t)INT32_MAX ? -1 : (int)o.n;
}
