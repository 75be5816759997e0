package ops

import (
	"sort"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Buffer plans: output buffers shared by liveness in a forward-only graph.
//
// Every op of this package keeps its own output buffer across runs (outBuf),
// so a graph run by a TapeMachine holds all of its activations at once:
// 204 MB for the paper GoogLeNet at batch 8, which a plan puts in five
// slots of 64 MB together. PlanBuffers assigns the outputs of a graph's ops to
// shared slots instead, so that an output whose last reader has run lends
// its memory to a later output.

// planned is implemented by the ops whose single output buffer can be
// given to a plan: they write every element of it on each run, never
// return a view of an input, and keep no reference to the output between
// runs.
type planned interface {
	G.Op
	outBuffer() *outBuf
}

func (op *convOp) outBuffer() *outBuf          { return &op.out }
func (op *poolOp) outBuffer() *outBuf          { return &op.out }
func (op *lrnOp) outBuffer() *outBuf           { return &op.out }
func (op *concatOp) outBuffer() *outBuf        { return &op.out }
func (op *sliceChannelsOp) outBuffer() *outBuf { return &op.out }
func (op *gemmOp) outBuffer() *outBuf          { return &op.out }
func (op *reluOp) outBuffer() *outBuf          { return &op.out }
func (op *bnOp) outBuffer() *outBuf            { return &op.out }
func (op *softmaxOp) outBuffer() *outBuf       { return &op.out }
func (op *dropoutOp) outBuffer() *outBuf       { return &op.out }

// Backward ops: the gradients of activations. (The filter and bias
// gradients of convolutions are parameter gradients, read after the run,
// and convBiasGradOp reads convFilterGradOp's second buffer: not planned.)
func (op *convDataGradOp) outBuffer() *outBuf { return &op.out }
func (op *poolGradOp) outBuffer() *outBuf     { return &op.out }
func (op *lrnGradOp) outBuffer() *outBuf      { return &op.out }
func (op *reluGradOp) outBuffer() *outBuf     { return &op.out }
func (op *dropoutGradOp) outBuffer() *outBuf  { return &op.out }
func (op *softmaxGradOp) outBuffer() *outBuf  { return &op.out }
func (op *sceGradOp) outBuffer() *outBuf      { return &op.out }
func (op *bnGradOp) outBuffer() *outBuf       { return &op.out }

// bufSlot is memory shared by the outputs a plan assigned to it, whose
// lifetimes do not overlap. n is the largest of them, in elements; the
// backing array is made on first use.
type bufSlot struct {
	n   int
	f32 []float32
	f64 []float64
}

// slotData returns the first size elements of s's backing array for T.
func slotData[T float](s *bufSlot, size int) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		if len(s.f32) < max(s.n, size) {
			s.f32 = make([]float32, max(s.n, size))
		}
		return any(s.f32[:size]).([]T)
	}
	if len(s.f64) < max(s.n, size) {
		s.f64 = make([]float64, max(s.n, size))
	}
	return any(s.f64[:size]).([]T)
}

// PlanStats describes what PlanBuffers did.
type PlanStats struct {
	Outputs   int   // op outputs given to slots
	Slots     int   // slots they share
	Bytes     int64 // memory of the slots
	FreeBytes int64 // memory the same outputs take with a buffer each
}

