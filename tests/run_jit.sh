#!/usr/bin/env bash
# run_jit.sh CASE_DIR TOL [kwcc run options...]
#
# One golden test through `kwcc run` (the libtcc JIT preview, in-process): CASE_DIR/model.onnx
# on CASE_DIR/input_*.bin, every output compared with CASE_DIR/output_*.bin by kwcc run itself
# (--compare, --tol: max|y - ref| <= TOL * max|ref| per output; exit 3 beyond). Environment:
# KWCC (path).
set -u
case_dir=$1 tol=$2
shift 2
args=()
for f in $(ls "$case_dir"/input_*.bin 2>/dev/null | sort -V); do args+=(--input "$f"); done
for f in $(ls "$case_dir"/output_*.bin | sort -V); do args+=(--compare "$f"); done
exec "$KWCC" run "$case_dir/model.onnx" "${args[@]}" --tol "$tol" "$@"
