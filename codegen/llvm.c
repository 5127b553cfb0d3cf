/* llvm.c -- the LLVM/Clang target: objects for a target triple through clang, and
 * `kwcc run --jit llvm` through LLVM's ORC JIT. See llvm.h.
 *
 * clang is run as a subprocess on the generated C text, written to a private temporary
 * directory (with the model's header next to it); stdout and stderr go to a log that becomes
 * the error message. libLLVM is dlopen()ed on first use, never linked: kwcc then starts as
 * fast as before, and runs without libLLVM for everything but --jit llvm.
 *
 * The JIT unit is kwcc's jit text (KwEmitOpts.jit: parameter structs, the call sequence,
 * kernel prototypes, weights as the extern kw_jit_weights, kw_jit_io[]) followed by the
 * runtime kernels themselves (kw_rt_ref.c, and kw_rt_simd.c for a vector target), all
 * static, so clang -O3 sees the constant parameter structs and the kernels together and may
 * inline and specialise. clang -O3 -march=native -emit-llvm gives the optimised bitcode;
 * libLLVM parses it and emits an object in memory (LLVMTargetMachineEmitToMemoryBuffer,
 * aggressive codegen, the JIT's default code model: large on x86-64, so the weights may sit
 * anywhere); ORC's LLJIT links that object, with kw_jit_weights an absolute symbol at the
 * weight blob kwcc holds and libc/libm (memcpy, expf, ...) from this process. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, posix_spawn, dlopen */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kw_codegen.h"
#include "llvm.h"

#ifdef KWCC_HAVE_LLVM
#include <dlfcn.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#endif

extern char **environ;

#ifdef KWCC_HAVE_LLVM
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
#endif

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int kw_llvm_available(void)
{
#ifdef KWCC_HAVE_LLVM
    return 1;
#else
    return 0;
#endif
}

#ifdef KWCC_HAVE_LLVM
/* The clang to run: $KWCC_CLANG, else the one CMake found next to libLLVM. */
static const char *clang_path(void)
{
    const char *e = getenv("KWCC_CLANG");
    if (e && *e)
        return e;
#ifdef KWCC_CLANG
    return KWCC_CLANG;
#else
    return "clang";
#endif
}
#endif

const char *kw_llvm_describe(void)
{
#ifdef KWCC_HAVE_LLVM
    static char buf[600];
    snprintf(buf, sizeof buf, "clang %s (%s)", KWCC_LLVM_VERSION, clang_path());
    return buf;
#else
    return "";
#endif
}

/* ---------------------------------------------------------------- triples */

enum { FAM_X86_64 = 1, FAM_AARCH64, FAM_CORTEX_M };

/* Cortex-M architectures: the CPU clang schedules for, and the FPU of the hard-float ABI */
static const struct {
    const char *arch, *cpu, *fpu;
} cortex_m[] = {
    {"thumbv6m", "cortex-m0plus", NULL},
    {"thumbv7m", "cortex-m3", NULL},
    {"thumbv7em", "cortex-m7", "fpv5-d16"}, /* soft-float thumbv7em: cortex-m4 */
    {"thumbv8m.base", "cortex-m23", NULL},
    {"thumbv8m.main", "cortex-m33", "fpv5-sp-d16"},
    {"thumbv8.1m.main", "cortex-m55", "fp-armv8-fullfp16-d16"},
};

/* The family of a triple, and for Cortex-M the row of cortex_m[]; 0 with a message if unknown. */
static int triple_family(const char *triple, int *cm, char *err, size_t cap)
{
    size_t n = strcspn(triple, "-");
    char arch[32];
    if (!*triple || n >= sizeof arch || !triple[n]) {
        snprintf(err, cap, "--target-triple takes ARCH-VENDOR-OS[-ENV], such as x86_64-linux-gnu, "
                           "aarch64-linux-gnu or thumbv7em-none-eabihf: %s", triple);
        return 0;
    }
    memcpy(arch, triple, n);
    arch[n] = 0;
    if (strcmp(arch, "x86_64") == 0 || strcmp(arch, "amd64") == 0)
        return FAM_X86_64;
    if (strcmp(arch, "aarch64") == 0 || strcmp(arch, "arm64") == 0)
        return FAM_AARCH64;
    for (size_t i = 0; i < KW_COUNTOF(cortex_m); i++)
        if (strcmp(arch, cortex_m[i].arch) == 0) {
            *cm = (int)i;
            return FAM_CORTEX_M;
        }
    if (strstr(arch, "_be") || strstr(arch, "eb"))
        snprintf(err, cap, "unsupported triple %s: big-endian (kwcc stores weights little-endian)", triple);
    else
        snprintf(err, cap, "unsupported triple %s (kwcc knows x86_64-*, aarch64-* and the Cortex-M thumbv6m, thumbv7m, "
                           "thumbv7em, thumbv8m.base, thumbv8m.main, thumbv8.1m.main -none-eabi[hf])", triple);
    return 0;
}

