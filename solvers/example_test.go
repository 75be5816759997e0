package solvers_test

import (
	"fmt"
	"log"

	"github.com/goinception/googlenet/solvers"
	"gorgonia.org/tensor"
)

// Two SGD steps on a one-element weight with momentum 0.9 and weight decay
// 0.01: w1 = 1 - 0.1*(0.5 + 0.01*1) = 0.949, then v = 0.9*0.51 + (0.2 +
// 0.01*0.949) and w2 = 0.949 - 0.1*v = 0.882151.
func ExampleSGD() {
	w := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1}))
	g := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0.5}))
	params := []*solvers.Param{{Name: "w", Value: w, Grad: g, Decay: true}}

	sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01})
	if err != nil {
		log.Fatal(err)
	}
	for _, grad := range []float64{0.5, 0.2} {
		g.Data().([]float64)[0] = grad
		info, err := sgd.Step(params)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("step %d: lr %.2f, w = %.6f\n", info.Step, info.LR, w.Data().([]float64)[0])
	}
	// Output:
	// step 1: lr 0.10, w = 0.949000
	// step 2: lr 0.10, w = 0.882151
}

// The paper's schedule: the rate falls by 4% every 8 epochs.
func ExampleStepDecay() {
	const stepsPerEpoch = 100
	s := solvers.StepDecay{} // zero value: Gamma 0.96, Period 8 epochs
	for _, epoch := range []int64{0, 7, 8, 16, 24} {
		step := epoch * stepsPerEpoch
		f := s.Factor(solvers.Position{Step: step, Epoch: float64(step) / stepsPerEpoch})
		fmt.Printf("epoch %2d: lr = 0.01 * %.4f\n", epoch, f)
	}
	// Output:
	// epoch  0: lr = 0.01 * 1.0000
	// epoch  7: lr = 0.01 * 1.0000
	// epoch  8: lr = 0.01 * 0.9600
	// epoch 16: lr = 0.01 * 0.9216
	// epoch 24: lr = 0.01 * 0.8847
}

// Polyak averaging inside SGD, and evaluating with the averaged weights.
func ExampleAverager() {
	w := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0}))
	g := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1}))
	params := []*solvers.Param{{Name: "w", Value: w, Grad: g}}
	sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: 1, NoMomentum: true,
		Averaging: solvers.AveragingConfig{Mode: solvers.AverageUniform}})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 4; i++ { // w = -1, -2, -3, -4
		if _, err := sgd.Step(params); err != nil {
			log.Fatal(err)
		}
	}
	avg := sgd.Averager()
	if err := avg.SwapIn(params); err != nil {
		log.Fatal(err)
	}
	fmt.Println("evaluating with w =", w.Data().([]float64)[0])
	if err := avg.SwapOut(params); err != nil {
		log.Fatal(err)
	}
	fmt.Println("training continues from w =", w.Data().([]float64)[0])
	// Output:
	// evaluating with w = -2.5
	// training continues from w = -4
}
