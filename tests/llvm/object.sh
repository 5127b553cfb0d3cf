#!/usr/bin/env bash
# object.sh TRIPLE CASE_DIR TOL WORK_DIR [kwcc options...]
#
# `kwcc CASE_DIR/model.onnx -o WORK/NAME.o --target-triple TRIPLE` (label llvm), then:
#   x86_64-*   link the object with tests/llvm/driver.c ($CC, default cc) and run it;
#   aarch64-*  link it with $AARCH64_CC -static and run it under $QEMU_AARCH64;
#   thumb*     check the object: a 32-bit ARM relocatable with the triple's CPU and float
#              ABI, FPU code, m_run defined, and no undefined symbol but memcpy/memset/memmove,
#              __aeabi_mem* and libm functions (no malloc, no printf, no file I/O); then, for
#              thumbv7em-*-eabihf with $ARM_CC and $QEMU_SYSTEM_ARM, link it with newlib
#              (cortex_m_startup.c, cortex_m.ld) and run it on qemu's MPS2 AN500 (Cortex-M7).
# Outputs are compared with CASE_DIR/output_*.bin by fcmp at TOL. Environment: KWCC, FCMP,
# LLVM_NM, LLVM_OBJDUMP, LLVM_READELF; CC; AARCH64_CC, QEMU_AARCH64; ARM_CC, QEMU_SYSTEM_ARM.
set -u
triple=$1 case_dir=$2 tol=$3 work=$4
shift 4
name=$(basename "$case_dir")
mkdir -p "$work"
obj=$work/$name.o hdr=$work/$name.h prog=$work/$name
rm -f "$obj" "$hdr" "$prog" "$work/$name".out.bin
"$KWCC" "$case_dir/model.onnx" -o "$obj" --name m --target-triple "$triple" "$@" || { echo "FAIL: kwcc"; exit 1; }
[ -s "$obj" ] && [ -s "$hdr" ] || { echo "FAIL: kwcc wrote no $obj or no $hdr"; exit 1; }
# is_elf CLASS MACHINE: the object is a relocatable ELF of that class and machine
is_elf() {
    local h
    h=$("$LLVM_READELF" -h "$obj") || return 1
    grep -q "Class: *$1\$" <<<"$h" && grep -q "Type: *REL " <<<"$h" && grep -q "Machine: *$2\$" <<<"$h" ||
        { echo "$h"; return 1; }
    echo "$obj: relocatable $1, $2"
}

# compare: the program's outputs (back to back in one file) with each output_K.bin
compare() {
    local out=$1 off=0 st=0
    for ref in $(ls "$case_dir"/output_*.bin | sort -V); do
        local n
        n=$(stat -c %s "$ref")
        tail -c +$((off + 1)) "$out" | head -c "$n" >"$out.part"
        "$FCMP" "$out.part" "$ref" "$tol" || st=1
        off=$((off + n))
    done
    [ "$(stat -c %s "$out")" = "$off" ] || { echo "FAIL: $out has $(stat -c %s "$out") bytes, the references $off"; st=1; }
    return $st
}
ins=()
for f in $(ls "$case_dir"/input_*.bin 2>/dev/null | sort -V); do ins+=("$f"); done
driver=$(dirname "$0")/driver.c

case $triple in
x86_64-*)
    is_elf ELF64 "Advanced Micro Devices X86-64" || { echo "FAIL: not an x86-64 object"; exit 1; }
    ${CC:-cc} -O1 -include "$hdr" "$driver" "$obj" -o "$prog" -lm || { echo "FAIL: link"; exit 1; }
    "$prog" "${ins[@]}" "$work/$name.out.bin" || { echo "FAIL: the program failed"; exit 1; }
    compare "$work/$name.out.bin"
    ;;
