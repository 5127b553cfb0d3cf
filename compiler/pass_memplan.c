/* pass_memplan.c -- where every byte lives, and how little of it the model can take.
 *
 *   constants   one weight blob, in first-use order, each 64-byte aligned; only constants a
 *               kernel call reads are stored (folded-away and lifted-away ones are not);
 *   views       (Reshape, Flatten, Squeeze, ...) share their input's bytes: alias chains end
 *               at a root value that owns storage;
 *   outputs     a graph output's root is written straight into the caller's output buffer,
 *               unless it is a constant, an input or the root of another output (then the
 *               entry function copies it at the end);
 *   the rest    one workspace: each root is live from its producer to its last reader, and
 *               each node's scratch for the duration of the node. Elementwise ops run in place
 *               when their input dies at them, and so do convs over a residual that dies at
 *               them on the vector kernels (unless that makes the plan larger). Offsets by
 *               best fit, in producer order.
 *
 * Lower bound (g->ws_bound). For the node order kwcc runs, the workspace can be no smaller
 * than, at some node i, the sum of the exact byte sizes of the workspace tensors live at i:
 * every root (views share their input's bytes, an in-place output its input's)
 * that is neither a constant nor a caller's input or output buffer, produced at or before i
 * and read at or after i. That is: i's inputs (read while i writes its outputs), i's outputs,
 * and everything produced earlier and still needed later. Node scratch counts zero (a
 * KernelWarehouse conv can assemble one output channel at a time; a conv needs none on the
 * portable path), and so do alignment and the vector kernels' read slack. Only a different
 * node order, or kernels that overwrite their own input, could go below it.
 *
 * --max-ram (g->opt->max_ram). The first plan lowers every node the fastest way. If it does
 * not fit, each node with scratch gets a cap (n->scratch_cap): the budget minus the tensors
 * live at it, and kw_lower picks the fastest lowering within it (a KernelWarehouse conv
 * assembles fewer output channels at a time; on a vector target a node falls back to the
 * portable kernels). Caps shrink while placement still overshoots; last comes the smallest
 * plan there is (every cap minimal), and if even that does not fit the compile fails, saying
 * how small the workspace can go. max_ram < 0 asks for that smallest plan directly.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

#define ALIGN 64
#define SLACK 256 /* bytes vector kernels may read past every workspace buffer */

