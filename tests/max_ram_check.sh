#!/usr/bin/env bash
# max_ram_check.sh FIXTURES_DIR WORK_DIR: kwcc's firmware options from the command line.
#   --max-ram   a budget between the smallest and the default plan is met, the C still matches
#               the reference; a budget below the smallest fails (exit 2) naming the smallest
#               workspace, and leaves no file; bad values are argument errors
#   header      the memory macros (flash, RAM, lower bound) are there and agree with -v
#   --weights-file OUT.c / OUT.bin and --weights-section: the model built from two files, and
#               from the .bin loaded at run time, gives the reference outputs; the section
#               is in the object
# Environment: KWCC, FCMP, CC (default cc).
set -u
fx=$(readlink -f "$1") work=$2
cc=${CC:-cc}
case_dir=$fx/kw/mbv2_tiny
m=$case_dir/model.onnx
mkdir -p "$work"
cd "$work" || exit 1
rm -f ./*.c ./*.h ./*.bin ./*.o prog*
st=0
fail() { echo "FAIL: $*"; st=1; }
ws_of() { sed -n 's/^#define M_WORKSPACE_BYTES \([0-9]*\).*/\1/p' "$1"; }

# budgets
"$KWCC" "$m" -o def.c --name m --target generic || fail "default compile"
"$KWCC" "$m" -o min.c --name m --target generic --max-ram min || fail "--max-ram min"
def=$(ws_of def.h) min=$(ws_of min.h)
mid=$(((def + min) / 2))
echo "mbv2_tiny: default plan $def bytes, smallest $min bytes, asking for $mid"
"$KWCC" "$m" -o mid.c --name m --target generic --max-ram "$mid" -v 2> mid.log || fail "--max-ram $mid"
grep -q 'within --max-ram' mid.log || fail "-v does not say the plan is within --max-ram"
[ "$(ws_of mid.h)" -le "$mid" ] || fail "--max-ram $mid gave a workspace of $(ws_of mid.h) bytes"
for f in def min mid; do
    $cc -std=c99 -O1 -Wall -Wextra -Werror -DKWCC_MAIN $f.c -o prog_$f -lm || fail "$cc $f.c"
    ./prog_$f "$case_dir/input_0.bin" out_$f.bin || fail "running $f"
    "$FCMP" out_$f.bin "$case_dir/output_0.bin" 1e-4 >/dev/null || fail "$f: outputs differ from the reference"
done
cmp -s out_def.bin out_min.bin && cmp -s out_def.bin out_mid.bin || fail "the plans do not compute the same bits"
small=$((min - 1))
msg=$("$KWCC" "$m" -o low.c --name m --target generic --max-ram "$small" 2>&1)
rc=$?
[ $rc = 2 ] || fail "--max-ram $small: exit $rc, expected 2"
echo "$msg" | grep -q "the smallest kwcc reaches for this model is $min bytes" || fail "--max-ram $small said: $msg"
[ ! -e low.c ] && [ ! -e low.h ] || fail "a failed --max-ram left a file behind"
for bad in abc 0 -5 12Q 1.5M ""; do
    msg=$("$KWCC" "$m" -o bad.c --max-ram "$bad" 2>&1)
    rc=$?
    [ $rc = 2 ] && echo "$msg" | grep -q -- "--max-ram takes" || fail "--max-ram '$bad': exit $rc: $msg"
done
"$KWCC" "$m" -o k.c --name m --target generic --max-ram 64K || fail "--max-ram 64K"

# kw_kwconv computes the very sums of the unblocked path: bit for bit the same outputs, with the
# attention computed whole (a budget between the plans) or row by row (the smallest plan), on
# the basis path, grouped convs without spatial partition, and 3-D
for c in resnet_bottleneck_basis mixed_grouped_nsp kw3d_net; do
    d=$fx/kw/$c
    mkdir -p "bits_$c"
    "$KWCC" "$d/model.onnx" -o "bits_$c/def.c" --name m --target generic || fail "$c: kwcc"
    "$KWCC" "$d/model.onnx" -o "bits_$c/min.c" --name m --target generic --max-ram min || fail "$c: kwcc min"
    b=$(( ($(ws_of "bits_$c/def.h") + $(ws_of "bits_$c/min.h")) / 2 ))
    "$KWCC" "$d/model.onnx" -o "bits_$c/mid.c" --name m --target generic --max-ram "$b" || fail "$c: kwcc $b"
    for f in def min mid; do
        $cc -std=c99 -O1 -DKWCC_MAIN "bits_$c/$f.c" -o "bits_$c/$f" -lm && "bits_$c/$f" "$d/input_0.bin" "bits_$c/$f.bin" ||
            fail "$c: $f"
    done
    cmp -s "bits_$c/def.bin" "bits_$c/min.bin" && cmp -s "bits_$c/def.bin" "bits_$c/mid.bin" ||
        fail "$c: --max-ram changed the output bits"
