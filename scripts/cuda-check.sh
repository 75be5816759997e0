#!/usr/bin/env bash
# cuda-check.sh: compile checks of the GPU build on a machine without a GPU
# (CI calls this). It
#   1. fetches NVIDIA's CUDA 11.8 headers and stub libraries from Debian's
#      non-free nvidia-cuda-dev into a cache outside the repository
#      (scripts/cuda-fetch.sh; nothing NVIDIA ships is committed),
#   2. runs `go build -tags gpu ./...`, `go vet -tags gpu ./cuda/...` and
#      `go test -c -tags gpu ./cuda/...` against them,
#   3. regenerates the PTX with nvcc 11.8 (nvidia-cuda-toolkit, same cache)
#      into a temporary directory and diffs it with the committed PTX, and
#      assembles each PTX for sm_90 (H100) with ptxas as a validity check.
#
# Options: --no-nvcc skips step 3. CUDA_CACHE_DIR overrides the cache.
# Writes the GPU test binary to ${CUDA_TEST_OUT:-<cache>/cuda-gpu.test}
# (carry it to a GPU machine and run it there; it needs no Go).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
nvcc_step=1
for a in "$@"; do
  case $a in
  --no-nvcc) nvcc_step=0 ;;
  *) echo "usage: $0 [--no-nvcc]" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
step() { printf '=== %s (t+%ds)\n' "$*" "$(( $(date +%s) - start ))" >&2; }

step "fetch CUDA headers and stub libraries"
if [ "$nvcc_step" = 1 ]; then
  cache=$(scripts/cuda-fetch.sh nvcc | tail -n1)
else
  cache=$(scripts/cuda-fetch.sh dev | tail -n1)
fi
export CGO_ENABLED=1
export CGO_CFLAGS="-I$cache/root/usr/include"
export CGO_LDFLAGS="-L$cache/root/usr/lib/x86_64-linux-gnu/stubs"

step "go build -tags gpu ./..."
go build -tags gpu ./...
step "go vet -tags gpu ./cuda/..."
go vet -tags gpu ./cuda/...
step "go test -c -tags gpu ./cuda/..."
out=${CUDA_TEST_OUT:-$cache/cuda-gpu.test}
go test -c -tags gpu -o "$out" ./cuda/
# The binary must need only the driver (libcuda.so.1), never a CUDA
# toolkit library such as libcublas.so.11 (absent on the CUDA 13 GPU hosts).
if readelf -d "$out" | grep NEEDED | grep -v 'libcuda\.so\.1\|libc\.so\|libpthread\|libdl\|libm\.so\|ld-linux\|libstdc++\|libgcc_s'; then
  echo "cuda-check: the GPU test binary links libraries other than the driver" >&2
  exit 1
fi
echo "cuda-check: GPU test binary: $out" >&2

if [ "$nvcc_step" = 1 ]; then
  step "regenerate PTX and diff with the committed PTX"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  NVCC="$cache/root/usr/lib/nvidia-cuda-toolkit/bin/nvcc" scripts/cuda-ptx.sh "$tmp"
  if ! diff -ru cuda/kernels --exclude='*.cu' --exclude='*.cuh' "$tmp" >"$tmp.diff" 2>&1; then
    sed -n 1,40p "$tmp.diff" >&2
    echo "cuda-check: committed PTX differs from a fresh nvcc build: run go generate ./cuda/" >&2
    rm -f "$tmp.diff"
    exit 1
  fi
  rm -f "$tmp.diff"
  step "ptxas -arch=sm_90 (H100) on every PTX module"
  for f in cuda/kernels/*.ptx; do
    "$cache/root/usr/bin/ptxas" -arch=sm_90 "$f" -o /dev/null
  done
fi
step "cuda-check passed"