static int64_t align_up(int64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

static int root_of(const KwGraph *g, int v)
{
    while (g->v[v].alias >= 0)
        v = g->v[v].alias;
    return v;
}

static int64_t value_bytes(const KwValue *v) { return kw_numel(&v->shape) * kw_dtype_size(v->dt); }

static int is_view(const KwGraph *g, const KwNode *n)
{
    (void)g;
    if (kw_op_info[n->op].flags & KW_OPF_VIEW)
        return 1;
    return n->op == KW_OP_Cast && n->n_calls == 0;
}

/* Whether value x can hold node n's output: same type and shape. */
static int fits_output(const KwGraph *g, const KwNode *n, int x)
{
    const KwValue *a = &g->v[x], *y = &g->v[n->out[0]];
    return a->dt == y->dt && kw_shape_eq(&a->shape, &y->shape);
}

/* Ops that may write their output over input `k`: elementwise, equal shapes. Binary ops
 * may reuse either input; the others only their data input. */
static int may_run_in_place(const KwGraph *g, const KwNode *n, int k)
{
    int f = kw_op_info[n->op].flags;
    int elementwise = (f & (KW_OPF_UNARY | KW_OPF_BINARY)) || n->op == KW_OP_Affine ||
                      n->op == KW_OP_BatchNormalization;
    if (!elementwise || (k != 0 && !(f & KW_OPF_BINARY)))
        return 0;
    return fits_output(g, n, n->in[k]);
}

/* A conv whose epilogue adds a residual may write its output over that residual when only
 * the vector kernels run it: each of their epilogues reads an element of the residual just
 * before it writes the same element of y, and nothing else reads the residual (a KW conv's
 * attention reads x alone). The portable kw_conv sums into y first. Never over the conv's
 * own data input, which every tile reads. Returns the residual, or -1. */
static int residual_in_place(const KwGraph *g, const KwNode *n)
{
    int res = n->epi.res;
    if (res < 0 || n->n_calls == 0 || (n->op != KW_OP_Conv && n->op != KW_OP_KwConv))
        return -1;
    for (int c = 0; c < n->n_calls; c++) {
        KwKernel k = n->calls[c].k;
        if (k != KW_K_CONV_SIMD && k != KW_K_KWCONV_SIMD && k != KW_K_ATTENTION)
            return -1;
    }
    return root_of(g, res) != root_of(g, n->in[0]) && fits_output(g, n, res) ? res : -1;
}

/* A workspace request: `size` bytes live from node `def` to node `last` (inclusive). */
typedef struct Item {
    int64_t size, off;
    int def, last;
    int value;       /* root value id, or -1 for node scratch */
    int node;        /* scratch: its node */
} Item;

static int by_size_desc(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    if (x->def != y->def)
        return x->def < y->def ? -1 : 1;
    return x->value < y->value ? -1 : x->value > y->value;
}

/* longest-lived first (then biggest): long-lived tensors at the bottom, short ones packed above */
static int by_span_desc(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    int sx = x->last - x->def, sy = y->last - y->def;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return by_size_desc(a, b);
}

/* biggest bytes x nodes first */
static int by_area_desc(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    int64_t ax = x->size * (x->last - x->def + 1), ay = y->size * (y->last - y->def + 1);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return by_size_desc(a, b);
}

/* in order of production: first fit along the schedule */
static int by_def(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    if (x->def != y->def)
        return x->def < y->def ? -1 : 1;
    return by_size_desc(a, b);
}

static int by_off(const void *a, const void *b)
{
    const Item *const *x = a, *const *y = b;
    return (*x)->off < (*y)->off ? -1 : (*x)->off > (*y)->off;
}

/* Each request in the order given at the lowest offset where it overlaps in bytes no already
 * placed request that overlaps it in time. */
static int64_t place_in_order(Item *it, int n, Item **conflict)
{
    int64_t peak = 0;
    for (int i = 0; i < n; i++) {
        int nc = 0;
        for (int j = 0; j < i; j++)
            if (it[j].def <= it[i].last && it[i].def <= it[j].last)
                conflict[nc++] = &it[j];
        qsort(conflict, (size_t)nc, sizeof *conflict, by_off);
        int64_t off = 0;
        for (int j = 0; j < nc; j++) {
            if (conflict[j]->off >= off + it[i].size)
                break;
            int64_t end = conflict[j]->off + conflict[j]->size;
            if (end > off)
                off = end;
        }
        it[i].off = off;
        if (off + it[i].size > peak)
            peak = off + it[i].size;
    }
    return peak;
}

/* Best fit under a few orders, the smallest peak kept: greedy by size (the strategy TFLite
 * Micro and TVM's USMP use) is near-optimal in practice but not always; by lifetime, by
 * bytes x lifetime and in schedule order sometimes pack tighter. Deterministic. */
static int64_t place_all(KwGraph *g, Item *it, int n)
{
    int (*const order[])(const void *, const void *) = {by_size_desc, by_span_desc, by_area_desc, by_def};
    Item **conflict = KW_NEWN(g->arena, Item *, n + 1);
    Item *best = KW_NEWN(g->arena, Item, n + 1);
    int64_t best_peak = -1;
    for (size_t o = 0; o < KW_COUNTOF(order); o++) {
        qsort(it, (size_t)n, sizeof *it, order[o]);
        int64_t peak = place_in_order(it, n, conflict);
        if (best_peak < 0 || peak < best_peak) {
            best_peak = peak;
            memcpy(best, it, sizeof *it * (size_t)n);
        }
    }
    memcpy(it, best, sizeof *it * (size_t)n);
    return best_peak;
}

static void for_each_read(const KwGraph *g, const KwNode *n, int *reads, int *cnt)
{
    *cnt = 0;
    for (int k = 0; k < n->n_in; k++)
        if (n->in[k] >= 0)
            reads[(*cnt)++] = n->in[k];
    if (n->epi.res >= 0)
        reads[(*cnt)++] = n->epi.res;
    (void)g;
}

/* Whether any call runs a vector kernel that may read up to SLACK past a buffer. */
static int any_vector_call(const KwGraph *g)
{
    for (int i = 0; i < g->nn; i++)
        for (int c = 0; !g->n[i].dead && c < g->n[i].n_calls; c++)
            if (g->n[i].calls[c].k >= KW_K_CONV_SIMD && !g->n[i].calls[c].exact)
                return 1;
    return 0;
}

/* One plan of the whole graph as lowered now. live (nn entries, may be NULL) gets, per node,
 * the planned bytes of the tensors live at it (scratch not included). conv_res: convs may
 * write over their residual; *n_res (may be NULL) gets how many do. */
static int plan_pass(KwGraph *g, int64_t *live, int conv_res, int *n_res)
{
    int nv = g->nv, nn = g->nn;
    for (int i = 0; i < nv; i++) {
        g->v[i].alias = -1;
        g->v[i].st = KW_ST_NONE;
        g->v[i].off = 0;
    }
    /* 1. views alias their input */
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (!n->dead && is_view(g, n))
            g->v[n->out[0]].alias = n->in[0];
    }
    /* 2. last reader of each value (and so of each root, below) */
    int *last = KW_NEWN(g->arena, int, nv), *def = KW_NEWN(g->arena, int, nv);
    for (int i = 0; i < nv; i++) {
        last[i] = -1;
        def[i] = -1;
    }
    int *reads = KW_NEWN(g->arena, int, 64 + 1024);
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        int cnt;
        if (n->n_in > 1000)
            return kw_error(g->diag, n, "has %d inputs; at most 1000 are supported", n->n_in);
        for_each_read(g, n, reads, &cnt);
        for (int k = 0; k < cnt; k++)
            last[reads[k]] = i;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                def[n->out[k]] = i;
    }
    /* 3. graph outputs: straight into the caller's buffer where possible */
    for (int k = 0; k < g->n_outputs; k++) {
        int r = root_of(g, g->outputs[k]);
        last[g->outputs[k]] = nn; /* read at the end (a copy, at most) */
        KwValue *v = &g->v[r];
        if (v->data || v->input_index >= 0 || v->st == KW_ST_OUTPUT)
            continue;
        v->st = KW_ST_OUTPUT;
        v->st_index = k;
    }
    /* roots' last use covers every alias */
    for (int i = 0; i < nv; i++)
        if (last[i] >= 0) {
            int r = root_of(g, i);
            if (last[i] > last[r])
                last[r] = last[i];
        }
    /* 4. in-place elementwise ops, and convs over their residual */
    int convs_in_place = 0;
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead || n->n_calls == 0 || is_view(g, n))
            continue;
        int y = n->out[0];
        if (g->v[y].st == KW_ST_OUTPUT)
            continue;
        /* the inputs the output may take the place of: a conv's residual, or an elementwise
         * op's data input (either input of a binary op) */
        int cand[2], nc = 0, res = conv_res ? residual_in_place(g, n) : -1;
        if (res >= 0)
            cand[nc++] = res;
        for (int k = 0; res < 0 && k < n->n_in && k < 2; k++)
            if (n->in[k] >= 0 && may_run_in_place(g, n, k))
                cand[nc++] = n->in[k];
        for (int c = 0; c < nc; c++) {
            int r = root_of(g, cand[c]);
            const KwValue *rv = &g->v[r];
            if (rv->data || rv->input_index >= 0 || rv->st == KW_ST_OUTPUT || last[r] != i)
                continue;
            if (value_bytes(rv) != value_bytes(&g->v[y]))
                continue;
            g->v[y].alias = r;
            last[r] = last[y] > last[r] ? last[y] : last[r];
            convs_in_place += res >= 0;
            break;
        }
    }
    for (int i = 0; i < nv; i++) /* views of in-place outputs */
        if (last[i] >= 0) {
            int r = root_of(g, i);
            if (last[i] > last[r])
                last[r] = last[i];
        }
    /* 5. constants: the weight blob, in order of first use by a kernel call */
    int64_t wb = 0;
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int c = 0; c < n->n_calls; c++)
            for (int a = 0; a < n->calls[c].nargs; a++) {
                const KwArg *arg = &n->calls[c].args[a];
                if (arg->kind != KW_ARG_VALUE)
                    continue;
                KwValue *v = &g->v[root_of(g, arg->value)];
                if (v->data && v->st != KW_ST_CONST) {
                    v->st = KW_ST_CONST;
                    v->off = wb;
                    wb = align_up(wb + value_bytes(v));
                }
            }
    }
    for (int k = 0; k < g->n_outputs; k++) {
        KwValue *v = &g->v[root_of(g, g->outputs[k])];
        if (v->data && v->st != KW_ST_CONST) {
            v->st = KW_ST_CONST;
            v->off = wb;
            wb = align_up(wb + value_bytes(v));
        }
    }
    g->weight_bytes = wb;
    for (int i = 0; i < g->n_inputs; i++) {
        g->v[g->inputs[i]].st = KW_ST_INPUT;
        g->v[g->inputs[i]].st_index = i;
    }
    /* 6. the workspace: roots produced by nodes, and node scratch */
    Item *items = KW_NEWN(g->arena, Item, nv + nn + 1);
    int ni = 0;
    int64_t slack = any_vector_call(g) ? SLACK : 0;
    int64_t *exact = KW_NEWN(g->arena, int64_t, nn + 2), *planned = KW_NEWN(g->arena, int64_t, nn + 2);
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_out; k++) {
            int y = n->out[k];
            if (y < 0 || g->v[y].alias >= 0 || g->v[y].st == KW_ST_OUTPUT)
                continue;
            g->v[y].st = KW_ST_WS;
            /* + SLACK: vector kernels may read (never write) up to a tile past the end */
            int end = last[y] < i ? i : last[y];
            items[ni++] = (Item){align_up(value_bytes(&g->v[y]) + slack), 0, i, end, y, -1};
            /* live from i to end: difference arrays for the bound and the per-node totals */
            exact[i] += value_bytes(&g->v[y]);
            exact[end + 1] -= value_bytes(&g->v[y]);
            planned[i] += items[ni - 1].size;
            planned[end + 1] -= items[ni - 1].size;
        }
        if (n->scratch_bytes > 0)
            items[ni++] = (Item){align_up(n->scratch_bytes), 0, i, i, -1, i};
    }
    int64_t peak = place_all(g, items, ni);
    for (int i = 0; i < ni; i++) {
        if (items[i].value >= 0)
            g->v[items[i].value].off = items[i].off;
        else
            g->n[items[i].node].scratch_off = items[i].off;
    }
    /* aliases take their root's storage */
    for (int i = 0; i < nv; i++) {
        KwValue *v = &g->v[i];
        if (v->alias < 0)
            continue;
        const KwValue *r = &g->v[root_of(g, i)];
        v->st = r->st;
        v->st_index = r->st_index;
        v->off = r->off;
    }
    g->ws_bytes = peak;
    g->ws_bound = g->ws_floor = 0;
    g->ws_bound_node = -1;
    int64_t e = 0, p = 0;
    for (int i = 0; i < nn; i++) {
        e += exact[i];
        p += planned[i];
        if (live)
            live[i] = p;
        if (!g->n[i].dead && e > g->ws_bound) {
            g->ws_bound = e;
            g->ws_bound_node = i;
        }
        if (!g->n[i].dead && e + g->n[i].scratch_bytes > g->ws_floor)
            g->ws_floor = e + g->n[i].scratch_bytes;
    }
    if (n_res)
        *n_res = convs_in_place;
    return 0;
}

