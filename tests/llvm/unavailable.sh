#!/usr/bin/env bash
# unavailable.sh KWCC MODEL WORK_DIR -- kwcc built without the LLVM target (label llvm): both
# `kwcc run --jit llvm` and `kwcc -o OUT.o --target-triple T` must say they are unavailable,
# exit 2 and write nothing.
set -u
kwcc=$1 m=$2 work=$3
mkdir -p "$work"
rm -f "$work/x.o" "$work/x.h"
st=0
err=$("$kwcc" run "$m" --jit llvm 2>&1)
rc=$?
[ $rc = 2 ] && grep -q "kwcc run --jit llvm is unavailable" <<<"$err" || { echo "FAIL: run --jit llvm: exit $rc: $err"; st=1; }
err=$("$kwcc" "$m" -o "$work/x.o" --target-triple x86_64-linux-gnu 2>&1)
rc=$?
[ $rc = 2 ] && grep -q -- "--target-triple is unavailable" <<<"$err" || { echo "FAIL: --target-triple: exit $rc: $err"; st=1; }
ls "$work/x.o" "$work/x.h" 2>/dev/null && { echo "FAIL: an output file appeared"; st=1; }
[ $st = 0 ] && echo "both options say they are unavailable (exit 2)"
exit $st
