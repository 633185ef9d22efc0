/* Lexer unit tests: numbers in every base with '_', escapes, the newline
 * flag the parser ends statements with, comments, and lexical errors. */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

typedef struct Lexed { TokVec toks; int errors; char *text; } Lexed;

/* Lexes src as one file; diagnostics are captured, not printed. */
static Lexed lex(const char *src)
{
    unit_reset();
    Lexed l = { 0 };
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_set_output(mem);
    int f = diag_add_file("t.ks", src, strlen(src));
    lex_file(f, src, strlen(src), &l.toks);
    fclose(mem);
    diag_set_output(NULL);
    l.errors = diag_errors();
    l.text = xstrdup(buf ? buf : "");
    free(buf);
    return l;
}

/* The value of a source that is a single integer literal. */
static uint64_t int_of(const char *src)
{
    Lexed l = lex(src);
    CU_ASSERT_EQUAL(l.errors, 0);
    CU_ASSERT_EQUAL(l.toks.n, 2);      /* the literal and EOF */
    CU_ASSERT_EQUAL(l.toks.v[0].kind, T_INT);
    return l.toks.v[0].ival;
}

static void test_decimal(void)
{
    CU_ASSERT_EQUAL(int_of("0"), 0);
    CU_ASSERT_EQUAL(int_of("42"), 42);
    CU_ASSERT_EQUAL(int_of("1_000_000"), 1000000);
    CU_ASSERT_EQUAL(int_of("18446744073709551615"), UINT64_MAX);
}

static void test_other_bases(void)
{
    CU_ASSERT_EQUAL(int_of("0x1F"), 31);
    CU_ASSERT_EQUAL(int_of("0XdeadBEEF"), 0xdeadbeef);
    CU_ASSERT_EQUAL(int_of("0xffff_ffff_ffff_ffff"), UINT64_MAX);
    CU_ASSERT_EQUAL(int_of("0o17"), 15);
    CU_ASSERT_EQUAL(int_of("0O7_7"), 63);
    CU_ASSERT_EQUAL(int_of("0b1010"), 10);
    CU_ASSERT_EQUAL(int_of("0B1111_0000"), 0xf0);
}

static void test_number_errors(void)
{
    Lexed l = lex("0b102");
    CU_ASSERT_EQUAL(l.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "t.ks:1:5: error: invalid digit '2' in base-2 literal"));
    l = lex("0o8");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "invalid digit '8' in base-8"));
    l = lex("12ab");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "invalid digit 'a' in base-10"));
    l = lex("0x");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "integer literal has no digits"));
    l = lex("18446744073709551616");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "larger than 2^64-1"));
    l = lex("0x1_0000_0000_0000_0000");
    CU_ASSERT_EQUAL(l.errors, 1);
    /* one token per bad literal: the parser does not see the pieces */
    CU_ASSERT_EQUAL(l.toks.n, 2);
}

static void test_string_escapes(void)
{
    Lexed l = lex("\"a\\n\\t\\r\\\\\\'\\\"\\0\\x41\\x7e\"");
    CU_ASSERT_EQUAL(l.errors, 0);
    CU_ASSERT_EQUAL(l.toks.v[0].kind, T_STR);
    CU_ASSERT_EQUAL(l.toks.v[0].slen, 10);
    CU_ASSERT_EQUAL(memcmp(l.toks.v[0].sval, "a\n\t\r\\'\"\0A~", 10), 0);
    l = lex("\"h\xc3\xa9llo\"");         /* UTF-8 passes through */
    CU_ASSERT_EQUAL(l.errors, 0);
    CU_ASSERT_EQUAL(l.toks.v[0].slen, 6);
}

static void test_char_literals(void)
{
    Lexed l = lex("'a' '\\n' '\\x7f' '\\''");
    CU_ASSERT_EQUAL(l.errors, 0);
    CU_ASSERT_EQUAL(l.toks.n, 5);
    CU_ASSERT_EQUAL(l.toks.v[0].kind, T_CHAR);
    CU_ASSERT_EQUAL(l.toks.v[0].ival, 'a');
    CU_ASSERT_EQUAL(l.toks.v[1].ival, '\n');
    CU_ASSERT_EQUAL(l.toks.v[2].ival, 0x7f);
    CU_ASSERT_EQUAL(l.toks.v[3].ival, '\'');
}

