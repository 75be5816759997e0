package emu_test

import "github.com/goinception/googlenet/ops"

// cudaPool2x2Ceil is a 2x2 stride-2 pool in ceil mode (3 -> 2).
var cudaPool2x2Ceil = ops.PoolOpts{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, CeilMode: true}
