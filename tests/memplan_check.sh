#!/usr/bin/env bash
# memplan_check.sh OFFICIAL_DIR FIXTURES_DIR: the workspace kwcc plans next to its lower bound
# (pass_memplan.c: the largest total of tensors that must be live at one node), per model, for
# the portable target: the default plan (the fastest) and the smallest (--max-ram min); on a
# vector target (the host's, when it has one) the default plan. The smallest portable plan must
# come within 1.1x of the bound, or within 1 KiB of it (models whose live tensors total a few
# hundred bytes, where 64-byte alignment and the attention's own scratch dominate). Models: every
# official export in OFFICIAL_DIR and OFFICIAL_DIR/tiny (skipped with a message when absent) and
# the project's KernelWarehouse and net fixtures. Environment: KWCC.
set -u
official=$1 fixtures=$2
st=0
field() { grep -o "\"$1\": [0-9-]*" | tail -1 | sed 's/.*: //'; } # the totals come last
models=()
if [ -d "$official" ]; then
    models+=("$official"/*.onnx "$official"/tiny/*.onnx)
else
    echo "note: $official is absent (the official fixtures come with ../shared): project fixtures only"
fi
models+=("$fixtures"/kw/*/model.onnx "$fixtures"/nets/*/model.onnx)
host=$("$KWCC" inspect --json "$fixtures/kw/resnet_basic/model.onnx" --target host >/dev/null 2>&1 && echo host)
printf '%-36s %12s %12s %12s %7s %12s\n' model default smallest "lower bound" ratio "host default"
for m in "${models[@]}"; do
    [ -f "$m" ] || continue
    name=${m#"$official"/}
    name=${name#"$fixtures"/}
    name=${name%/model.onnx}
    name=${name%.onnx}
    d=$("$KWCC" inspect --json "$m" --target generic) || { echo "FAIL: $name: kwcc inspect"; st=1; continue; }
    s=$("$KWCC" inspect --json "$m" --target generic --max-ram min) || { echo "FAIL: $name: --max-ram min"; st=1; continue; }
    h=-
    [ -n "$host" ] && h=$("$KWCC" inspect --json "$m" --target host | field workspace_bytes)
    def=$(echo "$d" | field workspace_bytes)
    small=$(echo "$s" | field workspace_bytes)
    bound=$(echo "$s" | field workspace_lower_bound)
    ratio=$(awk -v a="$small" -v b="$bound" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 1) }')
    verdict=""
    if awk -v a="$small" -v b="$bound" 'BEGIN { exit !(a > 1.1 * b && a - b > 1024) }'; then
        verdict="  FAIL: above 1.1x the bound"
        st=1
    fi
    printf '%-36s %12s %12s %12s %6sx %12s%s\n' "$name" "$def" "$small" "$bound" "$ratio" "$h" "$verdict"
done
if [ $st = 0 ]; then
    echo "memplan: every smallest plan within 1.1x of its lower bound (or 1 KiB)"
else
    echo "memplan: FAILURES"
fi
exit $st
