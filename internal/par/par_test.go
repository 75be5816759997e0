package par

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDoRunsEachOnce checks that every index runs exactly once and that Do
// returns only after all of them, for calls from several goroutines at
// once, nested calls, and helpers that went to sleep in between.
func TestDoRunsEachOnce(t *testing.T) {
	check := func(t *testing.T, n int) {
		counts := make([]atomic.Int32, n)
		var done atomic.Int32
		Do(n, func(w int) {
			if w%3 == 1 {
				time.Sleep(time.Millisecond) // a slow helper: Do must wait for it
			}
			counts[w].Add(1)
			done.Add(1)
		})
		if got := done.Load(); got != int32(n) {
			t.Fatalf("Do(%d) returned after %d calls", n, got)
		}
		for w := range counts {
			if c := counts[w].Load(); c != 1 {
				t.Fatalf("Do(%d): f(%d) ran %d times", n, w, c)
			}
		}
	}
	for n := 0; n <= 9; n++ {
		check(t, n)
	}
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					check(t, 1+(g+i)%4)
				}
			}()
		}
		wg.Wait()
	})
	t.Run("nested", func(t *testing.T) {
		var total atomic.Int32
		Do(3, func(int) {
			Do(4, func(int) { total.Add(1) })
		})
		if total.Load() != 12 {
			t.Fatalf("nested Do ran %d inner calls, want 12", total.Load())
		}
	})
	t.Run("no spin", func(t *testing.T) {
		defer SetSpin(SetSpin(0))
		for i := 0; i < 100; i++ {
			check(t, 2+i%3)
		}
	})
	t.Run("after sleep", func(t *testing.T) {
		defer SetSpin(SetSpin(10 * time.Microsecond))
		for i := 0; i < 50; i++ {
			check(t, 3)
			time.Sleep(50 * time.Microsecond) // helpers give up spinning
		}
	})
}

// BenchmarkRegion is one two-way parallel region of about 1 µs of work per
// side after a 50 µs serial gap (an op of a batch-1 forward pass), with
// Do and with a fresh goroutine per region.
func BenchmarkRegion(b *testing.B) {
	var sink [2]float64
	work := func(w int) {
		s := 0.0
		for j := 0; j < 1000; j++ {
			s += float64(j)
		}
		sink[w] += s
	}
	gap := func() {
		for t := time.Now(); time.Since(t) < 50*time.Microsecond; {
		}
	}
	b.Run("par.Do", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Do(2, work)
			gap()
		}
	})
	b.Run("goroutine", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); work(1) }()
			work(0)
			wg.Wait()
			gap()
		}
	})
}

func TestSpinFromEnv(t *testing.T) {
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"", DefaultSpin}, {"0", 0}, {"0s", 0}, {"50us", 50 * time.Microsecond},
		{"1ms", time.Millisecond}, {"-5us", DefaultSpin}, {"fast", DefaultSpin}, {"2s", DefaultSpin},
	} {
		if got := spinFromEnv(c.v); got != c.want {
			t.Errorf("spinFromEnv(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}