int kw_llvm_triple_target(const char *triple, KwTargetKind want, KwTargetKind *out, char *err, size_t cap)
{
    int cm = 0, fam = triple_family(triple, &cm, err, cap);
    if (!fam)
        return -1;
    if (want == KW_TARGET_HOST) {
        if (fam == FAM_X86_64) {
#if defined(__x86_64__)
            want = kw_target_host();
#else
            want = KW_TARGET_GENERIC;
#endif
        } else {
            want = fam == FAM_AARCH64 ? KW_TARGET_NEON : KW_TARGET_GENERIC;
        }
    }
    int ok = want == KW_TARGET_GENERIC || (fam == FAM_X86_64 && (want == KW_TARGET_AVX2 || want == KW_TARGET_AVX512)) ||
             (fam == FAM_AARCH64 && want == KW_TARGET_NEON);
    if (!ok) {
        snprintf(err, cap, "--target %s does not run on %s (%s)", kw_target_name(want), triple,
                 fam == FAM_X86_64 ? "x86_64 takes generic, avx2 or avx512"
                 : fam == FAM_AARCH64 ? "aarch64 takes generic or neon" : "Cortex-M takes generic");
        return -1;
    }
    *out = want;
    return 0;
}

/* ---------------------------------------------------------------- JIT targets */

/* Whether this machine runs target t (clang compiles the kernels, so only the CPU matters). */
static int runs_here(KwTargetKind t)
{
    switch (t) {
    case KW_TARGET_GENERIC: return 1;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    case KW_TARGET_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KW_TARGET_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case KW_TARGET_NEON: return 1;
#endif
    default: return 0;
    }
}

int kw_llvm_jit_target(KwTargetKind want, KwTargetKind *out)
{
    if (!kw_llvm_available())
        return -1;
    if (want == KW_TARGET_HOST) {
        static const KwTargetKind order[] = {KW_TARGET_AVX512, KW_TARGET_AVX2, KW_TARGET_NEON, KW_TARGET_GENERIC};
        for (size_t i = 0; i < KW_COUNTOF(order); i++)
            if (runs_here(order[i])) {
                *out = order[i];
                return 0;
            }
        return -1;
    }
    if (!runs_here(want))
        return -1;
    *out = want;
    return 0;
}

const char *kw_llvm_jit_targets(void)
{
    static char buf[64];
    static const KwTargetKind all[] = {KW_TARGET_GENERIC, KW_TARGET_AVX2, KW_TARGET_AVX512, KW_TARGET_NEON};
    buf[0] = 0;
    for (size_t i = 0; i < KW_COUNTOF(all); i++)
        if (kw_llvm_available() && runs_here(all[i])) {
            if (buf[0])
                strcat(buf, ", ");
            strcat(buf, kw_target_name(all[i]));
        }
    return buf[0] ? buf : "none";
}

#ifdef KWCC_HAVE_LLVM

/* ---------------------------------------------------------------- argument lists */

typedef struct Args {
    char *v[128];
    int n, oom;
} Args;

static void arg(Args *a, const char *s)
{
    if (a->n + 1 >= (int)KW_COUNTOF(a->v)) {
        a->oom = 1;
        return;
    }
    char *d = dup_str(s);
    if (!d)
        a->oom = 1;
    else
        a->v[a->n++] = d;
    a->v[a->n] = NULL;
}

static void argf(Args *a, const char *fmt, const char *s)
{
    char buf[4200];
    snprintf(buf, sizeof buf, fmt, s);
    arg(a, buf);
}

/* $KWCC_CLANG_FLAGS, split on blanks: appended last, so they override kwcc's choices */
static void env_flags(Args *a)
{
    const char *e = getenv("KWCC_CLANG_FLAGS");
    while (e && *e) {
        while (*e == ' ' || *e == '\t')
            e++;
        size_t n = strcspn(e, " \t");
        if (n) {
            char buf[512];
            snprintf(buf, sizeof buf, "%.*s", (int)(n < 511 ? n : 511), e);
            arg(a, buf);
        }
        e += n;
    }
}

static void args_free(Args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

static void args_print(const Args *a)
{
    fprintf(stderr, "kwcc:");
    for (int i = 0; i < a->n; i++)
        fprintf(stderr, " %s", a->v[i]);
    fprintf(stderr, "\n");
}

/* ---------------------------------------------------------------- files */

/* A private temporary directory and the files made in it, removed by tmp_close. */
typedef struct TmpDir {
    char dir[4096];
    char *made[16];
    int n;
} TmpDir;

static int tmp_open(TmpDir *t, char *err, size_t cap)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    t->n = 0;
    snprintf(t->dir, sizeof t->dir, "%s/kwcc-llvm-XXXXXX", base);
    if (!mkdtemp(t->dir)) {
        snprintf(err, cap, "cannot make a temporary directory in %s: %s", base, strerror(errno));
        t->dir[0] = 0;
        return -1;
    }
    return 0;
}

