#!/usr/bin/env bash
# determinism.sh KWCC WORK_DIR MODEL...
#
# The same model and options must give byte-identical C: each MODEL is compiled twice per
# option set, from two working directories, to output files in two directories, the second
# time with glibc filling fresh memory with a pattern (MALLOC_PERTURB_) and another locale, so
# that neither uninitialised bytes, pointer values, the time, the directory nor the locale can
# leak into the output. Compared: the .c, the .h and `kwcc inspect --json`.
set -u
kwcc=$1 work=$2
shift 2
rm -rf "$work"
mkdir -p "$work/a/out" "$work/b/out" || exit 1
fails=0 n=0
for model in "$@"; do
    m=$(basename "$(dirname "$model")")
    for opts in "--target generic" "--target avx2" "--target avx512" "--target neon" \
        "--target avx512 --no-kw-fusion" "--target generic --max-ram min"; do
        n=$((n + 1))
        tag=$m.$(echo "$opts" | tr -c 'a-z0-9\n' '_')
        (cd "$work/a" && "$kwcc" "$model" -o out/x.c --name m $opts 2>err) || { echo "FAIL: $m $opts: kwcc failed"; cat "$work/a/err"; fails=$((fails + 1)); continue; }
        (cd "$work/b" && MALLOC_PERTURB_=165 LC_ALL=C.UTF-8 "$kwcc" "$model" -o "$work/b/out/x.c" --name m $opts 2>err) ||
            { echo "FAIL: $m $opts: second kwcc run failed"; fails=$((fails + 1)); continue; }
        if ! cmp -s "$work/a/out/x.c" "$work/b/out/x.c" || ! cmp -s "$work/a/out/x.h" "$work/b/out/x.h"; then
            echo "FAIL: $m $opts: the two compiles differ"
            diff "$work/a/out/x.c" "$work/b/out/x.c" | head -n 10
            fails=$((fails + 1))
        fi
    done
    n=$((n + 1))
    (cd "$work/a" && "$kwcc" inspect "$model" --json >out/i.json 2>/dev/null)
    (cd "$work/b" && MALLOC_PERTURB_=90 "$kwcc" inspect "$model" --json >out/i.json 2>/dev/null)
    if ! cmp -s "$work/a/out/i.json" "$work/b/out/i.json"; then
        echo "FAIL: $m: kwcc inspect --json differs between two runs"
        fails=$((fails + 1))
    fi
done
echo "determinism: $((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
