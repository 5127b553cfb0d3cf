/* emit_c.c -- the portable C emitter: one C99 file per model, plus its header.
 *
 * Layout of a generated file:
 *   banner             generator, source model, opset; "do not edit"
 *   prelude            the runtime kernels this model calls (pasted from runtime/)
 *   weights            every constant a kernel reads, as one exact byte string
 *   tables, params     one static const parameter struct per kernel call
 *   entry              PREFIX_run_multi / PREFIX_run: the calls in order on workspace offsets
 *   main               only with -DKWCC_MAIN: file in, file out, --repeat timing
 * With KwEmitOpts.jit (kwcc run, codegen/jit.c) the prelude is declarations only (no headers,
 * kernel prototypes), the weights an extern symbol, and kw_jit_io[] replaces main.
 * The text is built in memory; the driver writes it only if everything succeeded. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kw_codegen.h"

typedef struct Gen {
    KwGraph *g;
    const KwEmitOpts *o;
    KwBuf *c;
    int used[KW_K_COUNT];
    int need_libm, need_math_h;
    int n_prof; /* nodes with a profile slot (-DKWCC_PROFILE) */
} Gen;

#define P(...) kw_buf_printf(gen->c, __VA_ARGS__)

static void upper(char *dst, const char *src, size_t cap);

/* ---------------------------------------------------------------- small printers */

static void put_float(Gen *gen, float f)
{
    if (isnan(f))
        P("NAN");
    else if (isinf(f)) /* tcc folds no arithmetic on an infinite constant: not even -INFINITY */
        P(f > 0 ? "INFINITY" : gen->o->jit ? "(-1.0f / 0.0f)" : "-INFINITY");
    else
        P("%af", (double)f);
}

static void put_comment_text(KwBuf *b, const char *s)
{
    for (; *s; s++) {
        if (s[0] == '*' && s[1] == '/')
            kw_buf_puts(b, "* ");
        else if ((unsigned char)*s >= 32 && *s != 127)
            kw_buf_put(b, s, 1);
        else
            kw_buf_puts(b, "?");
    }
}

static void put_ints(Gen *gen, const char *name, const int *v, int n)
{
    P(", .%s = {", name);
    for (int i = 0; i < n; i++)
        P("%s%d", i ? ", " : "", v[i]);
    P("}");
}

#define FI(s, f) P("%s.%s = %d", first ? (first = 0, "") : ", ", #f, (s)->f)
#define FF(s, f) (P("%s.%s = ", first ? (first = 0, "") : ", ", #f), put_float(gen, (s)->f))
#define FA(s, f, n) put_ints(gen, #f, (s)->f, n)

static void put_convf(Gen *gen, const KwConvFP *p)
{
    int first = 1;
    FI(p, N), FI(p, C), FI(p, O), FI(p, G), FI(p, Cg), FI(p, Og), FI(p, H), FI(p, W), FI(p, OH), FI(p, OW);
    FI(p, kh), FI(p, kw), FI(p, sh), FI(p, sw), FI(p, dh), FI(p, dw), FI(p, pad_t), FI(p, pad_l);
    FI(p, taps), FI(p, Hq), FI(p, Wq), FI(p, plane), FI(p, Qpad), FI(p, act), FF(p, lo), FF(p, hi), FF(p, padval);
    FI(p, direct), FI(p, rb), FI(p, ystore), FI(p, bcc);
}

static void put_params(Gen *gen, const KwCall *c, const char *table)
{
    int first = 1;
    switch (c->k) {
    case KW_K_UNARY: {
        const KwUnaryP *p = &c->p.un;
        FI(p, op), FI(p, n), FF(p, a), FF(p, b);
        break;
    }
    case KW_K_BINARY: {
        const KwBinaryP *p = &c->p.bin;
        FI(p, op), FI(p, rank), FA(p, dim, p->rank), FA(p, sa, p->rank), FA(p, sb, p->rank);
        break;
    }
    case KW_K_AFFINE: {
        const KwAffineP *p = &c->p.aff;
        FI(p, outer), FI(p, C), FI(p, inner), FI(p, act), FF(p, lo), FF(p, hi);
        break;
    }
    case KW_K_CONV: {
        const KwConvP *p = &c->p.conv;
        FI(p, nsp), FI(p, N), FI(p, C), FI(p, O), FI(p, G);
        FA(p, in, 3), FA(p, out, 3), FA(p, k, 3), FA(p, stride, 3), FA(p, pad, 3), FA(p, dil, 3);
        FI(p, wso), FI(p, wsi), FA(p, wsk, 3), FI(p, act), FF(p, lo), FF(p, hi);
        break;
    }
    case KW_K_GEMM: {
        const KwGemmP *p = &c->p.gemm;
        FI(p, M), FI(p, N), FI(p, K), FI(p, a_rs), FI(p, a_cs), FI(p, b_rs), FI(p, b_cs), FI(p, c_rs), FI(p, c_cs);
        FI(p, nb);
        if (p->nb)
            FA(p, bdim, p->nb), FA(p, a_bs, p->nb), FA(p, b_bs, p->nb), FA(p, y_bs, p->nb);
        FF(p, alpha), FF(p, beta), FI(p, act), FF(p, lo), FF(p, hi);
        break;
    }
    case KW_K_POOL: {
        const KwPoolP *p = &c->p.pool;
        FI(p, kind), FI(p, nsp), FI(p, NC), FA(p, in, 3), FA(p, out, 3), FA(p, k, 3), FA(p, stride, 3);
        FA(p, pad_b, 3), FA(p, pad_e, 3), FA(p, dil, 3), FI(p, count_include_pad);
        break;
    }
    case KW_K_REDUCE: {
        const KwReduceP *p = &c->p.red;
        FI(p, op), FI(p, orank), FI(p, rrank), FA(p, odim, p->orank), FA(p, os, p->orank);
        if (p->rrank)
            FA(p, rdim, p->rrank), FA(p, rs, p->rrank);
        break;
    }
    case KW_K_COPY: {
        const KwCopyP *p = &c->p.copy;
        FI(p, esize), FI(p, rank), FA(p, dim, p->rank), FA(p, ss, p->rank), FA(p, ds, p->rank), FI(p, soff),
            FI(p, doff);
        break;
    }
    case KW_K_GATHER: {
        const KwGatherP *p = &c->p.gather;
        FI(p, esize), FI(p, outer), FI(p, axis_n), FI(p, inner), FI(p, nidx);
        P(", .idx = %s", table);
        break;
    }
    case KW_K_SOFTMAX: {
        const KwSoftmaxP *p = &c->p.sm;
        FI(p, outer), FI(p, n), FI(p, inner);
        break;
    }
    case KW_K_LAYERNORM: {
        const KwLayerNormP *p = &c->p.ln;
        FI(p, outer), FI(p, n), FI(p, inner), FF(p, eps);
        break;
    }
    case KW_K_ATTENTION: {
        const KwAttnP *p = &c->p.attn;
        FI(p, C), FI(p, HW), FI(p, hidden), FI(p, m), FI(p, n), FI(p, ln), FF(p, ln_eps), FI(p, basis), FI(p, L),
            FI(p, B), FI(p, start), FF(p, eps), FF(p, tscale);
        break;
    }
    case KW_K_ASSEMBLE: {
        const KwAsmP *p = &c->p.as;
        FI(p, m), FI(p, n), FI(p, S), FI(p, nl), FA(p, cnt, p->nl), FA(p, ds, p->nl), FA(p, ss, p->nl);
        P(", .base = %s", table);
        break;
    }
    case KW_K_KWCONV: {
        const KwKwConvBP *bp = &c->p.kwb;
        const KwConvP *p = &bp->conv;
        const KwAsmP *q = &bp->as;
        const KwAttnP *t = &bp->attn;
        P(".attn = {");
        FI(t, C), FI(t, HW), FI(t, hidden), FI(t, m), FI(t, n), FI(t, ln), FF(t, ln_eps), FI(t, basis), FI(t, L),
            FI(t, B), FI(t, start), FF(t, eps), FF(t, tscale);
        P("}, .conv = {");
        first = 1;
        FI(p, nsp), FI(p, N), FI(p, C), FI(p, O), FI(p, G);
        FA(p, in, 3), FA(p, out, 3), FA(p, k, 3), FA(p, stride, 3), FA(p, pad, 3), FA(p, dil, 3);
        FI(p, wso), FI(p, wsi), FA(p, wsk, 3), FI(p, act), FF(p, lo), FF(p, hi);
        P("}, .as = {");
        first = 1;
        FI(q, m), FI(q, n), FI(q, S), FI(q, nl), FA(q, cnt, q->nl), FA(q, ds, q->nl), FA(q, ss, q->nl);
        P(", .base = %s}", table);
        FI(bp, bo), FI(bp, full), FI(bp, w_off);
        break;
    }
    case KW_K_CONV_SIMD:
    case KW_K_DWCONV_SIMD:
    case KW_K_MAXPOOL_SIMD: put_convf(gen, &c->p.convf); break;
    case KW_K_KWCONV_SIMD: {
        const KwKwConvP *p = &c->p.kwf;
        P(".conv = {");
        put_convf(gen, &p->conv);
        P("}");
        first = 0;
        FI(p, n), FI(p, m), FI(p, S), FI(p, co), FI(p, ci), FI(p, Go), FI(p, Gi), FI(p, whole), FI(p, grp), FI(p, chunked);
        break;
    }
    default: KW_BUG("no printer for kernel %d", c->k);
    }
}

