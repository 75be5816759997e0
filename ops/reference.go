package ops

// Reference is the pure-Go engine: the specification every other engine is
// tested against.
type Reference struct{}

func (Reference) Name() string { return "reference" }

func (Reference) ConvForward(g ConvGeom, x, w, b, y []float32, relu bool) { panic("ops: TODO") }

func (Reference) ConvBackwardData(g ConvGeom, w, dy, dx []float32) { panic("ops: TODO") }

func (Reference) ConvBackwardFilter(g ConvGeom, x, dy, dw, db []float32) { panic("ops: TODO") }

func (Reference) Gemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("ops: TODO")
}
