/* diag.c -- diagnostics.
 *
 * Bad input: kw_error formats one line
 *     kwcc: error: FILE: node 'NAME' (OpType): what is wrong, what was expected
 * sends it to the sink (stderr by default), counts it and returns -1, so callers write
 * `return kw_error(...)`. Passes keep going where that is cheap and the pipeline stops
 * between passes once n_errors > 0. Compiler bugs go to KW_BUG, which aborts. */
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

/* Lines after this many errors are counted but not printed: one bad model must not bury the
 * first, most useful messages under thousands of lines. */
#define KW_MAX_SHOWN_ERRORS 20

/* Bytes of the model (names, op types) are printed as they are, except control characters,
 * which become '?': a message stays one line and cannot drive the terminal. */
static void emit_line(KwDiag *d, char *line)
{
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 32 || *p == 127)
            *p = '?';
    if (d->sink)
        d->sink(d->sink_ud, line);
    else
        fprintf(stderr, "%s\n", line);
}

/* Long names are cut so that the message after them is still printed. */
static int name_len(const char *s, int max) { return strlen(s) > (size_t)max ? max - 3 : max; }

int kw_error(KwDiag *d, const KwNode *n, const char *fmt, ...)
{
    char msg[1024], line[1400];
    const char *path = d->path ? d->path : "<model>";
    d->n_errors++;
    if (d->n_errors > KW_MAX_SHOWN_ERRORS + 1)
        return -1;
    if (d->n_errors == KW_MAX_SHOWN_ERRORS + 1) {
        snprintf(line, sizeof line, "kwcc: error: %.300s: more than %d errors; further errors are not shown", path,
                 KW_MAX_SHOWN_ERRORS);
        emit_line(d, line);
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n) {
        const char *name = n->name ? n->name : "";
        const char *op = n->op_type ? n->op_type : kw_op_info[n->op].name;
        int nl = name_len(name, 160), ol = name_len(op, 60);
        snprintf(line, sizeof line, "kwcc: error: %.300s: node '%.*s%s' (%.*s%s): %s", path, nl, name,
                 (int)strlen(name) > nl ? "..." : "", ol, op, (int)strlen(op) > ol ? "..." : "", msg);
    } else {
        snprintf(line, sizeof line, "kwcc: error: %.300s: %s", path, msg);
    }
    emit_line(d, line);
    return -1;
}

void kw_note(KwDiag *d, const char *fmt, ...)
{
    if (!d->verbose)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "kwcc: %s\n", msg);
}

void kw_bug_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "kwcc: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(this is a kwcc bug; please report it with the model)\n");
    abort();
}
