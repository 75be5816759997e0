package data

import (
	"context"
	"io"
	"testing"
)

// benchLoader reads whole epochs and reports images per second.
func benchLoader(b *testing.B, spec string, opts LoaderOptions) {
	s, err := Open(context.Background(), spec)
	if err != nil {
		b.Fatal(err)
	}
	l, err := NewLoader(s.Train, opts)
	if err != nil {
		b.Fatal(err)
	}
	images := 0
	b.ResetTimer()
	for e := 0; e < b.N; e++ {
		it := l.Epoch(context.Background(), e)
		for {
			bt, err := it.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			images += bt.N
		}
		it.Close()
	}
	b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "img/s")
}

// MNIST-sized gray images, normalisation only (the MNIST training input).
func BenchmarkLoaderGray28(b *testing.B) {
	benchLoader(b, "synthetic:classes=10,train=2048,size=28,channels=1",
		LoaderOptions{BatchSize: 64, Shuffle: true, Transform: Transform{Means: MNISTMeans, Stds: MNISTStds}})
}

// The paper's augmentation from 256x256 RGB to 224x224.
func BenchmarkLoaderTrain224(b *testing.B) {
	benchLoader(b, "synthetic:classes=10,train=64,size=256",
		LoaderOptions{BatchSize: 16, Shuffle: true, Transform: TrainTransform(224, ImageNetMeans, ImageNetStds)})
}

// Evaluation: resize to 256 and center crop 224.
func BenchmarkLoaderEval224(b *testing.B) {
	benchLoader(b, "synthetic:classes=10,train=64,size=320",
		LoaderOptions{BatchSize: 16, Transform: EvalTransform(224, ImageNetMeans, ImageNetStds)})
}