// PlanBuffers makes the outputs of this package's forward ops in g share
// memory by liveness: two outputs share a slot when the last reader of one
// runs before the other is written. It assumes that g runs as a whole, in
// the order of Gorgonia's TapeMachine (the reverse of gorgonia.Sort(g),
// which is deterministic), and that no one reads an intermediate value
// after the run: only the values of the nodes in keep and of the graph's
// roots stay valid (they get buffers of their own), every other output is
// overwritten later in the same run. An output read by an op of another
// package (Gorgonia's reshape returns a view, its element-wise ops may work
// in place) lives as long as that op's output. Call it once,
// after the graph is complete and before its first run; ops that already
// ran drop the buffer they had. In a training graph the forward outputs
// that backward ops read live until then, and the gradients of the
// activations share slots among themselves.
func PlanBuffers(g *G.ExprGraph, keep ...*G.Node) (PlanStats, error) {
	var st PlanStats
	if g == nil {
		return st, errors.New("ops.PlanBuffers: nil graph")
	}
	sorted, err := G.Sort(g)
	if err != nil {
		return st, errors.Wrap(err, "ops.PlanBuffers")
	}
	order := make([]*G.Node, len(sorted))
	for i, n := range sorted {
		order[len(sorted)-1-i] = n
	}
	step := make(map[*G.Node]int, len(order))
	for i, n := range order {
		step[n] = i
	}
	kept := map[*G.Node]bool{}
	for _, n := range keep {
		kept[n] = true
	}
	for _, n := range g.Roots() {
		kept[n] = true
	}
	// lastUse[n]: the last step that may read n's buffer. An op of another
	// package (Gorgonia's reshape returns a view; its element-wise ops may
	// overwrite an input in place) may return its input's memory, so its
	// input lives as long as its output does. Readers run after n, so a
	// pass in reverse order sees them first.
	const forever = int(^uint(0) >> 1)
	lastUse := make(map[*G.Node]int, len(order))
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		end := -1
		if kept[n] {
			end = forever
		}
		for _, r := range graphReaders(g, n) {
			u := step[r]
			if _, ok := r.Op().(planned); !ok {
				u = max(u, lastUse[r])
			}
			end = max(end, u)
		}
		lastUse[n] = end
	}
	uses := map[planned]int{}
	for _, n := range order {
		if op, ok := n.Op().(planned); ok {
			uses[op]++
		}
	}

	type live struct {
		slot *bufSlot
		end  int
	}
	var free []*bufSlot // sorted by n
	var busy []live
	var slots []*bufSlot
	for i, n := range order {
		op, ok := n.Op().(planned)
		if !ok || uses[op] != 1 || kept[n] {
			continue
		}
		end := lastUse[n]
		if end == forever || end < i {
			continue // kept, or read by nothing
		}
		// Release the slots whose occupant's last reader ran before step i.
		k := 0
		for _, b := range busy {
			if b.end < i {
				free = append(free, b.slot)
			} else {
				busy[k] = b
				k++
			}
		}
		busy = busy[:k]
		size := n.Shape().TotalSize()
		if size == 0 || (n.Dtype() != tensor.Float32 && n.Dtype() != tensor.Float64) {
			continue
		}
		sort.Slice(free, func(a, b int) bool { return free[a].n < free[b].n })
		var s *bufSlot
		if j := sort.Search(len(free), func(a int) bool { return free[a].n >= size }); j < len(free) {
			s = free[j] // the smallest free slot that fits
			free = append(free[:j], free[j+1:]...)
		} else if len(free) > 0 {
			s = free[len(free)-1] // else the largest, grown
			free = free[:len(free)-1]
		} else {
			s = &bufSlot{}
			slots = append(slots, s)
		}
		s.n = max(s.n, size)
		b := op.outBuffer()
		b.slot, b.t = s, nil
		busy = append(busy, live{slot: s, end: end})
		st.Outputs++
		st.FreeBytes += int64(size) * int64(n.Dtype().Size())
	}
	st.Slots = len(slots)
	for _, s := range slots {
		st.Bytes += int64(s.n) * 4
	}
	if dt := graphDtype(order); dt == tensor.Float64 {
		st.Bytes *= 2
	}
	return st, nil
}

// graphReaders returns the nodes of g that take n as an input.
func graphReaders(g *G.ExprGraph, n *G.Node) []*G.Node {
	it := g.To(n.ID())
	var out []*G.Node
	for it.Next() {
		if c, ok := it.Node().(*G.Node); ok {
			out = append(out, c)
		}
	}
	return out
}

func graphDtype(order []*G.Node) tensor.Dtype {
	for _, n := range order {
		if _, ok := n.Op().(planned); ok {
			return n.Dtype()
		}
	}
	return tensor.Float32
}
