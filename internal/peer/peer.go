package peer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultPython is Debian's interpreter, which has python3-torch,
// python3-torchvision and python3-onnx when they are installed.
const DefaultPython = "/usr/bin/python3"

// TB is the part of testing.TB that the lookups use.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Required reports whether GOOGLENET_REQUIRE_PEERS asks for every peer to
// be present.
func Required() bool { return os.Getenv("GOOGLENET_REQUIRE_PEERS") == "1" }

// Missing skips t with msg, or fails it when peers are required.
func Missing(t TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("peer required (GOOGLENET_REQUIRE_PEERS=1) but missing: %s", msg)
		return
	}
	t.Skipf("skipping: %s (set GOOGLENET_REQUIRE_PEERS=1 to fail instead)", msg)
}

// PythonPath returns the interpreter named by GOOGLENET_PYTHON, or
// DefaultPython.
func PythonPath() string {
	if p := os.Getenv("GOOGLENET_PYTHON"); p != "" {
		return p
	}
	return DefaultPython
}

// Python returns an interpreter that can import every module in modules
// (for example "torch", "torchvision", "onnx"), or skips or fails t (see
// Missing). The install hint names Debian's packages.
func Python(t TB, modules ...string) string {
	t.Helper()
	py := PythonPath()
	code := "pass"
	if len(modules) > 0 {
		code = "import " + strings.Join(modules, ", ")
	}
	if out, err := exec.Command(py, "-c", code).CombinedOutput(); err != nil {
		Missing(t, py+" cannot run `"+code+"` ("+strings.TrimSpace(lastLine(string(out)))+"); install Debian's python3 "+debPackages(modules))
	}
	return py
}

// Node returns a Node.js binary and a folder whose node_modules holds
// onnxruntime-node, or skips or fails t (see Missing).
func Node(t TB) (node, ortDir string) {
	t.Helper()
	node = os.Getenv("GOOGLENET_NODE")
	if node == "" {
		p, err := exec.LookPath("node")
		if err != nil {
			Missing(t, "node is not on PATH (apt-get install nodejs npm)")
			return "", ""
		}
		node = p
	}
	ortDir = ORTDir()
	if _, err := os.Stat(filepath.Join(ortDir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		Missing(t, "onnxruntime-node is not installed in "+ortDir+" (npm install --prefix "+ortDir+" --ignore-scripts onnxruntime-node@1.30.0)")
		return "", ""
	}
	return node, ortDir
}

// ORTDir is the folder whose node_modules holds onnxruntime-node:
// GOOGLENET_ORT_DIR, else googlenet/ort under the user's cache directory.
func ORTDir() string {
	if d := os.Getenv("GOOGLENET_ORT_DIR"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "googlenet", "ort")
}

func debPackages(modules []string) string {
	var pk []string
	for _, m := range modules {
		switch m {
		case "torch", "torchvision", "onnx", "numpy", "skimage", "cv2", "google.protobuf", "PIL":
			name := map[string]string{"skimage": "skimage", "cv2": "opencv", "google.protobuf": "protobuf", "PIL": "pil"}[m]
			if name == "" {
				name = m
			}
			pk = append(pk, "python3-"+name)
		}
	}
	if len(pk) == 0 {
		return ""
	}
	return "and " + strings.Join(pk, " ")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