/* DIR/name, remembered for removal (a name with '/' makes its directory first) */
static char *tmp_path(TmpDir *t, const char *name)
{
    if (t->n >= (int)KW_COUNTOF(t->made))
        return NULL;
    size_t n = strlen(t->dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "%s/%s", t->dir, name);
    t->made[t->n++] = p;
    return p;
}

static void tmp_close(TmpDir *t)
{
    if (getenv("KWCC_LLVM_KEEP") && t->dir[0]) { /* debugging: keep what clang saw */
        fprintf(stderr, "kwcc: kept %s (KWCC_LLVM_KEEP)\n", t->dir);
        for (int i = 0; i < t->n; i++)
            free(t->made[i]);
        t->n = 0;
        t->dir[0] = 0;
        return;
    }
    for (int i = t->n - 1; i >= 0; i--) {
        remove(t->made[i]);
        free(t->made[i]);
    }
    t->n = 0;
    if (t->dir[0])
        rmdir(t->dir);
    t->dir[0] = 0;
}

static int write_file(const char *path, const char *a, size_t na, const char *b, size_t nb)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int bad = fwrite(a, 1, na, f) != na;
    if (b)
        bad |= fwrite(b, 1, nb, f) != nb;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

/* The whole file (malloc'd, NUL-terminated), or NULL. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    KwBuf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        kw_buf_put(&b, chunk, got);
    int bad = ferror(f);
    fclose(f);
    if (bad || b.oom) {
        kw_buf_free(&b);
        return NULL;
    }
    size_t n = 0;
    char *s = kw_buf_take(&b, &n);
    if (!s)
        s = dup_str("");
    if (len)
        *len = n;
    return s;
}

/* Runs argv (stdin /dev/null, stdout and stderr into log): the exit status, or -1 with err. */
static int run_tool(char *const *argv, const char *log, char *err, size_t cap)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ); /* KWCC_CLANG may be a bare name */
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        snprintf(err, cap, "cannot run clang %s: %s (set KWCC_CLANG to a clang of LLVM %s)", argv[0], strerror(e),
                 KWCC_LLVM_VERSION);
        return -1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, cap, "waiting for %s: %s", argv[0], strerror(errno));
            return -1;
        }
    if (WIFSIGNALED(st)) {
        snprintf(err, cap, "%s was killed by signal %d", argv[0], WTERMSIG(st));
        return -1;
    }
    return WEXITSTATUS(st);
}

/* clang on argv, its messages from log: 0; -1 with *msg (malloc'd) = clang's messages when it
 * failed; -2 with *msg when it could not be run at all */
static int run_clang(const Args *a, const char *log, int verbose, char **msg)
{
    char err[4600];
    if (verbose)
        args_print(a);
    int rc = run_tool(a->v, log, err, sizeof err);
    if (rc == 0) {
        if (verbose) { /* warnings, if any */
            char *w = read_file(log, NULL);
            if (w && *w)
                fputs(w, stderr);
            free(w);
        }
        return 0;
    }
    if (rc < 0) {
        *msg = dup_str(err);
        return -2;
    }
    char *out = read_file(log, NULL);
    KwBuf b = {0};
    kw_buf_printf(&b, "%s exited with status %d", a->v[0], rc);
    if (out && *out) {
        size_t n = strlen(out);
        while (n && out[n - 1] == '\n')
            out[--n] = 0;
        /* clang's message: the first 40 lines */
        const char *p = out;
        for (int lines = 0; p && *p && lines < 40; lines++)
            p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
        kw_buf_printf(&b, ":\n%.*s%s", (int)(p ? (size_t)(p - out) : n), out, p && *p ? "...\n" : "");
    }
    free(out);
    size_t len;
    *msg = kw_buf_take(&b, &len);
    return -1;
}

/* ---------------------------------------------------------------- objects */

/* kwcc's own string.h and math.h for a bare-metal triple without newlib: the declarations the
 * generated files and the runtime kernels use (libm is the firmware's, linked as usual). */
static const char shim_string_h[] =
    "/* kwcc: minimal string.h for Cortex-M objects (newlib not installed) */\n"
    "#ifndef KWCC_SHIM_STRING_H\n#define KWCC_SHIM_STRING_H\n#include <stddef.h>\n"
    "void *memcpy(void *restrict, const void *restrict, size_t);\n"
    "void *memmove(void *, const void *, size_t);\nvoid *memset(void *, int, size_t);\n"
    "int memcmp(const void *, const void *, size_t);\n#endif\n";
static const char shim_math_h[] =
    "/* kwcc: minimal math.h for Cortex-M objects (newlib not installed) */\n"
    "#ifndef KWCC_SHIM_MATH_H\n#define KWCC_SHIM_MATH_H\n"
    "#define INFINITY __builtin_inff()\n#define NAN __builtin_nanf(\"\")\n#define HUGE_VALF __builtin_huge_valf()\n"
    "#define isnan(x) __builtin_isnan(x)\n#define isinf(x) __builtin_isinf(x)\n"
    "#define isfinite(x) __builtin_isfinite(x)\n"
    "float sqrtf(float); float expf(float); float logf(float); float powf(float, float); float tanhf(float);\n"
    "float erff(float); float floorf(float); float ceilf(float); float truncf(float); float roundf(float);\n"
    "float fabsf(float); float fmaxf(float, float); float fminf(float, float); float sinf(float);\n"
    "float cosf(float); float nearbyintf(float); float rintf(float);\n"
    "double sqrt(double); double exp(double); double log(double); double pow(double, double);\n"
    "double fabs(double); double floor(double); double ceil(double);\n#endif\n";

