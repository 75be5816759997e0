package graph

import (
	G "gorgonia.org/gorgonia"
)

// Prune returns the subgraph of g that the nodes keep need (directly or
// through their operands), to compile a machine on. Gorgonia's symbolic
// differentiation builds the gradient of every operand of an op on the
// backward path, including ones nothing asked for (the gradient of a frozen
// weight, the data gradient at the bottom of the trained layers), and a
// tape machine compiled on the whole graph would compute them all. g itself
// is unchanged (removing nodes from a Gorgonia graph corrupts its index of
// nodes by ID).
func Prune(g *G.ExprGraph, keep ...*G.Node) *G.ExprGraph {
	var roots G.Nodes
	for _, n := range keep {
		if n != nil {
			roots = append(roots, n)
		}
	}
	return g.ExactSubgraphRoots(roots...)
}
