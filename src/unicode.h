/* Unicode helpers for the tokenizers (internal).
 *
 * Code point classes come from tables generated from the Unicode Character Database (src/unicode_data.c, made by
 * tools/gen-unicode.mjs). UTF-8 decoding follows llama.cpp's unicode.cpp exactly, because tokenization must match
 * it byte for byte: a malformed sequence decodes to U+FFFD and consumes one byte; overlong forms are accepted.
 */
#ifndef PLM_UNICODE_H
#define PLM_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Code point class flags (one general-category class per code point, plus White_Space). */
enum {
    PLM_UCD_UNDEFINED   = 0x001, /* unassigned (Cn), and anything >= 0x110000 */
    PLM_UCD_NUMBER      = 0x002, /* \p{N} */
    PLM_UCD_LETTER      = 0x004, /* \p{L} */
    PLM_UCD_SEPARATOR   = 0x008, /* \p{Z} */
    PLM_UCD_MARK        = 0x010, /* \p{M} */
    PLM_UCD_PUNCTUATION = 0x020, /* \p{P} */
    PLM_UCD_SYMBOL      = 0x040, /* \p{S} */
    PLM_UCD_CONTROL     = 0x080, /* \p{C} */
    PLM_UCD_WHITESPACE  = 0x100  /* White_Space property (what \s matches) */
};

typedef struct plm_ucd_case_run { uint32_t start; uint16_t count; uint8_t stride; int32_t delta; } plm_ucd_case_run;

/* generated tables (src/unicode_data.c) */
extern const uint32_t plm_ucd_ranges[];
extern const size_t plm_ucd_ranges_n;
extern const plm_ucd_case_run plm_ucd_lower[];
extern const size_t plm_ucd_lower_n;

/* Class flags of a code point (PLM_UCD_UNDEFINED for unassigned or out-of-range values). */
unsigned plm_unicode_flags(uint32_t cpt);
/* Simple lowercase mapping; the code point itself when it has none. */
uint32_t plm_unicode_tolower(uint32_t cpt);

/* Length of the UTF-8 sequence a lead byte announces (1 for continuation and invalid bytes), as llama.cpp. */
size_t plm_utf8_len(unsigned char lead);
/* Decodes one code point at s (n > 0 bytes available); *adv gets the bytes consumed (>= 1). */
uint32_t plm_utf8_decode(const char *s, size_t n, size_t *adv);
/* Encodes cpt into out (4 bytes room); returns the byte count. Values above 0x10FFFF encode U+FFFD. */
int plm_utf8_encode(uint32_t cpt, char out[4]);
/* How many leading bytes of buf form complete UTF-8 sequences: the rest (at most 3 bytes) is the start of a
 * character whose remaining bytes have not arrived yet. Invalid bytes count as complete (they never will be),
 * so a streaming printer that holds back buf[result..n) never stalls and never splits a character. */
size_t plm_utf8_complete(const char *buf, size_t n);

/* GPT-2 byte-level BPE alphabet: every byte maps to one printable code point (bytes that are printable Latin-1
 * map to themselves, the others to U+0100 + k). */
uint32_t plm_gpt2_byte_to_cpt(unsigned char b);
/* Inverse mapping: the byte, or -1 when the code point is not part of the alphabet. */
int plm_gpt2_cpt_to_byte(uint32_t cpt);

#endif
