package atomicfile

import (
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// WriteFile calls write with a temporary file in the directory of path and,
// if write succeeds, renames the temporary file to path with permissions
// perm. If write or any file operation fails, the temporary file is removed,
// path is left as it was, and the error is returned.
func WriteFile(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return errors.Wrapf(err, "atomicfile: creating temporary file for %s", path)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return errors.Wrapf(err, "atomicfile: writing %s", path)
	}
	if err = f.Chmod(perm); err != nil {
		return errors.Wrapf(err, "atomicfile: setting permissions of %s", path)
	}
	if err = f.Sync(); err != nil {
		return errors.Wrapf(err, "atomicfile: syncing %s", path)
	}
	if err = f.Close(); err != nil {
		return errors.Wrapf(err, "atomicfile: closing %s", path)
	}
	if err = os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "atomicfile: renaming into %s", path)
	}
	return nil
}
