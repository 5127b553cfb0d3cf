#!/usr/bin/env bash
# install-deps.sh -- Debian 12 packages kwcc builds and tests with (run as root or with sudo).
#   required: gcc, cmake, pkg-config, protobuf-c (library and protoc-c), Check
#   optional: libtcc (kwcc run), clang (compile tests; with libclang-rt: the fuzzer),
#             valgrind (valgrind tests), pip + unzip (fetching the ONNX node tests),
#             qemu-user + aarch64 gcc (NEON tests),
#             arm-none-eabi gcc + newlib (Cortex-M builds: examples/firmware), llvm-14-dev +
#             clang (--target-triple and kwcc run --jit llvm), qemu-system-arm (Cortex-M7 and M4
#             images run in the llvm and firmware tests)
set -eu
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    gcc libc6-dev make cmake pkg-config ca-certificates \
    libprotobuf-c-dev protobuf-c-compiler check \
    libtcc-dev tcc clang \
    qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
    gcc-arm-none-eabi libnewlib-arm-none-eabi \
    llvm-14-dev qemu-system-arm \
    libclang-rt-14-dev valgrind python3-pip unzip >/dev/null
echo "install-deps: done"
