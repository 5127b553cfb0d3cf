#!/usr/bin/env bash
# run_bad.sh KWCC BAD_DIR WORK_DIR
#
# The bad-input suite: kwcc must reject every malformed model and every bad command line
# with one clear message and exit 2, never crash or hang, and never leave an output file
# behind. Three parts:
#   1. BAD_DIR/expect.txt: "<file> <exit-code> <fragment>" per model (written with the
#      models by tools/gen_bad_models.py). Exit 2: stderr must begin with "kwcc: error:"
#      and contain the fragment, and the output directory must stay empty. Exit 0: an
#      odd but legal model; both output files must exist and stderr must have no error.
#   2. 20000-node chains, written here (they would be 400 KB each in the repository).
#   3. bad command lines.
# Any exit code >= 128 (a signal), a timeout, or a sanitizer report on stderr fails the case.
# Environment: BAD_TIMEOUT (seconds per kwcc run, default 300), BAD_ONLY (a substring: run
# only the cases whose name contains it), BAD_VERBOSE=1 (print stderr of passing cases too).
set -u
if [ $# -ne 3 ]; then
    echo "usage: run_bad.sh KWCC BAD_DIR WORK_DIR" >&2
    exit 2
fi
kwcc=$1 bad=$2 work=$3
tmo=${BAD_TIMEOUT:-300}
only=${BAD_ONLY:-}
mkdir -p "$work" || exit 1
rm -rf "$work/cases" "$work/gen"
mkdir -p "$work/cases" "$work/gen" || exit 1

total=0 failed=0 failed_names=()

runner=()
if command -v timeout >/dev/null 2>&1; then
    runner=(timeout -k 10 "$tmo")
fi

fail()
{
    echo "FAIL: $name: $*"
    sed 's/^/    | /' "$err" | head -n 20
    failed=$((failed + 1))
    failed_names+=("$name")
}

# check NAME CODE FRAGMENT OUT.c -- kwcc arguments...
# OUT.c must lie in a directory of its own (created here) that a failed run leaves empty.
check()
{
    name=$1 code=$2 frag=$3 outc=$4
    shift 5
    if [ -n "$only" ] && [[ "$name" != *"$only"* ]]; then
        return
    fi
    total=$((total + 1))
    local outdir=${outc%/*}
    err="$work/cases/$name.stderr"
    mkdir -p "$outdir"
    rm -f "$outdir"/* 2>/dev/null
    "${runner[@]}" "$kwcc" "$@" >"$work/cases/$name.stdout" 2>"$err"
    local rc=$?
    if [ "$rc" -eq 124 ] && [ ${#runner[@]} -gt 0 ]; then
        fail "timed out after ${tmo}s"
        return
    fi
    if [ "$rc" -ge 128 ]; then
        fail "crashed: exit code $rc (signal $((rc - 128)))"
        return
    fi
    if grep -q -e 'Sanitizer' -e 'runtime error:' -e 'internal error' "$err"; then
        fail "sanitizer report or internal error (exit code $rc)"
        return
    fi
    if [ "$rc" -ne "$code" ]; then
        fail "exit code $rc, expected $code"
        return
    fi
    if [ "$code" -eq 0 ]; then
        if grep -q 'kwcc: error' "$err"; then
            fail "exit code 0 but an error message"
            return
        fi
        if [ -n "$outc" ] && { [ ! -s "$outc" ] || [ ! -s "${outc%.c}.h" ]; }; then
            fail "exit code 0 but no $outc and ${outc%.c}.h"
            return
        fi
        rm -f "$outdir"/*
    else
        if [ "$(head -c 13 "$err")" != "kwcc: error: " ]; then
            fail "stderr does not begin with 'kwcc: error: '"
            return
        fi
        if [ "$frag" != "-" ] && ! grep -q -F -e "$frag" "$err"; then
            fail "stderr lacks '$frag'"
            return
        fi
        if [ -n "$(ls -A "$outdir" 2>/dev/null)" ]; then
            fail "left files behind: $(ls -A "$outdir" | tr '\n' ' ')"
            return
        fi
    fi
    if [ "${BAD_VERBOSE:-0}" = 1 ]; then
        echo "ok: $name"
        sed 's/^/    | /' "$err" | head -n 5
    fi
}

# ---- 1. the committed models
if [ ! -f "$bad/expect.txt" ]; then
    echo "FAIL: $bad/expect.txt not found"
    exit 1
fi
while read -r file code frag; do
    case "$file" in '' | '#'*) continue ;; esac
    if [ ! -f "$bad/$file" ]; then
        name=${file%.onnx} err=/dev/null
        total=$((total + 1))
        fail "$bad/$file is missing"
        continue
    fi
    n=${file%.onnx}
    check "$n" "$code" "$frag" "$work/cases/$n/$n.c" -- "$bad/$file" -o "$work/cases/$n/$n.c"
done <"$bad/expect.txt"

# ---- 2. deep chains, written byte by byte (protobuf wire format)
varint()
{
    local n=$1 s=
    while [ "$n" -ge 128 ]; do
        s+=$(printf '\\x%02x' $(((n & 127) | 128)))
        n=$((n >> 7))
    done
    s+=$(printf '\\x%02x' "$n")
    printf "$s"
}

# value_info NAME: a float32 [1,4] graph input/output, NAME 6 characters
value_info() { printf '\x0a\x06%s\x12\x0e\x0a\x0c\x08\x01\x12\x08\x0a\x02\x08\x01\x0a\x02\x08\x04' "$1"; }

# write_chain FILE N OP fwd|rev CYCLE: a model of N unnamed OP nodes v00000 -> ... -> vN,
# listed in file order (fwd) or reversed (rev); CYCLE=1 makes the first node read vN.
write_chain()
{
    local file=$1 n=$2 op=$3 order=$4 cycle=$5
    local nodelen=$((2 + 6 + 2 + 6 + 2 + ${#op}))
    local glen=$((n * (2 + nodelen) + 7 + 2 * 26))
    local args=()
    mapfile -t args < <(awk -v n="$n" -v order="$order" -v cycle="$cycle" 'BEGIN {
        for (k = 0; k < n; k++) {
            i = order == "rev" ? n - 1 - k : k
            printf "v%05d\nv%05d\n", (i == 0 && cycle) ? n : i, i + 1
        }
    }')
    {
        printf '\x08\x07'                     # ir_version 7
        printf '\x3a'                         # graph
        varint "$glen"
        printf "\\x0a\\x$(printf %02x "$nodelen")\\x0a\\x06%s\\x12\\x06%s\\x22\\x$(printf %02x ${#op})$op" "${args[@]}"
        printf '\x12\x05chain'                # name
        printf '\x5a\x18'                     # input
        value_info v00000
        printf '\x62\x18'                     # output
        value_info "$(printf 'v%05d' "$n")"
        printf '\x42\x02\x10\x0d'             # opset_import { version: 13 }
    } >"$file"
}

gen=$work/gen
write_chain "$gen/deep_relu.onnx" 20000 Relu fwd 0
write_chain "$gen/deep_reversed.onnx" 20000 Sigmoid rev 0
write_chain "$gen/deep_cycle.onnx" 20000 Relu fwd 1
write_chain "$gen/chain_small.onnx" 3 Relu fwd 0
for c in "deep_relu 0 -" "deep_reversed 0 -" "deep_cycle 2 the graph has a cycle" "chain_small 0 -"; do
    read -r n code frag <<<"$c"
    check "$n" "$code" "$frag" "$work/cases/$n/$n.c" -- "$gen/$n.onnx" -o "$work/cases/$n/$n.c"
done

# ---- 3. bad command lines (a valid model: the 3-node chain written above)
good=$gen/chain_small.onnx
o=$work/cases/cli
check cli_no_args 2 "no model given" "$o/x.c" --
check cli_unknown_option 2 "unknown option: --frobnicate" "$o/x.c" -- "$good" --frobnicate -o "$o/x.c"
check cli_no_output 2 "no output file given" "$o/x.c" -- "$good"
check cli_o_without_value 2 "missing value after: -o" "$o/x.c" -- "$good" -o
check cli_two_models 2 "more than one model given" "$o/x.c" -- "$good" "$good" -o "$o/x.c"
check cli_no_such_file 2 "$work/no/such/model.onnx: cannot open: No such file or directory" "$o/x.c" -- \
    "$work/no/such/model.onnx" -o "$o/x.c"
check cli_model_is_dir 2 "is a directory" "$o/x.c" -- "$bad" -o "$o/x.c"
if [ -c /dev/zero ]; then
    check cli_model_dev_zero 2 "not a regular file" "$o/x.c" -- /dev/zero -o "$o/x.c"
fi
check cli_bad_name 2 "--name '1net' is not a C identifier" "$o/x.c" -- "$good" --name 1net -o "$o/x.c"
check cli_out_dir_missing 2 "cannot write $work/no/such/dir/x.c" "$o/x.c" -- "$good" -o "$work/no/such/dir/x.c"
touch "$work/cases/a_file"
check cli_out_under_file 2 "cannot write $work/cases/a_file/x.c" "$o/x.c" -- "$good" -o "$work/cases/a_file/x.c"
# the header cannot be written: the .c file must not be left behind either
check cli_header_unwritable 2 "cannot write $work/no/such/dir/x.h" "$o/x.c" -- \
    "$good" -o "$o/x.c" --header "$work/no/such/dir/x.h"
mkdir -p "$work/cases/a_dir"
rm -f "$work/cases/a_dir.h"
check cli_out_is_dir 2 "cannot write $work/cases/a_dir" "$o/x.c" -- "$good" -o "$work/cases/a_dir"
if [ -e "$work/cases/a_dir.h" ]; then
    err=/dev/null
    fail "left $work/cases/a_dir.h behind"
fi
if [ "$(id -u)" != 0 ]; then # root writes anywhere
    mkdir -p "$work/cases/ro"
    chmod 555 "$work/cases/ro"
    check cli_out_readonly 2 "cannot write $work/cases/ro/x.c" "$o/x.c" -- "$good" -o "$work/cases/ro/x.c"
    chmod 755 "$work/cases/ro"
fi
check cli_good 0 - "$o/x.c" -- "$good" -o "$o/x.c"

echo "bad-input suite: $((total - failed)) of $total cases passed"
if [ "$failed" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
    exit 1
fi
exit 0