static int is_linux(const char *triple) { return strstr(triple, "linux") != NULL; }

/* The clang flags of an object for triple and target (after --target=). */
static void object_flags(Args *a, const char *triple, KwTargetKind target, TmpDir *t, int *bad)
{
    int cm = 0;
    char err[512];
    int fam = triple_family(triple, &cm, err, sizeof err);
    *bad = 0;
    if (fam == FAM_X86_64) {
        /* x86-64 psABI levels: v4 has AVX-512F/BW/CD/DQ/VL, v3 AVX2, FMA, BMI */
        if (target == KW_TARGET_AVX512)
            arg(a, "-march=x86-64-v4");
        else if (target == KW_TARGET_AVX2)
            arg(a, "-march=x86-64-v3");
        if (is_linux(triple))
            arg(a, "-fPIC");
    } else if (fam == FAM_AARCH64) {
        arg(a, "-march=armv8-a"); /* NEON (Advanced SIMD) and FMA are baseline */
        if (is_linux(triple))
            arg(a, "-fPIC");
    } else if (fam == FAM_CORTEX_M) {
        size_t tl = strlen(triple);
        int hf = tl > 6 && strcmp(triple + tl - 6, "eabihf") == 0;
        const char *cpu = cortex_m[cm].cpu;
        if (!hf && strcmp(cortex_m[cm].arch, "thumbv7em") == 0)
            cpu = "cortex-m4";
        argf(a, "-mcpu=%s", cpu);
        if (hf && cortex_m[cm].fpu) {
            arg(a, "-mfloat-abi=hard");
            argf(a, "-mfpu=%s", cortex_m[cm].fpu);
        } else {
            arg(a, "-mfloat-abi=soft");
        }
        /* firmware: one section per function and per weight blob (the linker drops what is
         * unused); no errno from sqrtf and friends, so clang may use the FPU's instructions */
        arg(a, "-ffunction-sections");
        arg(a, "-fdata-sections");
        arg(a, "-fno-math-errno");
        arg(a, "-fshort-enums"); /* the enum size of arm-none-eabi-gcc and newlib (Tag_ABI_enum_size) */
#ifdef KWCC_ARM_SYSROOT
        if (KWCC_ARM_SYSROOT[0] && !getenv("KWCC_NO_NEWLIB")) {
            argf(a, "--sysroot=%s", KWCC_ARM_SYSROOT);
            return;
        }
#endif
        char *inc = tmp_path(t, "include"), *s = tmp_path(t, "include/string.h"), *m = tmp_path(t, "include/math.h");
        if (!inc || !s || !m || mkdir(inc, 0700) != 0 ||
            write_file(s, shim_string_h, strlen(shim_string_h), NULL, 0) < 0 ||
            write_file(m, shim_math_h, strlen(shim_math_h), NULL, 0) < 0) {
            *bad = 1;
            return;
        }
        argf(a, "-isystem%s", inc);
    }
}

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int kw_llvm_write_object(const KwResult *res, const char *triple, KwTargetKind target, const char *header_name,
                         const char *obj_path, const char *hpath, int verbose)
{
    char err[4600];
    TmpDir t;
    if (strchr(header_name, '/')) {
        fprintf(stderr, "kwcc: internal error: the header name %s is not a base name\n", header_name);
        return 1;
    }
    /* the outputs' temporaries first: an unwritable destination is a bad argument */
    size_t no = strlen(obj_path), nh = strlen(hpath);
    char *otmp = malloc(no + 32), *htmp = malloc(nh + 32);
    if (!otmp || !htmp) {
        free(otmp);
        free(htmp);
        fprintf(stderr, "kwcc: error: out of memory\n");
        return 1;
    }
    snprintf(otmp, no + 32, "%s.tmp%ld", obj_path, (long)getpid());
    snprintf(htmp, nh + 32, "%s.tmp%ld", hpath, (long)getpid());
    int rc = 0;
    if (write_file(otmp, "", 0, NULL, 0) < 0) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", obj_path, strerror(errno));
        free(otmp);
        free(htmp);
        return 2;
    }
    if (write_file(htmp, res->h_text, res->h_len, NULL, 0) < 0) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", hpath, strerror(errno));
        remove(otmp);
        free(otmp);
        free(htmp);
        return 2;
    }
    if (tmp_open(&t, err, sizeof err) < 0) {
        fprintf(stderr, "kwcc: error: %s\n", err);
        rc = 1;
        goto out;
    }
    /* the C file is named after the object (model.o: model.c), its header as it includes it */
    char cname[256];
    const char *ob = base_of(obj_path);
    size_t bl = strcspn(ob, ".");
    snprintf(cname, sizeof cname, "%.*s.c", (int)(bl && bl < 200 ? bl : 5), bl && bl < 200 ? ob : "model");
    if (strcmp(cname, header_name) == 0)
        snprintf(cname, sizeof cname, "kwcc_model.c");
    char *cpath = tmp_path(&t, cname), *hp = tmp_path(&t, header_name), *log = tmp_path(&t, "clang.log");
    if (!cpath || !hp || !log || write_file(cpath, res->c_text, res->c_len, NULL, 0) < 0 ||
        write_file(hp, res->h_text, res->h_len, NULL, 0) < 0) {
        fprintf(stderr, "kwcc: error: cannot write the C file into %s: %s\n", t.dir, strerror(errno));
        rc = 1;
        goto out;
    }
    Args a = {0};
    arg(&a, clang_path());
    argf(&a, "--target=%s", triple);
    arg(&a, "-std=c99");
    arg(&a, "-O3");
    int bad = 0;
    object_flags(&a, triple, target, &t, &bad);
    env_flags(&a);
    arg(&a, "-c");
    arg(&a, cpath);
    arg(&a, "-o");
    arg(&a, otmp);
    char *msg = NULL;
    int crc = 0;
    if (a.oom || bad) {
        fprintf(stderr, "kwcc: error: out of memory or cannot write into %s\n", t.dir);
        rc = 1;
    } else if ((crc = run_clang(&a, log, verbose, &msg)) == -2) {
        fprintf(stderr, "kwcc: error: %s\n", msg ? msg : "cannot run clang");
        rc = 1;
    } else if (crc < 0) {
        fprintf(stderr, "kwcc: internal error: clang cannot compile the C kwcc generated for %s:\n%s\n", triple,
                msg ? msg : "(no message)");
        rc = 1;
    }
    free(msg);
    args_free(&a);
    if (rc == 0 && rename(otmp, obj_path) != 0) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", obj_path, strerror(errno));
        rc = 2;
    } else if (rc == 0 && rename(htmp, hpath) != 0) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", hpath, strerror(errno));
        remove(obj_path);
        rc = 2;
    }