static const char *const param_type[KW_K_COUNT] = {
    "KwUnaryP", "KwBinaryP", "KwAffineP", "KwConvP",  "KwGemmP",  "KwPoolP", "KwReduceP",
    "KwCopyP",  "KwGatherP", "KwSoftmaxP", "KwLayerNormP", "KwAttnP", "KwAsmP", "KwKwConvBP",
    "KwConvFP", "KwConvFP",  "KwKwConvP", "KwConvFP",
};

/* ---------------------------------------------------------------- operands */

static void put_arg(Gen *gen, const KwNode *n, const KwArg *a)
{
    KwGraph *g = gen->g;
    if (a->kind == KW_ARG_NULL) {
        P("NULL");
        return;
    }
    if (a->kind == KW_ARG_SCRATCH) {
        P("(float *)(ws + %" PRId64 ")", n->scratch_off + a->off);
        return;
    }
    const KwValue *v = &g->v[a->value];
    int64_t off = v->off + a->off;
    switch (v->st) {
    case KW_ST_CONST: P("(kw_w.f + %" PRId64 ")", off / 4); break;
    case KW_ST_INPUT: P("(in[%d] + %" PRId64 ")", v->st_index, off / 4); break;
    case KW_ST_OUTPUT: P("(out[%d] + %" PRId64 ")", v->st_index, off / 4); break;
    case KW_ST_WS: P("(float *)(ws + %" PRId64 ")", off); break;
    default: KW_BUG("value %%%d '%s' has no storage", a->value, v->name);
    }
}

/* ---------------------------------------------------------------- prelude */

/* Whether kw_unary calls into libm for this op (kw_rt_ref.c: the cases inside
 * #ifndef KW_RT_NO_LIBM). */
static int unary_needs_libm(const KwUnaryP *u)
{
    switch (u->op) {
    case KW_UN_POWC: return u->a != 2.0f;
    case KW_UN_SQRT:
    case KW_UN_ERF:
    case KW_UN_SIGMOID:
    case KW_UN_EXP:
    case KW_UN_LOG:
    case KW_UN_TANH:
    case KW_UN_FLOOR:
    case KW_UN_CEIL:
    case KW_UN_GELU:
    case KW_UN_TRUNC: return 1;
    default: return 0;
    }
}

static void collect_usage(Gen *gen)
{
    KwGraph *g = gen->g;
    for (int i = 0; i < g->nn; i++) {
        const KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_calls; k++) {
            const KwCall *c = &n->calls[k];
            gen->used[c->k] = 1;
            switch (c->k) {
            case KW_K_UNARY:
                if (unary_needs_libm(&c->p.un))
                    gen->need_libm = 1;
                if (isinf(c->p.un.a) || isinf(c->p.un.b) || isnan(c->p.un.a) || isnan(c->p.un.b))
                    gen->need_math_h = 1;
                break;
            case KW_K_BINARY:
                if (c->p.bin.op == KW_BIN_POW)
                    gen->need_libm = 1;
                break;
            case KW_K_SOFTMAX:
            case KW_K_LAYERNORM: gen->need_libm = 1; break;
            case KW_K_ATTENTION:
                if (c->p.attn.ln)
                    gen->need_libm = 1;
                break;
            case KW_K_KWCONV:
                /* kw_kwconv calls kw_assemble and kw_conv (and kw__attn, see paste_runtime):
                 * their sections go in with it */
                gen->used[KW_K_ASSEMBLE] = gen->used[KW_K_CONV] = 1;
                if (c->p.kwb.attn.ln)
                    gen->need_libm = 1;
                if (!isfinite(c->p.kwb.conv.lo) || !isfinite(c->p.kwb.conv.hi))
                    gen->need_math_h = 1;
                break;
            case KW_K_CONV:
            case KW_K_AFFINE:
            case KW_K_GEMM:
            case KW_K_CONV_SIMD:
            case KW_K_DWCONV_SIMD:
            case KW_K_KWCONV_SIMD: {
                float lo = c->k == KW_K_CONV ? c->p.conv.lo : c->k == KW_K_GEMM ? c->p.gemm.lo
                           : c->k == KW_K_AFFINE ? c->p.aff.lo : c->k == KW_K_KWCONV_SIMD ? c->p.kwf.conv.lo
                                                                                          : c->p.convf.lo;
                float hi = c->k == KW_K_CONV ? c->p.conv.hi : c->k == KW_K_GEMM ? c->p.gemm.hi
                           : c->k == KW_K_AFFINE ? c->p.aff.hi : c->k == KW_K_KWCONV_SIMD ? c->p.kwf.conv.hi
                                                                                          : c->p.convf.hi;
                if (!isfinite(lo) || !isfinite(hi))
                    gen->need_math_h = 1;
                break;
            }
            default: break;
            }
        }
    }
    if (gen->need_libm)
        gen->need_math_h = 1;
}

