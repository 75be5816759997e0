package torchvision_test

import (
	"fmt"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/torchvision"
)

// Import a torchvision GoogLeNet state dict. A real one comes from a .pth
// file (torchpth.ReadFile, then FromTorchPth) or a .safetensors file
// (safetensors.ReadFile, then FromSafetensors); here it is made from one of
// our torchvision models by torchvision's key names.
func ExampleImport() {
	cfg := inception.Torchvision()
	cfg.BatchSize, cfg.InputSize, cfg.Classes = 1, 64, 10
	src, err := inception.New(cfg)
	if err != nil {
		panic(err)
	}
	sd := &torchvision.StateDict{Tensors: map[string]torchvision.Tensor{}}
	add := func(ours string, shape []int, v []float32) {
		key, err := inception.TorchvisionName(ours)
		if err != nil {
			panic(err)
		}
		sd.Names = append(sd.Names, key)
		sd.Tensors[key] = torchvision.Tensor{Shape: shape, Data: v}
	}
	for _, p := range src.Params() {
		add(p.Name, p.Shape, p.Value.Data().([]float32))
	}
	for _, e := range src.BNStats() {
		add(e.Name+"/running_mean", []int{len(e.Stats.Mean)}, make([]float32, len(e.Stats.Mean)))
		add(e.Name+"/running_var", []int{len(e.Stats.Var)}, make([]float32, len(e.Stats.Var)))
	}
	fmt.Println(sd.Names[0], sd.Names[len(sd.Names)-1])

	m, err := torchvision.Import(sd, torchvision.Options{InputSize: 64})
	if err != nil {
		panic(err)
	}
	c := m.Config()
	fmt.Println(len(sd.Tensors), "tensors ->", c.Variant, "variant,", c.InChannels, "channels,", c.Classes, "classes")
	fmt.Println("input contract:", torchvision.Contract(c))
	// Output:
	// conv1.conv.weight inception5b.branch4.1.bn.running_var
	// 305 tensors -> torchvision variant, 3 channels, 10 classes
	// input contract: imagenet: shorter side to 73, centre crop 64 (pil-bilinear), RGB 0..1, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)
}