out:
    if (rc != 0) {
        remove(otmp);
        remove(htmp);
    }
    tmp_close(&t);
    free(otmp);
    free(htmp);
    return rc;
}

/* ---------------------------------------------------------------- libLLVM, dlopen()ed */

/* Every LLVM-C function llvm.c calls, as a pointer of the header's own type. */
#if defined(__x86_64__)
#define KW_LLVM_NATIVE(X) X(LLVMInitializeX86TargetInfo) X(LLVMInitializeX86Target) \
    X(LLVMInitializeX86TargetMC) X(LLVMInitializeX86AsmPrinter)
#define KW_LLVM_INIT() (p_LLVMInitializeX86TargetInfo(), p_LLVMInitializeX86Target(), \
    p_LLVMInitializeX86TargetMC(), p_LLVMInitializeX86AsmPrinter())
#elif defined(__aarch64__)
#define KW_LLVM_NATIVE(X) X(LLVMInitializeAArch64TargetInfo) X(LLVMInitializeAArch64Target) \
    X(LLVMInitializeAArch64TargetMC) X(LLVMInitializeAArch64AsmPrinter)
#define KW_LLVM_INIT() (p_LLVMInitializeAArch64TargetInfo(), p_LLVMInitializeAArch64Target(), \
    p_LLVMInitializeAArch64TargetMC(), p_LLVMInitializeAArch64AsmPrinter())
#else
#define KW_LLVM_NATIVE(X)
#define KW_LLVM_INIT() ((void)0)
#endif
#define KW_LLVM_FNS(X)                                                                                        \
    X(LLVMContextCreate) X(LLVMContextDispose) X(LLVMCreateMemoryBufferWithMemoryRangeCopy)                  \
    X(LLVMDisposeMemoryBuffer) X(LLVMParseBitcodeInContext2) X(LLVMDisposeModule) X(LLVMGetTarget)           \
    X(LLVMGetTargetFromTriple) X(LLVMCreateTargetMachine) X(LLVMDisposeTargetMachine)                         \
    X(LLVMTargetMachineEmitToMemoryBuffer) X(LLVMGetHostCPUName) X(LLVMGetHostCPUFeatures)                   \
    X(LLVMDisposeMessage) X(LLVMGetErrorMessage) X(LLVMDisposeErrorMessage) X(LLVMOrcCreateLLJIT)           \
    X(LLVMOrcDisposeLLJIT) X(LLVMOrcLLJITGetMainJITDylib) X(LLVMOrcLLJITGetGlobalPrefix)                     \
    X(LLVMOrcLLJITMangleAndIntern) X(LLVMOrcAbsoluteSymbols) X(LLVMOrcJITDylibDefine)                       \
    X(LLVMOrcDisposeMaterializationUnit) X(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess)             \
    X(LLVMOrcJITDylibAddGenerator) X(LLVMOrcLLJITAddObjectFile) X(LLVMOrcLLJITLookup)                       \
    KW_LLVM_NATIVE(X)

