#!/usr/bin/env bash
# run_case.sh CASE_DIR TOL WORK_DIR [kwcc options...]
#
# One end-to-end golden test: kwcc compiles CASE_DIR/model.onnx to C, the C compiler builds
# it with its test driver (-DKWCC_MAIN), the program runs on CASE_DIR/input_*.bin, and every
# output is compared with CASE_DIR/output_*.bin by fcmp. Environment: KWCC, FCMP (paths),
# CC (default cc), CFLAGS (default -O1), RUN (a prefix such as qemu-aarch64; default none).
set -u
case_dir=$1 tol=$2 work=$3
shift 3
name=$(basename "$case_dir")
cc=${CC:-cc}
mkdir -p "$work"
rm -f "$work/$name".c "$work/$name" "$work/${name}"_out_*.bin
"$KWCC" "$case_dir/model.onnx" -o "$work/$name.c" --name m "$@" || { echo "FAIL: kwcc"; exit 1; }
$cc -std=c99 ${CFLAGS:--O1} -Wall -Wextra -Werror -DKWCC_MAIN -I"$work" "$work/$name.c" -o "$work/$name" -lm ||
    { echo "FAIL: $cc"; exit 1; }
ins=() outs=() refs=()
for f in $(ls "$case_dir"/input_*.bin 2>/dev/null | sort -V); do ins+=("$f"); done
for f in $(ls "$case_dir"/output_*.bin | sort -V); do
    k=${f##*output_}
    outs+=("$work/${name}_out_$k")
    refs+=("$f")
done
${RUN:-} "$work/$name" "${ins[@]}" "${outs[@]}" || { echo "FAIL: the program failed"; exit 1; }
st=0
for i in "${!outs[@]}"; do
    "$FCMP" "${outs[$i]}" "${refs[$i]}" "$tol" || st=1
done
exit $st
