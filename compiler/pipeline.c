/* pipeline.c -- the pass list, in order. After each pass the IR is verified and, when asked
 * with -d<letters>, printed to stderr. */
#include <string.h>

#include "kwcc_int.h"

typedef int (*KwPassFn)(KwGraph *g);
typedef struct KwPass {
    char letter;
    const char *name;
    KwPassFn run;
} KwPass;

static int pass_kw_unless_disabled(KwGraph *g)
{
    return g->opt->no_kw_fusion ? 0 : kw_pass_kw(g);
}

static const KwPass pipeline[] = {
    {'O', "order", kw_pass_order},          /* topological order; cycles are errors */
    {'I', "infer", kw_pass_infer},          /* shapes and dtypes; constant folding */
    {'D', "dce", kw_pass_dce},              /* drop what folding made dead */
    {'C', "canon", kw_pass_canon},          /* decomposed LayerNorm and GELU to one node */
    {'K', "kw", pass_kw_unless_disabled},   /* lift KernelWarehouse layers */
    {'F', "fuse", kw_pass_fuse},            /* BN folding, activations, residual adds */
    {'E', "dce", kw_pass_dce},
    {'L', "lower", kw_pass_lower},          /* kernel calls */
    {'M', "memplan", kw_pass_memplan},      /* weight blob, workspace offsets */
};

int kw_run_pipeline(KwGraph *g)
{
    const char *dump = g->opt->dump ? g->opt->dump : "";
    for (size_t i = 0; i < KW_COUNTOF(pipeline); i++) {
        const KwPass *p = &pipeline[i];
        if (p->run(g) < 0 || g->diag->n_errors > 0)
            return -1;
        kw_ir_verify(g, p->name);
        if (strchr(dump, p->letter))
            kw_ir_print(g, stderr, p->name);
    }
    return 0;
}