/* Whether the line s is a runtime section header; the section's name into name. */
static int section_header(const char *s, char name[64])
{
    if (strncmp(s, "/*@@ ", 5) != 0)
        return 0;
    memset(name, 0, 64);
    sscanf(s + 5, "%63s", name);
    return 1;
}

/* Whether the runtime section `name` is a kernel this model calls. */
static int kernel_used(const Gen *gen, const char *name)
{
    for (int k = 0; k < KW_K_COUNT; k++)
        if (gen->used[k] && strcmp(name, kw_kernel_name[k]) == 0)
            return 1;
    return 0;
}

/* Pastes the sections of a runtime source that this model uses. */
static void paste_runtime(Gen *gen, const char *s)
{
    int keep = 0, simd = 0;
    char name[64];
    for (int k = KW_K_CONV_SIMD; k < KW_K_COUNT; k++)
        simd |= gen->used[k];
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s + 1) : strlen(s);
        if (section_header(s, name))
            keep = strcmp(name, "common") == 0 || (simd && strcmp(name, "simd_common") == 0) ||
                   (strcmp(name, "kw__attn") == 0 && (gen->used[KW_K_ATTENTION] || gen->used[KW_K_KWCONV])) ||
                   kernel_used(gen, name);
        else if (keep && strncmp(s, "#include \"kw_rt.h\"", 18) != 0)
            kw_buf_put(gen->c, s, len);
        s += len;
    }
}

/* ---------------------------------------------------------------- weights */

/* An exact byte string: printable characters as themselves, the rest as octal escapes
 * ('?' always escaped: trigraphs). Adjacent literals concatenate. */
static void put_bytes(KwBuf *b, const unsigned char *p, int64_t n)
{
    char line[512];
    int64_t i = 0;
    while (i < n) {
        size_t k = 0;
        line[k++] = '"';
        int prev_oct = 0;
        for (int cnt = 0; cnt < 100 && i < n; cnt++, i++) {
            unsigned c = p[i];
            int digit = c >= '0' && c <= '7';
            if (c >= 32 && c < 127 && c != '\\' && c != '"' && c != '?' && !(prev_oct && digit)) {
                line[k++] = (char)c;
                prev_oct = 0;
            } else {
                line[k++] = '\\';
                if (c >= 64)
                    line[k++] = (char)('0' + (c >> 6));
                if (c >= 8)
                    line[k++] = (char)('0' + ((c >> 3) & 7));
                line[k++] = (char)('0' + (c & 7));
                prev_oct = 1;
            }
        }
        line[k++] = '"';
        line[k++] = '\n';
        kw_buf_put(b, line, k);
    }
}

void kw_weight_blob(const KwGraph *g, void *dst)
{
    unsigned char *blob = dst;
    for (int i = 0; i < g->nv; i++) {
        const KwValue *v = &g->v[i];
        if (v->st == KW_ST_CONST && v->alias < 0)
            memcpy(blob + v->off, v->data, (size_t)(kw_numel(&v->shape) * kw_dtype_size(v->dt)));
    }
}

/* KW_WSECTION: the --weights-section attribute (GNU C and clang), or nothing. */
static void put_section_macro(KwBuf *b, const KwEmitOpts *o)
{
    if (o->weights_section)
        kw_buf_printf(b,
                      "#if defined(__GNUC__) || defined(__clang__)\n#define KW_WSECTION __attribute__((section(\"%s\")))\n"
                      "#else\n#define KW_WSECTION /* a section is a GNU C attribute: place the weights with your linker */\n"
                      "#endif\n",
                      o->weights_section);
    else
        kw_buf_puts(b, "#define KW_WSECTION\n");
}

static void emit_weights(Gen *gen)
{
    KwGraph *g = gen->g;
    const KwEmitOpts *o = gen->o;
    int64_t bytes = g->weight_bytes;
    if (bytes == 0) {
        P("\n/* ---- weights: none ---- */\n");
        return;
    }
    P("\n/* ---- weights: %" PRId64 " bytes, little-endian float32, exact ---- */\n", g->weight_bytes);
    P("#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n"
      "#error \"kwcc: this model's weights are stored little-endian\"\n#endif\n");
    if (o->weights_extern) {
        P("extern const float kw_jit_weights[];\n");
        P("static const struct { const float *f; } kw_w = { kw_jit_weights };\n");
        return;
    }
    if (o->weights_file != KW_WEIGHTS_INLINE) {
        char up[256];
        upper(up, o->prefix, sizeof up);
        P("/* --weights-file: the blob is %s_weights (declared in %s), defined by the weights file kwcc\n"
          " * wrote, by the linker script, or read at the fixed address -D%s_WEIGHTS_ADDRESS=... */\n",
          o->prefix, o->header_name, up);
        P("#ifdef %s_WEIGHTS_ADDRESS\n#define kw_w (*(const %s_weights_t *)(%s_WEIGHTS_ADDRESS))\n#else\n"
          "#define kw_w %s_weights\n#endif\n",
          up, o->prefix, up, o->prefix);
        return;
    }
    unsigned char *blob = kw_alloc(g->arena, (size_t)bytes);
    kw_weight_blob(g, blob);
    if (o->weights_section)
        put_section_macro(gen->c, o);
    P("static const union {\n    unsigned char b[%" PRId64 "];\n    float f[%" PRId64 "];\n} KW_ALIGNED kw_w%s = {\n",
      bytes, bytes / 4, o->weights_section ? " KW_WSECTION" : "");
    put_bytes(gen->c, blob, bytes);
    P("};\n");
}

/* ---------------------------------------------------------------- entry */

/* "[1,64,56,56]" into buf, without the arena: emit_params_and_calls holds a malloc'd buffer
 * while it prints banners, and an arena failure there would leak it. */
