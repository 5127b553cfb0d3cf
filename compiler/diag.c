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

static void emit_line(KwDiag *d, const char *line)
{
    if (d->sink)
        d->sink(d->sink_ud, line);
    else
        fprintf(stderr, "%s\n", line);
}

int kw_error(KwDiag *d, const KwNode *n, const char *fmt, ...)
{
    char msg[1024], line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        snprintf(line, sizeof line, "kwcc: error: %s: node '%s' (%s): %s", d->path ? d->path : "<model>",
                 n->name ? n->name : "", n->op_type ? n->op_type : kw_op_info[n->op].name, msg);
    else
        snprintf(line, sizeof line, "kwcc: error: %s: %s", d->path ? d->path : "<model>", msg);
    d->n_errors++;
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
