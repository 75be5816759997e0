#!/usr/bin/env bash
# The detection benchmark of docs/detection.md, as it was run for the numbers
# there: make the MNIST and Fashion-MNIST benchmarks, cache proposals (1x and
# 2x superpixels), train three mini region classifiers on MNIST objects (two
# epochs, then resumed to four) and one on Fashion-MNIST objects (two
# epochs), evaluate the ensemble of three (which also scores each member),
# the 2x superpixel setting and Fashion-MNIST, and draw detections. The MNIST
# members train 2 epochs, then are resumed to 4 and to 6 (the poly schedule
# restarts from the resumed epoch), as the time available allowed; the
# 4-epoch numbers of docs/detection.md come from the same evaluations with
# --top 300 --limit 50 on the 4-epoch models. Every
# step's output and timing goes to OUT/logs; the trainings run side by side,
# one core each.
#
# usage: scripts/detect-bench.sh [OUT]     (default out/detect)
set -euo pipefail
out=${1:-out/detect}
cd "$(dirname "$0")/.."
mkdir -p "$out/logs"
go build -o "$out/googlenet" ./cmd/googlenet
g="$out/googlenet"
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$out/logs/steps.txt"; }
step() { # name, command...
	local name=$1; shift
	log "start $name: $*"
	local t0=$(date +%s)
	"$@" >"$out/logs/$name.out" 2>"$out/logs/$name.err"
	log "done $name in $(( $(date +%s) - t0 ))s"
}
start=$(date +%s)
m="$out/mnist"; f="$out/fashion"
step make-mnist $g detect make-data --out "$m" --objects mnist --seed 1 --progress log
step make-fashion $g detect make-data --out "$f" --objects fashion --seed 1 --progress log
step props-mnist-train $g detect proposals --data voc:"$m" --split train --progress log
step props-mnist-test $g detect proposals --data voc:"$m" --split test --at 100,300,500,1000 --progress log
step props-mnist-test-sp2 $g detect proposals --data voc:"$m" --split test --superpixels 2 --at 100,300,500,1000 --progress log
step props-fashion-train $g detect proposals --data voc:"$f" --split train --progress log
step props-fashion-test $g detect proposals --data voc:"$f" --split test --progress log
log "proposals done at t+$(( $(date +%s) - start ))s"
for s in 1 2 3; do
	GOMAXPROCS=1 step train-mnist-$s $g detect train --data voc:"$m" --out "$out/runs/mnist-$s" --seed $s --epochs 2 --max-per-object 8 --progress log &
done
GOMAXPROCS=1 step train-fashion $g detect train --data voc:"$f" --out "$out/runs/fashion-1" --seed 1 --epochs 2 --max-per-object 8 --progress log &
wait
for s in 1 2 3; do
	GOMAXPROCS=1 step resume-mnist-$s $g detect train --data voc:"$m" --out "$out/runs/mnist-$s" --seed $s --epochs 4 --max-per-object 8 --progress log --resume &
done
wait
for s in 1 2 3; do
	GOMAXPROCS=1 step resume6-mnist-$s $g detect train --data voc:"$m" --out "$out/runs/mnist-$s" --seed $s --epochs 6 --max-per-object 8 --progress log --resume &
done
GOMAXPROCS=1 step eval-fashion $g detect eval --weights "$out/runs/fashion-1/model.safetensors" --data voc:"$f" --progress log --report "$out/fashion.json" &
wait
log "training done at t+$(( $(date +%s) - start ))s"
w1="$out/runs/mnist-1/model.safetensors"; w2="$out/runs/mnist-2/model.safetensors"; w3="$out/runs/mnist-3/model.safetensors"
# The ensemble's evaluation also scores each member on the same proposals.
GOMAXPROCS=1 step eval-mnist-ensemble $g detect eval --weights "$w1,$w2,$w3" --data voc:"$m" --progress log --report "$out/mnist-ensemble.json" --results "$out/mnist-test-results.json" &
GOMAXPROCS=1 step eval-mnist-sp2 $g detect eval --weights "$w1,$w2,$w3" --data voc:"$m" --superpixels 2 --oracle=false --progress log --report "$out/mnist-sp2.json" &
wait
step run-mnist $g detect run --weights "$w1,$w2,$w3" --out "$out/drawn" --min-score 0.3 "$m"/JPEGImages/test_00000[1-4].jpg
# The peer: torchvision's Faster R-CNN from scratch, 20 minutes of training,
# scored by the same evaluator (it ran beside the first trainings).
/usr/bin/python3 scripts/detect-fasterrcnn-peer.py --data "$m" --minutes 20 --out "$out/frcnn-results.json" >"$out/logs/frcnn.out" 2>&1
$g detect eval --data voc:"$m" --detections "$out/frcnn-results.json" >"$out/logs/frcnn-eval.out"
log "all done at t+$(( $(date +%s) - start ))s"
