#!/usr/bin/env bash
# gpu-check.sh: the one command for a GPU machine. The GPU machine has no
# Go, so it runs in two halves:
#
#   Here (with Go):   scripts/gpu-check.sh build [BINDIR]
#       builds, with -tags gpu, the GPU test binary (go test -c ./cuda/),
#       the googlenet binary and the list of GPU tests into BINDIR
#       (default bin/gpu; git-ignored: carry it with the working tree).
#   There (GPU host): scripts/gpu-check.sh run [BINDIR] [OUTDIR]
#       runs every GPU test in its own process under a timeout, the
#       error-returning paths first (opening the device, then each kernel,
#       the engine, the comparisons with the CPU, the whole network), the
#       comparison with the CPU once more on our PTX kernels alone
#       (GOOGLENET_CUDA_LIBS=none), the CLI's train (with a resume), eval
#       (against the CPU), infer and predict with --device gpu on a small
#       synthetic dataset (scripts/gpu-cli-check.sh), then our benchmarks (BenchmarkGPUConv and
#       googlenet bench --device gpu) and PyTorch's
#       (scripts/cuda-torch-bench.py: torchvision GoogLeNet, batch 128, TF32
#       allowed and strict fp32, each under a time limit), and writes one
#       report folder OUTDIR (default ${OUT:-out}/gpu-check): summary.txt,
#       nvidia-smi.txt, env.txt, tests/<test>.txt, bench.txt (Go
#       benchmarks), googlenet-bench.jsonl (googlenet bench --device gpu,
#       paper, batch 128, TF32 and strict), torch.jsonl.
#       The whole run keeps within GPU_CHECK_BUDGET seconds (default 450):
#       a step that would start past it is skipped and says so.
#   There, one test:  scripts/gpu-check.sh rerun TEST [BINDIR] [OUTDIR]
#       reruns one test with CUDA_LAUNCH_BLOCKING=1, so a kernel fault is
#       reported by the launch that caused it.
#   Anywhere:         scripts/gpu-check.sh dry-run [BINDIR]
#       checks the build and prints every command `run` would run, and
#       runs the PyTorch script on the CPU at a toy size (its smoke test).
#
# Exit status: 0 when every step passed, 1 when one failed or timed out,
# 2 for a usage error.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage() {
  echo "usage: $0 build [BINDIR] | run [BINDIR] [OUTDIR] | rerun TEST [BINDIR] [OUTDIR] | dry-run [BINDIR]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
cmd=$1
shift
abs() { case $1 in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }

# The GPU tests, in the order run uses: the error-returning paths first,
# so a device fault in a later one hides nothing before it.
tests=(TestGPUOpen TestGPUDevice TestGPUEngine TestGPUvsCPU TestGPUNetVsCPU)
test_limit=${GPU_CHECK_TEST_TIMEOUT:-90}
bench_limit=${GPU_CHECK_BENCH_TIMEOUT:-90}
torch_limit=${GPU_CHECK_TORCH_TIMEOUT:-50}
cli_limit=${GPU_CHECK_CLI_TIMEOUT:-45}
clirun_limit=${GPU_CHECK_CLIRUN_TIMEOUT:-90}

case $cmd in
build)
  bindir=$(abs "${1:-bin/gpu}")
  set -e
  cd "$root"
  cache=$(scripts/cuda-fetch.sh dev | tail -n1)
  export CGO_ENABLED=1 CGO_CFLAGS="-I$cache/root/usr/include" CGO_LDFLAGS="-L$cache/root/usr/lib/x86_64-linux-gnu/stubs"
  mkdir -p "$bindir"
  go test -c -tags gpu -o "$bindir/cuda-gpu.test" ./cuda/
  go build -tags gpu -o "$bindir/googlenet" ./cmd/googlenet
  # The tests of the gpu-tagged files (the binary cannot list them here:
  # gorgonia.org/cu's init exits without a driver).
  grep -l '^//go:build gpu' cuda/*_test.go | xargs sed -n 's/^func \(\(Test\|Benchmark\)[A-Za-z0-9_]*\)(.*/\1/p' >"$bindir/tests.list"
  for t in "${tests[@]}"; do
    grep -qx "$t" "$bindir/tests.list" || { echo "gpu-check: $t is not in the GPU test binary" >&2; exit 1; }
  done
  # Every GPU test must be in the run order.
  for t in $(grep '^Test' "$bindir/tests.list"); do
    case " ${tests[*]} " in *" $t "*) ;; *) echo "gpu-check: $t is missing from the run order" >&2; exit 1 ;; esac
  done
  git -C "$root" rev-parse HEAD >"$bindir/commit" 2>/dev/null || true
  ls -l "$bindir" >&2
  echo "gpu-check: built $bindir; carry it (and scripts/) to the GPU machine" >&2
  exit 0
  ;;
run | dry-run | rerun) ;;
*) usage ;;
esac