aarch64-*)
    is_elf ELF64 AArch64 || { echo "FAIL: not an AArch64 object"; exit 1; }
    "$AARCH64_CC" -O1 -static -include "$hdr" "$driver" "$obj" -o "$prog" -lm || { echo "FAIL: link"; exit 1; }
    "$QEMU_AARCH64" "$prog" "${ins[@]}" "$work/$name.out.bin" || { echo "FAIL: the program failed under qemu"; exit 1; }
    compare "$work/$name.out.bin"
    ;;
thumb*)
    st=0
    fail() { echo "FAIL: $*"; st=1; }
    is_elf ELF32 ARM || fail "not a 32-bit ARM object"
    attrs=$("$LLVM_READELF" --arch-specific "$obj")
    grep -A1 "TagName: CPU_arch$" <<<"$attrs" | grep -q "v7E-M" || fail "CPU_arch is not v7E-M: $attrs"
    if [[ $triple == thumbv7em-*eabihf ]]; then
        grep -A1 "TagName: CPU_name" <<<"$attrs" | grep -q "cortex-m7" || fail "CPU_name is not cortex-m7: $attrs"
        grep -A1 "TagName: ABI_VFP_args" <<<"$attrs" | grep -q "AAPCS VFP" || fail "not the hard-float ABI: $attrs"
        # llvm-objdump decodes FPU instructions only when told the CPU
        "$LLVM_OBJDUMP" -d --mcpu=cortex-m7 "$obj" | grep -qE "[[:space:]]v(add|mul|fma|mla)\.f32" ||
            fail "no single-precision FPU instructions"
    fi
    "$LLVM_NM" "$obj" | grep -q " T m_run$" || fail "m_run is not defined"
    "$LLVM_NM" "$obj" | grep -q " T m_run_multi$" || fail "m_run_multi is not defined"
    undef=$("$LLVM_NM" -u "$obj" | awk '{print $NF}')
    echo "undefined symbols: $(echo $undef)"
    for s in $undef; do
        case $s in
        memcpy | memmove | memset | __aeabi_mem*) ;;
        sqrtf | expf | logf | powf | tanhf | erff | floorf | ceilf | truncf | roundf | fabsf | fmaxf | fminf) ;;
        *) fail "unexpected undefined symbol $s (a Cortex-M object needs no malloc, no stdio, no libc but mem*)" ;;
        esac
    done
    [ $st = 0 ] || exit $st
    # and when arm-none-eabi-gcc (newlib, rdimon) and qemu-system-arm are installed, run it on
    # an emulated Cortex-M7 (MPS2 AN500): file I/O and argv through semihosting
    if [[ $triple == thumbv7em-*eabihf ]] && [ -n "${ARM_CC:-}" ] && [ -n "${QEMU_SYSTEM_ARM:-}" ]; then
        here=$(dirname "$0")
        "$ARM_CC" -O1 -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16 --specs=rdimon.specs \
            -T "$here/cortex_m.ld" -include "$hdr" "$here/cortex_m_startup.c" "$driver" "$obj" -lm -o "$prog.elf" \
            2> >(grep -v -e "GNU-stack" -e "deprecated" >&2) || { echo "FAIL: link with $ARM_CC"; exit 1; }
        sh_args=enable=on,target=native,arg=$name
        for f in "${ins[@]}"; do sh_args+=",arg=$f"; done
        sh_args+=",arg=$work/$name.out.bin"
        timeout 300 "$QEMU_SYSTEM_ARM" -M mps2-an500 -nographic -monitor none -serial none \
            -semihosting-config "$sh_args" -kernel "$prog.elf" ||
            { echo "FAIL: the program failed (or hung) on qemu-system-arm -M mps2-an500"; exit 1; }
        compare "$work/$name.out.bin"
        exit $?
    fi
    echo "(not run: set ARM_CC and QEMU_SYSTEM_ARM to run it on an emulated Cortex-M7)"
    exit 0
    ;;
*)
    echo "FAIL: object.sh knows no way to check $triple"
    exit 1
    ;;
esac
