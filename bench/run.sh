#!/usr/bin/env bash
# bench/run.sh -- the benchmark: one command.
#
#   bash bench/run.sh [--quick] [--models a,b,...]
#
# Builds kwcc (Release) into build-rel/, creates bench/out/venv (with the system's packages
# visible, so Debian's python3-torch and python3-onnx are used when installed) and installs
# onnxruntime from PyPI into it, generates the baseline models (tools/gen_bench_models.py, needs
# torch), then runs bench/bench.py: every model with kwcc (per target), onnxruntime (one
# thread) and PyTorch (one thread, where the model exists in PyTorch), medians of repeated
# runs, ratios measured in the same run, and GFLOP/s against the FMA peak measured by
# bench/peak.c. Results: stdout and bench/out/results.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/out
mkdir -p "$out"
cmake -S "$root" -B "$root/build-rel" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$root/build-rel" -j2 --target kwcc >/dev/null
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ ! -x "$out/venv/bin/python" ]; then
    "$py" -m venv --system-site-packages "$out/venv"
fi
"$out/venv/bin/python" -c "import onnxruntime" 2>/dev/null || "$out/venv/bin/pip" install -q onnxruntime
"$out/venv/bin/python" -c "import torch" 2>/dev/null && "$out/venv/bin/python" "$root/tools/gen_bench_models.py" "$out/models"
# one thread everywhere from the start: PyTorch's torch.set_num_threads(1) comes after it has
# built the models, by when OpenMP has started a worker per CPU; left over, those slowed the
# bursts that follow them (kwcc MobileNetV2-100 bursts at 5.5-6.1 ms, and 7.6-8.8 ms in about
# one of three without this)
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec "$out/venv/bin/python" "$here/bench.py" --kwcc "$root/build-rel/kwcc" --out "$out" "$@"
