// Package par runs one function on several goroutines at once and waits
// for them, with a start-up latency of a microsecond or two instead of the
// tens of microseconds of a fresh goroutine on an idle core.
//
// The engines split every convolution, pool and copy over the cores. At
// batch 1 a GoogLeNet forward pass is a few hundred such parallel regions
// of 10-100 µs each, separated by short serial stretches (the graph
// machine, the next op's set-up). A fresh goroutine for each region finds
// the other core's thread asleep: waking it (futex) took 25-30 µs on the
// 2-core development machine, so a quarter of each region's time was spent
// waiting for the second core. Do hands the work to helper goroutines that
// stay on their core for a short while after their last job (SetSpin) and
// sleep only when no job came.
//
// Spinning only pays while the process has its cores. When other
// processes take them, a helper's thread is often off its core when its
// job comes; the caller then runs the helper's share itself (Do never
// waits for a helper that has not started), and nobody spins for the next
// 50 ms, so the process behaves as with plain goroutines.
package par

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spin is how long (in nanoseconds) a helper keeps its core waiting for
// its next job before it sleeps, and how long Do waits on the core for its
// helpers before it sleeps: longer than the serial gap between two ops of
// a graph, short enough that another goroutine waiting for the core is
// delayed by no more than a scheduler time slice would.
var spin atomic.Int64

// EnvSpin names the environment variable that sets the spin time for the
// process: a Go duration ("100us", "0" to never spin). Unset or invalid:
// DefaultSpin.
const EnvSpin = "GOOGLENET_SPIN"

// DefaultSpin is the spin time when EnvSpin is unset.
const DefaultSpin = 100 * time.Microsecond

func init() { spin.Store(int64(spinFromEnv(os.Getenv(EnvSpin)))) }

// spinFromEnv parses EnvSpin's value.
func spinFromEnv(v string) time.Duration {
	if v == "" {
		return DefaultSpin
	}
	if v == "0" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > time.Second {
		return DefaultSpin
	}
	return d
}

// SetSpin sets how long helpers wait on their core for the next job (0:
// they sleep at once, as plain goroutines do) and returns the old value.
func SetSpin(d time.Duration) time.Duration { return time.Duration(spin.Swap(int64(d))) }

// spinFor busy-waits until done reports true or the spin time has passed,
// and reports whether done did. It yields only every yieldEvery: a yield
// at every turn let the scheduler move the waiting goroutine onto the
// other goroutine's core, which then waited for it instead of working
// beside it.
func spinFor(done func() bool) bool {
	limit := time.Duration(spin.Load())
	start := time.Now()
	if start.UnixNano() < calmUntil.Load() {
		limit = 0
	}
	yield := yieldEvery
	for i := 0; ; i++ {
		if done() {
			return true
		}
		if i%64 == 63 {
			el := time.Since(start)
			if el >= limit {
				return false
			}
			if el >= yield {
				// Other goroutines waiting for a core (a server's
				// handlers, another worker's caller) get it now; with none
				// waiting, Gosched returns at once.
				runtime.Gosched()
				yield = el + yieldEvery
			}
		}
	}
}

// yieldEvery is how often a spinning goroutine offers its core to others.
const yieldEvery = 10 * time.Microsecond

// Do calls f(0), ..., f(n-1) concurrently and returns when all have
// returned. The calling goroutine runs f(0), then any index that no
// helper has taken yet: when the helpers' threads are slow to start (the
// machine busy with other processes) the caller does their work instead of
// waiting for them, as it would take an unstarted goroutine from its run
// queue. Which goroutine runs an index is therefore not fixed; f must not
// depend on it. f may call Do itself. A panic in a helper ends the
// process, as it would in any goroutine.
func Do(n int, f func(w int)) {
	if n <= 1 {
		if n == 1 {
			f(0)
		}
		return
	}
	j := &job{f: f, n: int32(n)}
	j.next.Store(1)
	j.wg.Add(n - 1)
	spinning := false
	for w := 1; w < n; w++ {
		spinning = get().assign(j) || spinning
	}
	var t0 time.Time
	if spinning {
		t0 = time.Now()
	}
	f(0)
	if j.work() && spinning && time.Since(t0) > missAfter {
		// A helper that was waiting on its core did not take its index
		// in all the time the caller ran f(0): its thread is not on a
		// core (the machine is busy with other processes), and spinning
		// would only take time from the threads that are.
		calmUntil.Store(time.Now().Add(calm).UnixNano())
	}
	// The helpers usually finish within a few microseconds of the caller:
	// wait on the core first, then sleep.
	spinFor(func() bool { return j.done.Load() == j.n-1 })
	j.wg.Wait()
}

// job is one call of Do.
type job struct {
	f    func(int)
	n    int32
	next atomic.Int32 // the next index to take
	done atomic.Int32 // indices 1..n-1 finished
	wg   sync.WaitGroup
}

// work runs the indices nobody has taken yet and reports whether there
// were any.
func (j *job) work() (ran bool) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return ran
		}
		j.f(int(i))
		j.done.Add(1)
		j.wg.Done()
		ran = true
	}
}

// calm is how long nobody spins after a spinning helper missed its job,
// and missAfter how long the caller must have run f(0) for the helper's
// absence to count as a miss (a shorter f(0) can end before a helper on
// its core notices the job).
const (
	calm      = 50 * time.Millisecond
	missAfter = 20 * time.Microsecond
)

// calmUntil is the time (Unix nanoseconds) until which nobody spins.
var calmUntil atomic.Int64

// The states of a helper.
const (
	waiting = iota // between jobs, spinning: a job is seen without a wake-up
	asleep         // blocked on wake
	given          // a job has been assigned
)

type helper struct {
	state atomic.Int32
	j     *job
	wake  chan struct{}
}

var (
	mu   sync.Mutex
	idle []*helper // helpers between jobs, most recently used last
)

// get returns an idle helper, or starts one.
func get() *helper {
	mu.Lock()
	if k := len(idle); k > 0 {
		h := idle[k-1]
		idle = idle[:k-1]
		mu.Unlock()
		return h
	}
	mu.Unlock()
	h := &helper{wake: make(chan struct{}, 1)}
	h.state.Store(asleep)
	go h.loop()
	return h
}

// assign gives h its next job and reports whether h was waiting on its
// core (rather than asleep). The field is written before the state
// changes, and read by the helper after it sees the change (or after the
// wake-up that follows it).
func (h *helper) assign(j *job) bool {
	h.j = j
	if h.state.Swap(given) == asleep {
		h.wake <- struct{}{}
		return false
	}
	return true
}

func (h *helper) loop() {
	<-h.wake
	for {
		j := h.j
		h.j = nil
		j.work()
		h.state.Store(waiting)
		mu.Lock()
		idle = append(idle, h)
		mu.Unlock()
		if !h.await() {
			<-h.wake
		}
	}
}

// await waits on the core for the next job and reports whether one came;
// if not, the helper is marked asleep and must wait for a wake-up (unless
// a job arrived at the last moment, which await also reports).
func (h *helper) await() bool {
	// At most GOMAXPROCS-1 helpers spin: one more would take a core from
	// the goroutine that is about to hand out the next job.
	if spinners.Add(1) <= int32(runtime.GOMAXPROCS(0)-1) {
		got := spinFor(func() bool { return h.state.Load() == given })
		spinners.Add(-1)
		if got {
			return true
		}
	} else {
		spinners.Add(-1)
	}
	return !h.state.CompareAndSwap(waiting, asleep)
}

// spinners counts the helpers spinning now.
var spinners atomic.Int32
