package detection

import (
	"context"
	"encoding/json"
	"image"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/pkg/errors"
)

// LoadImage decodes an annotated image (Annotation.Path) and checks it
// against its annotation: the size, when annotated, must match, and every
// box must lie inside the image. Errors name the file.
func LoadImage(a *Annotation) (image.Image, error) {
	if a.Path == "" {
		return nil, errors.Errorf("detection: image %s has no file", a.ID)
	}
	img, err := decodeImageFile(a.Path)
	if err != nil {
		return nil, errors.Wrap(err, "detection")
	}
	b := img.Bounds()
	if a.Width > 0 && (b.Dx() != a.Width || b.Dy() != a.Height) {
		return nil, errors.Errorf("detection: %s is %dx%d, its annotation says %dx%d", a.Path, b.Dx(), b.Dy(), a.Width, a.Height)
	}
	for _, o := range a.Objects {
		if !o.Box.Inside(b.Dx(), b.Dy()) {
			return nil, errors.Errorf("detection: %s: box %v of %q outside the %dx%d image", a.Path, o.Box, o.Name, b.Dx(), b.Dy())
		}
	}
	return img, nil
}

// Proposals holds the proposals of a set of images.
type Proposals struct {
	// Options are the selective search settings that made them.
	Options SearchOptions `json:"options"`
	// Boxes maps an image id to its proposals, best-ranked first.
	Boxes map[string][]Box `json:"boxes"`
	// MsPerImage is the mean wall time of selective search per image (on
	// all the workers' cores together: elapsed time / images).
	MsPerImage float64 `json:"ms_per_image"`
}

// ComputeProposals runs selective search on every image of anns on
// workers goroutines (0: GOMAXPROCS). Unreadable images are errors naming
// the file. progress, when not nil, is called after every image.
func ComputeProposals(ctx context.Context, anns []Annotation, o SearchOptions, workers int, progress func(done, total int)) (*Proposals, error) {
	if _, err := o.withDefaults(); err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Proposals{Options: o, Boxes: make(map[string][]Box, len(anns))}
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	done := 0
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := LoadImage(&anns[i])
				var boxes []Box
				if err == nil {
					boxes, err = SelectiveSearch(img, o)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				p.Boxes[anns[i].ID] = boxes
				done++
				if progress != nil {
					progress(done, len(anns))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range anns {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.Wrap(err, "detection: proposals")
	}
	p.MsPerImage = float64(time.Since(start).Microseconds()) / 1000 / float64(max(len(anns), 1))
	return p, nil
}

// ProposalStats measures proposals against ground truth.
type ProposalStats struct {
	Images int `json:"images"`
	// Objects counts the objects that are not difficult.
	Objects int `json:"objects"`
	// Recall is the fraction of objects with a proposal of IoU >= 0.5.
	Recall float64 `json:"recall50"`
	// MABO is the mean over objects of the best overlap of a proposal.
	MABO float64 `json:"mabo"`
	// PerImage is the mean number of proposals per image.
	PerImage   float64 `json:"proposals_per_image"`
	MsPerImage float64 `json:"ms_per_image"`
}

// Measure computes recall at IoU 0.5, the mean best overlap and the
// proposals per image over anns, using each image's first limit proposals
// (0: all). Images without proposals count as proposing nothing.
func (p *Proposals) Measure(anns []Annotation, limit int) ProposalStats {
	var s ProposalStats
	var hit int
	var sumBest, sumN float64
	for _, a := range anns {
		boxes := p.Boxes[a.ID]
		if limit > 0 && len(boxes) > limit {
			boxes = boxes[:limit]
		}
		s.Images++
		sumN += float64(len(boxes))
		for _, o := range a.Objects {
			if o.Difficult {
				continue
			}
			best := 0.0
			for _, b := range boxes {
				best = math.Max(best, IoU(b, o.Box))
			}
			s.Objects++
			sumBest += best
			if best >= 0.5 {
				hit++
			}
		}
	}
	if s.Objects > 0 {
		s.Recall, s.MABO = float64(hit)/float64(s.Objects), sumBest/float64(s.Objects)
	}
	if s.Images > 0 {
		s.PerImage = sumN / float64(s.Images)
	}
	s.MsPerImage = p.MsPerImage
	return s
}

// WriteProposals writes p as JSON.
func WriteProposals(w io.Writer, p *Proposals) error {
	type file struct {
		Options    SearchOptions           `json:"options"`
		MsPerImage float64                 `json:"ms_per_image"`
		Boxes      map[string][][4]float64 `json:"boxes"`
	}
	f := file{Options: p.Options, MsPerImage: p.MsPerImage, Boxes: map[string][][4]float64{}}
	ids := make([]string, 0, len(p.Boxes))
	for id := range p.Boxes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		bs := make([][4]float64, len(p.Boxes[id]))
		for i, b := range p.Boxes[id] {
			bs[i] = [4]float64{b.X1, b.Y1, b.X2, b.Y2}
		}
		f.Boxes[id] = bs
	}
	return errors.Wrap(json.NewEncoder(w).Encode(&f), "detection: write proposals")
}

// ReadProposals reads a file WriteProposals wrote; boxes must be finite and
// not inverted. name appears in errors.
func ReadProposals(r io.Reader, name string) (*Proposals, error) {
	var f struct {
		Options    SearchOptions           `json:"options"`
		MsPerImage float64                 `json:"ms_per_image"`
		Boxes      map[string][][4]float64 `json:"boxes"`
	}
	if err := readJSON(r, name, &f); err != nil {
		return nil, errors.Wrap(err, "proposals")
	}
	p := &Proposals{Options: f.Options, MsPerImage: f.MsPerImage, Boxes: make(map[string][]Box, len(f.Boxes))}
	for id, bs := range f.Boxes {
		out := make([]Box, len(bs))
		for i, b := range bs {
			box := Box{b[0], b[1], b[2], b[3]}
			if !box.Valid() {
				return nil, errors.Errorf("proposals %s: image %s: proposal %d %v is empty, inverted or not finite", name, id, i, b)
			}
			out[i] = box
		}
		p.Boxes[id] = out
	}
	return p, nil
}

// ReadProposalsFile reads a proposals file.
func ReadProposalsFile(path string) (*Proposals, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "detection: proposals")
	}
	defer f.Close()
	return ReadProposals(f, path)
}

// WriteProposalsFile writes a proposals file atomically.
func WriteProposalsFile(path string, p *Proposals) error {
	return writeAtomic(path, func(w io.Writer) error { return WriteProposals(w, p) })
}