static const char *sanitized_shape(char *buf, size_t cap, const KwShape *s)
{
    size_t k = 0;
    buf[k++] = '[';
    for (int i = 0; i < s->rank && k + 24 < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%" PRId64, i ? "," : "", s->d[i]);
    snprintf(buf + k, cap - k, "]");
    return buf;
}

static void emit_node_banner(Gen *gen, int id, const KwNode *n)
{
    KwGraph *g = gen->g;
    P("    /* n%d ", id);
    put_comment_text(gen->c, n->op_type);
    P(" '");
    put_comment_text(gen->c, n->name);
    P("'");
    const KwValue *x = kw_in(g, n, 0), *y = kw_out(g, n, 0);
    char sx[KW_MAX_RANK * 22 + 4], sy[KW_MAX_RANK * 22 + 4];
    if (x && y)
        P(": %s -> %s", sanitized_shape(sx, sizeof sx, &x->shape), sanitized_shape(sy, sizeof sy, &y->shape));
    if (n->kw)
        P(" [KernelWarehouse: warehouse %d, %d cells, %d mixtures]", n->kw->wh_index, n->kw->attn.n, n->kw->attn.m);
    if (n->epi.act)
        P(" +%s", n->epi.act == KW_ACT_RELU ? "relu" : "clip");
    if (n->epi.res >= 0)
        P(" +residual");
    P(" */\n");
}

/* Whether node n gets a specialised function of its own (emit_params_and_calls). */
static int node_specialized(const Gen *gen, const KwNode *n)
{
    if (gen->o->jit || gen->g->target == KW_TARGET_GENERIC || n->dead)
        return 0;
    for (int k = 0; k < n->n_calls; k++)
        if (n->calls[k].k >= KW_K_CONV_SIMD)
            return 1;
    return 0;
}

/* The kernel calls of node i, one statement each. */
static void emit_node_calls(Gen *gen, int i)
{
    const KwNode *n = &gen->g->n[i];
    for (int k = 0; k < n->n_calls; k++) {
        const KwCall *c = &n->calls[k];
        P("    %s(&kw_p%d_%d", kw_kernel_name[c->k], i, k);
        for (int a = 0; a < c->nargs; a++) {
            P(", ");
            put_arg(gen, n, &c->args[a]);
        }
        P(");\n");
    }
}

static void emit_params_and_calls(Gen *gen)
{
    KwGraph *g = gen->g;
    KwBuf calls = {0};
    KwBuf *saved = gen->c;
    P("\n/* ---- kernel parameters ---- */\n");
    for (int i = 0; i < g->nn; i++) {
        const KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_calls; k++) {
            const KwCall *c = &n->calls[k];
            char table[64] = "NULL";
            if (c->n_ints) {
                snprintf(table, sizeof table, "kw_t%d_%d", i, k);
                P("static const int %s[%d] = {", table, c->n_ints);
                for (int j = 0; j < c->n_ints; j++)
                    P("%s%d", j ? (j % 16 ? ", " : ",\n    ") : "", c->ints[j]);
                P("};\n");
            }
            P("static const %s kw_p%d_%d = {", param_type[c->k], i, k);
            put_params(gen, c, table);
            P("};\n");
        }
    }
    /* The nodes that run a vector kernel get a function of their own, flattened: gcc and
     * clang inline the kernel into it, where its parameters are constants, and so compile a
     * copy of the kernel specialised for the node's shapes (bounds, strides, tile counts;
     * MobileNetV2 about 20% faster, ResNet-18 about 3%, for about 1-2 KB of code per node).
     * -DKWCC_NO_SPECIALIZE keeps one shared copy of each kernel. The entry point never passes
     * them a null pointer (nonnull: no warnings about paths through a null workspace). */
    if (!gen->o->jit && g->target != KW_TARGET_GENERIC) {
        P("\n#if (defined(__GNUC__) || defined(__clang__)) && !defined(__TINYC__) && !defined(KWCC_NO_SPECIALIZE)\n"
          "#define KW_SPECIALIZED static __attribute__((flatten, noinline, nonnull))\n#else\n#define KW_SPECIALIZED static\n"
          "#endif\n");
        for (int i = 0; i < g->nn; i++)
            if (node_specialized(gen, &g->n[i])) {
                P("KW_SPECIALIZED void kw_node%d(const float *const *in, float *const *out, unsigned char *ws)\n{\n"
                  "    (void)in;\n    (void)out;\n    (void)ws;\n", i);
                emit_node_calls(gen, i);
                P("}\n");
            }
    }
    /* the entry body, into its own buffer first */
    gen->c = &calls;
    for (int i = 0; i < g->nn; i++) {
        const KwNode *n = &g->n[i];
        if (n->dead || n->n_calls == 0)
            continue;
        emit_node_banner(gen, i, n);
        P("    {\n    KW_PROF_BEGIN();\n");
        if (node_specialized(gen, n))
            P("    kw_node%d(in, out, ws);\n", i);
        else
            emit_node_calls(gen, i);
        P("    KW_PROF_END(%d);\n    }\n", gen->n_prof++);
    }
    /* outputs that are not written in place: copied at the end */
    for (int k = 0; k < g->n_outputs; k++) {
        const KwValue *v = &g->v[g->outputs[k]];
        if (v->st == KW_ST_OUTPUT && v->st_index == k)
            continue;
        KwArg a = {KW_ARG_VALUE, g->outputs[k], 0};
        P("    memcpy(out[%d], ", k);
        put_arg(gen, NULL, &a);
        P(", %" PRId64 ");\n", kw_numel(&v->shape) * 4);
    }
    gen->c = saved;
    size_t len;
    char *body = kw_buf_take(&calls, &len);
    const char *pre = gen->o->prefix;
    /* -DKWCC_PROFILE (with KWCC_MAIN): time per node, printed by main with --profile */
    P("\n#if defined(KWCC_PROFILE) && defined(KWCC_MAIN)\n#include <time.h>\n"
      "static double kw_prof_t[%d];\nstatic const char *const kw_prof_name[%d] = {\n", gen->n_prof ? gen->n_prof : 1,
      gen->n_prof ? gen->n_prof : 1);
    for (int i = 0; i < g->nn; i++) {
        const KwNode *n = &g->n[i];
        if (n->dead || n->n_calls == 0)
            continue;
        P("    \"");
        for (const char *q = n->name; *q; q++)
            if (*q != '"' && *q != '\\' && (unsigned char)*q >= 32 && *q != '?')
                kw_buf_put(gen->c, q, 1);
        P(" (%s)\",\n", n->op_type);
    }
    if (!gen->n_prof)
        P("    \"\"\n");
    P("};\nstatic double kw_prof_now(void)\n{\n    struct timespec t;\n    clock_gettime(CLOCK_MONOTONIC, &t);\n"
      "    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;\n}\n"
      "#define KW_PROF_BEGIN() double kw_prof_t0 = kw_prof_now()\n"
      "#define KW_PROF_END(i) kw_prof_t[i] += kw_prof_now() - kw_prof_t0\n"
      "#else\n#define KW_PROF_BEGIN() do { } while (0)\n#define KW_PROF_END(i) do { } while (0)\n#endif\n");
    P("\n/* ---- entry points ---- */\n");
    P("#ifndef KWCC_NO_STATIC_WORKSPACE\nstatic union {\n    unsigned char b[%" PRId64
      "];\n    float f;\n} KW_ALIGNED kw_static_ws;\n#endif\n\n",
      g->ws_bytes > 0 ? g->ws_bytes : 1);
    P("int %s_run_multi(const float *const *in, float *const *out, void *workspace)\n{\n", pre);
    P("    unsigned char *ws = (unsigned char *)workspace;\n");
    P("    if (!in || !out)\n        return -1;\n");
    P("    if (!ws) {\n#ifndef KWCC_NO_STATIC_WORKSPACE\n        ws = kw_static_ws.b;\n#else\n        return -1;\n#endif\n    }\n");
    P("    (void)ws;\n");
    if (body)
        kw_buf_put(gen->c, body, len);
    free(body);
    P("    return 0;\n}\n\n");
    /* single-buffer form: inputs back to back, outputs back to back */
    P("int %s_run(const float *input, float *output, void *workspace)\n{\n", pre);
    P("    const float *in[%d];\n    float *out[%d];\n", g->n_inputs, g->n_outputs);
    int64_t off = 0;
    for (int k = 0; k < g->n_inputs; k++) {
        P("    in[%d] = input + %" PRId64 ";\n", k, off);
        off += kw_numel(&g->v[g->inputs[k]].shape);
    }
    off = 0;
    for (int k = 0; k < g->n_outputs; k++) {
        P("    out[%d] = output + %" PRId64 ";\n", k, off);
        off += kw_numel(&g->v[g->outputs[k]].shape);
    }
    P("    if (!input || !output)\n        return -1;\n");
    P("    return %s_run_multi(in, out, workspace);\n}\n", pre);
}