one=""
if [ "$cmd" = rerun ]; then
  [ $# -ge 1 ] || usage
  one=$1
  shift
fi
bindir=$(abs "${1:-bin/gpu}")
out=$(abs "${2:-${OUT:-out}/gpu-check}")
bin=$bindir/cuda-gpu.test
py=${GOOGLENET_PYTHON:-python3}
budget=${GPU_CHECK_BUDGET:-450}
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
dry=0
if [ "$cmd" = dry-run ]; then
  dry=1
  py=${GOOGLENET_PYTHON:-/usr/bin/python3}
fi

for f in "$bin" "$bindir/googlenet" "$bindir/tests.list"; do
  [ -e "$f" ] || { echo "gpu-check: $f missing: run '$0 build' where Go is" >&2; exit 1; }
done

# cuDNN and cuBLAS from PyTorch's wheels, when GOOGLENET_CUDA_LIBS is unset.
if [ -z "${GOOGLENET_CUDA_LIBS:-}" ] && [ "$dry" = 0 ]; then
  libs=$(timeout 20 "$py" - <<'PY' 2>/dev/null
import glob, site, sys
dirs = []
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    dirs += sorted(glob.glob(sp + "/nvidia/*/lib"))
print(":".join(dirs))
PY
  ) || libs=""
  [ -n "$libs" ] && export GOOGLENET_CUDA_LIBS=$libs
fi

rc=0
mkdir -p "$out/tests"
summary=$out/summary.txt
[ "$dry" = 1 ] || : >"$summary"
note() { echo "$*"; [ "$dry" = 1 ] || echo "$*" >>"$summary"; }

# step NAME LIMIT CMD...: runs CMD under timeout LIMIT (cut to the budget
# left), logs to $out/tests/NAME.txt, notes PASS/FAIL/TIMEOUT with seconds.
step() {
  local name=$1 limit=$2
  shift 2
  local l
  l=$(left)
  if [ "$dry" = 1 ]; then
    echo "would run $name (timeout ${limit}s): $*"
    return 0
  fi
  if [ "$l" -lt 20 ]; then
    note "SKIP    $name (time budget of ${budget}s spent)"
    rc=1
    return 0
  fi
  [ "$limit" -gt "$l" ] && limit=$l
  local t0=$(date +%s) code
  # In the package directory, as go test runs a test binary.
  (cd "$root/cuda" && exec timeout -k 10 "$limit" "$@") >"$out/tests/$name.txt" 2>&1
  code=$?
  local s=$(( $(date +%s) - t0 ))
  case $code in
  0) note "PASS    $name (${s}s)" ;;
  124 | 137) note "TIMEOUT $name (${limit}s)"; rc=1 ;;
  *) note "FAIL    $name (exit $code, ${s}s): see tests/$name.txt"; rc=1 ;;
  esac
}

gotest=$bin

if [ -n "$one" ]; then
  note "rerun of $one with CUDA_LAUNCH_BLOCKING=1"
  CUDA_LAUNCH_BLOCKING=1 step "$one-blocking" "$test_limit" "$gotest" -test.v -test.count=1 -test.run "^$one\$"
  [ "$dry" = 1 ] || tail -n 20 "$out/tests/$one-blocking.txt"
  exit $rc
fi

if [ "$dry" = 0 ]; then
  {
    date -u
    echo "commit $(cat "$bindir/commit" 2>/dev/null)"
    echo "GOOGLENET_CUDA_LIBS=${GOOGLENET_CUDA_LIBS:-}"
    "$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
  } >"$out/env.txt"
  nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
fi

for t in "${tests[@]}"; do
  step "$t" "$test_limit" "$gotest" -test.v -test.count=1 -test.run "^$t\$"
done
GOOGLENET_CUDA_LIBS=none step TestGPUvsCPU-ptx-only-GOOGLENET_CUDA_LIBS=none "$test_limit" "$gotest" -test.v -test.count=1 -test.run '^TestGPUvsCPU$'

# The commands users run with --device gpu, end to end: train, resume onto
# the device, eval against the CPU, infer, predict (scripts/gpu-cli-check.sh).
step googlenet-cli "$clirun_limit" "$root/scripts/gpu-cli-check.sh" "$bindir/googlenet" "$out"

step bench "$bench_limit" "$gotest" -test.run '^$' -test.bench 'GPUConv' -test.benchtime 10x
[ -f "$out/tests/bench.txt" ] && cp "$out/tests/bench.txt" "$out/bench.txt"

# The CLI's device benchmark (cuda.Net, what users run), paper at batch 128.
for args in "--mode train" "--mode infer" "--mode train --strict-fp32" "--mode infer --strict-fp32"; do
  name=googlenet-bench-$(echo "$args" | tr -d ' -' | sed 's/mode//')
  # shellcheck disable=SC2086
  step "$name" "$cli_limit" "$bindir/googlenet" bench --device gpu --variant paper --batch 128 --iters 10 --warmup 2 --json $args
  [ -f "$out/tests/$name.txt" ] && grep '^{' "$out/tests/$name.txt" >>"$out/googlenet-bench.jsonl"
done

for args in "--mode train" "--mode infer" "--mode train --strict-fp32" "--mode infer --strict-fp32"; do
  name=torch-$(echo "$args" | tr -d ' -' | sed 's/mode//')
  # shellcheck disable=SC2086
  step "$name" "$torch_limit" "$py" "$root/scripts/cuda-torch-bench.py" --batch 128 --time-limit $(( torch_limit - 25 )) $args
  [ -f "$out/tests/$name.txt" ] && grep '^{' "$out/tests/$name.txt" >>"$out/torch.jsonl"
done

if [ "$dry" = 1 ]; then
  echo "dry-run: smoke test of the PyTorch script on the CPU"
  timeout 120 "$py" "$root/scripts/cuda-torch-bench.py" --device cpu --mode train --batch 2 --size 64 --iters 1 --warmup 0 || rc=1
  echo "dry-run: the GPU binary needs only the driver:"
  readelf -d "$bin" | grep NEEDED
  exit $rc
fi
note "total $(( $(date +%s) - start ))s of a ${budget}s budget; report in $out"
cat "$summary"
[ -s "$out/googlenet-bench.jsonl" ] && cat "$out/googlenet-bench.jsonl"
[ -s "$out/torch.jsonl" ] && cat "$out/torch.jsonl"
grep -E '^Benchmark' "$out/bench.txt" 2>/dev/null
exit $rc
