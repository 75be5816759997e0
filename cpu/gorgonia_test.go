package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestBLASSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m, n, k := 37, 70, 130
	for name, e := range engines(t) {
		bl := NewBLAS(e)
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans} {
			ta := tA != blas.NoTrans
			lda := k
			if ta {
				lda = m
			}
			a := randSlice(rng, m*k)
			b := randSlice(rng, k*n)
			c := randSlice(rng, m*n)
			want, mag := refGemm(ta, false, m, n, k, 2, a, lda, b, n, 0.5, c, n)
			bl.Sgemm(tA, blas.NoTrans, m, n, k, 2, a, lda, b, n, 0.5, c, n)
			compare(t, name+"/Sgemm", c, want, mag)

			a64, b64, c64 := make([]float64, len(a)), make([]float64, len(b)), make([]float64, len(c))
			want64 := make([]float64, len(c))
			for i := range a {
				a64[i] = float64(a[i])
			}
			for i := range b {
				b64[i] = float64(b[i])
			}
			gonum.Implementation{}.Dgemm(tA, blas.NoTrans, m, n, k, 2, a64, lda, b64, n, 0, want64, n)
			bl.Dgemm(tA, blas.NoTrans, m, n, k, 2, a64, lda, b64, n, 0, c64, n)
			const tol64 = 1e-12 // relative to the sum of magnitudes
			for i := range c64 {
				if math.Abs(c64[i]-want64[i]) > tol64*float64(k)*(1+math.Abs(want64[i])) {
					t.Fatalf("%s/Dgemm[%d] = %v, want %v", name, i, c64[i], want64[i])
				}
			}
		}
	}
}

func TestBLASBadArgumentsPanicLikeGonum(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("Sgemm with lda < k did not panic")
		}
	}()
	NewBLAS(New(Options{PureGo: true})).Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, make([]float32, 6), 2, make([]float32, 6), 2, 0, make([]float32, 4), 2)
}

// TestUseWithGorgonia runs a float32 and a float64 matrix product through a
// Gorgonia graph with the package's BLAS installed.
func TestUseWithGorgonia(t *testing.T) {
	defer G.Use(gonum.Implementation{})
	bl := UseWithGorgonia()
	if G.WhichBLAS() != G.BLAS(bl) || tensor.WhichBLAS() != tensor.BLAS(bl) {
		t.Fatal("UseWithGorgonia did not install its BLAS in gorgonia and tensor")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	m, k, n := 19, 33, 24
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		av, bv := randSlice(rng, m*k), randSlice(rng, k*n)
		var aT, bT *tensor.Dense
		if dt == tensor.Float32 {
			aT = tensor.New(tensor.WithShape(m, k), tensor.WithBacking(av))
			bT = tensor.New(tensor.WithShape(k, n), tensor.WithBacking(bv))
		} else {
			a64, b64 := make([]float64, len(av)), make([]float64, len(bv))
			for i := range av {
				a64[i] = float64(av[i])
			}
			for i := range bv {
				b64[i] = float64(bv[i])
			}
			aT = tensor.New(tensor.WithShape(m, k), tensor.WithBacking(a64))
			bT = tensor.New(tensor.WithShape(k, n), tensor.WithBacking(b64))
		}
		g := G.NewGraph()
		a := G.NodeFromAny(g, aT, G.WithName("a"))
		b := G.NodeFromAny(g, bT, G.WithName("b"))
		prod, err := G.Mul(a, b)
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		want, mag := refGemm(false, false, m, n, k, 1, av, k, bv, n, 0, make([]float32, m*n), n)
		got := make([]float32, m*n)
		switch d := prod.Value().Data().(type) {
		case []float32:
			copy(got, d)
		case []float64:
			for i, v := range d {
				got[i] = float32(v)
			}
		}
		compare(t, dt.String()+" product", got, want, mag)
	}
	if bl.Calls() < 2 {
		t.Errorf("the BLAS served %d GEMM calls, want at least 2 (one per product)", bl.Calls())
	}
}
