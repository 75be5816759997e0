#!/usr/bin/env bash
# serve-bench.sh: the serving acceptance measurement in one command.
#
# Runs `googlenet bench --mode infer` at batch 8 and 16, then `googlenet
# serve` under `googlenet loadtest` (64 clients, 60 s, loopback), then the
# two bench runs again, and prints serve's throughput as a fraction of the
# best batch size's mean bench rate. The model is the paper GoogLeNet at
# 224x224 with 1000 classes; speed does not depend on the weights' values,
# so WEIGHTS defaults to a checkpoint made by one synthetic training step.
#
# Usage: scripts/serve-bench.sh            (from the repository root)
# Environment: WEIGHTS (a weights file), OUT (report folder, default
# /tmp/serve-bench), DURATION (60s), CLIENTS (64), PORT (18097), ITERS (10).
#
# Like every benchmark command of the project, it unsets OPENBLAS_CORETYPE
# and OPENBLAS_L2_SIZE for the commands it times (docs/PERFORMANCE.md).
# Run it on an otherwise idle machine: the load generator shares the cores.
set -euo pipefail

OUT=${OUT:-/tmp/serve-bench}
DURATION=${DURATION:-60s}
CLIENTS=${CLIENTS:-64}
PORT=${PORT:-18097}
ITERS=${ITERS:-10}
mkdir -p "$OUT"
go build -o "$OUT/googlenet" ./cmd/googlenet
gn() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$OUT/googlenet" "$@"; }

if [ -z "${WEIGHTS:-}" ]; then
  WEIGHTS=$OUT/paper/model.safetensors
  if [ ! -f "$WEIGHTS" ]; then
    echo "serve-bench: making paper weights (one synthetic step) in $OUT/paper" >&2
    gn train --variant paper --data synthetic:classes=1000,train=2,val=2,size=1000 \
      --steps 1 --epochs 1 --batch 2 --eval-limit 2 --progress none --out "$OUT/paper" >"$OUT/train.log" 2>&1
  fi
fi

bench() { # batch iters -> appends one JSON line to $OUT/bench.jsonl
  gn bench --variant paper --mode infer --batch "$1" --iters "$2" --json | tee -a "$OUT/bench.jsonl" |
    sed -E 's/.*"batch":([0-9]+).*"img_per_s":([0-9.]+).*/bench batch \1: \2 img\/s/'
}
: >"$OUT/bench.jsonl"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
bench 8 "$ITERS"
bench 16 $((ITERS / 2 > 0 ? ITERS / 2 : 1))

# env execs the server: $! is its process, which gets the SIGTERM below.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$OUT/googlenet" serve --weights "$WEIGHTS" --addr "127.0.0.1:$PORT" >"$OUT/serve.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
for _ in $(seq 120); do
  if gn loadtest --url "http://127.0.0.1:$PORT" --requests 1 --clients 1 >/dev/null 2>&1; then break; fi
  sleep 1
done
gn loadtest --url "http://127.0.0.1:$PORT" --clients "$CLIENTS" --duration "$DURATION" --json >"$OUT/loadtest.json" 2>"$OUT/loadtest.log" || true
gn loadtest --url "http://127.0.0.1:$PORT" --clients 1 --requests 1 >/dev/null 2>&1 || true
kill -TERM "$server"
status=0
wait "$server" || status=$?
trap - EXIT
echo "serve exit status after SIGTERM: $status"

bench 8 "$ITERS"
bench 16 $((ITERS / 2 > 0 ? ITERS / 2 : 1))
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/env python3 - "$OUT" <<'EOF'
import json, sys, statistics
out = sys.argv[1]
rates = {}
for line in open(f"{out}/bench.jsonl"):
    r = json.loads(line)
    rates.setdefault(r["batch"], []).append(r["img_per_s"])
lt = json.load(open(f"{out}/loadtest.json"))
best = max(rates, key=lambda b: statistics.mean(rates[b]))
mean = statistics.mean(rates[best])
for b in sorted(rates):
    print(f"bench batch {b}: " + " / ".join(f"{v:.2f}" for v in rates[b]) + f" img/s (mean {statistics.mean(rates[b]):.2f})")
tp = lt["Throughput"]
print(f"serve: {tp:.2f} req/s, {lt['OK']} ok, {lt['Errors']} errors; p50 {lt['P50']/1e6:.0f} ms, p99 {lt['P99']/1e6:.0f} ms; "
      f"server CPU {lt['CPU']/1e6/max(lt['OK'],1):.1f} ms per request; "
      f"RSS MiB first {lt['RSSFirst']/2**20:.0f} peak {lt['RSSPeak']/2**20:.0f} last {lt['RSSLast']/2**20:.0f}")
print(f"serve / bench batch {best} mean = {tp/mean:.3f}")
EOF
