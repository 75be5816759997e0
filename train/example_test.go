package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goinception/googlenet/train"
)

// Two short epochs of the mini GoogLeNet on a generated dataset.
func ExampleRun() {
	out, err := os.MkdirTemp("", "train-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(out)
	res, err := train.Run(context.Background(), train.Config{
		Data:   "synthetic:classes=4,train=64,val=16,size=28,channels=1",
		Epochs: 2, Batch: 8, LR: 0.05, Seed: 1, Out: out,
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Metrics {
		fmt.Printf("epoch %d: %d steps, %d validation images\n", m.Epoch, m.Steps, m.ValImages)
	}
	fmt.Println(filepath.Base(res.Checkpoint), filepath.Base(res.Model))
	// Output:
	// epoch 1: 8 steps, 16 validation images
	// epoch 2: 8 steps, 16 validation images
	// checkpoint-00000016.safetensors model.safetensors
}

// lines is a reporter that keeps the log lines, with the folder removed.
type lines struct {
	train.Nop
	dir string
}

func (l lines) Logf(format string, a ...interface{}) {
	s := strings.ReplaceAll(fmt.Sprintf(format, a...), l.dir+string(filepath.Separator), "")
	if strings.HasPrefix(s, "init from") {
		fmt.Println(s)
	}
}

// Fine-tuning: train a source model on 4 classes, then start a 3-class
// model from it with the stem and the first module frozen and ten times
// the learning rate on the new classifier.
func ExampleConfig_fineTuning() {
	dir, err := os.MkdirTemp("", "finetune-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	src, err := train.Run(context.Background(), train.Config{
		Data:   "synthetic:classes=4,train=32,val=8,size=28,channels=1",
		Epochs: 1, Batch: 8, Seed: 1, Out: filepath.Join(dir, "source"),
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := train.Run(context.Background(), train.Config{
		InitFrom:      src.Model,
		Data:          "synthetic:classes=3,train=24,val=6,size=28,channels=1,seed=2",
		FreezeThrough: "inception_3a",
		LRMult:        []train.Mult{{Prefix: "loss3/classifier", Value: 10}},
		Epochs:        1, Batch: 8, Seed: 1, Out: filepath.Join(dir, "tuned"),
	}, lines{dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Steps, "steps")
	// Output:
	// init from source/model.safetensors: 139 tensors loaded, 6 re-initialised, 0 dropped (new classes: the classifiers start afresh)
	// 3 steps
}
