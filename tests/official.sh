#!/usr/bin/env bash
# official.sh OFFICIAL_DIR WORK_DIR
#
# Every official KernelWarehouse export in OFFICIAL_DIR (and OFFICIAL_DIR/tiny) through kwcc,
# with KernelWarehouse fusion and with --no-kw-fusion, against PyTorch's outputs, at the
# tolerance its README states: 2e-4 of max|ref| for the full models, and for tiny/ the "tol"
# of tiny/manifest.json (1e-4 for every model there today). The files are read in place.
# Exit 77 (skipped) when the folder is absent.
set -u
dir=$1 work=$2
if [ ! -d "$dir" ]; then
    echo "SKIPPED: $dir is absent (the official fixtures come with ../shared; nothing to test)"
    exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
st=0 n=0
tiny_tol() {
    # the "tolerance_rel" recorded for one tiny model in manifest.json (1e-4 if absent)
    local t
    t=$(tr -d '\n' < "$dir/tiny/manifest.json" | sed 's/"onnx":/\n"onnx":/g' |
        grep "^\"onnx\": *\"$1.onnx\"" | grep -o '"tolerance_rel": *[0-9.eE+-]*' | head -1 | sed 's/.*: *//')
    echo "${t:-1e-4}"
}
for model in "$dir"/*.onnx "$dir"/tiny/*.onnx; do
    [ -f "$model" ] || continue
    name=$(basename "$model" .onnx)
    case "$model" in
        */tiny/*) tol=$(tiny_tol "$name") ;;
        *) tol=2e-4 ;;
    esac
    case_dir="$work/cases/$name"
    mkdir -p "$case_dir"
    ln -sf "$model" "$case_dir/model.onnx"
    ln -sf "${model%.onnx}_input.bin" "$case_dir/input_0.bin"
    ln -sf "${model%.onnx}_output.bin" "$case_dir/output_0.bin"
    for mode in fused nofusion; do
        args=(--target generic)
        [ $mode = nofusion ] && args=(--target generic --no-kw-fusion)
        n=$((n + 1))
        if out=$(bash "$here/run_case.sh" "$case_dir" "$tol" "$work/$mode" "${args[@]}" 2>&1); then
            echo "$name ($mode): $(echo "$out" | tail -1)"
        else
            echo "$name ($mode): FAILED"
            echo "$out" | tail -5
            st=1
        fi
    done
done
echo "official: $n runs, $([ $st = 0 ] && echo all passed || echo FAILURES)"
exit $st
