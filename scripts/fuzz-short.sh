#!/usr/bin/env bash
# Runs every Go fuzz target of the repository (func FuzzXxx in a *_test.go
# file) for a short time each, as CI does: the seed corpora in testdata/fuzz
# and FUZZTIME of new inputs per target.
#
# usage: scripts/fuzz-short.sh [FUZZTIME]     (default 5s; e.g. 30s, 1000x)
#
# Exits non-zero on the first failing target; the failing input is saved by
# go test under that package's testdata/fuzz/FuzzXxx/ (commit it as a
# regression seed once fixed).
set -euo pipefail

fuzztime=${1:-5s}
cd "$(dirname "$0")/.."

# package directory and target name of every fuzz function, sorted
mapfile -t targets < <(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . |
	grep -v '/\.git/' | sort | while read -r f; do
		dir=$(dirname "$f")
		grep -oE '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r name; do
			echo "$dir $name"
		done
	done)

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz-short: no fuzz targets found" >&2
	exit 1
fi

# Go's fuzzing engine can end a run with a bare "context deadline exceeded"
# when a worker misses the -fuzztime deadline (a busy machine), with no
# failing input: that run is repeated, at most twice. A real failure writes
# "Failing input written to ..." and fails at once.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
	read -r dir name <<<"$t"
	for try in 1 2 3; do
		echo "== $name in $dir ($fuzztime)"
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir" 2>&1 | tee "$log"; then
			break
		fi
		if [ "$try" -lt 3 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz-short: $name stopped late at its deadline without a failing input; running it again"
			continue
		fi
		exit 1
	done
done
echo "fuzz-short: ${#targets[@]} targets passed"
