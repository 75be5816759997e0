#!/usr/bin/env bash
# notebooks-run.sh: execute every notebook in docs/notebooks headless and
# check its outputs. The one command to run the notebooks:
#
#   scripts/notebooks-run.sh                 set up (if needed), execute all, check
#   scripts/notebooks-run.sh --update        ... and write the outputs back into
#                                            docs/notebooks (to commit them)
#   scripts/notebooks-run.sh --no-setup      skip scripts/notebooks-setup.sh
#   scripts/notebooks-run.sh FILE.ipynb...   only these notebooks
#
# Kernels: NAME.ipynb runs with GoNB (kernel "gonb"); NAME.gophernotes.ipynb
# runs with the gophernotes kernel built by notebooks-setup.sh
# ("gophernotes-googlenet"). Notebooks use this checkout of the module: the
# script exports GOINCEPTION_REPO, which their first cell passes to
# `go mod edit -replace`.
#
# A notebook fails when a cell errors (nbconvert stops), when a cell prints a
# Go panic or a non-zero "exit status" to stderr (GoNB reports those as
# output, not as errors), or when an expected output is missing:
#   01-building-blocks*: the Table 1 total "6,998,552" and a drawn graph (SVG)
#   02-training:         "loss fell from A to B" with A, B finite and B < A,
#                        and at least three PNG images (curve, grid, matrix)
# Executed copies go to $NOTEBOOKS_OUT (default: a temporary directory,
# removed afterwards) unless --update.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
update=0
setup=1
files=()
for arg in "$@"; do
  case $arg in
  --update) update=1 ;;
  --no-setup) setup=0 ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  -*)
    echo "notebooks-run: unknown flag $arg (try --help)" >&2
    exit 2
    ;;
  *) files+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")") ;;
  esac
done
if ((${#files[@]} == 0)); then
  shopt -s nullglob
  files=("$repo"/docs/notebooks/*.ipynb)
  shopt -u nullglob
fi
if ((${#files[@]} == 0)); then
  echo "notebooks-run: no notebooks in $repo/docs/notebooks" >&2
  exit 1
fi

((setup)) && "$repo/scripts/notebooks-setup.sh"

gobin=${GOBIN:-$(go env GOPATH)/bin}
export PATH=$gobin:$(go env GOROOT)/bin:$PATH
export GOINCEPTION_REPO=$repo
# The kernels compile and run with the user's Go environment; notebooks must
# not depend on a particular module proxy setting, but cells that resolve
# this module need no network once the module cache is warm.

out=${NOTEBOOKS_OUT:-}
if [[ -z $out ]]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/notebooks-run.XXXXXX")
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

failed=0
for nb in "${files[@]}"; do
  name=$(basename "$nb")
  case $name in
  *.gophernotes.ipynb) kernel=gophernotes-googlenet ;;
  *) kernel=gonb ;;
  esac
  printf 'notebooks-run: %s (%s) ... ' "$name" "$kernel"
  t0=$SECONDS
  # Execute in the notebook's own directory (its relative paths) with a
  # generous per-cell timeout. --allow-errors keeps the executed notebook
  # when a cell fails, so that the check below can show the cell's error
  # output (GoNB's compiler messages, for instance).
  if ! (cd "$(dirname "$nb")" && jupyter nbconvert --to notebook --execute --allow-errors \
    --ExecutePreprocessor.kernel_name="$kernel" \
    --ExecutePreprocessor.timeout=900 \
    --output-dir "$out" --output "$name" "$nb") >"$out/$name.log" 2>&1; then
    echo "FAILED (nbconvert could not execute it)"
    grep -v '^[IWE][0-9]\{4\} ' "$out/$name.log" | tail -n 30 | sed 's/^/    /'
    failed=1
    continue
  fi
  if ! /usr/bin/env python3 - "$out/$name" <<'EOF'; then
import json, math, re, sys

path = sys.argv[1]
name = path.rsplit("/", 1)[-1]
with open(path) as f:
    nb = json.load(f)

def plain(o):
    """The text of an output: stream text, or text/plain or tag-stripped HTML."""
    if o.get("output_type") == "stream":
        return "".join(o.get("text", ""))
    data = o.get("data", {})
    html = "".join(data.get("text/html", ""))
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return "".join(data.get("text/plain", "")) + re.sub(r"<[^>]+>", "", html)

texts, images, problems = [], {"image/svg+xml": 0, "image/png": 0}, []
for i, cell in enumerate(nb["cells"]):
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "error":
            context = "\n".join(plain(p) for p in cell["outputs"] if p is not o).strip()
            problems.append("cell %d: %s: %s\n%s" % (i, o.get("ename"), o.get("evalue"), context[-2000:]))
        elif kind == "stream":
            text = "".join(o.get("text", ""))
            texts.append(text)
            if o.get("name") == "stderr":
                if re.search(r"^panic: ", text, re.M) or re.search(r"^exit status [1-9][0-9]*$", text, re.M):
                    problems.append("cell %d: stderr reports a failure:\n%s" % (i, text[-1500:]))
        else:
            data = o.get("data", {})
            for mime in images:
                if mime in data:
                    images[mime] += 1
            html = "".join(data.get("text/html", ""))
            if "<svg" in html:  # GoNB's DisplaySVG wraps the SVG in HTML
                images["image/svg+xml"] += 1
            texts.append("".join(data.get("text/plain", "")))
            texts.append(html)
alltext = "\n".join(texts)

if name.startswith("01-building-blocks"):
    if "6,998,552" not in alltext and "6998552" not in alltext:
        problems.append("the Table 1 total 6,998,552 is not in the outputs")
    if images["image/svg+xml"] + images["image/png"] < 1:
        problems.append("no drawn module graph (SVG or PNG output)")
elif name.startswith("02-training"):
    m = re.findall(r"loss fell from (\S+) to (\S+)", alltext)
    if not m:
        problems.append('no "loss fell from A to B" line in the outputs')
    else:
        a, b = (float(x.rstrip(".,;")) for x in m[-1])
        if not (math.isfinite(a) and math.isfinite(b)):
            problems.append("loss not finite: %r -> %r" % (a, b))
        elif not b < a:
            problems.append("loss did not fall: %g -> %g" % (a, b))
    if images["image/png"] < 3:
        problems.append("expected at least 3 PNG images (loss curve, predictions, confusion matrix), got %d" % images["image/png"])

if problems:
    print("FAILED")
    for p in problems:
        print("    " + p.replace("\n", "\n    "))
    sys.exit(1)
EOF
    failed=1
    continue
  fi
  echo "ok ($((SECONDS - t0)) s)"
  if ((update)); then
    # Drop the per-cell execution timestamps, which would change every run.
    /usr/bin/env python3 - "$out/$name" "$nb.tmp" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    nb = json.load(f)
for cell in nb["cells"]:
    cell.get("metadata", {}).pop("execution", None)
with open(sys.argv[2], "w") as f:
    json.dump(nb, f, indent=1, ensure_ascii=False)
    f.write("\n")
EOF
    mv -f "$nb.tmp" "$nb"
  fi
done
if ((failed)); then
  echo "notebooks-run: FAILED" >&2
  exit 1
fi
echo "notebooks-run: all ${#files[@]} notebooks ok"
