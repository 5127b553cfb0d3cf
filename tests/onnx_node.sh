#!/usr/bin/env bash
# onnx_node.sh NODE_DIR WORK_DIR [REGEX]
#
# The ONNX backend node tests (onnx/backend/test/data/node in the onnx wheel; tools/fetch_onnx_node.sh
# fetches them) through kwcc. For every test directory (name matching REGEX, default all):
#   kwcc model.onnx -o t.c --target $TARGET (default generic)
#     exit 2 with "kwcc: error: ..."   -> unsupported (clean); the message is recorded
#     any other failure (crash, exit 1) -> FAIL
#   cc -std=c99 -Wall -Wextra -Werror -DKWCC_MAIN t.c    a compile error -> FAIL
#   for every test_data_set_N: input_K.pb -> raw float32 (tests/tools/onnx_pb.c), run, then each
#   output_K.pb against the program's output: same shape (from the generated header) and
#   numpy.testing.assert_allclose(rtol 1e-3, atol 1e-7), what onnx's own backend runner uses.
#   A wrong answer, a wrong shape or a program that fails is a FAIL.
# A model kwcc compiled although a test input or output is not float32 (kwcc's programs read and
# write float32 only) is a FAIL too: kwcc must reject what it cannot represent.
#
# Writes WORK_DIR/results.txt ("<test> <op> <pass|unsupported|FAIL> <detail>"), WORK_DIR/summary.md
# (per op: tests, passed, unsupported, failed) and prints the summary and every failure.
# Exit 0 when nothing FAILed. Environment: KWCC, ONNX_PB (paths), CC (default cc), CFLAGS (default
# -O1; add -march=native with TARGET=host), TARGET (kwcc --target, default generic), RUN (a prefix
# such as qemu-aarch64, for TARGET=neon with CC=aarch64-linux-gnu-gcc CFLAGS=-static), JOBS
# (parallel tests, default nproc), OPS_DEF (compiler/ops.def: the supported ops, for the summary),
# KNOWN (tests/onnx_node_known.txt: "<test glob> gap|diff <reason>" lines; see the summary below).
set -u
if [ $# -lt 2 ]; then
    echo "usage: onnx_node.sh NODE_DIR WORK_DIR [REGEX]" >&2
    exit 2
fi
node_dir=$1 work=$2 regex=${3:-.}
: "${KWCC:?}" "${ONNX_PB:?}"
export KWCC ONNX_PB
export CC=${CC:-cc} CFLAGS=${CFLAGS:--O1} TARGET=${TARGET:-generic}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
rm -rf "$work/t" "$work/results.txt"
mkdir -p "$work/t" || exit 1

# one_test DIR: prints "<test> <op> <status> <detail>"
one_test()
{
    local dir=$1 t
    t=$(basename "$dir")
    local w=$work/t/$t
    mkdir -p "$w"
    local ops op
    ops=$("$ONNX_PB" ops "$dir/model.onnx" 2>/dev/null) || { echo "$t ? FAIL onnx_pb cannot read the model"; return; }
    op=$(echo "$ops" | cut -d' ' -f2)
    # an expanded test (the function body of an op) is counted under that op
    local base=$t
    base=${base%_expanded}
    base=$(echo "$base" | sed -E 's/_expanded_ver[0-9]+$//')
    if [ "$base" != "$t" ]; then
        if [ -f "$node_dir/$base/model.onnx" ]; then
            op="$("$ONNX_PB" ops "$node_dir/$base/model.onnx" | cut -d' ' -f2)"
        fi
        op="$op(expanded)"
    elif [ "$(echo "$ops" | wc -w)" -gt 2 ]; then
        op="$op(multi)"
    fi
    local tmo=(timeout -k 5 120)
    # compile DATA_SET: kwcc (the model, or it with the inputs in $frozen bound to DATA_SET's
    # values) and cc; sets rc (kwcc's status), or returns 1 after printing a FAIL
    compile()
    {
        local model=$dir/model.onnx
        if [ -n "$frozen" ]; then
            model=$w/frozen.onnx
            "$ONNX_PB" freeze "$dir/model.onnx" "$model" "$frozen" "$1" 2>"$w/freeze.err"
            local frc=$?
            if [ $frc -eq 4 ]; then # a value kwcc wants constant is computed by a node: unsupported
                rc=2
                return 0
            fi
            [ $frc -eq 0 ] || { echo "$t $op FAIL onnx_pb freeze: $(head -c 200 "$w/freeze.err")"; return 1; }
        fi
        rm -f "$w/m.c" "$w/m.h" "$w/m"
        "${tmo[@]}" "$KWCC" "$model" -o "$w/m.c" --name m --target "$TARGET" >"$w/kwcc.out" 2>"$w/kwcc.err"
        rc=$?
        if [ $rc -eq 2 ] && [ "$(head -c 13 "$w/kwcc.err")" = "kwcc: error: " ] &&
            ! grep -q -e 'Sanitizer' -e 'runtime error:' -e 'internal error' "$w/kwcc.err"; then
            return 0
        fi
        if [ $rc -ne 0 ]; then
            echo "$t $op FAIL kwcc exit $rc: $(head -n 2 "$w/kwcc.err" | tr '\n\t' '  ' | cut -c1-300)"
            return 1
        fi
        if ! "${tmo[@]}" "$CC" -std=c99 $CFLAGS -Wall -Wextra -Werror -DKWCC_MAIN -I"$w" "$w/m.c" -o "$w/m" -lm \
            >"$w/cc.out" 2>&1; then
            echo "$t $op FAIL the generated C does not compile: $(grep -m1 error "$w/cc.out" | cut -c1-200)"
            return 1
        fi
    }
    # Inputs kwcc needs as constants (any input that is not float32; a float32 one kwcc says
    # must be constant) are bound to the data set's values, as an exported model holds them.
    local frozen="" ds0 first_err="" try
    ds0=$(ls -d "$dir"/test_data_set_* 2>/dev/null | sort -V | head -n 1)
    for try in 1 2 3 4 5 6; do
        compile "$ds0" || return
        [ $rc -eq 0 ] && break
        [ -z "$first_err" ] && first_err=$(head -n 1 "$w/kwcc.err")
        local more
        more=$(sed -n -E -e "s/.*graph input '([^']*)' has ONNX element type ([02-9]|[1-9][0-9]);.*/\1/p" \
            -e "s/.*'([^']*)'\) (must be a constant|is computed at run time).*/\1/p" "$w/kwcc.err" |
            while read -r nm; do [[ ",$frozen," == *",$nm,"* ]] || echo "$nm"; done | sort -u | paste -sd, -)
        [ -n "$more" ] && [ -n "$ds0" ] || break
        frozen=${frozen:+$frozen,}$more
    done
    if [ $rc -ne 0 ]; then
        local msg
        msg=$(head -n 1 "$w/kwcc.err")
        [ -n "$first_err" ] && [ "$msg" != "$first_err" ] && msg="$msg [before binding inputs: $first_err]"
        msg=$(echo "$msg" | sed -e "s|kwcc: error: [^ ]*: ||g" | tr '\t' ' ' | cut -c1-300)
        echo "$t $op unsupported ${frozen:+(bound: $frozen) }$msg"
        rm -rf "$w"
        return
    fi
    local ds nsets=0
    for ds in $(ls -d "$dir"/test_data_set_* | sort -V); do
        nsets=$((nsets + 1))
        if [ -n "$frozen" ] && [ "$ds" != "$ds0" ]; then
            compile "$ds" || return
            if [ $rc -ne 0 ]; then
                echo "$t $op FAIL kwcc rejects $(basename "$ds") (bound: $frozen): $(head -n 1 "$w/kwcc.err" | cut -c1-200)"
                return
            fi
        fi
        local nin nout
        nin=$(sed -n 's/^#define M_NUM_INPUTS \([0-9]*\).*/\1/p' "$w/m.h")
        nout=$(sed -n 's/^#define M_NUM_OUTPUTS \([0-9]*\).*/\1/p' "$w/m.h")
        local ins=() outs=() refs=() k f dims nm
        for ((k = 0; ; k++)); do
            f=$ds/input_$k.pb
            [ -f "$f" ] || break
            nm=$("$ONNX_PB" input-name "$dir/model.onnx" "$k")
            [[ ",$frozen," == *",$nm,"* ]] && continue
            if ! dims=$("$ONNX_PB" tensor "$f" "$w/in_$k.bin"); then
                echo "$t $op FAIL kwcc compiled it, but input $k is $dims (not float32): it must be rejected"
                return
            fi
            ins+=("$w/in_$k.bin")
        done
        for ((k = 0; ; k++)); do
            f=$ds/output_$k.pb
            [ -f "$f" ] || break
            refs+=("$f")
            outs+=("$w/out_$k.bin")
        done
        if [ "${#ins[@]}" != "$nin" ] || [ "${#outs[@]}" != "$nout" ]; then
            echo "$t $op FAIL the program takes $nin inputs and $nout outputs; the test has ${#ins[@]} and ${#outs[@]}"
            return
        fi
        rm -f "${outs[@]}"
        if ! "${tmo[@]}" ${RUN:-} "$w/m" "${ins[@]}" "${outs[@]}" >"$w/run.out" 2>&1; then
            echo "$t $op FAIL the program failed on $(basename "$ds"): $(head -c 200 "$w/run.out" | tr '\n' ' ')"
            return
        fi
        for k in "${!refs[@]}"; do
            local want got
            want=$("$ONNX_PB" dims "${refs[$k]}")
            if [ "${want%% *}" != float32 ]; then
                echo "$t $op FAIL kwcc compiled it, but output $k is ${want%% *} (not float32): it must be rejected"
                return
            fi
            want=${want#* }
            got=$(sed -n "s/^#define M_OUTPUT${k}_SHAPE {\(.*\)}.*/[\1]/p" "$w/m.h" | tr -d ' ')
            [ "$(sed -n "s/^#define M_OUTPUT${k}_RANK \([0-9]*\).*/\1/p" "$w/m.h")" = 0 ] && got="[]"
            if [ "$got" != "$want" ]; then
                echo "$t $op FAIL output $k has shape $got, expected $want"
                return
            fi
            local cmp
            if ! cmp=$("$ONNX_PB" cmp "${outs[$k]}" "${refs[$k]}" 1e-3 1e-7); then
                echo "$t $op FAIL wrong answer, output $k of $(basename "$ds")${frozen:+ (bound: $frozen)}: $cmp"
                return
            fi
        done
    done
    echo "$t $op pass $nsets data set(s)${frozen:+, bound: $frozen}"
    rm -rf "$w"
}
export -f one_test
export node_dir work

ls -d "$node_dir"/test_*/ 2>/dev/null | sed 's:/$::' | grep -E "/test_[^/]*$" | while read -r d; do
    [[ "$(basename "$d")" =~ $regex ]] && echo "$d"
done | sort >"$work/list.txt"
total=$(wc -l <"$work/list.txt")
if [ "$total" -eq 0 ]; then
    echo "onnx_node.sh: no test matches '$regex' in $node_dir"
    exit 1
fi
xargs -a "$work/list.txt" -P "$jobs" -I{} bash -c 'one_test "$1"' _ {} >"$work/results.raw"
sort "$work/results.raw" >"$work/results.txt"

# ---- summary
# A wrong answer listed as "diff" in KNOWN becomes known-diff; an unsupported direct test of a
# supported op (one of ops.def) must be listed as "gap" in KNOWN, else it is a failure (GAP):
# kwcc must not silently lose what it used to compile.
supported=" "
if [ -n "${OPS_DEF:-}" ] && [ -f "$OPS_DEF" ]; then
    supported+=$(sed -n 's/^KW_OP([A-Za-z0-9]*, *"\([A-Za-z0-9]*\)".*/\1/p' "$OPS_DEF" | tr '\n' ' ')
fi
known=${KNOWN:-/dev/null}
awk -v supported="$supported" -v knownfile="$known" '
function kind_of(t,    i) {
    for (i = 1; i <= nk; i++)
        if (t ~ kre[i]) { used[i] = 1; return kkind[i] }
    return ""
}
BEGIN {
    while ((getline line < knownfile) > 0) {
        if (line ~ /^[ \t]*(#|$)/) continue
        split(line, a, /[ \t]+/)
        re = a[1]; gsub(/\./, "\\.", re); gsub(/\*/, ".*", re)
        nk++; kre[nk] = "^" re "$"; kkind[nk] = a[2]; kpat[nk] = a[1]
    }
}
{
    t = $1; op = $2; st = $3
    base = op; sub(/\(.*/, "", base)
    kind = (op ~ /\(expanded\)/) ? "x" : "d"
    sup = index(supported, " " base " ") > 0
    k = kind_of(t)
    if (st == "FAIL" && k == "diff" && $0 ~ / FAIL wrong answer/) st = "known-diff"
    else if (st == "unsupported" && sup && kind == "d" && k != "gap") st = "GAP"
    else if (st == "pass" && k != "") passing_known[++npk] = t " (listed as " k ")"
    status[NR] = st; line_[NR] = $0
    ops[base] = 1
    n[base, kind]++
    if (st == "pass") p[base, kind]++
    else if (st == "unsupported") u[base, kind]++
    else if (st == "known-diff") kd[base, kind]++
    else f[base, kind]++
    tot[st]++
}
END {
    print "| op | tests | passed | unsupported (clean) | known diff | failed | expanded tests | passed |"
    print "|---|---|---|---|---|---|---|---|"
    ns = 0
    for (b in ops) sorted[++ns] = b
    for (i = 2; i <= ns; i++) # insertion sort: mawk has no asort
        for (j = i; j > 1 && sorted[j - 1] > sorted[j]; j--) { tmp = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = tmp }
    for (i = 1; i <= ns; i++) {
        b = sorted[i]
        if (!index(supported, " " b " ")) continue
        printf "| %s | %d | %d | %d | %d | %d | %d | %d |\n", b, n[b, "d"], p[b, "d"], u[b, "d"], kd[b, "d"],
            f[b, "d"], n[b, "x"], p[b, "x"]
    }
    printf "\nops kwcc does not list: "
    sep = ""
    for (b in ops) {
        if (index(supported, " " b " ")) continue
        m = n[b, "d"] + n[b, "x"]
        other += m; otherp += p[b, "d"] + p[b, "x"]; otherf += f[b, "d"] + f[b, "x"]
    }
    printf "%d tests, %d passed (their ops compose from supported ones), %d failed\n", other, otherp, otherf
    printf "\nall %d tests: %d passed, %d unsupported (clean), %d known diff, %d failed\n", NR, tot["pass"],
        tot["unsupported"], tot["known-diff"], tot["FAIL"] + tot["GAP"]
    if (tot["GAP"]) {
        print "\nGAP: unsupported tests of supported ops missing from " knownfile ":"
        for (i = 1; i <= NR; i++) if (status[i] == "GAP") print "  " line_[i]
    }
    for (i = 1; i <= npk; i++) print "note: now passes: " passing_known[i]
    for (i = 1; i <= NR; i++) if (status[i] == "known-diff") print "known diff: " line_[i]
    for (i = 1; i <= NR; i++) if (status[i] == "FAIL") print "FAIL: " line_[i]
    print "counts", tot["pass"] + 0, tot["FAIL"] + tot["GAP"], tot["unsupported"] + tot["known-diff"] > "/dev/stderr"
}' "$work/results.txt" >"$work/summary.md" 2>"$work/counts.txt"
cat "$work/summary.md"
read -r _ npass nfail nskip <"$work/counts.txt"
echo
echo "onnx-node: $npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ]
