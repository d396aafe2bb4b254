#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

size_t bz__fmt_int(char *dst, int64_t v)
{
    /* Rows carry several numbers each: snprintf's format parsing was a
     * tenth of an insert. */
    char tmp[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        dst[len++] = '-';
    while (n)
        dst[len++] = tmp[--n];
    return len;
}

bool bz__int_fits(int width, int64_t v)
{
    char tmp[24];
    return bz__fmt_int(tmp, v) <= (size_t)width;
}

void bz__enc_intw(char *dst, int width, int64_t v)
{
    char tmp[24];
    size_t n = bz__fmt_int(tmp, v), w = (size_t)width;
    memset(dst, ' ', w);
    memcpy(dst, tmp, n < w ? n : w);
}

void bz__enc_int(char *dst, int64_t v)
{
    bz__enc_intw(dst, BZ_INT_WIDTH, v);
}

void bz__enc_null_int(char *dst)
{
    memset(dst, '#', BZ_INT_WIDTH);
}

int bz__dec_uint_padded(const char *src, size_t len, int64_t *v)
{
    size_t i = 0;
    int64_t x = 0;
    while (i < len && src[i] >= '0' && src[i] <= '9') {
        if (x > (INT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (src[i] - '0');
        i++;
    }
    if (i == 0)
        return -1;
    for (; i < len; i++)
        if (src[i] != ' ')
            return -1;
    *v = x;
    return 0;
}

int bz__dec_intw(const char *src, int width, bool *null, int64_t *v)
{
    if (src[0] == '#') {
        for (int i = 1; i < width; i++)
            if (src[i] != '#')
                return -1;
        *null = true;
        *v = 0;
        return 0;
    }
    *null = false;
    bool neg = src[0] == '-';
    int64_t x;
    /* At most 18 digits, so x cannot overflow. */
    if (bz__dec_uint_padded(src + neg, (size_t)(width - neg), &x))
        return -1;
    *v = neg ? -x : x;
    return 0;
}

int bz__dec_int(const char *src, bool *null, int64_t *v)
{
    return bz__dec_intw(src, BZ_INT_WIDTH, null, v);
}

void bz__enc_deleted_row(const bz_tdef *t, char *row)
{
    memset(row, '*', (size_t)t->row_size - 1);
    row[t->row_size - 1] = '\n';
}

/* Python's bytes.rstrip(): ASCII whitespace. */
static size_t rstrip_len(const char *s, size_t len)
{
    while (len > 0) {
        char c = s[len - 1];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
            c == '\f')
            len--;
        else
            break;
    }
    return len;
}

int bz__dec_row(const bz_tdef *t, const char *row, bz_fval *vals,
                int *bad_field)
{
    *bad_field = -1;
    if (row[t->row_size - 1] != '\n')
        return -1;
    if (row[0] == '*') {
        for (int i = 1; i < t->row_size - 1; i++)
            if (row[i] != '*')
                return -1;
        return 1;
    }
    for (int j = 0; j < t->nfields; j++) {
        const bz_fdef *f = &t->fields[j];
        const char *p = row + f->off;
        bz_fval *v = &vals[j];
        *bad_field = j;
        if (f->kind == BZ_CHAR) {
            if (p[0] == '\0') {
                for (int k = 1; k < f->width; k++)
                    if (p[k] != '\0')
                        return -1;
                if (!f->nullable)
                    return -1;
                v->null = true;
                v->s = NULL;
                v->len = 0;
                continue;
            }
            v->null = false;
            v->s = p;
            v->len = rstrip_len(p, (size_t)f->width);
            if (!bz__utf8_valid(p, v->len))
                return -1;
            continue;
        }
        if (bz__dec_intw(p, f->width, &v->null, &v->i))
            return -1;
        if (v->null && !f->nullable)
            return -1;
        if (!v->null && f->kind == BZ_PK && v->i <= 0)
            return -1;
        if (!v->null && f->kind == BZ_TEXT && v->i < 0)
            return -1;
    }
    *bad_field = -1;
    return 0;
}

bool bz__utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int n;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= (size_t)n)
            return false;
        for (int k = 1; k <= n; k++) {
            if ((s[i + (size_t)k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + (size_t)k] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not
         * UTF-8 (Python's decoder refuses them too). */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
            (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += (size_t)n + 1;
    }
    return true;
}

/* Decode one code point of valid UTF-8. */
static uint32_t utf8_next(const unsigned char *s, size_t *i)
{
    unsigned char c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
    uint32_t cp = c & (n == 1 ? 0x1F : n == 2 ? 0x0F : 0x07);
    for (int k = 1; k <= n; k++)
        cp = (cp << 6) | (s[*i + (size_t)k] & 0x3F);
    *i += (size_t)n + 1;
    return cp;
}

/* Python prints most non-ASCII characters as they are; it escapes the
 * non-printable ones.  We escape C0/C1 controls and the few separators
 * Python treats as non-printable; other code points are kept. */
static bool py_printable(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F)
        return false;
    if (cp >= 0x80 && cp < 0xA0)
        return false;
    if (cp == 0xAD || cp == 0x2028 || cp == 0x2029 ||
        (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2060 && cp <= 0x2064) ||
        cp == 0xFEFF || (cp >= 0xE000 && cp <= 0xF8FF) || cp == 0x85 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x3000 || cp == 0x1680 ||
        cp == 0x202F || cp == 0x205F || cp == 0xA0)
        return false;
    return true;
}

char *bz__py_repr_str(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    bool valid = bz__utf8_valid(str, len);
    bool has_sq = memchr(str, '\'', len) != NULL;
    bool has_dq = memchr(str, '"', len) != NULL;
    char quote = has_sq && !has_dq ? '"' : '\'';
    size_t cap = len * 10 + 3, o = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[o++] = quote;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t start = i;
        if (valid) {
            cp = utf8_next(s, &i);
        } else {
            cp = s[i++];
        }
        if (cp == (uint32_t)quote || cp == '\\') {
            out[o++] = '\\';
            out[o++] = (char)cp;
        } else if (cp == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (cp == '\r') {
            out[o++] = '\\';
            out[o++] = 'r';
        } else if (cp == '\t') {
            out[o++] = '\\';
            out[o++] = 't';
        } else if (!valid && cp >= 0x80) {
            o += (size_t)sprintf(out + o, "\\x%02x", cp);
        } else if (py_printable(cp)) {
            memcpy(out + o, str + start, i - start);
            o += i - start;
        } else if (cp < 0x100) {
            o += (size_t)sprintf(out + o, "\\x%02x", cp);
        } else if (cp < 0x10000) {
            o += (size_t)sprintf(out + o, "\\u%04x", cp);
        } else {
            o += (size_t)sprintf(out + o, "\\U%08x", cp);
        }
    }
    out[o++] = quote;
    out[o] = '\0';
    return out;
}
