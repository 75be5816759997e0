package fetch

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Digest is a file's expected hash: the algorithm ("sha256" or "sha1") and
// its hex digits. For sha256, fewer than 64 digits pin a prefix (torch.hub's
// convention: torchvision's file names carry the first 8 hex digits of the
// file's SHA-256, which torch.hub checks).
type Digest struct {
	Algo string
	Hex  string
}

func (d Digest) String() string {
	if d.Algo == "sha256" && len(d.Hex) < 64 {
		return fmt.Sprintf("sha256 %s... (prefix)", d.Hex)
	}
	return d.Algo + " " + d.Hex
}

func (d Digest) validate() error {
	if _, err := hex.DecodeString(d.Hex); err != nil || len(d.Hex) == 0 {
		return errors.Errorf("fetch: digest %q is not hex", d.Hex)
	}
	switch {
	case d.Algo == "sha256" && len(d.Hex) <= 64 && len(d.Hex) >= 8:
	case d.Algo == "sha1" && len(d.Hex) == 40:
	default:
		return errors.Errorf("fetch: digest %s %q (want sha256 with 8 to 64 hex digits, or sha1 with 40)", d.Algo, d.Hex)
	}
	return nil
}

func (d Digest) newHash() hash.Hash {
	if d.Algo == "sha1" {
		return sha1.New()
	}
	return sha256.New()
}

// matches reports whether sum (the full digest) satisfies d.
func (d Digest) matches(sum []byte) bool {
	return strings.HasPrefix(hex.EncodeToString(sum), strings.ToLower(d.Hex))
}

// Source is a file to fetch: where it is published, its file name and how
// to verify it.
type Source struct {
	// Name is what `googlenet fetch NAME` calls it.
	Name string
	URL  string
	// File is the name it is stored under (default: the URL's base name).
	File   string
	Digest Digest
	// Size in bytes when the publisher states it (0: unknown).
	Size int64
	// Note says what the file is.
	Note string
}

// Published are the official GoogLeNet weight files.
var Published = []Source{
	{
		Name: "torchvision", URL: "https://download.pytorch.org/models/googlenet-1378be20.pth",
		Digest: Digest{"sha256", "1378be20"},
		Note:   "torchvision's IMAGENET1K_V1 GoogLeNet state dict (BSD-3-Clause); the publisher pins the first 8 hex digits of its SHA-256",
	},
	{
		Name: "zoo", URL: "https://github.com/onnx/models/raw/main/validated/vision/classification/inception_and_googlenet/googlenet/model/googlenet-7.onnx",
		Digest: Digest{"sha256", "5725ccfd90845735ce5897faf7843c3f9b13acda3c4f3bff82cb21c9337c9de8"}, Size: 28020232,
		Note: "the ONNX model zoo's GoogLeNet, opset 7 (Caffe BVLC -> Caffe2 -> ONNX; input data_0, output prob_0; BSD-3-Clause); SHA-256 from the repository's Git LFS pointer",
	},
	{
		Name: "caffe", URL: "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
		Digest: Digest{"sha1", "405fc5acd08a3bb12de8ee5e23a96bec22f08204"},
		Note:   "BVLC's bvlc_googlenet.caffemodel (unrestricted use); Caffe's model readme publishes its SHA-1",
	},
}

// Lookup returns the published source called name.
func Lookup(name string) (Source, error) {
	var names []string
	for _, s := range Published {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Source{}, errors.Errorf("fetch: unknown source %q (want %s)", name, strings.Join(names, ", "))
}

// URLSource returns a source for any URL with a full SHA-256, stored under
// the URL's base name (for mirrors and air-gapped sites).
func URLSource(rawURL, sha256Hex string) (Source, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Source{}, errors.Errorf("fetch: %q is not an http(s) URL", rawURL)
	}
	base := path.Base(u.Path)
	if base == "." || base == "/" || base == "" {
		return Source{}, errors.Errorf("fetch: %q names no file", rawURL)
	}
	d := Digest{"sha256", strings.ToLower(sha256Hex)}
	if len(d.Hex) != 64 {
		return Source{}, errors.Errorf("fetch: --sha256 needs the 64 hex digits of the file's SHA-256, got %d characters", len(sha256Hex))
	}
	if err := d.validate(); err != nil {
		return Source{}, err
	}
	return Source{Name: base, URL: rawURL, File: base, Digest: d}, nil
}

func (s Source) file() string {
	if s.File != "" {
		return s.File
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return path.Base(s.URL)
	}
	return path.Base(u.Path)
}

// CacheDir returns the default folder of fetched files: GOOGLENET_CACHE when
// set, else googlenet/weights under the user's cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("GOOGLENET_CACHE"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", errors.Wrap(err, "fetch: no cache directory (set GOOGLENET_CACHE or pass a folder)")
	}
	return filepath.Join(base, "googlenet", "weights"), nil
}

// Options configures Fetch.
type Options struct {
	// Dir is the destination folder (created if missing); "" means
	// CacheDir().
	Dir string
	// Client does the requests; nil means http.DefaultClient.
	Client *http.Client
	// Progress, when set, is called as bytes arrive with the bytes so far
	// (a resumed download starts at the partial file's size) and the total
	// (-1 when unknown).
	Progress func(done, total int64)
}