#define KW_DECL(f) static __typeof__(f) *p_##f;
KW_LLVM_FNS(KW_DECL)
#undef KW_DECL

static int llvm_loaded; /* 1 loaded, -1 failed */
static char llvm_err[1024];

static int llvm_load(void)
{
    if (llvm_loaded)
        return llvm_loaded > 0 ? 0 : -1;
    llvm_loaded = -1;
    const char *path = getenv("KWCC_LIBLLVM");
    if (!path || !*path)
        path = KWCC_LIBLLVM;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(llvm_err, sizeof llvm_err, "cannot load libLLVM: %s", e ? e : path);
        return -1;
    }
#define KW_LOAD(f)                                                                                    \
    {                                                                                                 \
        void *s = dlsym(h, #f);                                                                       \
        if (!s) {                                                                                     \
            snprintf(llvm_err, sizeof llvm_err, "%s: no symbol %s (another LLVM version?)", path, #f); \
            return -1;                                                                                \
        }                                                                                             \
        memcpy(&p_##f, &s, sizeof s); /* object to function pointer, as POSIX dlsym users do */       \
    }
    KW_LLVM_FNS(KW_LOAD)
#undef KW_LOAD
    KW_LLVM_INIT();
    llvm_loaded = 1;
    return 0;
}

/* An LLVMErrorRef as a malloc'd message (consumes the error). */
static char *err_msg(const char *what, LLVMErrorRef e)
{
    char *m = p_LLVMGetErrorMessage(e);
    KwBuf b = {0};
    kw_buf_printf(&b, "%s: %s", what, m ? m : "(no message)");
    p_LLVMDisposeErrorMessage(m);
    size_t len;
    return kw_buf_take(&b, &len);
}

/* ---------------------------------------------------------------- the JIT unit */

/* A runtime source with its '#include "kw_rt.h"' line left out (the jit text holds kw_rt.h). */
static void put_runtime(KwBuf *b, const char *s)
{
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s + 1) : strlen(s);
        if (strncmp(s, "#include \"kw_rt.h\"", 18) != 0)
            kw_buf_put(b, s, len);
        s += len;
    }
}

/* The C unit clang compiles: system headers; the jit text with every kernel static; then the
 * kernels. The jit text defines NULL, INFINITY and NAN itself (it is made for tcc without
 * headers): the headers' versions are dropped before it and the builtins restored after. */
static char *jit_unit(const KwResult *res, KwTargetKind target, size_t *len)
{
    KwBuf b = {0};
    kw_buf_puts(&b, "/* kwcc run --jit llvm: the model's jit text, then the runtime kernels, in one unit */\n"
                    "#include <stddef.h>\n#include <string.h>\n#include <math.h>\n");
    if (target == KW_TARGET_AVX2 || target == KW_TARGET_AVX512)
        kw_buf_puts(&b, "#include <immintrin.h>\n");
    else if (target == KW_TARGET_NEON)
        kw_buf_puts(&b, "#include <arm_neon.h>\n");
    kw_buf_puts(&b, "#undef NULL\n#undef INFINITY\n#undef NAN\n"
                    "#define KW_RT_FN static\n#define KW_RT_LOCAL static __attribute__((unused))\n"
                    "#define KWCC_NO_STATIC_WORKSPACE 1\n#line 1 \"kwcc-jit-model.c\"\n");
    kw_buf_put(&b, res->c_text, res->c_len);
    kw_buf_puts(&b, "\n#undef INFINITY\n#undef NAN\n#define INFINITY __builtin_inff()\n#define NAN __builtin_nanf(\"\")\n");
    static const char *const macro[] = {"", "KW_SIMD_AVX2", "KW_SIMD_AVX512", "KW_SIMD_NEON"};
    if (target != KW_TARGET_GENERIC)
        kw_buf_printf(&b, "#define %s 1\n", macro[target]);
    kw_buf_puts(&b, "#line 1 \"kw_rt_ref.c\"\n");
    put_runtime(&b, kw_rt_ref_text);
    if (target != KW_TARGET_GENERIC) {
        kw_buf_puts(&b, "#line 1 \"kw_rt_simd.c\"\n");
        put_runtime(&b, kw_rt_simd_text);
    }
    return kw_buf_take(&b, len);
}

/* ---------------------------------------------------------------- JIT */

struct KwLlvmJit {
    LLVMOrcLLJITRef jit;
    LLVMMemoryBufferRef obj; /* until ORC takes it */
    const void *weights;
    char *run_name;
    int (*run)(const float *const *, float *const *, void *);
    const long long *io;
};

static const float no_weights[16];