/* The plan with convs written over their residuals (less traffic: the epilogue's loads bring
 * in the lines its stores write; ResNet-18 KW1x 3% faster), unless best-fit placement then
 * comes out larger than without (it can: the residual lives on as the output). */
static int plan_once(KwGraph *g, int64_t *live)
{
    int n_res;
    KW_TRY(plan_pass(g, live, 1, &n_res));
    if (n_res == 0)
        return 0;
    int64_t with = g->ws_bytes;
    KW_TRY(plan_pass(g, live, 0, NULL));
    if (g->ws_bytes < with)
        return 0;
    return plan_pass(g, live, 1, NULL);
}

/* Relowers node i with scratch cap `cap` (0: none) if that changes it; 1 if it did. */
static int recap(KwGraph *g, int i, int64_t cap)
{
    KwNode *n = &g->n[i];
    if (cap == n->scratch_cap)
        return 0;
    n->scratch_cap = cap;
    KwTargetKind t = g->lower_target;
    g->lower_target = g->target;
    int st = kw_lower(g, n);
    g->lower_target = t;
    if (st < 0)
        return -1;
    return 1;
}

/* Can the node's scratch shrink? Nodes whose scratch depends on the lowering: KernelWarehouse
 * convs (any target) and, on vector targets, the nodes the vector kernels give scratch. */
