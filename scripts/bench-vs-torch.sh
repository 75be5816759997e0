#!/usr/bin/env bash
# bench-vs-torch.sh: GoogLeNet on our CPU engine beside PyTorch and ONNX
# Runtime, in one run on one machine. For each workload it runs
# `googlenet bench --peer` (our paper variant, then torchvision's GoogLeNet
# through shared/peers/torch_googlenet_bench.py with Debian's
# /usr/bin/python3) and, for inference, a second time with
# shared/peers/ort_googlenet_bench.mjs (ONNX Runtime 1.30's CPU provider on
# our own ONNX export of the same variant and weights), and prints one table
# row with the machine load (uptime) at that moment. Each peer alternates
# with ours in its own run, so each ratio compares rounds that saw the same
# machine; "ours i/s" is from the PyTorch run.
#
# usage: scripts/bench-vs-torch.sh [--native-openblas] [--iters N] [--rounds R] [--variant V] [WORKLOAD...]
#   WORKLOAD is MODE:BATCH[:INPUT], e.g. infer:8 train:8 infer:8:320
#   (default: infer:1 infer:8 infer:32 train:1 train:8 train:32
#    infer:8:320 infer:8:448 train:8:320 train:8:448)
#   --native-openblas  unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this
#                      script's processes only (both sides), so OpenBLAS
#                      picks its native kernels; the script says so.
#   --rounds R         alternate PyTorch and ours R times per workload and
#                      report medians (default 3; the per-round ratios' range
#                      is printed too): on a shared machine one pair of runs
#                      can be 30% off either way.
#   --json             print each run's JSON object instead of the table
# Columns: img/s (median), peak RSS, and our CPU time per batch (user+sys,
# all threads: nearly independent of other load; on idle cores the batch
# takes at least CPUms/cores). The 1-minute load average is printed per row.
#   --no-ort           leave out the ONNX Runtime column
# Environment: PEER (path to the PyTorch peer script), ORT_PEER (the ONNX
# Runtime one; needs node and onnxruntime-node in $GOOGLENET_ORT_DIR, default
# ~/.cache/googlenet/ort, see internal/peer), GOOGLENET (a built binary;
# default: go build into a temporary directory), PYTHON (default /usr/bin/python3).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PEER=${PEER:-$here/../shared/peers/torch_googlenet_bench.py}
ORT_PEER=${ORT_PEER:-$here/../shared/peers/ort_googlenet_bench.mjs}
PYTHON=${PYTHON:-/usr/bin/python3}
ort=1
iters=10
rounds=3
variant=paper
json=0
workloads=()
while [ $# -gt 0 ]; do
	case $1 in
	--native-openblas)
		echo "# note: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} and OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>} are UNSET for this benchmark's processes (ours and PyTorch's)"
		unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
		;;
	--iters) iters=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--variant) variant=$2; shift ;;
	--json) json=1 ;;
	--no-ort) ort=0 ;;
	-h|--help) sed -n '2,33p' "$0"; exit 0 ;;
	*) workloads+=("$1") ;;
	esac
	shift
done
[ ${#workloads[@]} -gt 0 ] || workloads=(infer:1 infer:8 infer:32 train:1 train:8 train:32 infer:8:320 infer:8:448 train:8:320 train:8:448)
if [ ! -f "$PEER" ]; then echo "bench-vs-torch: peer script $PEER not found (set PEER)" >&2; exit 1; fi
if [ $ort = 1 ] && [ ! -f "$ORT_PEER" ]; then echo "bench-vs-torch: ONNX Runtime peer $ORT_PEER not found (set ORT_PEER, or --no-ort)" >&2; exit 1; fi
if ! "$PYTHON" -c 'import torch, torchvision' 2>/dev/null; then
	echo "bench-vs-torch: $PYTHON cannot import torch and torchvision (Debian: apt-get install python3-torch python3-torchvision)" >&2
	exit 1
fi
if [ -z "${GOOGLENET:-}" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$here" && go build -o "$tmp/googlenet" ./cmd/googlenet)
	GOOGLENET=$tmp/googlenet
fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>} GOOGLENET_BLAS=${GOOGLENET_BLAS:-<auto>}"
if [ $json = 0 ]; then
	printf '%-6s %5s %5s | %9s %9s %6s %13s | %9s %6s %13s | %9s %9s %6s %9s %6s | %9s | %s\n' mode batch input "ours i/s" "torch i/s" ratio "per round" "ORT i/s" ratio "per round" "ours MiB" "torch MiB" ratio "ORT MiB" ratio "ours CPUms" "load (1 min) / ours engine"
fi
for w in "${workloads[@]}"; do
	IFS=: read -r mode batch input <<<"$w"
	input=${input:-224}
	load=$(cut -d' ' -f1 /proc/loadavg)
	warm=2
	[ "$mode" = train ] && [ "$batch" -ge 32 ] && warm=1
	out=$("$GOOGLENET" bench --variant "$variant" --mode "$mode" --batch "$batch" --input "$input" \
		--iters "$iters" --warmup $warm --rounds "$rounds" --json --peer "$PEER" --python "$PYTHON")
	ortout='{}'
	if [ $ort = 1 ] && [ "$mode" = infer ]; then
		ortout=$("$GOOGLENET" bench --variant "$variant" --mode "$mode" --batch "$batch" --input "$input" \
			--iters "$iters" --warmup $warm --rounds "$rounds" --json --peer "$ORT_PEER")
	fi
	if [ $json = 1 ]; then echo "$out"; [ "$ortout" = '{}' ] || echo "$ortout"; continue; fi
	"$PYTHON" -c '
import json, sys
d = json.loads(sys.argv[1]); p = d["peer"]; o = json.loads(sys.argv[3])
mib = lambda b: b / 2**20
rng = lambda d, p: "%.2f-%.2fx" % (min(d.get("round_speedups") or [d["img_per_s"] / p["img_per_s"]]), max(d.get("round_speedups") or [d["img_per_s"] / p["img_per_s"]]))
ort = "%9s %6s %13s" % ("-", "-", "-")
ortm = "%9s %6s" % ("-", "-")
if o:
    q = o["peer"]
    ort = "%9.2f %5.2fx %13s" % (q["img_per_s"], o["img_per_s"] / q["img_per_s"], rng(o, q))
    ortm = "%9.0f %5.2fx" % (mib(q["peak_rss_bytes"]), o["peak_rss_bytes"] / q["peak_rss_bytes"])
print("%-6s %5d %5d | %9.2f %9.2f %5.2fx %13s | %s | %9.0f %9.0f %5.2fx %s | %9.0f | %s / %s" % (d["mode"], d["batch"], d["input"],
      d["img_per_s"], p["img_per_s"], d["img_per_s"] / p["img_per_s"], rng(d, p), ort,
      mib(d["peak_rss_bytes"]), mib(p["peak_rss_bytes"]), d["peak_rss_bytes"] / p["peak_rss_bytes"], ortm,
      d["cpu_ms_per_batch"], sys.argv[2], d["engine"]))' "$out" "$load" "$ortout"
done