static void emit_main(Gen *gen)
{
    KwGraph *g = gen->g;
    const char *pre = gen->o->prefix;
    int64_t tin = 0, tout = 0;
    for (int k = 0; k < g->n_inputs; k++)
        tin += kw_numel(&g->v[g->inputs[k]].shape);
    for (int k = 0; k < g->n_outputs; k++)
        tout += kw_numel(&g->v[g->outputs[k]].shape);
    P("\n/* ---- test driver: cc -DKWCC_MAIN model.c -lm; ./a.out IN.bin... OUT.bin... [--repeat N] ---- */\n");
    P("#ifdef KWCC_MAIN\n#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n\n");
    P("static float kw_main_in[%" PRId64 "], kw_main_out[%" PRId64 "];\n", tin ? tin : 1, tout ? tout : 1);
    P("static const long kw_main_isz[%d] = {", g->n_inputs);
    for (int k = 0; k < g->n_inputs; k++)
        P("%s%" PRId64, k ? ", " : "", kw_numel(&g->v[g->inputs[k]].shape));
    P("};\nstatic const long kw_main_osz[%d] = {", g->n_outputs);
    for (int k = 0; k < g->n_outputs; k++)
        P("%s%" PRId64, k ? ", " : "", kw_numel(&g->v[g->outputs[k]].shape));
    P("};\n\n");
    P("static double kw_main_now(void)\n{\n    struct timespec t;\n    clock_gettime(CLOCK_MONOTONIC, &t);\n"
      "    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;\n}\n\n");
    P("static int kw_main_cmp(const void *a, const void *b)\n{\n"
      "    double x = *(const double *)a, y = *(const double *)b;\n    return x < y ? -1 : x > y;\n}\n\n");
    P("int main(int argc, char **argv)\n{\n"
      "    const char *files[%d];\n"
      "    long repeat = 0, nfiles = 0, off = 0, i;\n"
      "    int profile = 0;\n"
      "    for (i = 1; i < argc; i++) {\n"
      "        if (strcmp(argv[i], \"--repeat\") == 0 && i + 1 < argc)\n"
      "            repeat = atol(argv[++i]);\n"
      "        else if (strcmp(argv[i], \"--profile\") == 0)\n"
      "            profile = 1;\n"
      "        else if (nfiles < %d)\n"
      "            files[nfiles++] = argv[i];\n"
      "        else {\n"
      "            fprintf(stderr, \"%%s: too many arguments\\n\", argv[0]);\n"
      "            return 2;\n"
      "        }\n"
      "    }\n"
      "    (void)profile;\n"
      "    if (nfiles != %d) {\n"
      "        fprintf(stderr, \"usage: %%s%s%s [--repeat N]\\n\", argv[0]);\n"
      "        return 2;\n"
      "    }\n",
      g->n_inputs + g->n_outputs, g->n_inputs + g->n_outputs, g->n_inputs + g->n_outputs,
      g->n_inputs == 1 ? " INPUT.bin" : " INPUT0.bin ...", g->n_outputs == 1 ? " OUTPUT.bin" : " OUTPUT0.bin ...");
    P("    for (i = 0; i < %d; i++) {\n"
      "        FILE *f = fopen(files[i], \"rb\");\n"
      "        long n;\n"
      "        if (!f) {\n"
      "            fprintf(stderr, \"%%s: cannot open %%s\\n\", argv[0], files[i]);\n"
      "            return 1;\n"
      "        }\n"
      "        n = (long)fread(kw_main_in + off, sizeof(float), (size_t)kw_main_isz[i] + 1, f);\n"
      "        fclose(f);\n"
      "        if (n != kw_main_isz[i]) {\n"
      "            fprintf(stderr, \"%%s: %%s holds %%ld floats, the model's input %%ld takes %%ld\\n\", argv[0],\n"
      "                    files[i], n, i, kw_main_isz[i]);\n"
      "            return 1;\n"
      "        }\n"
      "        off += kw_main_isz[i];\n"
      "    }\n",
      g->n_inputs);
    P("    if (%s_run(kw_main_in, kw_main_out, NULL) != 0) {\n"
      "        fprintf(stderr, \"%%s: the model failed\\n\", argv[0]);\n"
      "        return 1;\n"
      "    }\n",
      pre);
    /* --profile: each node's median over the timed runs (the first, untimed run, which
     * faults in the weights, is left out) */
    P("    if (repeat > 0) {\n"
      "        double *t = (double *)malloc(sizeof(double) * (size_t)repeat);\n"
      "#ifdef KWCC_PROFILE\n"
      "        enum { NP = (int)(sizeof kw_prof_t / sizeof kw_prof_t[0]) };\n"
      "        double *pt = (double *)malloc(sizeof(double) * (size_t)repeat * NP);\n"
      "        long k;\n"
      "        if (!pt)\n"
      "            return 1;\n"
      "#endif\n"
      "        if (!t)\n"
      "            return 1;\n"
      "        for (i = 0; i < repeat; i++) {\n"
      "            double t0;\n"
      "#ifdef KWCC_PROFILE\n"
      "            memset(kw_prof_t, 0, sizeof kw_prof_t);\n"
      "#endif\n"
      "            t0 = kw_main_now();\n"
      "            %s_run(kw_main_in, kw_main_out, NULL);\n"
      "            t[i] = kw_main_now() - t0;\n"
      "#ifdef KWCC_PROFILE\n"
      "            for (k = 0; k < NP; k++)\n"
      "                pt[k * repeat + i] = kw_prof_t[k];\n"
      "#endif\n"
      "        }\n"
      "        qsort(t, (size_t)repeat, sizeof(double), kw_main_cmp);\n"
      "#ifdef KWCC_PROFILE\n"
      "        for (k = 0; profile && k < NP; k++) {\n"
      "            double *r = pt + k * repeat;\n"
      "            qsort(r, (size_t)repeat, sizeof(double), kw_main_cmp);\n"
      "            printf(\"profile %%9.1f us  %%s\\n\", (repeat %% 2 ? r[repeat / 2] : 0.5 * (r[repeat / 2 - 1] + r[repeat / 2])) * 1e6,\n"
      "                   kw_prof_name[k]);\n"
      "        }\n"
      "        free(pt);\n"
      "#endif\n"
      "        printf(\"median %%.1f us over %%ld runs (min %%.1f us)\\n\", repeat %% 2 ? t[repeat / 2] : 0.5 * (t[repeat / 2 - 1] + t[repeat / 2]), repeat, t[0]);\n"
      "        free(t);\n"
      "    }\n",
      pre);
    P("    for (i = 0, off = 0; i < %d; i++) {\n"
      "        FILE *f = fopen(files[%d + i], \"wb\");\n"
      "        if (!f || fwrite(kw_main_out + off, sizeof(float), (size_t)kw_main_osz[i], f) != (size_t)kw_main_osz[i]) {\n"
      "            fprintf(stderr, \"%%s: cannot write %%s\\n\", argv[0], files[%d + i]);\n"
      "            if (f)\n"
      "                fclose(f);\n"
      "            return 1;\n"
      "        }\n"
      "        fclose(f);\n"
      "        off += kw_main_osz[i];\n"
      "    }\n"
      "    return 0;\n}\n#endif /* KWCC_MAIN */\n",
      g->n_outputs, g->n_inputs, g->n_inputs);
}