static int adjustable(const KwGraph *g, const KwNode *n)
{
    return !n->dead && (n->scratch_bytes > 0 || n->scratch_cap > 0) &&
           (n->op == KW_OP_KwConv || g->target != KW_TARGET_GENERIC);
}

/* Every adjustable node at its smallest (cap 1 byte: the least any lowering needs). */
static int plan_smallest(KwGraph *g)
{
    for (int i = 0; i < g->nn; i++)
        if (adjustable(g, &g->n[i]))
            KW_TRY(recap(g, i, 1));
    return plan_once(g, NULL);
}

static void note_plan(KwGraph *g)
{
    int portable = 0, blocked = 0;
    for (int i = 0; i < g->nn; i++) {
        const KwNode *n = &g->n[i];
        portable += !n->dead && n->portable;
        for (int c = 0; !n->dead && c < n->n_calls; c++)
            blocked += n->calls[c].k == KW_K_KWCONV;
    }
    kw_note(g->diag,
            "memory plan: workspace %" PRId64 " bytes (lower bound %" PRId64 ", %.3fx; %" PRId64
            " with the nodes' scratch as lowered), weights %" PRId64 " bytes%s",
            g->ws_bytes, g->ws_bound, g->ws_bound ? (double)g->ws_bytes / (double)g->ws_bound : 1.0, g->ws_floor,
            g->weight_bytes,
            blocked || portable ? "" : "; every node lowered the fastest way");
    if (blocked || portable)
        kw_note(g->diag, "memory plan: %d KernelWarehouse convs assembled a block of output channels at a time, "
                "%d nodes on the portable kernels to save scratch", blocked, portable);
}

