#!/usr/bin/env bash
# install-deps.sh -- Debian 12 packages kwcc builds and tests with (run as root or with sudo).
#   required: gcc, cmake, pkg-config, protobuf-c (library and protoc-c), Check
#   optional: libtcc (kwcc run), clang (compile tests), qemu-user + aarch64 gcc (NEON tests),
#             arm-none-eabi gcc (Cortex-M builds)
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
    gcc-arm-none-eabi libnewlib-arm-none-eabi >/dev/null
echo "install-deps: done"
