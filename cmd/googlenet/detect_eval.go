package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goinception/googlenet/detection"
)

func runDetectEval(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, true)
	dataSpec := fs.String("data", "", "dataset: voc:DIR (required)")
	split := fs.String("split", "test", "split to evaluate: a list in DIR/ImageSets/Main")
	proposals := fs.String("proposals", "", "proposals file (default: the one googlenet detect proposals caches in DIR; computed when missing)")
	sf := addSearchFlags(fs)
	top := fs.Int("top", 0, "classify only the N best-ranked cached proposals of each image (0: all)")
	limit := fs.Int("limit", 0, "evaluate the first N images of the split only (0: all)")
	oracle := fs.Bool("oracle", true, "also score jittered ground-truth boxes as the only proposals (classifier errors alone)")
	nms := fs.Float64("nms", 0.3, "per-class NMS threshold")
	minScore := fs.Float64("min-score", 0.01, "drop detections scoring less")
	results := fs.String("results", "", "write the ensemble's detections as a COCO results file")
	asJSON := fs.Bool("json", false, "print the report as a JSON object (top-level map50)")
	reportFile := fs.String("report", "", "also write the JSON report to this file")
	detsFile := fs.String("detections", "", "score a COCO results file of another detector instead of a model (ids of --coco)")
	cocoFile := fs.String("coco", "", "with --detections: the COCO annotations file whose image and category ids the results use (default DIR/<split>.json)")
	skipBad := fs.Bool("skip-bad", false, "skip images with bad annotations, unknown classes or missing files, and count them, instead of failing")
	progress := fs.String("progress", "auto", "progress display: auto, bar, log, none")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet detect eval --weights W[,W...] --data voc:DIR [--split test] [--json] [flags]")
		fmt.Fprintln(fs.Output(), "\nPer-class AP (VOC all-point and 11-point), mAP@0.5, recall, each member's mAP, an oracle row, and a\nTable 4/5-style block. Several weights form an ensemble (probabilities averaged over the same proposals).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int { return usageErrorf(stderr, "detect eval", format, a...) }
	dir, err := vocDir(*dataSpec)
	if err != nil {
		return usageErr("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "googlenet detect eval:", err)
		return 1
	}
	if *detsFile != "" {
		if *wf.weights != "" {
			return usageErr("--detections and --weights exclude each other")
		}
		coco := *cocoFile
		if coco == "" {
			coco = filepath.Join(dir, *split+".json")
		}
		if err := scoreDetections(stdout, dir, *split, coco, *detsFile, *skipBad, *asJSON, *limit); err != nil {
			return fail(err)
		}
		return 0
	}
	if *wf.weights == "" {
		return usageErr("--weights (or --detections) is required")
	}
	det, release, usage, err := openDetector(wf, *nms, *minScore, stderr)
	if err != nil {
		if usage {
			return usageErr("%v", err)
		}
		return fail(err)
	}
	defer release()
	set, err := detection.OpenVOC(dir, *split, detection.VOCOptions{Classes: det.Classes, SkipBad: *skipBad})
	if err != nil {
		return fail(err)
	}
	reportSkipped(stderr, set)
	if *top < 0 || *limit < 0 {
		return usageErr("--top and --limit must not be negative")
	}
	if *limit > 0 && *limit < len(set.Images) {
		set.Images = set.Images[:*limit]
	}
	ctx, stop := signalContext()
	defer stop()
	so := sf.options()
	cache := *proposals
	if cache == "" {
		cache = defaultProposalFile(dir, *split, so)
	}
	props, err := loadOrComputeProposals(ctx, cache, set.Images, so, *progress, stderr)
	if err != nil {
		return fail(err)
	}
	if *top > 0 {
		for id, bs := range props.Boxes {
			if len(bs) > *top {
				props.Boxes[id] = bs[:*top]
			}
		}
	}
	start := time.Now()
	prog, done := countProgress(*progress, "detecting", stderr)
	rep, err := det.Evaluate(ctx, set.Images, props, *oracle, prog)
	done()
	if err != nil {
		return fail(err)
	}
	rep.Split = *split
	rep.Seconds = time.Since(start).Seconds()
	if *results != "" {
		f, err := os.CreateTemp(filepath.Dir(*results), ".results*")
		if err != nil {
			return fail(err)
		}
		imageIDs, catIDs, err := cocoIDsFor(filepath.Join(dir, *split+".json"), set.Images)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return fail(err)
		}
		werr := detection.WriteCOCOResults(f, rep.Detections, det.Classes, imageIDs, catIDs)
		cerr := f.Close()
		if werr == nil && cerr == nil {
			werr = os.Rename(f.Name(), *results)
		}
		if werr != nil || cerr != nil {
			os.Remove(f.Name())
			return fail(fmt.Errorf("writing %s: %v %v", *results, werr, cerr))
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fail(err)
	}
	if *reportFile != "" {
		if err := writeFileAtomic(*reportFile, append(b, '\n')); err != nil {
			return fail(err)
		}
	}
	if *asJSON {
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	writeDetectReport(stdout, rep, det.Members[0].Meta.Config.Variant)
	return 0
}

// openDetector selects the device of wf, loads its weights (several are an
// ensemble) and makes the detector of detect eval and detect run, with
// their --nms and --min-score. usage says that an error is the flags'
// (exit status 2); release frees the device.
func openDetector(wf *weightFlags, nms, minScore float64, stderr io.Writer) (det *detection.Detector, release func(), usage bool, err error) {
	release, err = wf.use(stderr)
	if err != nil {
		return nil, nil, exitCode(err) == 2, err
	}
	members, err := wf.load()
	if err == nil {
		if det, err = detection.NewDetector(members); err == nil {
			det.NMS, det.MinScore = nms, minScore
			return det, release, false, nil
		}
	}
	release()
	return nil, nil, false, err
}

// cocoIDsFor returns the image and category ids of a results file: those
// of the split's COCO annotations file when there is one (make-data writes
// test.json), by file name and class name; otherwise WriteCOCO's
// numbering.
func cocoIDsFor(cocoPath string, images []detection.Annotation) (map[string]int64, map[string]int64, error) {
	f, err := os.Open(cocoPath)
	if os.IsNotExist(err) {
		return detection.COCOImageIDs(images), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var c detection.COCO
	err = json.NewDecoder(f).Decode(&c)
	f.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", cocoPath, err)
	}
	byFile := map[string]int64{}
	for _, im := range c.Images {
		byFile[im.FileName] = im.ID
	}
	imageIDs := map[string]int64{}
	for _, a := range images {
		id, ok := byFile[filepath.Base(a.Path)]
		if !ok {
			return nil, nil, fmt.Errorf("%s has no image %s", cocoPath, filepath.Base(a.Path))
		}
		imageIDs[a.ID] = id
	}
	catIDs := map[string]int64{}
	for _, k := range c.Categories {
		catIDs[k.Name] = k.ID
	}
	return imageIDs, catIDs, nil
}

// scoreDetections evaluates a COCO results file on a VOC split: the COCO
// annotations file maps its image ids to file names (and so to the VOC ids)
// and its category ids to class names.
func scoreDetections(w io.Writer, dir, split, cocoPath, detsPath string, skipBad, asJSON bool, limit int) error {
	f, err := os.Open(cocoPath)
	if err != nil {
		return err
	}
	anns, classes, err := detection.ParseCOCO(f, cocoPath)
	f.Close()
	if err != nil {
		return err
	}
	var cats []detection.COCOCategory
	{
		f, err := os.Open(cocoPath)
		if err != nil {
			return err
		}
		var c detection.COCO
		err = json.NewDecoder(f).Decode(&c)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", cocoPath, err)
		}
		cats = c.Categories
	}
	set, err := detection.OpenVOC(dir, split, detection.VOCOptions{Classes: classes, SkipBad: skipBad})
	if err != nil {
		return err
	}
	byFile := map[string]string{}
	for _, a := range set.Images {
		byFile[filepath.Base(a.Path)] = a.ID
	}
	kept := map[string]bool{}
	if limit > 0 && limit < len(set.Images) {
		set.Images = set.Images[:limit]
	}
	for _, a := range set.Images {
		kept[a.ID] = true
	}
	idOf := map[string]string{}
	for _, a := range anns {
		if v, ok := byFile[a.Filename]; ok {
			idOf[a.ID] = v
		}
	}
	rf, err := os.Open(detsPath)
	if err != nil {
		return err
	}
	dets, err := detection.ParseCOCOResults(rf, detsPath, cats)
	rf.Close()
	if err != nil {
		return err
	}
	var in []detection.Detection
	for _, d := range dets {
		v, ok := idOf[d.Image]
		if !ok {
			return fmt.Errorf("%s: detection in image id %s, which is not in %s's %s split", detsPath, d.Image, dir, split)
		}
		if d.Image = v; kept[v] {
			in = append(in, d)
		}
	}
	dets = in
	res, mAP, err := detection.Evaluate(set.Images, dets, classes, detection.EvalOptions{})
	if err != nil {
		return err
	}
	if asJSON {
		b, _ := json.MarshalIndent(map[string]interface{}{"map50": mAP, "classes": res, "detections": len(dets), "images": len(set.Images)}, "", "  ")
		fmt.Fprintln(w, string(b))
		return nil
	}
	fmt.Fprintf(w, "%s: %d detections on %d %s images\n", detsPath, len(dets), len(set.Images), split)
	fmt.Fprintf(w, "%-12s %8s %8s %8s %8s %6s\n", "class", "AP", "AP11", "recall", "objects", "dets")
	var s11 float64
	var n int
	for _, c := range res {
		fmt.Fprintf(w, "%-12s %8.4f %8.4f %8.4f %8d %6d\n", c.Class, c.AP, c.AP11, c.Recall, c.Positives, c.Detections)
		if c.Positives > 0 {
			s11 += c.AP11
			n++
		}
	}
	fmt.Fprintf(w, "%-12s %8.4f %8.4f\n", "mean", mAP, s11/float64(max(n, 1)))
	return nil
}

// writeDetectReport prints per-class AP and the Table 4/5-style block.
func writeDetectReport(w io.Writer, r *detection.Report, variant string) {
	fmt.Fprintf(w, "%d %s images, %d objects; proposals: selective search %s x%g superpixels, %.0f per image, recall@0.5 %.4f, MABO %.4f, %.0f ms/image\n\n",
		r.Images, r.Split, r.Proposals.Objects, r.Search.Mode, r.Search.Superpixels, r.Proposals.PerImage, r.Proposals.Recall, r.Proposals.MABO, r.Proposals.MsPerImage)
	fmt.Fprintf(w, "%-12s %8s %8s %8s %8s %6s\n", "class", "AP", "AP11", "recall", "objects", "dets")
	for _, c := range r.Classes {
		fmt.Fprintf(w, "%-12s %8.4f %8.4f %8.4f %8d %6d\n", c.Class, c.AP, c.AP11, c.Recall, c.Positives, c.Detections)
	}
	fmt.Fprintf(w, "%-12s %8.4f %8.4f %8.4f\n\n", "mean", r.MAP50, r.MAP50x11, r.Recall)
	fmt.Fprintln(w, "Table 4/5 style (the paper's section 8; ILSVRC 2014 GoogLeNet: 43.9% mAP with 6 models, 38.02% single model):")
	fmt.Fprintf(w, "%-34s %8s %9s %-30s %-10s %s\n", "model", "mAP@0.5", "ensemble", "proposals", "context", "bbox regression")
	props := fmt.Sprintf("sel. search %s x%g, %.0f/img", r.Search.Mode, r.Search.Superpixels, r.Proposals.PerImage)
	name := "GoogLeNet " + variant + " R-CNN"
	if r.Ensemble > 1 {
		for i, m := range r.MemberMAP50 {
			fmt.Fprintf(w, "%-34s %8.4f %9d %-30s %-10s %s\n", fmt.Sprintf("  member %d (%s)", i+1, filepath.Base(filepath.Dir(r.Models[i]))), m, 1, props, "no", "no")
		}
	}
	fmt.Fprintf(w, "%-34s %8.4f %9d %-30s %-10s %s\n", name, r.MAP50, r.Ensemble, props, "no", "no")
	if r.Oracle != nil {
		fmt.Fprintf(w, "%-34s %8.4f %9d %-30s %-10s %s\n", "  oracle: jittered ground truth", *r.Oracle, r.Ensemble, "3 jittered boxes per object", "no", "no")
	}
}

func runDetectRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, true)
	out := fs.String("out", "detections", "output folder: <image>.png with the boxes drawn, detections.json")
	sf := addSearchFlags(fs)
	nms := fs.Float64("nms", 0.3, "per-class NMS threshold")
	minScore := fs.Float64("min-score", 0.5, "report detections scoring at least this")
	scale := fs.Int("scale", 0, "draw at this many times the image size (0: 2 for images under 400 pixels, else 1)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet detect run --weights W[,W...] [--out DIR] IMAGE...")
		fmt.Fprintln(fs.Output(), "\nDetects objects: selective search proposals, the region classifier(s), per-class NMS. Writes DIR/<image>.png\nwith the boxes drawn and DIR/detections.json, and prints one line per detection.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int { return usageErrorf(stderr, "detect run", format, a...) }
	if *wf.weights == "" {
		return usageErr("--weights is required")
	}
	if fs.NArg() == 0 {
		return usageErr("no images")
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "googlenet detect run:", err)
		return 1
	}
	det, release, usage, err := openDetector(wf, *nms, *minScore, stderr)
	if err != nil {
		if usage {
			return usageErr("%v", err)
		}
		return fail(err)
	}
	defer release()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(err)
	}
	type jsonDet struct {
		Class string     `json:"class"`
		Score float64    `json:"score"`
		Box   [4]float64 `json:"box"` // x1, y1, x2, y2 in pixels
	}
	type jsonImage struct {
		Image      string    `json:"image"`
		Drawn      string    `json:"drawn"`
		Width      int       `json:"width"`
		Height     int       `json:"height"`
		Proposals  int       `json:"proposals"`
		Detections []jsonDet `json:"detections"`
	}
	var report []jsonImage
	for _, path := range fs.Args() {
		a := detection.Annotation{ID: path, Path: path}
		img, err := detection.LoadImage(&a)
		if err != nil {
			return fail(err)
		}
		boxes, err := detection.SelectiveSearch(img, sf.options())
		if err != nil {
			return fail(fmt.Errorf("%s: %v", path, err))
		}
		dets, err := det.Detect(path, img, boxes)
		if err != nil {
			return fail(err)
		}
		stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		drawn := filepath.Join(*out, stem+".png")
		ji := jsonImage{Image: path, Drawn: drawn, Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Proposals: len(boxes), Detections: []jsonDet{}}
		var db []detection.DrawnBox
		for _, d := range dets {
			ji.Detections = append(ji.Detections, jsonDet{det.Classes[d.Class], d.Score, [4]float64{d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2}})
			db = append(db, detection.DrawnBox{Box: d.Box, Class: d.Class, Label: det.Classes[d.Class], Score: d.Score})
			fmt.Fprintf(stdout, "%s: %s %.3f at (%g,%g)-(%g,%g)\n", path, det.Classes[d.Class], d.Score, d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2)
		}
		s := *scale
		if s == 0 {
			s = 1
			if max(ji.Width, ji.Height) < 400 {
				s = 2
			}
		}
		if err := writePNG(drawn, detection.Draw(img, db, s)); err != nil {
			return fail(err)
		}
		report = append(report, ji)
	}
	b, _ := json.MarshalIndent(report, "", "  ")
	if err := writeFileAtomic(filepath.Join(*out, "detections.json"), append(b, '\n')); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "wrote %s and %d drawings in %s\n", filepath.Join(*out, "detections.json"), len(report), *out)
	return 0
}

func writePNG(path string, img image.Image) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".drawn*")
	if err != nil {
		return err
	}
	err = png.Encode(f, img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return nil
}
