/* unit_fixture.h -- reading the fixture models of tests/fixtures/ (the directory comes from
 * the KW_FIXTURES_DIR compile definition, overridable with the environment variable of the
 * same name) and capturing compiler diagnostics. */
#ifndef KW_UNIT_FIXTURE_H
#define KW_UNIT_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KW_FIXTURES_DIR
#error "KW_FIXTURES_DIR must be defined (tests/CMakeLists.txt does)"
#endif

static inline const char *fixtures_dir(void)
{
    const char *e = getenv("KW_FIXTURES_DIR");
    return e && *e ? e : KW_FIXTURES_DIR;
}

/* <fixtures>/<rel>; static buffer, rotated so a few can be live at once */
static inline const char *fixture_path(const char *rel)
{
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 1024, "%s/%s", fixtures_dir(), rel);
    return p;
}

/* The whole file, malloc'd; NULL if it cannot be read. */
static inline unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return b;
}

static inline int open_devnull(void) { return open("/dev/null", O_WRONLY); }

/* Runs with stderr sent to /dev/null (kwcc prints some errors there unconditionally). */
typedef struct Quiet {
    int saved;
} Quiet;
static inline Quiet quiet_begin(void)
{
    Quiet q;
    fflush(stderr);
    q.saved = dup(2);
    int nul = open_devnull();
    dup2(nul, 2);
    close(nul);
    return q;
}
static inline void quiet_end(Quiet q)
{
    fflush(stderr);
    dup2(q.saved, 2);
    close(q.saved);
}

/* An error sink that keeps the lines. */
typedef struct Sink {
    int n;
    char last[1500];
    char first[1500];
} Sink;

static inline void sink_fn(void *ud, const char *line)
{
    Sink *s = ud;
    if (s->n++ == 0)
        snprintf(s->first, sizeof s->first, "%s", line);
    snprintf(s->last, sizeof s->last, "%s", line);
}

#endif
