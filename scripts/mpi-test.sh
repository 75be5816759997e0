#!/usr/bin/env bash
# CI helper for the MPI binding (package mpi, build tag mpi) and data-parallel
# training: installs Open MPI (openmpi-bin, libopenmpi-dev) and pkg-config when
# missing, then vets and tests package mpi in both builds, and runs the
# trainer's mpirun tests (train.Run and `googlenet train --distributed` on 2
# ranks: weights bit-identical across ranks and equal to one process with the
# global batch, group resume, a killed or failing rank ending the job). The
# mpirun tests start 2 ranks on this machine (--oversubscribe,
# --allow-run-as-root), so one core is enough.
#
# Usage: scripts/mpi-test.sh [extra go test flags, e.g. -v]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
pkg-config --exists ompi-c 2>/dev/null || need+=(libopenmpi-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}"
fi
mpirun --version | head -1

export CGO_ENABLED=1
echo "== go vet (default and mpi builds)"
go vet ./mpi/...
go vet -tags mpi ./mpi/...
echo "== go test ./mpi/... (default build: unit tests, then mpirun tests)"
go test -count=1 "$@" ./mpi/...
echo "== go test -tags mpi ./mpi/... (binding in one process, plus the same tests)"
go test -count=1 -tags mpi "$@" ./mpi/...
echo "== go vet -tags mpi (trainer and command)"
go vet -tags mpi ./train/... ./cmd/googlenet
echo "== data-parallel training under mpirun (train, cmd/googlenet)"
go test -count=1 -run 'MPI|Distributed' "$@" ./train ./cmd/googlenet