done

# the header's memory figures, and -v's
for macro in M_WORKSPACE_LOWER_BOUND M_CODE_BYTES_ESTIMATE M_FLASH_BYTES_ESTIMATE M_RAM_BYTES; do
    grep -q "^#define $macro " def.h || fail "def.h has no $macro"
done
"$KWCC" "$m" -o v.c --name m --target generic -v 2> v.log
grep -q "^kwcc: flash: weights [0-9]* bytes + code and tables about [0-9]* bytes" v.log || fail "-v: no flash line"
grep -q "^kwcc: RAM: workspace $def bytes (lower bound [0-9]* bytes" v.log || fail "-v: no RAM line"

# weights apart: as C (with a section), and as a raw blob loaded at run time
"$KWCC" "$m" -o wc.c --name m --target generic --weights-file wc_weights.c --weights-section .kw_weights ||
    fail "--weights-file .c"
$cc -std=c99 -O1 -Wall -Wextra -Werror -DKWCC_MAIN wc.c wc_weights.c -o prog_wc -lm || fail "$cc wc.c wc_weights.c"
./prog_wc "$case_dir/input_0.bin" out_wc.bin && cmp -s out_wc.bin out_def.bin || fail "--weights-file .c: outputs"
$cc -std=c99 -O1 -c wc_weights.c -o wc_weights.o && objdump -h wc_weights.o | grep -q ' \.kw_weights ' ||
    fail "--weights-section: no section .kw_weights in the object"
"$KWCC" "$m" -o wb.c --name m --target generic --weights-file wb.bin || fail "--weights-file .bin"
wb=$(stat -c %s wb.bin)
[ "$wb" = "$(sed -n 's/^#define M_WEIGHT_BYTES \([0-9]*\).*/\1/p' wb.h)" ] || fail "wb.bin has $wb bytes"
cat > load_bin.c <<'CEOF'
/* the application's side of --weights-file W.bin: the symbol m_weights, filled at run time */
#include <stdio.h>
unsigned char m_weights[WB] __attribute__((aligned(64)));
int m_run(const float *input, float *output, void *workspace);
static float x[NIN], y[NOUT];
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb"), *g = fopen(argv[2], "rb"), *o;
    if (argc != 4 || !f || !g || fread(m_weights, 1, WB, f) != WB || fread(x, 4, NIN, g) != NIN)
        return 1;
    if (m_run(x, y, NULL) != 0 || !(o = fopen(argv[3], "wb")) || fwrite(y, 4, NOUT, o) != NOUT)
        return 1;
    return fclose(o) != 0;
}
CEOF
nin=$(sed -n 's/^#define M_INPUT_SIZE \([0-9]*\).*/\1/p' wb.h) nout=$(sed -n 's/^#define M_OUTPUT_SIZE \([0-9]*\).*/\1/p' wb.h)
$cc -std=c99 -O1 -Wall -Wextra -Werror -c wb.c -o wb.o || fail "$cc wb.c"
$cc -std=c99 -O1 -Wall -Wextra -DWB="$wb" -DNIN="$nin" -DNOUT="$nout" load_bin.c wb.o -o prog_wb -lm ||
    fail "$cc load_bin.c"
./prog_wb wb.bin "$case_dir/input_0.bin" out_wb.bin && cmp -s out_wb.bin out_def.bin || fail "--weights-file .bin: outputs"
mkdir -p again
"$KWCC" "$m" -o again/def.c --name m --target generic && cmp -s def.c again/def.c ||
    fail "the default output is not deterministic"
for args in "--weights-file w.txt" "--weights-file wb2.bin --weights-section .x" "--weights-section bad\"name" \
            "--weights-file def3.c -o def3.c"; do
    # shellcheck disable=SC2086
    msg=$("$KWCC" "$m" -o e.c $args 2>&1)
    rc=$?
    [ $rc = 2 ] && echo "$msg" | grep -q 'kwcc: error' || fail "kwcc $args: exit $rc: $msg"
    [ ! -e e.c ] || fail "kwcc $args left e.c"
done
[ $st = 0 ] && echo "ok: --max-ram, the memory macros, --weights-file and --weights-section"
exit $st
