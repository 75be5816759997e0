#!/usr/bin/env bash
# cuda-ptx.sh: compile cuda/kernels/*.cu to PTX with nvcc 11.8 (Debian's
# non-free nvidia-cuda-toolkit, fetched by cuda-fetch.sh into a cache outside
# the repository). Run by `go generate ./cuda/`.
#
#   scripts/cuda-ptx.sh            write cuda/kernels/*.ptx
#   scripts/cuda-ptx.sh OUTDIR     write the PTX into OUTDIR instead
#
# -arch=compute_70 emits PTX only (no SASS): the driver JIT-compiles it for
# the GPU it finds (Volta and newer, the H100 included). gcc 12 is newer than
# nvcc 11.8 supports, hence -allow-unsupported-compiler; the kernels use no
# host code, so the host compiler only preprocesses.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/cuda/kernels}
mkdir -p "$out"

if [ -n "${NVCC:-}" ]; then
  nvcc=$NVCC
else
  cache=$("$root/scripts/cuda-fetch.sh" nvcc | tail -n1)
  nvcc=$cache/root/usr/lib/nvidia-cuda-toolkit/bin/nvcc
fi
ccbin=${CUDA_CCBIN:-$(command -v gcc)}

for cu in "$root"/cuda/kernels/*.cu; do
  name=$(basename "$cu" .cu)
  tmp=$(mktemp "$out/.$name.ptx.XXXXXX")
  "$nvcc" -ptx -arch=compute_70 -O3 -std=c++14 -allow-unsupported-compiler -ccbin "$ccbin" \
    -I"$root/cuda/kernels" -o "$tmp" "$cu"
  # Drop nvcc's header comment lines that name the build (paths, dates) so
  # the output depends only on the source and the compiler version.
  grep -v '^// Compiler Build ID\|^// Based on NVVM\|^// Cuda compilation tools' "$tmp" >"$tmp.clean"
  mv "$tmp.clean" "$out/$name.ptx"
  rm -f "$tmp"
done
echo "cuda-ptx: wrote $(ls "$out"/*.ptx | wc -l) PTX files to $out" >&2
