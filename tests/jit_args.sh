#!/usr/bin/env bash
# jit_args.sh KWCC CASE_DIR WORK_DIR
#
# `kwcc run` on bad command lines: each must exit 2 with one "kwcc: error:" line naming the
# problem, and write nothing. Then the good paths the golden tests do not cover: --random is
# deterministic, --output writes what --compare reads back (--tol 0), a wrong reference makes
# kwcc run exit 3, --repeat prints a median. CASE_DIR: a fixture with one input and one output.
set -u
kwcc=$1 case_dir=$2 work=$3
mkdir -p "$work"
rm -f "$work"/*
m=$case_dir/model.onnx in=$case_dir/input_0.bin ref=$case_dir/output_0.bin
. "$(dirname "$0")/expect_lib.sh"
expect_sub=(run)

expect 2 "no model given" --
expect 2 "no model given" -- --random 1
expect 2 "more than one model given" -- "$m" "$m"
expect 2 "unknown option: --bogus" -- "$m" --bogus
expect 2 "this option does not apply: -o" -- "$m" -o "$work/x.c"
expect 2 "missing value after: --input" -- "$m" --input
expect 2 "missing value after: --tol" -- "$m" --tol
expect 2 "--input and --random both given" -- "$m" --input "$in" --random 1
expect 2 "--random given twice" -- "$m" --random 1 --random 2
expect 2 "--random takes a seed" -- "$m" --random -3
expect 2 "--random takes a seed" -- "$m" --random 12abc
expect 2 "--repeat takes a count" -- "$m" --repeat 0
expect 2 "--repeat takes a count" -- "$m" --repeat many
expect 2 "--tol takes a non-negative number" -- "$m" --compare "$ref" --tol -1
expect 2 "--tol takes a non-negative number" -- "$m" --compare "$ref" --tol inf
expect 2 "--tol applies only with --compare" -- "$m" --tol 1e-4
expect 2 "unknown target" -- "$m" --target sparc
expect 2 "cannot open" -- "$work/absent.onnx"
expect 2 "cannot open" -- "$m" --input "$work/absent.bin"
expect 2 "cannot open" -- "$m" --compare "$work/absent.bin"
expect 2 "holds 10 floats; the model's input 0 takes" -- "$m" --input "$ref"
expect 2 "the model's output 0 takes" -- "$m" --compare "$in"
expect 2 "2 --input files given; the model has 1 input:" -- "$m" --input "$in" --input "$in"
expect 2 "cannot write" -- "$m" --output "$work/no/such/dir/out.bin"
expect 2 "2 --output files given; the model has 1 output:" -- "$m" --output "$work/o1.bin" --output "$work/o2.bin"
printf 'abc' >"$work/odd.bin"
expect 2 "not a whole number of float32 values" -- "$m" --input "$work/odd.bin"
expect 2 "could not be parsed" -- "$in"
# outputs beyond the tolerance: exit 3, with the figures
expect 3 "FAIL" -- "$m" --random 7 --compare "$ref"
expect 3 "FAIL" -- "$m" --input "$in" --compare "$ref" --tol 0
ls "$work"/no "$work"/o1.bin "$work"/o2.bin 2>/dev/null && fail "an output file appeared"

# good paths
"$kwcc" run "$m" --random 42 --output "$work/a.bin" >/dev/null || fail "--random 42 --output"
"$kwcc" run "$m" --random 42 --output "$work/b.bin" >/dev/null || fail "--random 42 --output (again)"
cmp -s "$work/a.bin" "$work/b.bin" || fail "--random 42 is not deterministic"
[ "$(wc -c <"$work/a.bin")" = "$(wc -c <"$ref")" ] || fail "--output wrote $(wc -c <"$work/a.bin") bytes"
"$kwcc" run "$m" --random 42 --compare "$work/a.bin" --tol 0 >/dev/null || fail "--compare of its own --output"
"$kwcc" run "$m" --random 43 --output "$work/c.bin" >/dev/null && cmp -s "$work/a.bin" "$work/c.bin" &&
    fail "--random 42 and 43 give the same output"
out=$("$kwcc" run "$m" --input "$in" --compare "$ref" --repeat 5) || fail "--repeat 5: exit $?"
grep -q "median of 5" <<<"$out" || fail "--repeat 5 prints no median: $out"
grep -q "^output 0: \[" <<<"$out" || fail "no output shape: $out"
grep -q "top-5: \[" <<<"$out" || fail "no top-5: $out"
grep -q "^compare output 0: max abs err .* rel err .*: ok" <<<"$out" || fail "no comparison: $out"
grep -q "^time: compile .* (kwcc .* tcc .*), load .*, inference .*" <<<"$out" || fail "no timings: $out"
"$kwcc" run --help | grep -q "usage: kwcc run" || fail "kwcc run --help"
[ $st = 0 ] && echo "kwcc run arguments: all passed"
exit $st
