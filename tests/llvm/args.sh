#!/usr/bin/env bash
# args.sh KWCC CASE_DIR WORK_DIR
#
# The LLVM target's command lines (label llvm): `kwcc -o OUT.o --target-triple T` and
# `kwcc run --jit llvm` on bad arguments must exit 2 with one "kwcc: error:" line naming the
# problem and leave no file behind; a clang that cannot run is an error (exit 1) that leaves
# nothing either. Then the good paths the golden tests do not cover: the header next to the
# object, no temporary left in $TMPDIR, the timing line of --jit llvm, and --target generic
# giving the very bits of the libtcc path (no contraction, no reassociation on either side).
# CASE_DIR: a fixture with one input and one output.
set -u
kwcc=$1 case_dir=$2 work=$3
mkdir -p "$work" "$work/tmp"
rm -rf "${work:?}"/* && mkdir -p "$work/tmp"
export TMPDIR=$work/tmp
m=$case_dir/model.onnx in=$case_dir/input_0.bin ref=$case_dir/output_0.bin
. "$(dirname "$0")/../expect_lib.sh"

o=$work/x.o
expect 2 "missing value after: --target-triple" -- "$m" -o "$o" --target-triple
expect 2 "unsupported triple riscv64-linux-gnu" -- "$m" -o "$o" --target-triple riscv64-linux-gnu
expect 2 "big-endian" -- "$m" -o "$o" --target-triple aarch64_be-linux-gnu
expect 2 "--target-triple takes ARCH-VENDOR-OS" -- "$m" -o "$o" --target-triple x86_64
expect 2 "--target neon does not run on x86_64-linux-gnu" -- "$m" -o "$o" --target-triple x86_64-linux-gnu --target neon
expect 2 "--target avx2 does not run on aarch64-linux-gnu" -- "$m" -o "$o" --target-triple aarch64-linux-gnu --target avx2
expect 2 "Cortex-M takes generic" -- "$m" -o "$o" --target-triple thumbv7em-none-eabihf --target avx512
expect 2 "no output file given (-o OUT.o)" -- "$m" --target-triple x86_64-linux-gnu
expect 2 "--target-triple does not apply" -- inspect "$m" --target-triple x86_64-linux-gnu
expect 2 "cannot write" -- "$m" -o "$work/no/such/dir/x.o" --target-triple x86_64-linux-gnu
expect 2 "cannot open" -- "$work/absent.onnx" -o "$o" --target-triple x86_64-linux-gnu
expect 2 "unknown JIT (expected tcc or llvm): gcc" -- run "$m" --jit gcc
expect 2 "missing value after: --jit" -- run "$m" --jit
expect 2 "unknown option: --target-triple" -- run "$m" --target-triple x86_64-linux-gnu
# clang missing: an error, and still no file
KWCC_CLANG=$work/no-clang expect 1 "error: cannot run clang $work/no-clang" -- "$m" -o "$o" --target-triple x86_64-linux-gnu
ls "$work"/x.* "$work"/no 2>/dev/null && fail "an output file appeared"

# good paths
"$kwcc" "$m" -o "$work/y.o" --target-triple aarch64-linux-gnu --target generic || fail "aarch64 generic object: exit $?"
[ -s "$work/y.o" ] && [ -s "$work/y.h" ] || fail "no y.o and y.h"
grep -q "int model_run(const float \*input, float \*output, void \*workspace);" "$work/y.h" || fail "y.h declares no model_run"
"$kwcc" "$m" -o "$work/z.o" --header "$work/zz.h" --name zz --target-triple x86_64-linux-gnu || fail "--header: exit $?"
[ -s "$work/z.o" ] && [ -s "$work/zz.h" ] && [ ! -e "$work/z.h" ] || fail "--header zz.h was not honoured"
# the other Cortex-M triples, and kwcc's own string.h/math.h when newlib is not used
for t in thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabi thumbv8m.main-none-eabihf thumbv8.1m.main-none-eabihf; do
    "$kwcc" "$m" -o "$work/cm.o" --target-triple "$t" || fail "$t: exit $?"
done
KWCC_NO_NEWLIB=1 "$kwcc" "$m" -o "$work/cm.o" --target-triple thumbv7em-none-eabihf || fail "without newlib: exit $?"
[ -s "$work/cm.o" ] || fail "no Cortex-M object"
out=$("$kwcc" run "$m" --input "$in" --compare "$ref" --jit llvm --repeat 3) || fail "--jit llvm --repeat 3: exit $?"
grep -q "LLVM ORC JIT" <<<"$out" || fail "no JIT named: $out"
grep -q "^time: compile .* (kwcc .* clang .* llvm codegen .*), load .*, inference .* (median of 3)" <<<"$out" ||
    fail "no timings: $out"
grep -q "^compare output 0: .*: ok" <<<"$out" || fail "no comparison: $out"
if [ "${KW_HAVE_TCC:-1}" = 1 ]; then # kwcc built with libtcc
    "$kwcc" run "$m" --target generic --random 5 --output "$work/tcc.bin" >/dev/null || fail "tcc generic: exit $?"
    "$kwcc" run "$m" --target generic --random 5 --output "$work/llvm.bin" --jit llvm >/dev/null ||
        fail "llvm generic: exit $?"
    cmp "$work/tcc.bin" "$work/llvm.bin" || fail "--target generic: --jit llvm and --jit tcc differ"
fi
[ -z "$(ls -A "$work/tmp")" ] || fail "temporaries left in TMPDIR: $(ls "$work/tmp")"
ls "$work"/*.tmp* 2>/dev/null && fail "temporary outputs left"
"$kwcc" run --help | grep -q -- "--jit tcc|llvm" || fail "kwcc run --help says nothing of --jit"
"$kwcc" --help | grep -q -- "--target-triple" || fail "kwcc --help says nothing of --target-triple"
[ $st = 0 ] && echo "LLVM target arguments: all passed"
exit $st