/* ---------------------------------------------------------------- header */

static void upper(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
    dst[i] = 0;
}

static void emit_header(Gen *gen, KwBuf *h)
{
    KwGraph *g = gen->g;
    char up[256];
    upper(up, gen->o->prefix, sizeof up);
    kw_buf_printf(h, "/* %s.h -- generated by kwcc %s; do not edit. */\n", gen->o->prefix, KWCC_VERSION);
    kw_buf_printf(h, "#ifndef KWCC_%s_H\n#define KWCC_%s_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", up, up);
    kw_buf_printf(h, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n", up, g->n_inputs, up, g->n_outputs);
    int64_t tin = 0, tout = 0;
    for (int pass = 0; pass < 2; pass++) {
        int cnt = pass ? g->n_outputs : g->n_inputs;
        const char *kind = pass ? "OUTPUT" : "INPUT";
        for (int k = 0; k < cnt; k++) {
            const KwValue *v = &g->v[pass ? g->outputs[k] : g->inputs[k]];
            int64_t n = kw_numel(&v->shape);
            if (pass)
                tout += n;
            else
                tin += n;
            kw_buf_printf(h, "/* %s %d: '", pass ? "output" : "input", k);
            put_comment_text(h, v->name);
            kw_buf_printf(h, "', float32 %s */\n", kw_shape_str(g->arena, &v->shape));
            kw_buf_printf(h, "#define %s_%s%d_SIZE %" PRId64 "\n#define %s_%s%d_RANK %d\n#define %s_%s%d_SHAPE {", up,
                          kind, k, n, up, kind, k, v->shape.rank, up, kind, k);
            for (int d = 0; d < v->shape.rank; d++)
                kw_buf_printf(h, "%s%" PRId64, d ? ", " : "", v->shape.d[d]);
            kw_buf_printf(h, "}\n");
            if (cnt == 1)
                kw_buf_printf(h, "#define %s_%s_SHAPE %s_%s0_SHAPE\n#define %s_%s_RANK %d\n", up, kind, up, kind, up, kind,
                              v->shape.rank);
        }
    }
    kw_buf_printf(h, "#define %s_INPUT_SIZE %" PRId64 " /* floats of all inputs, back to back */\n", up, tin);
    kw_buf_printf(h, "#define %s_OUTPUT_SIZE %" PRId64 " /* floats of all outputs, back to back */\n", up, tout);
    kw_buf_printf(h, "#define %s_WORKSPACE_BYTES %" PRId64 " /* scratch the caller may pass, float-aligned */\n", up,
                  g->ws_bytes);
    kw_buf_printf(h, "#define %s_WEIGHT_BYTES %" PRId64 " /* constant data in the model (flash) */\n\n", up,
                  g->weight_bytes);
    kw_buf_printf(h,
                  "/* Memory. Flash: %" PRId64 " bytes of weights + about %" PRId64 " bytes of code and constant tables\n"
                  " * (an estimate: Thumb-2 at -O2 for the portable kernels) = about %" PRId64 " bytes.\n"
                  " * RAM: the %" PRId64 "-byte workspace (the caller's buffer, or a static one when workspace is NULL;\n"
                  " * the lower bound for this model and node order is %" PRId64 " bytes, kwcc --max-ram bounds it),\n"
                  " * the caller's input and output buffers, and the stack (no heap, no other static data).\n"
                  " * %s */\n",
                  g->weight_bytes, g->code_bytes, g->weight_bytes + g->code_bytes, g->ws_bytes, g->ws_bound,
                  gen->need_libm ? "Needs libm (-lm): an op of the model calls it."
                                 : "Needs no libm (and no other library function than memcpy and memset).");
    kw_buf_printf(h, "#define %s_WORKSPACE_LOWER_BOUND %" PRId64 "\n", up, g->ws_bound);
    kw_buf_printf(h, "#define %s_CODE_BYTES_ESTIMATE %" PRId64 "\n", up, g->code_bytes);
    kw_buf_printf(h, "#define %s_FLASH_BYTES_ESTIMATE (%s_WEIGHT_BYTES + %s_CODE_BYTES_ESTIMATE)\n", up, up, up);
    kw_buf_printf(h, "#define %s_RAM_BYTES %s_WORKSPACE_BYTES\n\n", up, up);
    if (gen->o->weights_file != KW_WEIGHTS_INLINE && g->weight_bytes > 0) {
        const char *pre = gen->o->prefix;
        kw_buf_printf(h,
                      "/* The weights (--weights-file): %s_WEIGHT_BYTES bytes, little-endian float32, never written,\n"
                      " * aligned to 4 bytes at least (64 is best). The model reads them from the symbol %s_weights:\n"
                      " * defined by the C file kwcc wrote (--weights-file NAME.c), or, for the raw blob\n"
                      " * (--weights-file NAME.bin), placed by the linker script where the application put it, e.g.\n"
                      " *     %s_weights = 0x90000000;    (memory-mapped external flash)\n"
                      " * or compile the model with -D%s_WEIGHTS_ADDRESS=<address> to read them there. */\n"
                      "typedef union %s_weights_t {\n    unsigned char b[%s_WEIGHT_BYTES];\n    float f[%s_WEIGHT_BYTES / 4];\n"
                      "} %s_weights_t;\nextern const %s_weights_t %s_weights;\n\n",
                      up, pre, pre, up, pre, up, up, pre, pre, pre);
    }
    kw_buf_printf(h,
                  "/* Runs the model on all inputs (back to back in `input`) and writes all outputs (back to\n"
                  " * back in `output`). `workspace`: %s_WORKSPACE_BYTES bytes aligned for float, or NULL for a\n"
                  " * static one (then calls must not overlap). Re-entrant with distinct workspaces. Returns 0,\n"
                  " * or -1 on a NULL buffer. */\n",
                  up);
    kw_buf_printf(h, "int %s_run(const float *input, float *output, void *workspace);\n", gen->o->prefix);
    kw_buf_printf(h, "/* The same with one pointer per input and per output, in the model's order. */\n");
    kw_buf_printf(h, "int %s_run_multi(const float *const *inputs, float *const *outputs, void *workspace);\n",
                  gen->o->prefix);
    kw_buf_printf(h, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}

/* ---------------------------------------------------------------- file */

/* The includes, target checks and runtime kernels of a standalone file. */
static void emit_prelude(Gen *gen)
{
    KwGraph *g = gen->g;
    const KwEmitOpts *o = gen->o;
    KwBuf *c = gen->c;
    if (g->target == KW_TARGET_AVX2)
        P("#if !defined(__AVX2__) || !defined(__FMA__)\n#error \"kwcc: this file was generated for --target avx2: "
          "compile it with -mavx2 -mfma (or -march=native on such a machine)\"\n#endif\n");
    else if (g->target == KW_TARGET_AVX512)
        P("#if !defined(__AVX512F__)\n#error \"kwcc: this file was generated for --target avx512: compile it with "
          "-mavx512f -mfma (or -march=native on such a machine)\"\n#endif\n");
    else if (g->target == KW_TARGET_NEON)
        P("#if !defined(__aarch64__) || !defined(__ARM_NEON)\n#error \"kwcc: this file was generated for --target "
          "neon: compile it for AArch64\"\n#endif\n");
    if (gen->need_math_h)
        P("#include <math.h>\n");
    P("#include <stddef.h>\n#include <string.h>\n#include \"%s\"\n\n", o->header_name);
    P("#if defined(__GNUC__) || defined(__clang__) || defined(__TINYC__)\n"
      "#define KW_UNUSED __attribute__((unused))\n#define KW_ALIGNED __attribute__((aligned(64)))\n"
      "#else\n#define KW_UNUSED\n#define KW_ALIGNED\n#endif\n");
    P("#define KW_RT_GENERATED\n#define KW_RT_NO_PROTOTYPES\n#define KW_RT_FN static\n"
      "#define KW_RT_LOCAL static KW_UNUSED\n");
    if (!gen->need_libm)
        P("#define KW_RT_NO_LIBM\n");
    P("\n/* ---- runtime kernels (kwcc runtime/kw_rt.h, kw_rt_ref.c, kw_rt_simd.c) ---- */\n");
    kw_buf_puts(c, kw_rt_h_text);
    paste_runtime(gen, kw_rt_ref_text);
    int simd = 0;
    for (int k = KW_K_CONV_SIMD; k < KW_K_COUNT; k++)
        simd |= gen->used[k];
    if (simd) {
        static const char *const macro[] = {"", "KW_SIMD_AVX2", "KW_SIMD_AVX512", "KW_SIMD_NEON"};
        P("\n#define %s\n", macro[g->target]);
        paste_runtime(gen, kw_rt_simd_text);
    }
}

/* A runtime source with its #include <...> lines left out (the JIT file has no headers). */
static void paste_no_includes(Gen *gen, const char *s)
{
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s + 1) : strlen(s);
        if (strncmp(s, "#include <", 10) != 0)
            kw_buf_put(gen->c, s, len);
        s += len;
    }
}

