#!/usr/bin/env bash
# run.sh -- fuzz kwcc with libFuzzer (fuzz/kwcc_fuzz.c over kw_compile_bytes, ASan + UBSan).
#
#   fuzz/run.sh [--smoke] [--time SECONDS] [--jobs N] [--build DIR] [-- libFuzzer options...]
#
#   --smoke      CI: a fixed seed and a fixed number of runs (150000, about 45 s) on one core from
#                the committed seed corpus only (nothing is kept): the same inputs on every machine, so
#                a CI failure is a reproducible one; KWCC_FUZZ_SEED, KWCC_FUZZ_SMOKE_RUNS override
#   --time S     total run time (default 3600: the documented long run)
#   --jobs N     parallel workers (libFuzzer -fork=N; default 1)
#   --build DIR  build directory (default build-fuzz, configured here with clang -DKWCC_FUZZ=ON)
#
# The corpus grows in DIR/corpus (seeded from fuzz/corpus); a crash, a hang (60 s under ASan), a leak, a
# sanitizer report or an allocation over 2 GB is written to DIR/artifacts/ and the run stops with
# a non-zero status. Reproduce one with `DIR/kwcc_fuzz FILE` (or `DIR/kwcc FILE -o x.c`); add it to
# tests/bad/fuzz with its expected message once fixed (see README, "Hostile input").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
time=3600 jobs=1 build=$root/build-fuzz smoke=0
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=1 time=${KWCC_FUZZ_SMOKE_TIME:-240} ;;
    --time) time=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --build) build=$2; shift ;;
    --) shift; break ;;
    *) echo "usage: fuzz/run.sh [--smoke] [--time S] [--jobs N] [--build DIR] [-- libFuzzer options]" >&2; exit 2 ;;
    esac
    shift
done
if ! command -v clang >/dev/null; then
    echo "fuzz/run.sh: clang not found: the fuzzer needs clang with libFuzzer (apt-get install clang)" >&2
    exit 77
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang cmake -S "$root" -B "$build" -DKWCC_FUZZ=ON -DKWCC_WITH_LIBTCC=OFF -DBUILD_TESTING=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target kwcc_fuzz >/dev/null

mkdir -p "$build/artifacts"
if [ "$smoke" = 1 ]; then
    corpus=$(mktemp -d)
    trap 'rm -rf "$corpus"' EXIT
else
    corpus=$build/corpus
    mkdir -p "$corpus"
fi
opts=(-dict="$here/kwcc.dict" -max_total_time="$time" -timeout=60 -rss_limit_mb=2048 -malloc_limit_mb=2048
      -max_len=32768 -artifact_prefix="$build/artifacts/" -print_final_stats=1)
if [ "$smoke" = 1 ]; then
    opts+=(-seed="${KWCC_FUZZ_SEED:-1}" -runs="${KWCC_FUZZ_SMOKE_RUNS:-150000}")
fi
if [ "$jobs" -gt 1 ]; then
    opts+=(-fork="$jobs" -ignore_crashes=0)
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz/run.sh: ${time}s, $jobs job(s), corpus $corpus (seeds: fuzz/corpus), artifacts $build/artifacts"
start=$(date +%s)
set +e
"$build/kwcc_fuzz" "${opts[@]}" "$@" "$corpus" "$here/corpus" 2>&1 | tee "$build/fuzz.log" |
    grep -E --line-buffered '^(#[0-9]+[[:space:]]+(INITED|DONE|pulse)|#[0-9]+: cov|==[0-9]+==|SUMMARY|INFO: fuzzed|Done|stat::|.*ERROR|artifact_prefix|Test unit written|kwcc_fuzz:|.*runtime error)'
st=${PIPESTATUS[0]}
set -e
echo "fuzz/run.sh: exit status $st after $(($(date +%s) - start)) s; log: $build/fuzz.log"
exit "$st"