// Result says what Fetch did.
type Result struct {
	Path string
	// Cached: the file was already there with the right hash.
	Cached bool
	// Resumed is the number of bytes a previous partial download
	// contributed.
	Resumed int64
	// SHA256 is the file's full SHA-256 (hex).
	SHA256 string
}

// Fetch downloads src into o.Dir as src's file name and verifies its hash.
// The bytes go to NAME.partial beside it, which is renamed to NAME only
// after the hash matches. An interrupted or truncated transfer keeps the
// partial file, and the next call resumes it with an HTTP Range request
// (starting over if the server ignores ranges). A hash mismatch removes the
// partial file and leaves nothing. A file already at the destination is
// verified and kept (Result.Cached) or, if its hash differs, reported and
// left alone. Errors say which URL to download by hand and where to put the
// file.
func Fetch(ctx context.Context, src Source, o Options) (*Result, error) {
	if err := src.Digest.validate(); err != nil {
		return nil, err
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = CacheDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errors.Wrap(err, "fetch")
	}
	dst := filepath.Join(dir, src.file())
	byHand := func(err error) error {
		return errors.Wrapf(err, "fetch: %s (download it by hand from %s, check its %s, and put it at %s)", src.Name, src.URL, src.Digest, dst)
	}
	if _, err := os.Stat(dst); err == nil {
		sum, full, err := hashFile(dst, src.Digest)
		if err != nil {
			return nil, errors.Wrap(err, "fetch")
		}
		if !src.Digest.matches(sum) {
			return nil, errors.Errorf("fetch: %s already exists but its %s is %x, not %s: remove it or choose another folder", dst, src.Digest.Algo, sum, src.Digest.Hex)
		}
		return &Result{Path: dst, Cached: true, SHA256: full}, nil
	}
	part := dst + ".partial"
	res := &Result{Path: dst}
	if err := download(ctx, src, part, o, res); err != nil {
		return nil, byHand(err)
	}
	sum, full, err := hashFile(part, src.Digest)
	if err != nil {
		return nil, errors.Wrap(err, "fetch")
	}
	if !src.Digest.matches(sum) {
		os.Remove(part)
		return nil, errors.Errorf("fetch: %s from %s has %s %x, want %s: the file is not the published one (removed; nothing was kept)",
			src.file(), src.URL, src.Digest.Algo, sum, src.Digest.Hex)
	}
	if src.Size > 0 {
		if st, err := os.Stat(part); err == nil && st.Size() != src.Size {
			os.Remove(part)
			return nil, errors.Errorf("fetch: %s is %d bytes, the publisher says %d (removed)", src.file(), st.Size(), src.Size)
		}
	}
	if err := os.Rename(part, dst); err != nil {
		return nil, errors.Wrap(err, "fetch")
	}
	res.SHA256 = full
	return res, nil
}

// download writes the URL's bytes to part, appending to an existing partial
// file when the server honours a Range request.
func download(ctx context.Context, src Source, part string, o Options, res *Result) error {
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	flags := os.O_CREATE | os.O_WRONLY
	total := int64(-1)
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, size, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return errors.Errorf("GET %s: the server resumed at %q, not at byte %d", src.URL, resp.Header.Get("Content-Range"), have)
		}
		flags |= os.O_APPEND
		res.Resumed, total = have, size
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The partial file is already complete: verify it.
		res.Resumed = have
		return nil
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
		total = resp.ContentLength
	default:
		return errors.Errorf("GET %s: %s", src.URL, resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	w := &counter{w: f, n: have, total: total, progress: o.Progress}
	_, cerr := io.Copy(w, resp.Body)
	serr := f.Sync()
	if err := f.Close(); err != nil && cerr == nil {
		cerr = err
	}
	if cerr == nil {
		cerr = serr
	}
	if cerr != nil {
		return errors.Wrapf(cerr, "GET %s: transfer interrupted after %d bytes (kept in %s; run again to resume)", src.URL, w.n, part)
	}
	if total >= 0 && w.n != total {
		return errors.Errorf("GET %s: transfer ended after %d of %d bytes (kept in %s; run again to resume)", src.URL, w.n, total, part)
	}
	return nil
}

// contentRange parses "bytes START-END/SIZE".
func contentRange(s string) (start, size int64, ok bool) {
	s, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(s, "/")
	a, _, found2 := strings.Cut(rng, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	size = -1
	if sz != "*" {
		var err error
		if size, err = strconv.ParseInt(sz, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, size, err1 == nil
}

type counter struct {
	w        io.Writer
	n, total int64
	progress func(done, total int64)
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.progress != nil {
		c.progress(c.n, c.total)
	}
	return n, err
}

// hashFile returns the digest of d's algorithm and the SHA-256 of the file.
func hashFile(p string, d Digest) (sum []byte, sha string, err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	h, s := d.newHash(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(h, s), f); err != nil {
		return nil, "", err
	}
	return h.Sum(nil), hex.EncodeToString(s.Sum(nil)), nil
}