/* The prototypes (KW_RT_FN lines up to the body's '{') of the kernels this model calls. */
static void paste_prototypes(Gen *gen, const char *s)
{
    int keep = 0;
    char name[64];
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s + 1) : strlen(s);
        if (section_header(s, name))
            keep = kernel_used(gen, name);
        else if (keep && strncmp(s, "KW_RT_FN ", 9) == 0) {
            const char *b = strchr(s, '{');
            size_t n = b ? (size_t)(b - s) : strlen(s);
            while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t'))
                n--;
            kw_buf_put(gen->c, s, n);
            kw_buf_puts(gen->c, ";\n");
        }
        s += len;
    }
}

/* kwcc run (codegen/jit.c): libtcc compiles the file in memory without headers or libraries
 * (-nostdinc -nostdlib); the kernels, precompiled in kwcc for the target, memcpy and the
 * weight blob (kw_jit_weights) are bound by symbol. So only the declarations go in. */
static void emit_jit_prelude(Gen *gen)
{
    P("\n/* ---- kwcc run: compiled in memory by libtcc; kernels and weights are bound by symbol ---- */\n");
    P("typedef __SIZE_TYPE__ size_t;\n#define NULL ((void *)0)\nvoid *memcpy(void *, const void *, size_t);\n"
      "#define INFINITY (1.0f / 0.0f)\n#define NAN (0.0f / 0.0f)\n");
    P("#define KW_UNUSED\n#define KW_ALIGNED __attribute__((aligned(64)))\n#define KW_RT_GENERATED\n"
      "#define KW_RT_NO_PROTOTYPES\n");
    paste_no_includes(gen, kw_rt_h_text);
    P("\n");
    paste_prototypes(gen, kw_rt_ref_text);
    paste_prototypes(gen, kw_rt_simd_text);
}

/* kwcc run: the shapes of the inputs and outputs, read back by codegen/jit.c:
 * n_inputs, n_outputs, then for each input and each output its rank and dims. */
static void emit_jit_io(Gen *gen)
{
    KwGraph *g = gen->g;
    P("\nconst long long kw_jit_io[] = {%d, %d", g->n_inputs, g->n_outputs);
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < (pass ? g->n_outputs : g->n_inputs); k++) {
            const KwShape *sh = &g->v[pass ? g->outputs[k] : g->inputs[k]].shape;
            P(", %d", sh->rank);
            for (int d = 0; d < sh->rank; d++)
                P(", %" PRId64, sh->d[d]);
        }
    P("};\n");
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void kw_emit_weights_c(KwGraph *g, const KwEmitOpts *o, KwBuf *w)
{
    int64_t bytes = g->weight_bytes;
    kw_buf_printf(w, "/* The weights of model %s (%s_weights, declared in %s): generated by kwcc %s with\n"
                     " * --weights-file. Do not edit. */\n",
                  o->prefix, o->prefix, o->header_name, KWCC_VERSION);
    if (bytes == 0) {
        kw_buf_printf(w, "/* the model has no weights */\ntypedef int kw_no_weights;\n");
        return;
    }
    kw_buf_printf(w, "#include \"%s\"\n\n", o->header_name);
    kw_buf_printf(w, "#if defined(__GNUC__) || defined(__clang__) || defined(__TINYC__)\n"
                     "#define KW_ALIGNED __attribute__((aligned(64)))\n#else\n#define KW_ALIGNED\n#endif\n");
    put_section_macro(w, o);
    kw_buf_printf(w, "\n/* %" PRId64 " bytes, little-endian float32, exact */\n", bytes);
    kw_buf_printf(w, "const %s_weights_t %s_weights KW_ALIGNED KW_WSECTION = {\n", o->prefix, o->prefix);
    unsigned char *blob = kw_alloc(g->arena, (size_t)bytes);
    kw_weight_blob(g, blob);
    put_bytes(w, blob, bytes);
    kw_buf_printf(w, "};\n");
}

