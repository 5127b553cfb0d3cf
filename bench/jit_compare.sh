#!/usr/bin/env bash
# bench/jit_compare.sh -- compile-and-run times of the ways kwcc runs a model (README, "LLVM").
#
#   bash bench/jit_compare.sh [KWCC] [RUNS] [MODEL.onnx...]
#
# KWCC defaults to build-rel/kwcc (built Release when absent); needs kwcc built with LLVM.
# Per model (default: the official ResNet-18 KW1x 224 and MobileNetV2 1/2x KW1x 64 of
# ../shared/fixtures/official), RUNS times each (default 5):
#   tcc      kwcc run MODEL                 (libtcc, kernels precompiled into kwcc by gcc -O3)
#   llvm     kwcc run MODEL --jit llvm      (clang -O3 -march=native bitcode, LLVM ORC JIT)
#   gcc      kwcc MODEL -o m.c; gcc -O3 -march=native -DKWCC_MAIN m.c; ./m IN OUT
#   clang.o  kwcc MODEL -o m.o --target-triple x86_64-linux-gnu (clang -O3 -march=x86-64-v4
#            on an AVX-512 host); cc driver.c m.o; ./m IN OUT
# "first" is the wall time from nothing to the first inference's output (compile, load, one
# inference; for gcc and clang.o the three commands); "inference" is the median of 20
# inferences in one process (kwcc run --repeat 20, or the program's --repeat 20 / a timing loop).
# The ways take turns within each of the RUNS rounds (a shared machine's load then hits all of
# them alike); prints the min and median of the RUNS figures as a markdown table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
kwcc=${1:-$root/build-rel/kwcc}
if [ $# -eq 0 ] && [ ! -x "$kwcc" ]; then # as bench/run.sh does
    cmake -S "$root" -B "$root/build-rel" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    cmake --build "$root/build-rel" -j2 --target kwcc >/dev/null
fi
runs=${2:-5}
shift $(($# > 2 ? 2 : $#))
models=("$@")
off=$root/../shared/fixtures/official
[ ${#models[@]} -gt 0 ] || models=("$off/resnet18_kw1x_224.onnx" "$off/mobilenetv2_050_kw1x_64.onnx")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
# stats "v1 v2 ...": "min / median"
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f / %.2f", a[1], m}'; }

cat >"$work/time_main.c" <<'EOF'
/* times m_run of an object kwcc wrote with --target-triple (--name m): ./prog IN OUT [--repeat N] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static float x[M_INPUT_SIZE], y[M_OUTPUT_SIZE];
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmp(const void *a, const void *b) { double u = *(const double *)a, v = *(const double *)b; return u < v ? -1 : u > v; }
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(x, 4, M_INPUT_SIZE, f) != M_INPUT_SIZE) return 1;
    fclose(f);
    if (m_run(x, y, NULL)) return 1;
    f = fopen(argv[2], "wb");
    if (!f || fwrite(y, 4, M_OUTPUT_SIZE, f) != M_OUTPUT_SIZE) return 1;
    fclose(f);
    if (argc > 4) {
        int n = atoi(argv[4]);
        double t[1000];
        for (int i = 0; i < n && i < 1000; i++) { double s = now(); m_run(x, y, NULL); t[i] = now() - s; }
        qsort(t, n, sizeof t[0], cmp);
        printf("median %.1f us\n", (n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2])) * 1e3);
    }
    return 0;
}
EOF

echo "| model | way | first inference, wall s (min / median of $runs) | inference ms (min / median of $runs medians of 20) |"
echo "|---|---|---|---|"
ways="tcc llvm gcc clang.o"
for model in "${models[@]}"; do
    name=$(basename "$model" .onnx)
    in=$(dirname "$model")/${name}_input.bin
    declare -A firsts=() infs=()
    # the ways take turns within each round, so that each sees the same load on a shared machine
    for r in $(seq "$runs"); do
        for way in $ways; do
            rm -f "$work"/m*
            t0=$(now)
            case $way in
            tcc) "$kwcc" run "$model" --input "$in" >/dev/null ;;
            llvm) "$kwcc" run "$model" --input "$in" --jit llvm >/dev/null ;;
            gcc)
                "$kwcc" "$model" -o "$work/m.c" --name m
                gcc -O3 -march=native -DKWCC_MAIN "$work/m.c" -o "$work/m" -lm
                "$work/m" "$in" "$work/out.bin"
                ;;
            clang.o)
                "$kwcc" "$model" -o "$work/m.o" --name m --target-triple x86_64-linux-gnu
                cc -O2 -include "$work/m.h" "$work/time_main.c" "$work/m.o" -o "$work/m" -lm
                "$work/m" "$in" "$work/out.bin"
                ;;
            esac
            t1=$(now)
            firsts[$way]+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
            case $way in
            tcc) i=$("$kwcc" run "$model" --input "$in" --repeat 20 | sed -n 's/.*inference \([0-9.]*\) ms.*/\1/p') ;;
            llvm) i=$("$kwcc" run "$model" --input "$in" --repeat 20 --jit llvm | sed -n 's/.*inference \([0-9.]*\) ms.*/\1/p') ;;
            *) i=$("$work/m" "$in" "$work/out.bin" --repeat 20 | sed -n 's/median \([0-9.]*\) us.*/\1/p' | awk '{print $1 / 1000}') ;;
            esac
            infs[$way]+=" $i"
        done
    done
    for way in $ways; do
        echo "| $name | $way | $(stats "${firsts[$way]}") | $(stats "${infs[$way]}") |"
    done
    unset firsts infs
done
