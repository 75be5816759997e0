#!/usr/bin/env bash
# The detection benchmark of docs/detection.md, as it was run for the numbers
# there. Steps, each logged with its wall time in OUT/logs/steps.txt:
#   1. the MNIST and Fashion-MNIST benchmarks (make-data defaults, seed 1);
#   2. proposals: training and test splits, and the test split with 2x
#      superpixels;
#   3. MNIST: one pretraining on crops of the training ingredients (detect
#      pretrain), then three region classifiers fine-tuned from it on
#      proposals (seeds 1, 2, 3), one after the other;
#   4. Fashion-MNIST: the same with one member;
#   5. evaluations: the MNIST ensemble (which also scores each member and an
#      oracle), the 2x superpixel setting, Fashion-MNIST, the pretrained
#      model alone; drawings;
#   6. the peer, torchvision's Faster R-CNN from scratch, trained for the
#      CPU time of one member's pipeline (make-data to evaluation) and
#      scored by the same evaluator.
# The single-member pipeline (make-data, proposals, pretrain, train, eval)
# is the one docs/detection.md times against the 30-minute bound.
#
# usage: scripts/detect-bench.sh [OUT]     (default out/detect)
set -euo pipefail
out=${1:-out/detect}
cd "$(dirname "$0")/.."
mkdir -p "$out/logs"
go build -o "$out/googlenet" ./cmd/googlenet
g="$out/googlenet"
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$out/logs/steps.txt"; }
step() { # name, command...: wall time in steps.txt, CPU time (user + system seconds) in NAME.cpu
	local name=$1; shift
	log "start $name: $*"
	local t0=$(date +%s)
	/usr/bin/time -f "%U %S" -o "$out/logs/$name.time" "$@" >"$out/logs/$name.out" 2>"$out/logs/$name.err"
	awk '{print $1 + $2}' "$out/logs/$name.time" >"$out/logs/$name.cpu"
	log "done $name in $(( $(date +%s) - t0 ))s, $(cat "$out/logs/$name.cpu")s CPU"
}
start=$(date +%s)
m="$out/mnist"; f="$out/fashion"
epochs=4
step make-mnist $g detect make-data --out "$m" --objects mnist --seed 1 --progress log
step make-fashion $g detect make-data --out "$f" --objects fashion --seed 1 --progress log
step props-mnist-train $g detect proposals --data voc:"$m" --split train --progress log
step props-mnist-test $g detect proposals --data voc:"$m" --split test --at 100,300,500,1000 --progress log
step props-mnist-test-sp2 $g detect proposals --data voc:"$m" --split test --superpixels 2 --at 100,300,500,1000 --progress log
step props-fashion-train $g detect proposals --data voc:"$f" --split train --progress log
step props-fashion-test $g detect proposals --data voc:"$f" --split test --progress log
log "proposals done at t+$(( $(date +%s) - start ))s"
step pretrain-mnist $g detect pretrain --objects mnist --out "$out/runs/mnist-pre" --crops 30000 --epochs 2 --seed 1 --progress log
pre="$out/runs/mnist-pre/model.safetensors"
for s in 1 2 3; do
	step train-mnist-$s $g detect train --data voc:"$m" --out "$out/runs/mnist-$s" --seed $s --epochs $epochs --max-per-object 8 --init-from "$pre" --progress log
done
step pretrain-fashion $g detect pretrain --objects fashion --out "$out/runs/fashion-pre" --crops 30000 --epochs 2 --seed 1 --progress log
step train-fashion $g detect train --data voc:"$f" --out "$out/runs/fashion-1" --seed 1 --epochs $epochs --max-per-object 8 --init-from "$out/runs/fashion-pre/model.safetensors" --progress log
log "training done at t+$(( $(date +%s) - start ))s"
w1="$out/runs/mnist-1/model.safetensors"; w2="$out/runs/mnist-2/model.safetensors"; w3="$out/runs/mnist-3/model.safetensors"
step eval-mnist-1 $g detect eval --weights "$w1" --data voc:"$m" --progress log --report "$out/mnist-1.json"
# The ensemble's evaluation also scores each member on the same proposals.
step eval-mnist-ensemble $g detect eval --weights "$w1,$w2,$w3" --data voc:"$m" --progress log --report "$out/mnist-ensemble.json" --results "$out/mnist-test-results.json"
step eval-mnist-sp2 $g detect eval --weights "$w1,$w2,$w3" --data voc:"$m" --superpixels 2 --progress log --report "$out/mnist-sp2.json"
step eval-mnist-pre $g detect eval --weights "$pre" --data voc:"$m" --progress log --report "$out/mnist-pre.json"
step eval-fashion $g detect eval --weights "$out/runs/fashion-1/model.safetensors" --data voc:"$f" --progress log --report "$out/fashion.json"
step run-mnist $g detect run --weights "$w1,$w2,$w3" --out "$out/drawn" --min-score 0.3 "$m"/JPEGImages/test_00000[1-4].jpg
# The peer gets the CPU time of one member's pipeline (make-data to evaluation),
# whatever else runs on the machine.
secs=$(cat "$out"/logs/{make-mnist,props-mnist-train,props-mnist-test,pretrain-mnist,train-mnist-1,eval-mnist-1}.cpu | awk '{t += $1} END {print t}')
log "one member's pipeline: ${secs}s CPU"
step frcnn /usr/bin/python3 scripts/detect-fasterrcnn-peer.py --data "$m" --cpu-minutes "$(awk -v s="$secs" 'BEGIN {print s / 60}')" --out "$out/frcnn-results.json"
step frcnn-eval $g detect eval --data voc:"$m" --detections "$out/frcnn-results.json"
log "all done at t+$(( $(date +%s) - start ))s"
