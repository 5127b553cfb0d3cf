#!/usr/bin/env bash
# inspect_check.sh CASE_DIR: `kwcc inspect --json` on CASE_DIR/model.onnx must list exactly the
# KernelWarehouse layers of CASE_DIR/inspect.expect (written from the generator's manifest by
# tools/kwgen/gen_inspect_expect.py): name, warehouse, n, m and cell shape, in graph order.
set -u
dir=$1
got=$("$KWCC" inspect --json "$dir/model.onnx" | grep '"kind": "KW conv"' |
    sed -E 's/.*"name": "([^"]*)".*"warehouse": ([0-9-]+), "n": ([0-9]+), "m": ([0-9]+), "cell": \[([0-9]+), ([0-9]+), ([0-9]+)\].*/\1 \2 \3 \4 \5x\6x\7/')
if diff <(echo "$got") "$dir/inspect.expect"; then
    echo "ok: $(wc -l < "$dir/inspect.expect") KW layers as the generator built them"
else
    echo "FAIL: kwcc inspect (<) differs from the generator's manifest (>)"
    exit 1
fi
