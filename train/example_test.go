package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