static void test_escape_errors(void)
{
    Lexed l = lex("\"tab\\q\"");
    CU_ASSERT_EQUAL(l.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "1:5: error: unknown escape '\\q'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "help:"));
    l = lex("\"\\xzz\"");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "\\x needs hexadecimal digits"));
    l = lex("\"never closed\nvar");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "1:1: error: unterminated string literal"));
    CU_ASSERT_EQUAL(l.toks.v[1].kind, T_KEYWORD);   /* lexing goes on */
    l = lex("''");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "empty character literal"));
    l = lex("'ab'");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "unterminated character literal"));
}

static void test_newline_flag(void)
{
    Lexed l = lex("a b\nc /* x\ny */ d /* z */ e // f\ng");
    CU_ASSERT_EQUAL(l.errors, 0);
    CU_ASSERT_EQUAL(l.toks.n, 7);
    /* a b | c | d (after a comment spanning lines: a line break) e | g */
    bool want[] = { true, false, true, true, false, true };
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(l.toks.v[i].nl, want[i]);
    CU_ASSERT_EQUAL(l.toks.v[3].pos.line, 3);
    CU_ASSERT_EQUAL(l.toks.v[5].pos.line, 4);
    CU_ASSERT_EQUAL(l.toks.v[6].kind, T_EOF);
    l = lex("x;y");
    CU_ASSERT_FALSE(l.toks.v[2].nl);    /* ';' is a token, not a line break */
}

static void test_comments(void)
{
    Lexed l = lex("// only a comment\n/* and\n another */");
    CU_ASSERT_EQUAL(l.errors, 0);
    CU_ASSERT_EQUAL(l.toks.n, 1);
    l = lex("x /* never closed");
    CU_ASSERT_EQUAL(l.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "1:3: error: unterminated comment"));
    l = lex("a/b//c");
    CU_ASSERT_EQUAL(l.toks.n, 4);     /* a / b EOF */
}

static void test_positions(void)
{
    Lexed l = lex("fn\n  \tx  =\n\n    42");
    CU_ASSERT_EQUAL(l.toks.v[1].pos.line, 2);
    CU_ASSERT_EQUAL(l.toks.v[1].pos.col, 4);
    CU_ASSERT_EQUAL(l.toks.v[2].pos.col, 7);
    CU_ASSERT_EQUAL(l.toks.v[3].pos.line, 4);
    CU_ASSERT_EQUAL(l.toks.v[3].pos.col, 5);
}

static void test_punctuation(void)
{
    Lexed l = lex("<<= >>= -> :: .. <<>> <= == != && || += ->x a..b");
    const char *want[] = { "<<=", ">>=", "->", "::", "..", "<<", ">>", "<=", "==", "!=",
                           "&&", "||", "+=", "->", "x", "a", "..", "b" };
    CU_ASSERT_EQUAL(l.toks.n, 19);
    for (int i = 0; i < 18 && i < l.toks.n; i++)
        CU_ASSERT_STRING_EQUAL(l.toks.v[i].text, want[i]);
}

static void test_keywords_and_idents(void)
{
    Lexed l = lex("fn var sizeof struct_ops fnx _x x1 match");
    TokKind want[] = { T_KEYWORD, T_KEYWORD, T_KEYWORD, T_IDENT, T_IDENT, T_IDENT, T_IDENT, T_KEYWORD };
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(l.toks.v[i].kind, want[i]);
    /* identifiers are interned: equal spellings share one pointer */
    l = lex("abc abc");
    CU_ASSERT_PTR_EQUAL(l.toks.v[0].text, l.toks.v[1].text);
    CU_ASSERT_PTR_EQUAL(intern("abc", 3), l.toks.v[0].text);
}

static void test_bad_characters(void)
{
    Lexed l = lex("a $ b \xe2\x82\xac c");
    CU_ASSERT_EQUAL(l.errors, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "1:3: error: unexpected character '$'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.text, "1:7: error: unexpected non-ASCII character"));
    CU_ASSERT_EQUAL(l.toks.n, 4);     /* a b c EOF: one error per character */
}

UNIT_SUITE(lex,
    UT(test_decimal), UT(test_other_bases), UT(test_number_errors), UT(test_string_escapes),
    UT(test_char_literals), UT(test_escape_errors), UT(test_newline_flag), UT(test_comments),
    UT(test_positions), UT(test_punctuation), UT(test_keywords_and_idents), UT(test_bad_characters))
