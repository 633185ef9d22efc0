/* The lexer: a whole file into a vector of tokens. Each token records
 * whether a newline precedes it; the parser uses that to end statements. */
#include "frontend/frontend.h"

#include <ctype.h>
#include <string.h>

static const char *keywords[] = {
    "fn", "var", "const", "config", "local", "pin", "type", "struct", "enum", "impl",
    "if", "else", "for", "in", "while", "loop", "break", "continue", "return", "match",
    "default", "try", "catch", "throw", "defer", "delete", "import", "from", "include",
    "extern", "pub", "priv", "true", "false", "null", "as", "sizeof", NULL,
};

/* Longest first, so that the first match is the longest. */
static const char *puncts[] = {
    "<<=", ">>=", "->", "::", "..", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
    "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "<", ">", "=", "(", ")", "[",
    "]", "{", "}", ",", ";", ":", ".", "?", "@", NULL,
};

static StrMap interned;
static StrMap keyword_set;     /* see is_keyword */

const char *intern(const char *s, int len)
{
    char buf[256];
    if (len >= (int)sizeof buf)
        return xstrndup(s, (size_t)len);
    memcpy(buf, s, (size_t)len);
    buf[len] = 0;
    const char *p = strmap_get(&interned, buf);
    if (p)
        return p;
    char *k = xstrndup(s, (size_t)len);
    strmap_put(&interned, k, k);
    return k;
}

void lex_reset(void)
{
    memset(&interned, 0, sizeof interned);
    memset(&keyword_set, 0, sizeof keyword_set);    /* its table is in the arena too */
}

typedef struct Lexer {
    const char *src, *p, *end, *line_start;
    int file, line;
    bool nl;
    TokVec *out;
} Lexer;

static Pos here(Lexer *L, const char *at)
{
    return (Pos){ L->file, L->line, (int)(at - L->line_start) + 1 };
}

static bool is_ident_start(int c) { return isalpha(c) || c == '_'; }
static bool is_ident_char(int c) { return isalnum(c) || c == '_'; }

static int digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

static void lex_number(Lexer *L, Token *t)
{
    const char *s = L->p;
    int base = 10;
    if (s[0] == '0' && s + 1 < L->end && strchr("xXoObB", s[1]) && s[1]) {
        base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
        s += 2;
    }
    uint64_t v = 0;
    bool overflow = false, any = false;
    const char *p = s;
    for (; p < L->end && (is_ident_char(*p)); p++) {
        if (*p == '_')
            continue;
        int d = digit_value(*p);
        if (d >= base) {
            error_at(here(L, p), "invalid digit '%c' in base-%d literal", *p, base);
            overflow = false;
            while (p < L->end && is_ident_char(*p))
                p++;
            break;
        }
        any = true;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            overflow = true;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (!any && base != 10)
        error_at(t->pos, "integer literal has no digits");
    if (overflow) {
        error_at(t->pos, "integer literal is larger than 2^64-1");
        v = 0;
    }
    t->kind = T_INT;
    t->ival = v;
    L->p = p;
}

/* Decodes one escape after the backslash; returns the byte. */
static int lex_escape(Lexer *L)
{
    const char *at = L->p - 1;
    if (L->p >= L->end)
        return 0;
    char c = *L->p++;
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '\\': return '\\';
    case '\'': return '\'';
    case '"': return '"';
    case '0': return 0;
    case 'x': {
        int v = 0, n = 0;
        while (n < 2 && L->p < L->end && digit_value(*L->p) < 16) {
            v = v * 16 + digit_value(*L->p++);
            n++;
        }
        if (!n)
            error_at(here(L, at), "\\x needs hexadecimal digits");
        return v;
    }
    default:
        error_at(here(L, at), "unknown escape '\\%c'", c);
        help("the escapes are \\n \\t \\r \\\\ \\' \\\" \\0 \\xHH");
        return c;
    }
}

static void lex_string(Lexer *L, Token *t)
{
    VEC(char) buf = { 0 };
    L->p++;
    for (;;) {
        if (L->p >= L->end || *L->p == '\n') {
            error_at(t->pos, "unterminated string literal");
            break;
        }
        char c = *L->p++;
        if (c == '"')
            break;
        if (c == '\\')
            c = (char)lex_escape(L);
        vpush(buf, c);
    }
    t->kind = T_STR;
    t->slen = buf.n;
    t->sval = xstrndup(buf.v ? buf.v : "", (size_t)buf.n);
}

static void lex_char(Lexer *L, Token *t)
{
    L->p++;
    int v = 0;
    if (L->p < L->end && *L->p == '\\') {
        L->p++;
        v = lex_escape(L);
    } else if (L->p < L->end && *L->p != '\'' && *L->p != '\n') {
        v = (unsigned char)*L->p++;
    } else {
        error_at(t->pos, "empty character literal");
    }
    if (L->p < L->end && *L->p == '\'')
        L->p++;
    else
        error_at(t->pos, "unterminated character literal");
    t->kind = T_CHAR;
    t->ival = (uint64_t)v;
}

/* Keywords by interned spelling: one hash lookup per identifier, which
 * is interned anyway, instead of a strlen and memcmp per keyword. */

static bool is_keyword(const char *interned_text)
{
    if (!keyword_set.n)
        for (int i = 0; keywords[i]; i++)
            strmap_put(&keyword_set, keywords[i], (void *)keywords[i]);
    return strmap_get(&keyword_set, interned_text) != NULL;
}

/* Skips blanks and comments; notes newlines. */
static void skip_space(Lexer *L)
{
    while (L->p < L->end) {
        char c = *L->p;
        if (c == '\n') {
            L->p++;
            L->line++;
            L->line_start = L->p;
            L->nl = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            L->p++;
        } else if (c == '/' && L->p + 1 < L->end && L->p[1] == '/') {
            while (L->p < L->end && *L->p != '\n')
                L->p++;
        } else if (c == '/' && L->p + 1 < L->end && L->p[1] == '*') {
            Pos start = here(L, L->p);
            L->p += 2;
            while (L->p < L->end && !(*L->p == '*' && L->p + 1 < L->end && L->p[1] == '/')) {
                if (*L->p == '\n') {
                    L->line++;
                    L->line_start = L->p + 1;
                    L->nl = true;
                }
                L->p++;
            }
            if (L->p >= L->end)
                error_at(start, "unterminated comment");
            else
                L->p += 2;
        } else {
            break;
        }
    }
}

static bool lex_punct(Lexer *L, Token *t)
{
    static unsigned char lens[64];     /* strlen of each punct, computed once */
    if (!lens[0])
        for (int i = 0; puncts[i]; i++)
            lens[i] = (unsigned char)strlen(puncts[i]);
    for (int i = 0; puncts[i]; i++) {
        int n = lens[i];
        if (puncts[i][0] == *L->p && L->end - L->p >= n && !memcmp(L->p, puncts[i], (size_t)n)) {
            t->kind = T_PUNCT;
            t->text = puncts[i];
            t->len = n;
            L->p += n;
            return true;
        }
    }
    return false;
}

void lex_file(int file, const char *src, size_t len, TokVec *out)
{
    Lexer L = { src, src, src + len, src, file, 1, true, out };
    /* Room for the tokens up front (real code has fewer than one per three
     * bytes): growing by doubling copied and abandoned every smaller vector.
     * A large arena block is calloc'ed, so unused room costs no memory. */
    if (!out->cap)
        out->v = xrealloc_vec(out->v, &out->cap, (int)(len / 3) + 16, sizeof *out->v);
    for (;;) {
        skip_space(&L);
        Token t = { 0 };
        t.pos = here(&L, L.p);
        t.nl = L.nl;
        L.nl = false;
        if (L.p >= L.end) {
            t.kind = T_EOF;
            t.text = "end of file";
            vpush(*out, t);
            return;
        }
        const char *start = L.p;
        unsigned char c = (unsigned char)*L.p;
        if (isdigit(c)) {
            lex_number(&L, &t);
        } else if (is_ident_start(c)) {
            while (L.p < L.end && is_ident_char((unsigned char)*L.p))
                L.p++;
            t.text = intern(start, (int)(L.p - start));
            t.kind = is_keyword(t.text) ? T_KEYWORD : T_IDENT;
        } else if (c == '"') {
            lex_string(&L, &t);
        } else if (c == '\'') {
            lex_char(&L, &t);
        } else if (!lex_punct(&L, &t)) {
            if (c >= 0x80)
                error_at(t.pos, "unexpected non-ASCII character outside a string");
            else
                error_at(t.pos, "unexpected character '%c'", c);
            L.p++;
            while (L.p < L.end && ((unsigned char)*L.p & 0xC0) == 0x80)
                L.p++;
            continue;
        }
        if (t.kind != T_PUNCT) {
            if (t.kind != T_IDENT && t.kind != T_KEYWORD)
                t.text = intern(start, (int)(L.p - start));
            t.len = (int)(L.p - start);
        }
        vpush(*out, t);
    }
}
