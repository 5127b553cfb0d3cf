/* kw_resnet demo -- runs a KernelWarehouse ResNet compiled by kwcc and prints a summary.
 *
 * The model is tests/fixtures/kw/resnet_basic/model.onnx (a tiny ResNet whose every 3x3 and
 * downsample conv is a KernelWarehouse layer), compiled at build time into kw_resnet.c by
 *     kwcc model.onnx -o kw_resnet.c --name kw_resnet
 * This file only includes the generated header and calls kw_resnet_run().
 *
 *   kw_resnet_demo INPUT.bin [REFERENCE.bin]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "kw_resnet.h"

static float input[KW_RESNET_INPUT_SIZE], output[KW_RESNET_OUTPUT_SIZE], ref[KW_RESNET_OUTPUT_SIZE];
static union {
    unsigned char bytes[KW_RESNET_WORKSPACE_BYTES + 1];
    float align;
} workspace;

static int load(const char *path, float *dst, long n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    long got = (long)fread(dst, sizeof(float), (size_t)n, f);
    fclose(f);
    if (got != n) {
        fprintf(stderr, "%s: expected %ld floats, read %ld\n", path, n, got);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUT.bin [REFERENCE.bin]\n", argv[0]);
        return 2;
    }
    if (load(argv[1], input, KW_RESNET_INPUT_SIZE) < 0)
        return 1;
    if (kw_resnet_run(input, output, workspace.bytes) != 0)
        return 1;
    struct timespec t0, t1;
    int runs = 200;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < runs; i++)
        kw_resnet_run(input, output, workspace.bytes);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / runs;

    printf("kw_resnet: input %d floats, output %d floats, weights %d bytes, workspace %d bytes\n",
           KW_RESNET_INPUT_SIZE, KW_RESNET_OUTPUT_SIZE, KW_RESNET_WEIGHT_BYTES, KW_RESNET_WORKSPACE_BYTES);
    printf("logits:");
    for (int i = 0; i < KW_RESNET_OUTPUT_SIZE; i++)
        printf(" %.4f", output[i]);
    int best = 0;
    for (int i = 1; i < KW_RESNET_OUTPUT_SIZE; i++)
        if (output[i] > output[best])
            best = i;
    printf("\nclass %d, %.1f us per inference (mean of %d)\n", best, us, runs);
    if (argc > 2) {
        if (load(argv[2], ref, KW_RESNET_OUTPUT_SIZE) < 0)
            return 1;
        double err = 0, mag = 0;
        for (int i = 0; i < KW_RESNET_OUTPUT_SIZE; i++) {
            err = fmax(err, fabs((double)output[i] - ref[i]));
            mag = fmax(mag, fabs((double)ref[i]));
        }
        int ok = err <= 1e-4 * mag;
        printf("PyTorch reference: max |error| %.3g (%.2g of max |ref|): %s\n", err, err / mag, ok ? "match" : "MISMATCH");
        return ok ? 0 : 1;
    }
    return 0;
}
