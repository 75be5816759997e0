#!/usr/bin/env bash
# notebooks-setup.sh: install what the notebooks in docs/notebooks need and
# register the Jupyter kernels.
#
#   scripts/notebooks-setup.sh                 Jupyter, GoNB and the gophernotes kernel
#   scripts/notebooks-setup.sh --no-gophernotes  Jupyter and GoNB only
#   scripts/notebooks-setup.sh --notebook        also the Jupyter Notebook server (Debian's
#                                              jupyter-notebook), to open them interactively
#   scripts/notebooks-setup.sh --gopls           also gopls (GoNB's autocompletion and
#                                              contextual help in interactive use;
#                                              version: $GOPLS_VERSION, default v0.21.1)
#
# Steps (each skipped when already done, so running it again is cheap):
#   1. Jupyter from Debian: jupyter-client jupyter-nbconvert python3-nbclient
#      python3-ipykernel, and graphviz (dot, to draw the module graphs).
#      Needs root or sudo, only when a package is missing.
#   2. GoNB (github.com/janpfeifer/gonb, the primary kernel: it compiles real
#      Go) and goimports, built through the Go module proxy at pinned versions
#      from a throwaway module; `gonb --install` registers the "gonb" kernel.
#   3. gophernotes (github.com/gopherdata/gophernotes) rebuilt with a newer
#      gomacro and this checkout's packages compiled into the kernel binary
#      (gophernotes v0.7.5 as published dies on Go 1.26 and cannot load
#      Gorgonia as a plugin), and with its display package's JSONer binding
#      fixed (the newer gomacro rejects it at start-up). Registered as the
#      "gophernotes-googlenet" kernel. The binary embeds the library, so it is
#      rebuilt whenever the library sources (or this script) change.
# Neither kernel's source is kept in this repository: both are fetched by the
# go command at build time into a temporary directory.
#
# Environment:
#   GOBIN            where binaries go (default: $(go env GOPATH)/bin)
#   JUPYTER_DATA_DIR where kernel specs go (default: ~/.local/share/jupyter)
#   NOTEBOOKS_LOG    the build log (default: a temporary file, kept on failure)
# Output is one line per step; on failure the log's tail is printed and the
# exit status is non-zero.
set -euo pipefail

GONB_VERSION=v0.11.1
XTOOLS_VERSION=v0.30.0  # goimports; also the go/packages gomacro loads types with
GOPLS_VERSION=${GOPLS_VERSION:-v0.21.1} # x/tools v0.30 (gopls v0.18) does not compile on Go 1.26
GOPHERNOTES_VERSION=v0.7.5
GOMACRO_VERSION=v0.0.0-20240506194242-2ff796e3da10
# Packages compiled into the gophernotes kernel (importable from its cells).
GOPHERNOTES_PACKAGES=(
  github.com/goinception/googlenet/inception
  github.com/goinception/googlenet/graph
)

want_gophernotes=1
want_gopls=0
want_server=0
for arg in "$@"; do
  case $arg in
  --notebook) want_server=1 ;;
  --no-gophernotes) want_gophernotes=0 ;;
  --gopls) want_gopls=1 ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "notebooks-setup: unknown argument $arg (try --help)" >&2
    exit 2
    ;;
  esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v go >/dev/null || {
  echo "notebooks-setup: the go command is not on PATH" >&2
  exit 1
}
gobin=${GOBIN:-$(go env GOPATH)/bin}
mkdir -p "$gobin"
gobin=$(cd "$gobin" && pwd)
goroot_bin=$(go env GOROOT)/bin
jupyter_data=${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}
export JUPYTER_DATA_DIR=$jupyter_data

work=$(mktemp -d "${TMPDIR:-/tmp}/notebooks-setup.XXXXXX")
log=${NOTEBOOKS_LOG:-$work.log}
: >"$log"
cleanup() {
  local rc=$?
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
  if [[ $rc -ne 0 ]]; then
    echo "notebooks-setup: FAILED (exit $rc); last lines of $log:" >&2
    tail -n 40 "$log" >&2
  elif [[ -z ${NOTEBOOKS_LOG:-} ]]; then
    rm -f "$log"
  fi
}
trap cleanup EXIT

step() { printf 'notebooks-setup: %s\n' "$*"; }
# run CMD...: run quietly, everything into the log.
run() {
  echo "+ $*" >>"$log"
  "$@" >>"$log" 2>&1
}
# Throwaway modules resolve exact versions; the proxy refuses some version
# lists, and gomacro/gophernotes are not all in the checksum database.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/cosmos72,github.com/gopherdata
export GOFLAGS="${GOFLAGS:-} -mod=mod"

start=$SECONDS

