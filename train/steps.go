package train

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// StepsFile is the per-step log in Config.Out: a CSV file with the header
// "step,epoch,loss,total_loss,lr" and one line per optimizer step (rank 0's
// batch losses), for curves that show a short run.
const StepsFile = "steps.csv"

const stepsHeader = "step,epoch,loss,total_loss,lr"

// StepLoss is one line of StepsFile.
type StepLoss struct {
	Step  int64   // optimizer steps completed, from 1
	Epoch float64 // Step / steps per epoch
	Loss  float64 // main classifier's loss of the batch
	Total float64 // with the auxiliary losses
	LR    float64
}

// ReadSteps reads a StepsFile.
func ReadSteps(path string) ([]StepLoss, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "train: steps")
	}
	var out []StepLoss
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || (line == 1 && t == stepsHeader) {
			continue
		}
		f := strings.Split(t, ",")
		if len(f) != 5 {
			return nil, errors.Errorf("train: %s line %d: %d fields, want 5", path, line, len(f))
		}
		var s StepLoss
		var e error
		s.Step, e = strconv.ParseInt(f[0], 10, 64)
		err = e
		for i, dst := range []*float64{&s.Epoch, &s.Loss, &s.Total, &s.LR} {
			if v, e := strconv.ParseFloat(f[i+1], 64); e != nil {
				err = e
			} else {
				*dst = v
			}
		}
		if err != nil {
			return nil, errors.Wrapf(err, "train: %s line %d", path, line)
		}
		out = append(out, s)
	}
	return out, errors.Wrapf(sc.Err(), "train: %s", path)
}

func (s StepLoss) csv() string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 7, 64) }
	return fmt.Sprintf("%d,%s,%s,%s,%s\n", s.Step, g(s.Epoch), g(s.Loss), g(s.Total), g(s.LR))
}

// stepLog appends to StepsFile.
type stepLog struct {
	f     *os.File
	steps []StepLoss
}

// openStepLog starts the step log of a run at step: the lines of earlier
// steps are kept (a resumed run), later ones dropped (they were trained
// again).
func openStepLog(path string, step int64) (*stepLog, error) {
	l := &stepLog{}
	if step > 0 {
		old, err := ReadSteps(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, s := range old {
			if s.Step <= step {
				l.steps = append(l.steps, s)
			}
		}
	}
	var buf strings.Builder
	buf.WriteString(stepsHeader + "\n")
	for _, s := range l.steps {
		buf.WriteString(s.csv())
	}
	if err := writeAtomic(path, []byte(buf.String())); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, errors.Wrap(err, "train: steps")
	}
	l.f = f
	return l, nil
}

func (l *stepLog) add(s StepLoss) error {
	if l == nil {
		return nil
	}
	l.steps = append(l.steps, s)
	_, err := l.f.WriteString(s.csv())
	return errors.Wrap(err, "train: steps")
}

func (l *stepLog) close() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}

func (l *stepLog) points() []StepLoss {
	if l == nil {
		return nil
	}
	return l.steps
}
