#!/usr/bin/env bash
# fetch_onnx_node.sh [CACHE_DIR]
#
# Fetches the ONNX backend node tests (onnx/backend/test/data/node: one directory per test with
# model.onnx and test_data_set_N/{input,output}_K.pb) from the onnx wheel on PyPI, through pip,
# and prints the directory. onnx 1.16.2: its tests use opsets up to 21, the newest kwcc
# implements (from 1.17 on, most tests import opset 22 and would only test the opset check).
#
# Cache: CACHE_DIR, else $KWCC_ONNX_CACHE, else ~/.cache/kwcc; a second run costs nothing.
# KWCC_ONNX_NODE_DIR=DIR uses DIR as it is (no download). Offline, or without pip: prints why on
# stderr and exits 77 (the CTest label onnx-node is then skipped).
set -u
ver=1.16.2
if [ -n "${KWCC_ONNX_NODE_DIR:-}" ]; then
    if [ -d "$KWCC_ONNX_NODE_DIR" ]; then
        echo "$KWCC_ONNX_NODE_DIR"
        exit 0
    fi
    echo "fetch_onnx_node: KWCC_ONNX_NODE_DIR=$KWCC_ONNX_NODE_DIR is not a directory" >&2
    exit 77
fi
cache=${1:-${KWCC_ONNX_CACHE:-${HOME:-/tmp}/.cache/kwcc}}
dest=$cache/onnx-$ver
node=$dest/onnx/backend/test/data/node
if [ -f "$dest/.complete" ] && [ -d "$node" ]; then
    echo "$node"
    exit 0
fi
mkdir -p "$cache" || exit 77
if command -v flock >/dev/null 2>&1; then # one download at a time (CTest runs two users at once)
    exec 9>"$cache/.lock"
    flock 9
    if [ -f "$dest/.complete" ] && [ -d "$node" ]; then
        echo "$node"
        exit 0
    fi
fi
pip=()
for p in pip3 pip; do
    if command -v "$p" >/dev/null 2>&1; then
        pip=("$p")
        break
    fi
done
if [ ${#pip[@]} -eq 0 ]; then
    for py in python3 /usr/bin/python3; do
        if "$py" -m pip --version >/dev/null 2>&1; then
            pip=("$py" -m pip)
            break
        fi
    done
fi
if [ ${#pip[@]} -eq 0 ]; then
    echo "fetch_onnx_node: pip not found (apt-get install python3-pip): cannot fetch the onnx wheel" >&2
    exit 77
fi
tmp=$(mktemp -d "$cache/dl.XXXXXX") || exit 77
trap 'rm -rf "$tmp"' EXIT
# any CPython 3 manylinux x86_64 wheel of the version holds the same test data
if ! timeout 300 "${pip[@]}" download --no-deps --only-binary=:all: --disable-pip-version-check -q \
    --platform manylinux2014_x86_64 --python-version 311 -d "$tmp" "onnx==$ver" >"$tmp/pip.log" 2>&1; then
    echo "fetch_onnx_node: pip could not download onnx==$ver (offline?):" >&2
    tail -n 3 "$tmp/pip.log" >&2
    exit 77
fi
whl=$(ls "$tmp"/onnx-*.whl 2>/dev/null | head -n 1)
[ -n "$whl" ] || { echo "fetch_onnx_node: no wheel downloaded" >&2; exit 77; }
rm -rf "$dest"
mkdir -p "$dest"
if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$whl" 'onnx/backend/test/data/node/*' -d "$dest" || exit 77
else
    py=$(command -v python3 || echo /usr/bin/python3)
    "$py" - "$whl" "$dest" <<'PY' || exit 77
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("onnx/backend/test/data/node/")])
PY
fi
[ -d "$node" ] || { echo "fetch_onnx_node: the wheel has no onnx/backend/test/data/node" >&2; exit 77; }
touch "$dest/.complete"
echo "$node"