# 1. Debian packages.
debs=(jupyter-client jupyter-nbconvert python3-nbclient python3-ipykernel python3-nbformat graphviz)
((want_server)) && debs+=(jupyter-notebook)
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok installed' || missing+=("$d")
done
if ((${#missing[@]})); then
  step "installing Debian packages: ${missing[*]}"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the package lists cannot resolve a package.
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    run "${sudo[@]}" apt-get update
  fi
  for try in 1 2 3 4 5 6; do
    if run "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
      break
    fi
    ((try < 6)) || exit 1
    step "apt-get failed (dpkg lock?), retrying in 20 s"
    sleep 20
  done
else
  step "Debian packages: already installed"
fi
command -v jupyter >/dev/null || {
  echo "notebooks-setup: jupyter not on PATH after installing" >&2
  exit 1
}

# stamp_ok FILE CONTENT: whether FILE holds CONTENT (a build made with the
# same inputs); stamps live next to the binaries.
stamp_ok() { [[ -f $1 ]] && [[ $(cat "$1") == "$2" ]]; }

# 2. GoNB and goimports (and gopls on request).
tools_stamp="gonb $GONB_VERSION goimports $XTOOLS_VERSION $(go env GOVERSION)"
if stamp_ok "$gobin/.gonb-notebooks.stamp" "$tools_stamp" && [[ -x $gobin/gonb && -x $gobin/goimports ]]; then
  step "GoNB $GONB_VERSION and goimports $XTOOLS_VERSION: already built"
else
  step "building GoNB $GONB_VERSION and goimports $XTOOLS_VERSION"
  mkdir -p "$work/tools"
  (
    cd "$work/tools"
    run go mod init notebooks-setup/tools
    run go get "github.com/janpfeifer/gonb@$GONB_VERSION" "golang.org/x/tools/cmd/goimports@$XTOOLS_VERSION"
    GOBIN=$gobin run go install github.com/janpfeifer/gonb golang.org/x/tools/cmd/goimports
  )
  echo "$tools_stamp" >"$gobin/.gonb-notebooks.stamp"
fi
if ((want_gopls)); then
  gopls_stamp="gopls $GOPLS_VERSION $(go env GOVERSION)"
  if stamp_ok "$gobin/.gopls-notebooks.stamp" "$gopls_stamp" && [[ -x $gobin/gopls ]]; then
    step "gopls $GOPLS_VERSION: already built"
  else
    step "building gopls $GOPLS_VERSION"
    mkdir -p "$work/gopls"
    (
      cd "$work/gopls"
      run go mod init notebooks-setup/gopls
      run go get "golang.org/x/tools/gopls@$GOPLS_VERSION"
      GOBIN=$gobin run go install golang.org/x/tools/gopls
    )
    echo "$gopls_stamp" >"$gobin/.gopls-notebooks.stamp"
  fi
fi

# write_kernel_env KERNEL_JSON KEY=VALUE...: add environment variables to a
# kernel spec (Jupyter passes a spec's "env" to the kernel process), so the
# kernel finds go, goimports and its settings however Jupyter was started.
write_kernel_env() {
  local spec=$1
  shift
  run /usr/bin/env python3 - "$spec" "$@" <<'EOF'
import json, os, sys, tempfile
path = sys.argv[1]
with open(path) as f:
    spec = json.load(f)
env = spec.get("env") or {}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    env[k] = v
spec["env"] = env
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
with os.fdopen(fd, "w") as f:
    json.dump(spec, f, indent=1)
    f.write("\n")
os.replace(tmp, path)
EOF
}

kernel_path="$gobin:$goroot_bin:/usr/local/bin:/usr/bin:/bin"
step "registering the GoNB kernel (gonb) in $jupyter_data/kernels"
# GoNB refuses to register without gopls unless told to: gopls only serves
# autocompletion and contextual help, which headless runs do not use.
deps_flag=--force_deps
[[ -x $gobin/gopls ]] && deps_flag=
(cd "$work" && PATH=$gobin:$PATH run "$gobin/gonb" --install $deps_flag)
write_kernel_env "$jupyter_data/kernels/gonb/kernel.json" "PATH=$kernel_path"

# 3. gophernotes with this checkout's packages compiled in.
if ((want_gophernotes)); then
  # Inputs of the build: versions, Go, and every non-test Go file and go.mod
  # of this checkout (the kernel embeds the packages).
  src_hash=$(cd "$repo" && {
    cat go.mod go.sum
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files -co --exclude-standard -- '*.go' ':!:*_test.go'
    else
      find . -name '*.go' ! -name '*_test.go' -printf '%P\n'
    fi | LC_ALL=C sort | xargs -r sha256sum
  } | sha256sum | cut -c1-16)
  script_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
  gn_stamp="script $script_hash gophernotes $GOPHERNOTES_VERSION gomacro $GOMACRO_VERSION tools $XTOOLS_VERSION $(go env GOVERSION) ${GOPHERNOTES_PACKAGES[*]} src $src_hash"
  gn_bin=$gobin/gophernotes-googlenet
  if stamp_ok "$gobin/.gophernotes-googlenet.stamp" "$gn_stamp" && [[ -x $gn_bin ]]; then
    step "gophernotes kernel: already built for these sources"
  else
    step "building gophernotes $GOPHERNOTES_VERSION (gomacro $GOMACRO_VERSION) with ${#GOPHERNOTES_PACKAGES[@]} packages compiled in"
    # gomacro writes generated import bindings into $GOPATH/src/<path of
    # gophernotes/imports>: give it a private GOPATH holding a writable copy
    # of gophernotes, keeping the real module and build caches.
    gopath=$work/gopath
    kdir=$gopath/src/github.com/gopherdata/gophernotes
    mkdir -p "$work/fetch" "$(dirname "$kdir")"
    src=$(cd "$work/fetch" && go mod download -json "github.com/gopherdata/gophernotes@$GOPHERNOTES_VERSION" |
      /usr/bin/env python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    cp -r "$src" "$kdir"
    chmod -R u+w "$kdir"
    cd "$kdir"
    # gophernotes v0.7.5's bindings of its own display package declare the
    # JSONer proxy with the wrong method signature (JSON() string instead of
    # JSON() map[string]interface{}); newer gomacro validates proxies and
    # refuses to start. Fix the copy.
    sed -i -e 's/JSON_  func(interface{}) string$/JSON_  func(interface{}) map[string]interface{}/' \
      -e 's/^func (P \*proxy_JSONer) JSON() string {$/func (P *proxy_JSONer) JSON() map[string]interface{} {/' x_package.go
    [[ $(grep -c 'map\[string\]interface{}' x_package.go) -ge 2 ]] || {
      echo "notebooks-setup: could not patch gophernotes' JSONer proxy (x_package.go changed?)" >>"$log"
      exit 1
    }
    run go mod edit -go=1.22 \
      -require="github.com/cosmos72/gomacro@$GOMACRO_VERSION" \
      -require="golang.org/x/tools@$XTOOLS_VERSION" \
      -require=github.com/goinception/googlenet@v0.0.0-00010101000000-000000000000 \
      -replace="github.com/goinception/googlenet=$repo"
    # A generator that asks gomacro's importer for the bindings of each
    # package ("import _b" mode: a file in gophernotes/imports).
    mkdir -p "$kdir/internal/genbindings"
    cat >"$kdir/internal/genbindings/main.go" <<'EOF'
// Command genbindings writes gomacro import bindings for the packages named
// on the command line into github.com/gopherdata/gophernotes/imports.
package main

import (
	"fmt"
	"os"

	"github.com/cosmos72/gomacro/base/genimport"
	"github.com/cosmos72/gomacro/base/output"
	_ "github.com/gopherdata/gophernotes/imports" // sets where bindings go
)

func main() {
	o := &output.Output{Stdout: os.Stdout, Stderr: os.Stderr}
	imp := genimport.DefaultImporter(o)
	for _, path := range os.Args[1:] {
		if _, err := imp.ImportPackagesOrError(map[string]genimport.PackageName{path: "_b"}, true); err != nil {
			fmt.Fprintf(os.Stderr, "genbindings: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}
EOF
    # Import the packages from the generator too, so that `go mod tidy`
    # resolves them and their dependencies now.
    {
      printf 'package main\n\nimport (\n'
      printf '\t_ "%s"\n' "${GOPHERNOTES_PACKAGES[@]}"
      printf ')\n'
    } >"$kdir/internal/genbindings/deps.go"
    run go mod tidy
    # gomacro runs `go get <package>` before loading types; with the
    # module graph complete, GOPROXY=off keeps that from asking the proxy
    # about this (unpublished) module.
    modcache=$(go env GOMODCACHE)
    GOPATH=$gopath GOMODCACHE=$modcache GOPROXY=off GODEBUG=gotypesalias=0 \
      run go run ./internal/genbindings "${GOPHERNOTES_PACKAGES[@]}"
    for p in "${GOPHERNOTES_PACKAGES[@]}"; do
      f=imports/$(echo "$p" | sed 's/[^A-Za-z0-9]/_/g').go
      [[ -s $f ]] || {
        echo "notebooks-setup: gomacro wrote no bindings for $p ($f)" >>"$log"
        ls imports >>"$log"
        exit 1
      }
    done
    rm -rf internal/genbindings
    # go/types aliases confuse gomacro: keep the old representation.
    printf '//go:debug gotypesalias=0\n\npackage main\n' >zz_godebug.go
    run go mod tidy
    run go build -o "$gn_bin.tmp" .
    mv -f "$gn_bin.tmp" "$gn_bin"
    cd "$work"
    echo "$gn_stamp" >"$gobin/.gophernotes-googlenet.stamp"
  fi
  step "registering the gophernotes kernel (gophernotes-googlenet)"
  kdir_spec=$jupyter_data/kernels/gophernotes-googlenet
  mkdir -p "$kdir_spec"
  cat >"$kdir_spec/kernel.json.tmp" <<EOF
{
 "argv": ["$gn_bin", "{connection_file}"],
 "display_name": "Go (gophernotes, googlenet packages)",
 "language": "go",
 "env": {"PATH": "$kernel_path", "GODEBUG": "gotypesalias=0"}
}
EOF
  mv -f "$kdir_spec/kernel.json.tmp" "$kdir_spec/kernel.json"
fi

step "done in $((SECONDS - start)) s; kernels: $(jupyter kernelspec list 2>/dev/null | awk 'NR>1{printf "%s ", $1}')"