/* .text bytes of each kernel (and helper group), for the code estimate: the portable kernels
 * as arm-none-eabi-gcc 12 -O2 -mthumb -mcpu=cortex-m7 builds them, the vector ones as gcc 12
 * -O2 builds them for AVX-512 (kw_rt_simd.c's shared helpers in KW_EST_SIMD_COMMON). */
static const int kernel_text[KW_K_COUNT] = {
    [KW_K_UNARY] = 1006,  [KW_K_BINARY] = 1520, [KW_K_AFFINE] = 232,   [KW_K_CONV] = 1360,
    [KW_K_GEMM] = 952,    [KW_K_POOL] = 780,    [KW_K_REDUCE] = 504,   [KW_K_COPY] = 318,
    [KW_K_GATHER] = 88,   [KW_K_SOFTMAX] = 264, [KW_K_LAYERNORM] = 380, [KW_K_ATTENTION] = 134,
    [KW_K_ASSEMBLE] = 696, [KW_K_KWCONV] = 516, [KW_K_CONV_SIMD] = 1500, [KW_K_DWCONV_SIMD] = 1870,
    [KW_K_KWCONV_SIMD] = 12530, [KW_K_MAXPOOL_SIMD] = 1590,
};
#define KW_EST_ATTN_HELPERS 1004   /* kw__attn_hidden, kw__attn_row */
#define KW_EST_SIMD_COMMON 27600   /* phase fill, tiles, epilogues of kw_rt_simd.c */
#define KW_EST_LIBM 4096           /* the libm routines a model pulls in: a rough figure */
#define KW_EST_ENTRY 160           /* PREFIX_run, PREFIX_run_multi */

static size_t param_bytes(KwKernel k)
{
    static const size_t sz[KW_K_COUNT] = {
        sizeof(KwUnaryP),   sizeof(KwBinaryP),    sizeof(KwAffineP), sizeof(KwConvP),    sizeof(KwGemmP),
        sizeof(KwPoolP),    sizeof(KwReduceP),    sizeof(KwCopyP),   sizeof(KwGatherP),  sizeof(KwSoftmaxP),
        sizeof(KwLayerNormP), sizeof(KwAttnP),    sizeof(KwAsmP),    sizeof(KwKwConvBP), sizeof(KwConvFP),
        sizeof(KwConvFP),   sizeof(KwKwConvP),    sizeof(KwConvFP),
    };
    return sz[k];
}

int64_t kw_code_estimate(KwGraph *g)
{
    Gen gen_s = {g, NULL, NULL, {0}, 0, 0, 0}, *gen = &gen_s;
    collect_usage(gen);
    int64_t bytes = KW_EST_ENTRY, simd = 0;
    for (int k = 0; k < KW_K_COUNT; k++)
        if (gen->used[k]) {
            bytes += kernel_text[k];
            simd |= k >= KW_K_CONV_SIMD;
        }
    if (gen->used[KW_K_ATTENTION] || gen->used[KW_K_KWCONV])
        bytes += KW_EST_ATTN_HELPERS;
    if (simd)
        bytes += KW_EST_SIMD_COMMON;
    if (gen->need_libm)
        bytes += KW_EST_LIBM;
    for (int i = 0; i < g->nn; i++) {
        const KwNode *n = &g->n[i];
        for (int k = 0; !n->dead && k < n->n_calls; k++) {
            const KwCall *c = &n->calls[k];
            /* the parameter struct (a pointer in it takes 4 bytes on a Cortex-M), its table, and
             * the call: about an instruction per operand and a branch */
            int ptrs = c->k == KW_K_GATHER || c->k == KW_K_ASSEMBLE || c->k == KW_K_KWCONV;
            bytes += (int64_t)param_bytes(c->k) - ptrs * 2 * ((int64_t)sizeof(void *) - 4) + 4 * (int64_t)c->n_ints +
                     4 + 4 * (int64_t)c->nargs;
            if (c->k >= KW_K_CONV_SIMD) /* its specialised copy (emit_params_and_calls) */
                bytes += kernel_text[c->k];
        }
    }
    for (int k = 0; k < g->n_outputs; k++)
        bytes += 16; /* an output copied at the end, at most */
    return bytes;
}

int kw_emit_c(KwGraph *g, const KwEmitOpts *o, KwBuf *c, KwBuf *h)
{
    Gen gen_s = {g, o, c, {0}, 0, 0, 0}, *gen = &gen_s;
    collect_usage(gen);
    int nodes = 0;
    for (int i = 0; i < g->nn; i++)
        nodes += !g->n[i].dead;
    P("/* %s.c -- generated by kwcc %s from ", o->prefix, KWCC_VERSION);
    put_comment_text(c, base_name(o->model_path));
    P(" (ONNX opset %d, producer ", g->opset);
    put_comment_text(c, g->producer ? g->producer : "?");
    P(").\n * Do not edit; regenerate with kwcc. Target: %s.\n", g->target == KW_TARGET_GENERIC ? "generic (portable C99)"
      : g->target == KW_TARGET_AVX2 ? "avx2 (x86-64 with AVX2 and FMA: compile with -mavx2 -mfma or -march=native)"
      : g->target == KW_TARGET_AVX512 ? "avx512 (x86-64 with AVX-512F: compile with -mavx512f -mfma or -march=native)"
      : "neon (AArch64)");
    P(" * %d nodes; weights %" PRId64 " bytes; workspace %" PRId64 " bytes.%s\n", nodes, g->weight_bytes,
      g->ws_bytes, gen->need_libm ? " Needs libm (-lm)." : " Needs no libm.");
    P(" * Flash: weights %" PRId64 " + code and tables about %" PRId64 " bytes. RAM: workspace %" PRId64
      " bytes (lower bound %" PRId64 "). */\n",
      g->weight_bytes, g->code_bytes, g->ws_bytes, g->ws_bound);
    P("#if defined(KWCC_MAIN) && !defined(_POSIX_C_SOURCE)\n#define _POSIX_C_SOURCE 200809L\n#endif\n");
    if (o->jit)
        emit_jit_prelude(gen);
    else
        emit_prelude(gen);
    emit_weights(gen);
    emit_params_and_calls(gen);
    if (o->jit)
        emit_jit_io(gen);
    else
        emit_main(gen);
    emit_header(gen, h);
    if (c->oom || h->oom)
        return kw_error(g->diag, NULL, "out of memory while writing the C file");
    return 0;
}
