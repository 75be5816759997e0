#!/usr/bin/env bash
# cuda-fetch.sh: download NVIDIA's CUDA 11.8 headers, stub libraries and
# (optionally) nvcc from Debian's non-free archive into a cache directory
# OUTSIDE the repository. Nothing fetched here is ever committed.
#
#   scripts/cuda-fetch.sh dev       headers + stub libcuda/libcublas (nvidia-cuda-dev)
#   scripts/cuda-fetch.sh nvcc      nvcc, cicc, ptxas, libdevice + nvcc.profile
#                                   (nvidia-cuda-toolkit, plus the headers above)
#
# It prints the cache directory on its last line. The archive is queried with a
# private apt configuration (own sources list with contrib/non-free, own lists
# and archive directories under the cache), so the system's apt sources and
# locks are never touched and root is not needed.
#
# Environment: CUDA_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/googlenet-cuda),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SUITE (default bookworm).
set -euo pipefail

what=${1:-dev}
cache=${CUDA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/googlenet-cuda}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${DEBIAN_SUITE:-bookworm}
mkdir -p "$cache"/apt/lists/partial "$cache"/apt/archives/partial "$cache"/debs "$cache"/root
cache=$(cd "$cache" && pwd)

aptopts=(
  -o "Dir::Etc::SourceList=$cache/apt/sources.list"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$cache/apt/lists"
  -o "Dir::Cache=$cache/apt"
  -o "Dir::State::Status=$cache/apt/status"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)"
  -o "Acquire::Languages=none"
)
printf 'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main contrib non-free non-free-firmware\n' \
  "$mirror" "$suite" >"$cache/apt/sources.list"
touch "$cache/apt/status"

log() { printf 'cuda-fetch: %s\n' "$*" >&2; }

# fetch PKG: download PKG's .deb (once) into $cache/debs and print its path.
fetch() {
  local pkg=$1 deb
  deb=$(ls "$cache"/debs/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    if [ ! -e "$cache/apt/updated" ]; then
      log "apt-get update (private lists, $suite main contrib non-free)"
      apt-get "${aptopts[@]}" -qq update >&2
      touch "$cache/apt/updated"
    fi
    log "apt-get download $pkg"
    (cd "$cache/debs" && apt-get "${aptopts[@]}" -qq download "$pkg" >&2)
    deb=$(ls "$cache"/debs/"${pkg}"_*.deb | head -n1)
  fi
  printf '%s\n' "$deb"
}

# extract DEB PATHS...: extract only the named paths (tar globs) into $cache/root.
extract() {
  local deb=$1
  shift
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache/root" --wildcards "$@"
}

dev() {
  [ -e "$cache/root/.dev-done" ] && return 0
  local deb
  deb=$(fetch nvidia-cuda-dev)
  log "extracting headers and stub libraries from $(basename "$deb")"
  # All headers (nvcc needs cuda_runtime.h and crt/*; cgo needs cuda.h), and
  # the stub libraries the gpu build links against.
  extract "$deb" './usr/include/*' './usr/lib/x86_64-linux-gnu/stubs/libcuda.so' \
    './usr/lib/x86_64-linux-gnu/stubs/libcublas.so'
  touch "$cache/root/.dev-done"
}

nvcc() {
  [ -e "$cache/root/.nvcc-done" ] && return 0
  dev
  local deb
  deb=$(fetch nvidia-cuda-toolkit)
  log "extracting nvcc, cicc, ptxas, libdevice from $(basename "$deb")"
  extract "$deb" './usr/lib/nvidia-cuda-toolkit/bin/*' './usr/lib/nvidia-cuda-toolkit/libdevice/*' \
    './usr/bin/cudafe++' './usr/bin/ptxas' './usr/bin/fatbinary' './usr/bin/bin2c' './usr/bin/nvlink'
  local bin=$cache/root/usr/lib/nvidia-cuda-toolkit/bin
  [ -x "$bin/nvcc" ] && [ -x "$bin/cicc" ] || { log "nvcc or cicc not found in $deb"; exit 1; }
  # Debian's /usr/bin/nvcc is a wrapper; the real driver is in the toolkit's
  # bin, which also gets the helper tools nvcc looks up on its PATH.
  local t
  for t in cudafe++ ptxas fatbinary bin2c nvlink; do
    ln -sf "../../../bin/$t" "$bin/$t"
  done
  # In the .deb, nvcc.profile is a symlink to /etc/nvcc.profile: replace the
  # link (never write through it) with a profile that points into the cache.
  rm -f "$bin/nvcc.profile"
  cat >"$bin/nvcc.profile" <<PROFILE
TOP = $cache/root/usr/lib/nvidia-cuda-toolkit
NVVMIR_LIBRARY_DIR = \$(TOP)/libdevice
PATH += \$(TOP)/bin:
INCLUDES += "-I$cache/root/usr/include" \$(_SPACE_)
LIBRARIES =+ \$(_SPACE_) "-L$cache/root/usr/lib/x86_64-linux-gnu/stubs"
CUDAFE_FLAGS +=
PTXAS_FLAGS +=
PROFILE
  touch "$cache/root/.nvcc-done"
}

case $what in
dev) dev ;;
nvcc) nvcc ;;
*) echo "usage: $0 dev|nvcc" >&2; exit 2 ;;
esac
printf '%s\n' "$cache"
