package checkpoint_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/inception"
)

// A checkpoint of a freshly built mini GoogLeNet, saved and loaded back
// into a new model.
func Example() {
	cfg := inception.Mini()
	cfg.BatchSize = 2
	m, err := inception.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	ck, err := checkpoint.FromModel(m, nil, checkpoint.Meta{Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mini.safetensors")
	if err := ck.Save(path); err != nil {
		fmt.Println(err)
		return
	}
	back, err := checkpoint.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	m2, err := back.NewModel(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d weights, %d batch-norm statistics, %d classes, solver state: %v\n",
		back.Meta.Config.Variant, len(back.Weights), len(back.Stats), len(back.Meta.Classes), back.Solver != nil)
	fmt.Println("rebuilt model's parameters:", len(m2.Params()))
	// Output:
	// mini: 91 weights, 54 batch-norm statistics, 10 classes, solver state: false
	// rebuilt model's parameters: 91
}
