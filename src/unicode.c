/* Unicode helpers: class lookup over the generated range table, llama.cpp-compatible UTF-8, GPT-2 byte alphabet. */
#include "unicode.h"

unsigned plm_unicode_flags(uint32_t cpt) {
    if (cpt >= 0x110000u) return PLM_UCD_UNDEFINED;
    /* binary search for the last range whose start <= cpt (the table starts at code point 0) */
    size_t lo = 0, hi = plm_ucd_ranges_n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((plm_ucd_ranges[mid] >> 9) <= cpt) lo = mid; else hi = mid;
    }
    return plm_ucd_ranges[lo] & 0x1ffu;
}

uint32_t plm_unicode_tolower(uint32_t cpt) {
    size_t lo = 0, hi = plm_ucd_lower_n;
    while (lo < hi) { /* first run with start > cpt */
        size_t mid = lo + (hi - lo) / 2;
        if (plm_ucd_lower[mid].start <= cpt) lo = mid + 1; else hi = mid;
    }
    if (lo == 0) return cpt;
    const plm_ucd_case_run *r = &plm_ucd_lower[lo - 1];
    uint32_t off = cpt - r->start;
    if (off % r->stride == 0 && off / r->stride < r->count) return (uint32_t)((int64_t)cpt + r->delta);
    return cpt;
}

size_t plm_utf8_len(unsigned char lead) {
    static const unsigned char len[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };
    return len[lead >> 4];
}

static int cont(unsigned char c) { return (c & 0xc0) == 0x80; }

uint32_t plm_utf8_decode(const char *str, size_t n, size_t *adv) {
    const unsigned char *s = (const unsigned char *)str;
    *adv = 1;
    if (!(s[0] & 0x80)) return s[0];
    if (!(s[0] & 0x40)) return 0xfffd; /* stray continuation byte */
    if (!(s[0] & 0x20)) {
        if (n < 2 || !cont(s[1])) return 0xfffd;
        *adv = 2;
        return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    }
    if (!(s[0] & 0x10)) {
        if (n < 3 || !cont(s[1]) || !cont(s[2])) return 0xfffd;
        *adv = 3;
        return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    }
    if (!(s[0] & 0x08)) {
        if (n < 4 || !cont(s[1]) || !cont(s[2]) || !cont(s[3])) return 0xfffd;
        *adv = 4;
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) | ((uint32_t)(s[2] & 0x3f) << 6) |
               (s[3] & 0x3f);
    }
    return 0xfffd;
}

int plm_utf8_encode(uint32_t cpt, char out[4]) {
    unsigned char *o = (unsigned char *)out;
    if (cpt <= 0x7f) { o[0] = (unsigned char)cpt; return 1; }
    if (cpt <= 0x7ff) { o[0] = (unsigned char)(0xc0 | (cpt >> 6)); o[1] = (unsigned char)(0x80 | (cpt & 0x3f)); return 2; }
    if (cpt > 0x10ffff) cpt = 0xfffd; /* llama.cpp throws here; we substitute the replacement character */
    if (cpt <= 0xffff) {
        o[0] = (unsigned char)(0xe0 | (cpt >> 12));
        o[1] = (unsigned char)(0x80 | ((cpt >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cpt & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cpt >> 18));
    o[1] = (unsigned char)(0x80 | ((cpt >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cpt >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cpt & 0x3f));
    return 4;
}

size_t plm_utf8_complete(const char *buf, size_t n) {
    const unsigned char *s = (const unsigned char *)buf;
    /* Only the last 3 bytes can belong to an unfinished character: find the last lead byte among them. */
    size_t back = n < 3 ? n : 3;
    for (size_t k = 1; k <= back; k++) {
        unsigned char c = s[n - k];
        if (cont(c)) continue;           /* keep looking for the lead byte */
        size_t need = 0;
        if ((c & 0xe0) == 0xc0) need = 2;
        else if ((c & 0xf0) == 0xe0) need = 3;
        else if ((c & 0xf8) == 0xf0) need = 4;
        if (need > k) return n - k;      /* lead byte still waits for continuation bytes */
        return n;
    }
    return n;
}

/* Bytes that stand for themselves: '!'..'~', 0xA1..0xAC, 0xAE..0xFF. The other 68 bytes, in increasing order,
 * take U+0100.. : 0x00..0x20 -> U+0100..U+0120, 0x7F..0xA0 -> U+0121..U+0142, 0xAD -> U+0143. */
uint32_t plm_gpt2_byte_to_cpt(unsigned char b) {
    if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae) return b;
    if (b <= 0x20) return 0x100u + b;
    if (b <= 0xa0) return 0x121u + (b - 0x7fu);
    return 0x143; /* 0xAD */
}

int plm_gpt2_cpt_to_byte(uint32_t cpt) {
    if ((cpt >= 0x21 && cpt <= 0x7e) || (cpt >= 0xa1 && cpt <= 0xac) || (cpt >= 0xae && cpt <= 0xff)) return (int)cpt;
    if (cpt >= 0x100 && cpt <= 0x120) return (int)(cpt - 0x100);
    if (cpt >= 0x121 && cpt <= 0x142) return (int)(cpt - 0x121 + 0x7f);
    if (cpt == 0x143) return 0xad;
    return -1;
}
