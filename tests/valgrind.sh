#!/usr/bin/env bash
# valgrind.sh KWCC FCMP FIXTURES WORK_DIR CASE...
#
# Memcheck over kwcc and over generated code:
#   1. kwcc itself compiling the first CASE (and `kwcc inspect` on it): no invalid access, no
#      uninitialised value used, no leak (--leak-check=full --error-exitcode=1);
#   2. every CASE (a directory under FIXTURES: suite/name) compiled for the portable target with
#      -O1 -g and run on its input under valgrind, the same way, then compared with its reference.
# Skipped (exit 77) when valgrind is not installed.
set -u
kwcc=$1 fcmp=$2 fixtures=$3 work=$4
shift 4
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIPPED: valgrind not found (apt-get install valgrind)"
    exit 77
fi
cc=${CC:-cc}
vg=(valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes)
mkdir -p "$work" || exit 1
fails=0 n=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

first=$fixtures/$1
n=$((n + 2))
"${vg[@]}" "$kwcc" "$first/model.onnx" -o "$work/kwcc_self.c" --name m --target generic >"$work/kwcc.log" 2>&1 ||
    { fail "kwcc under valgrind ($1)"; sed 's/^/    | /' "$work/kwcc.log" | head -n 40; }
"${vg[@]}" "$kwcc" inspect "$first/model.onnx" >"$work/inspect.log" 2>&1 ||
    { fail "kwcc inspect under valgrind ($1)"; sed 's/^/    | /' "$work/inspect.log" | head -n 40; }

for c in "$@"; do
    n=$((n + 1))
    d=$fixtures/$c
    t=$(echo "$c" | tr / _)
    tol=$(awk -v k="$(basename "$c")" '$1 == k { print $2 }' "$(dirname "$d")/cases.txt")
    "$kwcc" "$d/model.onnx" -o "$work/$t.c" --name m --target generic 2>"$work/$t.err" ||
        { fail "$c: kwcc"; continue; }
    $cc -std=c99 -O1 -g -DKWCC_MAIN -I"$work" "$work/$t.c" -o "$work/$t" -lm 2>>"$work/$t.err" ||
        { fail "$c: $cc"; continue; }
    ins=() outs=() refs=()
    for f in $(ls "$d"/input_*.bin 2>/dev/null | sort -V); do ins+=("$f"); done
    for f in $(ls "$d"/output_*.bin | sort -V); do
        outs+=("$work/${t}_out_${f##*output_}")
        refs+=("$f")
    done
    if ! "${vg[@]}" "$work/$t" "${ins[@]}" "${outs[@]}" >"$work/$t.vg" 2>&1; then
        fail "$c: valgrind reports errors"
        sed 's/^/    | /' "$work/$t.vg" | head -n 40
        continue
    fi
    for i in "${!outs[@]}"; do
        "$fcmp" "${outs[$i]}" "${refs[$i]}" "${tol:-1e-4}" >/dev/null || fail "$c: output $i differs from the reference"
    done
    echo "ok: $c"
done
echo "valgrind: $((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
