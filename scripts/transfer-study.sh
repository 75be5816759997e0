#!/usr/bin/env bash
# Transfer experiment 1 of docs/training.md over a range of step budgets, as
# it was run for the tables there: train the "pretrained" mini models on
# MNIST digits 0-4 (2 epochs, the recipe; and 6 epochs), then run
# scripts/transfer-study (every row x budget x seed: fine-tune on digits 5-9
# with 100 labelled images per class, or train from scratch on them),
# writing the Markdown tables (OUT/transfer-study.md), OUT/study/results.tsv
# and the plot (OUT/transfer-study.png). A study that
# is stopped continues where it was when run again with the same OUT.
#
# usage: scripts/transfer-study.sh [OUT]     (default out/transfer)
set -euo pipefail
out=${1:-out/transfer}
cd "$(dirname "$0")/.."
mkdir -p "$out"
go build -o "$out/googlenet" ./cmd/googlenet
go build -o "$out/transfer-study" ./scripts/transfer-study
g="$out/googlenet"
for e in 2 6; do
	if [ ! -f "$out/mnist04-e$e/model.safetensors" ]; then
		"$g" train --variant mini --data mnist:classes=0-4 --epochs "$e" --seed 1 \
			--out "$out/mnist04-e$e" --progress log 2>&1 | tee "$out/mnist04-e$e.log"
	fi
done
# All rows from the 2-epoch model; the frozen-trunk rows also from the
# 6-epoch one (-compare).
"$out/transfer-study" -init "$out/mnist04-e2/model.safetensors" \
	-compare "$out/mnist04-e6/model.safetensors" -out "$out/study" \
	-plot "$out/transfer-study.png" | tee "$out/transfer-study.md"