KwLlvmJit *kw_llvm_jit_compile(const KwResult *res, const char *prefix, KwTargetKind target, int verbose,
                               double t[2], char **msg)
{
    char err[4600];
    *msg = NULL;
    t[0] = t[1] = 0;
    if (!res->c_text || !runs_here(target)) {
        *msg = dup_str(!res->c_text ? "no C text to compile" : "this machine does not run the target");
        return NULL;
    }
    if (llvm_load() < 0) {
        *msg = dup_str(llvm_err);
        return NULL;
    }
    KwLlvmJit *j = calloc(1, sizeof *j);
    size_t pn = strlen(prefix);
    char *run_name = malloc(pn + 16);
    if (!j || !run_name) {
        free(j);
        free(run_name);
        *msg = dup_str("out of memory");
        return NULL;
    }
    memcpy(run_name, prefix, pn);
    strcpy(run_name + pn, "_run_multi");
    j->run_name = run_name;
    j->weights = res->weights ? res->weights : (const void *)no_weights;

    /* 1. clang: the unit to optimised bitcode */
    double t0 = now_s();
    TmpDir td;
    if (tmp_open(&td, err, sizeof err) < 0) {
        *msg = dup_str(err);
        kw_llvm_jit_free(j);
        return NULL;
    }
    size_t ulen = 0;
    char *unit = jit_unit(res, target, &ulen);
    char *cpath = tmp_path(&td, "model.c"), *bc = tmp_path(&td, "model.bc"), *log = tmp_path(&td, "clang.log");
    if (!unit || !cpath || !bc || !log || write_file(cpath, unit, ulen, NULL, 0) < 0) {
        free(unit);
        tmp_close(&td);
        *msg = dup_str("cannot write the JIT unit into a temporary directory");
        kw_llvm_jit_free(j);
        return NULL;
    }
    free(unit);
    Args a = {0};
    arg(&a, clang_path());
    arg(&a, "-std=gnu11");
    arg(&a, "-O3");
#if defined(__x86_64__)
    arg(&a, "-march=native");
#elif defined(__aarch64__)
    arg(&a, "-mcpu=native");
#endif
    /* as the tcc path: no contraction, so the portable kernels give the bits of a generated
     * file; no errno from libm, so sqrtf is an instruction */
    arg(&a, "-ffp-contract=off");
    arg(&a, "-fno-math-errno");
    arg(&a, "-fno-pic");
    arg(&a, "-w");
    env_flags(&a);
    arg(&a, "-emit-llvm");
    arg(&a, "-c");
    arg(&a, cpath);
    arg(&a, "-o");
    arg(&a, bc);
    int crc = a.oom ? -1 : run_clang(&a, log, verbose, msg);
    if (a.oom && !*msg)
        *msg = dup_str("out of memory");
    args_free(&a);
    size_t bclen = 0;
    char *bits = crc == 0 ? read_file(bc, &bclen) : NULL;
    tmp_close(&td);
    if (!bits) {
        if (!*msg)
            *msg = dup_str("clang wrote no bitcode");
        kw_llvm_jit_free(j);
        return NULL;
    }
    double t1 = now_s();

    /* 2. libLLVM: bitcode to an object in memory, for this CPU, codegen -O3 */
    LLVMContextRef ctx = p_LLVMContextCreate();
    LLVMMemoryBufferRef mb = p_LLVMCreateMemoryBufferWithMemoryRangeCopy(bits, bclen, "model.bc");
    free(bits);
    LLVMModuleRef mod = NULL;
    LLVMTargetMachineRef tm = NULL;
    char *cpu = NULL, *feat = NULL, *e = NULL;
    if (p_LLVMParseBitcodeInContext2(ctx, mb, &mod)) {
        *msg = dup_str("libLLVM cannot read clang's bitcode (clang and libLLVM of different versions?)");
        goto fail2;
    }
    const char *triple = p_LLVMGetTarget(mod);
    LLVMTargetRef target_ref;
    if (p_LLVMGetTargetFromTriple(triple, &target_ref, &e)) {
        snprintf(err, sizeof err, "libLLVM has no target for %s: %s", triple, e ? e : "");
        *msg = dup_str(err);
        goto fail2;
    }
    cpu = p_LLVMGetHostCPUName();
    feat = p_LLVMGetHostCPUFeatures();
    /* JITDefault: the large code model on x86-64 and AArch64, so the object may reference the
     * weights and libc wherever they are */
    tm = p_LLVMCreateTargetMachine(target_ref, triple, cpu, feat, LLVMCodeGenLevelAggressive, LLVMRelocStatic,
                                   LLVMCodeModelJITDefault);
    if (!tm) {
        *msg = dup_str("libLLVM cannot make a target machine for this CPU");
        goto fail2;
    }
    if (p_LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &e, &j->obj)) {
        snprintf(err, sizeof err, "libLLVM codegen failed: %s", e ? e : "");
        *msg = dup_str(err);
        j->obj = NULL;
        goto fail2;
    }
fail2:
    if (e)
        p_LLVMDisposeMessage(e);
    if (cpu)
        p_LLVMDisposeMessage(cpu);
    if (feat)
        p_LLVMDisposeMessage(feat);
    if (tm)
        p_LLVMDisposeTargetMachine(tm);
    if (mod)
        p_LLVMDisposeModule(mod);
    p_LLVMDisposeMemoryBuffer(mb);
    p_LLVMContextDispose(ctx);
    if (!j->obj) {
        kw_llvm_jit_free(j);
        return NULL;
    }
    double t2 = now_s();
    t[0] = t1 - t0;
    t[1] = t2 - t1;
    return j;
}

