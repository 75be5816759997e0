package peer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PhotoNames are the colour photographs of Debian's python3-skimage data
// that tests use (public domain or CC0, see the package's README.txt): four
// PNGs and one baseline JPEG.
var PhotoNames = []string{"astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg"}

// Photos returns the paths of the named photographs (all of PhotoNames when
// none are named) from scikit-image's data folder, or skips or fails t
// (see Missing) when python3-skimage is not installed.
func Photos(t TB, names ...string) []string {
	t.Helper()
	if len(names) == 0 {
		names = PhotoNames
	}
	dir := "/usr/lib/python3/dist-packages/skimage/data"
	if _, err := os.Stat(filepath.Join(dir, names[0])); err != nil {
		out, err := exec.Command(PythonPath(), "-c", "import os, skimage.data; print(os.path.dirname(skimage.data.__file__))").Output()
		if err != nil {
			Missing(t, "scikit-image's photographs are not installed (apt-get install python3-skimage)")
			return nil
		}
		dir = strings.TrimSpace(string(out))
	}
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(dir, n)
		if _, err := os.Stat(paths[i]); err != nil {
			Missing(t, "photograph "+paths[i]+" is missing (apt-get install python3-skimage)")
			return nil
		}
	}
	return paths
}
