#!/usr/bin/env bash
# cuda-gpu-suite.sh: run the GPU test suite and benchmarks on a machine with
# an NVIDIA GPU and driver (no Go toolchain needed there).
#
# Here (with Go):     CUDA_TEST_OUT=bin/cuda-gpu.test scripts/cuda-check.sh --no-nvcc
# There (GPU host):   scripts/cuda-gpu-suite.sh [bin/cuda-gpu.test] [OUTDIR]
#
# bin/ is git-ignored; carry it to the GPU machine with the working tree.
# Writes to OUTDIR (default ${OUT:-out/gpu}): nvidia-smi.txt, tests.txt
# (go test -v output of every GPU test), bench.txt (Go benchmarks) and
# torch.jsonl (PyTorch + cuDNN torchvision GoogLeNet at batch 128, TF32
# allowed as PyTorch's default and strict fp32).
set -uo pipefail
bin=${1:-bin/cuda-gpu.test}
out=${2:-${OUT:-out/gpu}}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/.." && pwd)
case $bin in /*) ;; *) bin=$root/$bin ;; esac
case $out in /*) ;; *) out=$root/$out ;; esac
mkdir -p "$out"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
rc=0
# Tests: the binary runs in its package directory, as go test would.
(cd "$root/cuda" && "$bin" -test.v -test.count=1 -test.timeout 300s) >"$out/tests.txt" 2>&1 || rc=1
tail -n 5 "$out/tests.txt"
(cd "$root/cuda" && "$bin" -test.run '^$' -test.bench . -test.benchtime 10x -test.timeout 300s) >"$out/bench.txt" 2>&1 || rc=1
cat "$out/bench.txt"
py=${PYTHON:-python3}
for args in "--mode train" "--mode infer" "--mode train --strict-fp32" "--mode infer --strict-fp32"; do
  # shellcheck disable=SC2086
  "$py" "$root/scripts/cuda-torch-bench.py" --batch 128 $args >>"$out/torch.jsonl" 2>>"$out/torch.err" || rc=1
done
cat "$out/torch.jsonl"
exit $rc