int kw_llvm_jit_load(KwLlvmJit *j, char **msg)
{
    *msg = NULL;
    LLVMErrorRef e = p_LLVMOrcCreateLLJIT(&j->jit, NULL);
    if (e) {
        j->jit = NULL;
        *msg = err_msg("cannot create the ORC LLJIT", e);
        return -1;
    }
    LLVMOrcJITDylibRef jd = p_LLVMOrcLLJITGetMainJITDylib(j->jit);
    /* the weight blob kwcc holds, as an absolute symbol */
    LLVMJITCSymbolMapPair w;
    w.Name = p_LLVMOrcLLJITMangleAndIntern(j->jit, "kw_jit_weights");
    w.Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)j->weights;
    w.Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported;
    w.Sym.Flags.TargetFlags = 0;
    LLVMOrcMaterializationUnitRef mu = p_LLVMOrcAbsoluteSymbols(&w, 1);
    if ((e = p_LLVMOrcJITDylibDefine(jd, mu)) != NULL) {
        p_LLVMOrcDisposeMaterializationUnit(mu);
        *msg = err_msg("cannot define kw_jit_weights", e);
        return -1;
    }
    /* memcpy, memset, libm: from this process */
    LLVMOrcDefinitionGeneratorRef gen;
    if ((e = p_LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, p_LLVMOrcLLJITGetGlobalPrefix(j->jit),
                                                                     NULL, NULL)) != NULL) {
        *msg = err_msg("cannot search this process for symbols", e);
        return -1;
    }
    p_LLVMOrcJITDylibAddGenerator(jd, gen);
    LLVMMemoryBufferRef obj = j->obj;
    j->obj = NULL; /* ORC owns it from here, whatever happens */
    if ((e = p_LLVMOrcLLJITAddObjectFile(j->jit, jd, obj)) != NULL) {
        *msg = err_msg("ORC cannot add the object", e);
        return -1;
    }
    LLVMOrcExecutorAddress run = 0, io = 0;
    if ((e = p_LLVMOrcLLJITLookup(j->jit, &run, j->run_name)) != NULL) {
        *msg = err_msg("ORC cannot link the model", e);
        return -1;
    }
    if ((e = p_LLVMOrcLLJITLookup(j->jit, &io, "kw_jit_io")) != NULL) {
        *msg = err_msg("the code has no kw_jit_io[]", e);
        return -1;
    }
    uintptr_t r = (uintptr_t)run;
    void *rp = (void *)r;
    memcpy(&j->run, &rp, sizeof rp); /* object to function pointer, as for dlsym */
    j->io = (const long long *)(uintptr_t)io;
    return 0;
}

int kw_llvm_jit_run(const KwLlvmJit *j, const float *const *in, float *const *out, void *workspace)
{
    return j->run(in, out, workspace);
}

const long long *kw_llvm_jit_io(const KwLlvmJit *j) { return j->io; }

void kw_llvm_jit_free(KwLlvmJit *j)
{
    if (!j)
        return;
    if (j->jit) {
        LLVMErrorRef e = p_LLVMOrcDisposeLLJIT(j->jit);
        if (e) {
            char *m = err_msg("", e);
            free(m);
        }
    }
    if (j->obj)
        p_LLVMDisposeMemoryBuffer(j->obj);
    free(j->run_name);
    free(j);
}

#else /* !KWCC_HAVE_LLVM */

int kw_llvm_write_object(const KwResult *res, const char *triple, KwTargetKind target, const char *header_name,
                         const char *obj_path, const char *hpath, int verbose)
{
    (void)res, (void)triple, (void)target, (void)header_name, (void)obj_path, (void)hpath, (void)verbose;
    fprintf(stderr, "kwcc: error: --target-triple is unavailable: this kwcc was built without LLVM\n");
    return 2;
}

struct KwLlvmJit {
    int unused;
};

KwLlvmJit *kw_llvm_jit_compile(const KwResult *res, const char *prefix, KwTargetKind target, int verbose,
                               double t[2], char **msg)
{
    (void)res, (void)prefix, (void)target, (void)verbose;
    t[0] = t[1] = 0;
    *msg = dup_str("kwcc was built without LLVM");
    return NULL;
}

int kw_llvm_jit_load(KwLlvmJit *j, char **msg)
{
    (void)j;
    *msg = dup_str("kwcc was built without LLVM");
    return -1;
}

int kw_llvm_jit_run(const KwLlvmJit *j, const float *const *in, float *const *out, void *workspace)
{
    (void)j, (void)in, (void)out, (void)workspace;
    return -1;
}

const long long *kw_llvm_jit_io(const KwLlvmJit *j)
{
    (void)j;
    return NULL;
}

void kw_llvm_jit_free(KwLlvmJit *j) { free(j); }

#endif /* KWCC_HAVE_LLVM */