/* From the fastest lowering, caps for every node with adjustable scratch so that the plan fits
 * in M bytes: 1 if it does, 0 if the heuristic could not make it, -1 on error. */
static int fit(KwGraph *g, int64_t M, int64_t *live)
{
    int nn = g->nn;
    for (int i = 0; i < nn; i++)
        if (!g->n[i].dead && g->n[i].scratch_cap)
            KW_TRY(recap(g, i, 0));
    KW_TRY(plan_once(g, live));
    if (g->ws_bytes <= M)
        return 1;
    /* each node's scratch within what the tensors live at it leave of the budget */
    int changed = 0;
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (!adjustable(g, n) || live[i] + n->scratch_bytes <= M)
            continue;
        int64_t cap = M - live[i];
        int r = recap(g, i, cap > 1 ? cap : 1);
        KW_TRY(r);
        changed |= r;
    }
    if (changed)
        KW_TRY(plan_once(g, live));
    /* placement can still overshoot: shrink the caps of the nodes with scratch by the excess */
    for (int round = 0; round < 8 && g->ws_bytes > M && changed; round++) {
        int64_t over = g->ws_bytes - M;
        changed = 0;
        for (int i = 0; i < nn; i++) {
            KwNode *n = &g->n[i];
            if (!adjustable(g, n) || n->scratch_bytes <= 64)
                continue;
            int64_t cap = n->scratch_bytes - over;
            int r = recap(g, i, cap > 1 ? cap : 1);
            KW_TRY(r);
            changed |= r;
        }
        if (changed)
            KW_TRY(plan_once(g, live));
    }
    return g->ws_bytes <= M;
}

int kw_pass_memplan(KwGraph *g)
{
    int64_t M = g->opt ? g->opt->max_ram : 0;
    int64_t *live = KW_NEWN(g->arena, int64_t, g->nn + 1);
    KW_TRY(plan_once(g, live));
    if (M == 0 || (M > 0 && g->ws_bytes <= M)) {
        note_plan(g);
        return 0;
    }
    int r = M > 0 ? fit(g, M, live) : 0;
    KW_TRY(r);
    if (r) {
        note_plan(g);
        return 0;
    }
    KW_TRY(plan_smallest(g));
    int64_t smallest = g->ws_bytes;
    if (M > 0 && smallest > M) {
        const KwNode *b = g->ws_bound_node >= 0 ? &g->n[g->ws_bound_node] : NULL;
        return kw_error(g->diag, NULL,
                        "--max-ram %" PRId64 ": the workspace cannot be made that small; the smallest kwcc reaches "
                        "for this model is %" PRId64 " bytes (lower bound %" PRId64
                        " bytes: the tensors live at node '%s' (%s))",
                        M, smallest, g->ws_bound, b ? b->name : "?", b ? b->op_type : "?");
    }
    /* the smallest workspace; now the fastest lowering the heuristic finds within it (nodes
     * away from the peak keep bigger blocks, the whole attention, the vector kernels) */
    r = fit(g, smallest, live);
    KW_TRY(r);
    if (!r)
        KW_TRY(plan_smallest(g));
    note_plan(g);
    return 0;
}
