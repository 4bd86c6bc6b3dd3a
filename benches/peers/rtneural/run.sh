#!/usr/bin/env bash
# Builds RTNeural's streaming bench (rtneural_bench.cpp) with its Eigen and its xsimd backends,
# -O3 -march=$RTNEURAL_MARCH (default native), and runs both on one pinned core. RTNeural is
# header-only: it is fetched at a fixed commit (with the xsimd commit its submodule pins) into
# target/rtneural unless RTNEURAL_DIR and XSIMD_DIR point at copies already on the machine.
#
#   benches/peers/rtneural/run.sh            # then compare with:
#   taskset -c 1 cargo run --release --example perf_report   # the `NAME stream_ns` lines
#
# RTNEURAL_MARCH=x86-64-v3 builds it for AVX2+FMA without AVX-512: on an AVX-512 machine, the
# stand-in for an AVX2-only CPU, to set beside `CONSTNET_AVX2=1 ... perf_report`.
set -euo pipefail
cd "$(dirname "$0")/../../.."
RTNEURAL_COMMIT=1fb1f07
XSIMD_COMMIT=a00c81f7b9e808a42aedcf7da2fbb1f9a636da34
work=target/rtneural
mkdir -p "$work"
if [ -z "${RTNEURAL_DIR:-}" ]; then
    RTNEURAL_DIR="$work/RTNeural"
    if [ ! -d "$RTNEURAL_DIR" ]; then
        git clone -q https://github.com/jatinchowdhury18/RTNeural "$RTNEURAL_DIR"
        git -C "$RTNEURAL_DIR" checkout -q "$RTNEURAL_COMMIT"
    fi
fi
if [ -z "${XSIMD_DIR:-}" ]; then
    XSIMD_DIR="$work/xsimd"
    if [ ! -d "$XSIMD_DIR" ]; then
        git clone -q https://github.com/xtensor-stack/xsimd "$XSIMD_DIR"
        git -C "$XSIMD_DIR" checkout -q "$XSIMD_COMMIT"
    fi
fi
common=(-std=c++17 -O3 -march="${RTNEURAL_MARCH:-native}" -DNDEBUG -DRTNEURAL_DEFAULT_ALIGNMENT=32
    -I "$RTNEURAL_DIR" -I "$RTNEURAL_DIR/modules/json")
g++ "${common[@]}" -DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_BACKEND_NAME='"eigen"' \
    -I "$RTNEURAL_DIR/modules/Eigen" benches/peers/rtneural/rtneural_bench.cpp \
    -o "$work/bench_eigen"
g++ "${common[@]}" -DRTNEURAL_USE_XSIMD=1 -DRTNEURAL_BACKEND_NAME='"xsimd"' \
    -I "$XSIMD_DIR/include" benches/peers/rtneural/rtneural_bench.cpp \
    -o "$work/bench_xsimd"
taskset -c 1 "$work/bench_eigen"
taskset -c 1 "$work/bench_xsimd"
