/* kwcc.h -- the public API of the kwcc compiler library (libkwcc).
 *
 * One call compiles an ONNX model into the text of one C file and its header. The library
 * never exits and never writes files; the kwcc driver (main.c) does both. Typical use:
 *
 *     KwOptions opt;
 *     KwResult res;
 *     kw_options_init(&opt);
 *     opt.name = "net";
 *     if (kw_compile_file("net.onnx", &opt, &res) == KW_OK)
 *         fwrite(res.c_text, 1, res.c_len, f);
 *     kw_result_free(&res);
 */
#ifndef KWCC_H
#define KWCC_H

#include <stddef.h>
#include <stdint.h>

#define KWCC_VERSION "0.1.0"

/* Status codes; the driver's exit status is KW_ERR_INPUT (2) for bad input, 1 otherwise. */
enum {
    KW_OK = 0,
    KW_ERR_INTERNAL = 1, /* a kwcc bug */
    KW_ERR_INPUT = 2,    /* the model (or an option) is wrong or unsupported */
    KW_ERR_NOMEM = 3     /* out of memory */
};

typedef enum KwTargetKind {
    KW_TARGET_GENERIC = 0, /* portable C99: the numeric reference */
    KW_TARGET_AVX2,
    KW_TARGET_AVX512,
    KW_TARGET_NEON,
    KW_TARGET_HOST /* the best the compiling host supports */
} KwTargetKind;

/* KwOptions.weights_file: the weights in the model's .c file (the default), or apart in
 * KwResult.w_text, as C (defining PREFIX_weights) or as the raw blob the application maps. */
enum { KW_WEIGHTS_INLINE = 0, KW_WEIGHTS_C = 1, KW_WEIGHTS_BIN = 2 };

typedef struct KwOptions {
    const char *name;      /* PREFIX of generated symbols; NULL: from the model file name */
    const char *header;    /* name the .c file uses to include its header; NULL: "<name>.h" */
    int verbose;           /* -v: passes, fusion decisions and sizes on stderr */
    int no_kw_fusion;      /* keep exported KernelWarehouse subgraphs on the generic path */
    KwTargetKind target;
    const char *dump;      /* letters of passes after which to print the IR (stderr) */
    int64_t max_ram;       /* --max-ram: 0 no limit (the fastest plan); > 0 the workspace must fit
                            * in that many bytes (else KW_ERR_INPUT, saying the smallest reachable);
                            * < 0 the smallest workspace kwcc can plan */
    const char *weights_section; /* --weights-section: section attribute of the weight blob */
    int weights_file;      /* --weights-file: KW_WEIGHTS_* (where the weight blob goes) */
    int inspect;           /* 1: produce the `kwcc inspect` table instead of C; 2: as JSON */
    /* error sink: NULL prints "kwcc: error: ..." lines on stderr */
    void (*sink)(void *ud, const char *line);
    void *sink_ud;
    int jit;               /* kwcc run: C text for codegen/jit.c (no headers, kernel prototypes
                            * only, weights by symbol) and the weight blob in KwResult.weights */
} KwOptions;

typedef struct KwResult {
    int status;
    char *c_text;  /* the model's C file (NUL-terminated), or NULL on error */
    size_t c_len;
    char *h_text;  /* its header */
    size_t h_len;
    char *report;  /* the `kwcc inspect` table (text or JSON), with opt.inspect */
    char *w_text;  /* with opt.weights_file: the weights file (C text, or the raw blob) */
    size_t w_len;
    int64_t workspace_bytes, weight_bytes;
    int64_t workspace_bound; /* lower bound of the workspace (pass_memplan.c) */
    int64_t code_bytes;      /* estimate of the generated code and tables in flash */
    void *weights; /* with opt.jit: the weight_bytes of the weight blob, 64-byte aligned */
} KwResult;

void kw_options_init(KwOptions *opt);
int kw_compile_file(const char *path, const KwOptions *opt, KwResult *res);
int kw_compile_bytes(const void *buf, size_t len, const char *path, const KwOptions *opt,
                     KwResult *res);
void kw_result_free(KwResult *res);

#endif /* KWCC_H */
