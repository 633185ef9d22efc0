/* Diagnostics: "file:line:col: error: message", the source line, a caret,
 * then optional note/help lines. Every error is reported; the same message
 * at the same position is reported once, so recovery cannot flood. */
#include "frontend/frontend.h"

#include <stdlib.h>
#include <string.h>

typedef struct SrcFile { const char *path, *text; size_t len; int *lines; int nlines; } SrcFile;
static VEC(SrcFile) files;
static int nerrors, nwarnings;
static FILE *out;
static bool werror_all, color;
static bool last_shown = true;          /* was the last diagnostic printed? */
static StrMap seen;                     /* "file:line:col:msg" already reported */
static StrMap class_mode;               /* warning class -> 0 off, 1 warn, 2 error */

int diag_add_file(const char *path, const char *text, size_t len)
{
    if (files.n == 0)
        vpush(files, ((SrcFile){ "<none>", "", 0, NULL, 0 }));
    SrcFile f = { path, text, len, NULL, 0 };
    VEC(int) starts = { 0 };
    vpush(starts, 0);
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            vpush(starts, (int)i + 1);
    f.lines = starts.v;
    f.nlines = starts.n;
    vpush(files, f);
    return files.n - 1;
}

const char *diag_file_name(int file)
{
    return file > 0 && file < files.n ? files.v[file].path : "<input>";
}

const char *diag_line_text(int file, int line, int *len)
{
    if (file <= 0 || file >= files.n || line < 1 || line > files.v[file].nlines) {
        *len = 0;
        return "";
    }
    SrcFile *f = &files.v[file];
    const char *s = f->text + f->lines[line - 1];
    const char *e = s;
    while (e < f->text + f->len && *e != '\n')
        e++;
    if (e > s && e[-1] == '\r')
        e--;
    *len = (int)(e - s);
    return s;
}

static FILE *dout(void) { return out ? out : stderr; }

static void show_source(Pos p)
{
    int len;
    const char *s = diag_line_text(p.file, p.line, &len);
    if (!len && p.file <= 0)
        return;
    fprintf(dout(), "%5d | %.*s\n      | ", p.line, len, s);
    for (int i = 1; i < p.col && i - 1 < len; i++)
        fputc(s[i - 1] == '\t' ? '\t' : ' ', dout());
    fprintf(dout(), "%s^%s\n", color ? "\033[1;32m" : "", color ? "\033[0m" : "");
}

static void report(Pos p, const char *kind, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char *key = xfmt("%d:%d:%d:%s:%s", p.file, p.line, p.col, kind, msg);
    if (strmap_get(&seen, key)) {
        last_shown = false;
        return;
    }
    strmap_put(&seen, key, key);
    last_shown = true;
    const char *col = !color ? "" : kind[0] == 'e' ? "\033[1;31m" : kind[0] == 'w' ? "\033[1;35m" : "\033[1;36m";
    if (p.file > 0)
        fprintf(dout(), "%s:%d:%d: %s%s:%s %s\n", diag_file_name(p.file), p.line, p.col,
                col, kind, color ? "\033[0m" : "", msg);
    else
        fprintf(dout(), "ksc: %s%s:%s %s\n", col, kind, color ? "\033[0m" : "", msg);
    show_source(p);
}

void error_at(Pos p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(p, "error", fmt, ap);
    va_end(ap);
    if (last_shown)
        nerrors++;
}

static void warn_mode(Pos p, int mode, const char *fmt, va_list ap)
{
    if (mode == 0) {
        last_shown = false;
        return;
    }
    if (mode == 2 || werror_all) {
        report(p, "error", fmt, ap);
        if (last_shown)
            nerrors++;
        return;
    }
    report(p, "warning", fmt, ap);
    if (last_shown)
        nwarnings++;
}

void warn_at(Pos p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    warn_mode(p, 1, fmt, ap);
    va_end(ap);
}

void warn_class_at(Pos p, const char *cls, const char *fmt, ...)
{
    intptr_t m = (intptr_t)strmap_get(&class_mode, cls);
    va_list ap;
    va_start(ap, fmt);
    warn_mode(p, m ? (int)m - 1 : 1, fmt, ap);
    va_end(ap);
}

void note_at(Pos p, const char *fmt, ...)
{
    if (!last_shown)
        return;
    va_list ap;
    va_start(ap, fmt);
    report(p, "note", fmt, ap);
    va_end(ap);
    last_shown = true;
}

void help(const char *fmt, ...)
{
    if (!last_shown)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(dout(), "  %shelp:%s ", color ? "\033[1;36m" : "", color ? "\033[0m" : "");
    vfprintf(dout(), fmt, ap);
    fputc('\n', dout());
    va_end(ap);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ksc: fatal: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

int diag_errors(void) { return nerrors; }
int diag_warnings(void) { return nwarnings; }
void diag_set_output(FILE *f) { out = f; }
void diag_werror(bool all) { werror_all = all; }
void diag_set_color(bool on) { color = on; }

void diag_class_option(const char *cls, int mode)
{
    strmap_put(&class_mode, xstrdup(cls), (void *)(intptr_t)(mode + 1));
}

/* Forget everything: used between fuzz iterations and unit tests, after
 * arena_free_all has released the memory these tables pointed into. */
void diag_reset(void)
{
    memset(&files, 0, sizeof files);
    memset(&seen, 0, sizeof seen);
    memset(&class_mode, 0, sizeof class_mode);
    nerrors = nwarnings = 0;
    last_shown = true;
    werror_all = false;
}
