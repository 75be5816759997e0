#include "textflag.h"

// Permutation indices (VPERMT2PS: 0-15 the first table, 16-31 the second).
// winoEven/winoOdd pick the even/odd elements of 32 consecutive floats;
// winoLo/winoHi interleave two 16-float vectors (first and second half).
DATA ·winoEven<>+0(SB)/4, $0
DATA ·winoEven<>+4(SB)/4, $2
DATA ·winoEven<>+8(SB)/4, $4
DATA ·winoEven<>+12(SB)/4, $6
DATA ·winoEven<>+16(SB)/4, $8
DATA ·winoEven<>+20(SB)/4, $10
DATA ·winoEven<>+24(SB)/4, $12
DATA ·winoEven<>+28(SB)/4, $14
DATA ·winoEven<>+32(SB)/4, $16
DATA ·winoEven<>+36(SB)/4, $18
DATA ·winoEven<>+40(SB)/4, $20
DATA ·winoEven<>+44(SB)/4, $22
DATA ·winoEven<>+48(SB)/4, $24
DATA ·winoEven<>+52(SB)/4, $26
DATA ·winoEven<>+56(SB)/4, $28
DATA ·winoEven<>+60(SB)/4, $30
GLOBL ·winoEven<>(SB), RODATA|NOPTR, $64

DATA ·winoOdd<>+0(SB)/4, $1
DATA ·winoOdd<>+4(SB)/4, $3
DATA ·winoOdd<>+8(SB)/4, $5
DATA ·winoOdd<>+12(SB)/4, $7
DATA ·winoOdd<>+16(SB)/4, $9
DATA ·winoOdd<>+20(SB)/4, $11
DATA ·winoOdd<>+24(SB)/4, $13
DATA ·winoOdd<>+28(SB)/4, $15
DATA ·winoOdd<>+32(SB)/4, $17
DATA ·winoOdd<>+36(SB)/4, $19
DATA ·winoOdd<>+40(SB)/4, $21
DATA ·winoOdd<>+44(SB)/4, $23
DATA ·winoOdd<>+48(SB)/4, $25
DATA ·winoOdd<>+52(SB)/4, $27
DATA ·winoOdd<>+56(SB)/4, $29
DATA ·winoOdd<>+60(SB)/4, $31
GLOBL ·winoOdd<>(SB), RODATA|NOPTR, $64

DATA ·winoLo<>+0(SB)/4, $0
DATA ·winoLo<>+4(SB)/4, $16
DATA ·winoLo<>+8(SB)/4, $1
DATA ·winoLo<>+12(SB)/4, $17
DATA ·winoLo<>+16(SB)/4, $2
DATA ·winoLo<>+20(SB)/4, $18
DATA ·winoLo<>+24(SB)/4, $3
DATA ·winoLo<>+28(SB)/4, $19
DATA ·winoLo<>+32(SB)/4, $4
DATA ·winoLo<>+36(SB)/4, $20
DATA ·winoLo<>+40(SB)/4, $5
DATA ·winoLo<>+44(SB)/4, $21
DATA ·winoLo<>+48(SB)/4, $6
DATA ·winoLo<>+52(SB)/4, $22
DATA ·winoLo<>+56(SB)/4, $7
DATA ·winoLo<>+60(SB)/4, $23
GLOBL ·winoLo<>(SB), RODATA|NOPTR, $64

DATA ·winoHi<>+0(SB)/4, $8
DATA ·winoHi<>+4(SB)/4, $24
DATA ·winoHi<>+8(SB)/4, $9
DATA ·winoHi<>+12(SB)/4, $25
DATA ·winoHi<>+16(SB)/4, $10
DATA ·winoHi<>+20(SB)/4, $26
DATA ·winoHi<>+24(SB)/4, $11
DATA ·winoHi<>+28(SB)/4, $27
DATA ·winoHi<>+32(SB)/4, $12
DATA ·winoHi<>+36(SB)/4, $28
DATA ·winoHi<>+40(SB)/4, $13
DATA ·winoHi<>+44(SB)/4, $29
DATA ·winoHi<>+48(SB)/4, $14
DATA ·winoHi<>+52(SB)/4, $30
DATA ·winoHi<>+56(SB)/4, $15
DATA ·winoHi<>+60(SB)/4, $31
GLOBL ·winoHi<>(SB), RODATA|NOPTR, $64

// func winoInputAVX512(p *float32, pw int, v *float32, vs int, n int)
//
// winoInputGo in AVX-512, 16 tiles a step (the last step masked): the
// rows are split into even and odd columns with VPERMT2PS, so lane t of
// d[r][s] is p[r*pw + 2t + s].
TEXT ·winoInputAVX512(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ pw+8(FP), R8
	SHLQ $2, R8
	MOVQ v+16(FP), DI
	MOVQ vs+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	VMOVUPS ·winoEven<>(SB), Z30
	VMOVUPS ·winoOdd<>(SB), Z31
	TESTQ CX, CX
	JLE  indone

inloop:
	// K1: the lanes of this step's tiles.
	MOVL  $0xffff, AX
	CMPQ  CX, $16
	JGE   infull
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX

infull:
	KMOVW AX, K1
	MOVQ  SI, R10

	// Row 0: d[0][0..3].
	VMOVUPS (R10), Z16
	VMOVUPS 64(R10), Z17
	VMOVUPS 8(R10), Z18
	VMOVUPS 72(R10), Z19
	VMOVAPS Z16, Z0
	VPERMT2PS Z17, Z30, Z0
	VMOVAPS Z16, Z1
	VPERMT2PS Z17, Z31, Z1
	VMOVAPS Z18, Z2
	VPERMT2PS Z19, Z30, Z2
	VMOVAPS Z18, Z3
	VPERMT2PS Z19, Z31, Z3
	ADDQ R8, R10
	// Row 1: d[1][0..3].
	VMOVUPS (R10), Z16
	VMOVUPS 64(R10), Z17
	VMOVUPS 8(R10), Z18
	VMOVUPS 72(R10), Z19
	VMOVAPS Z16, Z4
	VPERMT2PS Z17, Z30, Z4
	VMOVAPS Z16, Z5
	VPERMT2PS Z17, Z31, Z5
	VMOVAPS Z18, Z6
	VPERMT2PS Z19, Z30, Z6
	VMOVAPS Z18, Z7
	VPERMT2PS Z19, Z31, Z7
	ADDQ R8, R10
	// Row 2: d[2][0..3].
	VMOVUPS (R10), Z16
	VMOVUPS 64(R10), Z17
	VMOVUPS 8(R10), Z18
	VMOVUPS 72(R10), Z19
	VMOVAPS Z16, Z8
	VPERMT2PS Z17, Z30, Z8
	VMOVAPS Z16, Z9
	VPERMT2PS Z17, Z31, Z9
	VMOVAPS Z18, Z10
	VPERMT2PS Z19, Z30, Z10
	VMOVAPS Z18, Z11
	VPERMT2PS Z19, Z31, Z11
	ADDQ R8, R10
	// Row 3: d[3][0..3].
	VMOVUPS (R10), Z16
	VMOVUPS 64(R10), Z17
	VMOVUPS 8(R10), Z18
	VMOVUPS 72(R10), Z19
	VMOVAPS Z16, Z12
	VPERMT2PS Z17, Z30, Z12
	VMOVAPS Z16, Z13
	VPERMT2PS Z17, Z31, Z13
	VMOVAPS Z18, Z14
	VPERMT2PS Z19, Z30, Z14
	VMOVAPS Z18, Z15
	VPERMT2PS Z19, Z31, Z15

	// e = Bᵀ d, column s: e0 = d0-d2, e1 = d1+d2, e2 = d2-d1, e3 = d1-d3.
	VADDPS Z8, Z4, Z20
	VSUBPS Z4, Z8, Z21
	VSUBPS Z8, Z0, Z0
	VSUBPS Z12, Z4, Z12
	VMOVAPS Z20, Z4
	VMOVAPS Z21, Z8
	VADDPS Z9, Z5, Z20
	VSUBPS Z5, Z9, Z21
	VSUBPS Z9, Z1, Z1
	VSUBPS Z13, Z5, Z13
	VMOVAPS Z20, Z5
	VMOVAPS Z21, Z9
	VADDPS Z10, Z6, Z20
	VSUBPS Z6, Z10, Z21
	VSUBPS Z10, Z2, Z2
	VSUBPS Z14, Z6, Z14
	VMOVAPS Z20, Z6
	VMOVAPS Z21, Z10
	VADDPS Z11, Z7, Z20
	VSUBPS Z7, Z11, Z21
	VSUBPS Z11, Z3, Z3
	VSUBPS Z15, Z7, Z15
	VMOVAPS Z20, Z7
	VMOVAPS Z21, Z11

	// V = e B, row r: v0 = e0-e2, v1 = e1+e2, v2 = e2-e1, v3 = e1-e3,
	// stored into planes 4r..4r+3, vs apart.
	MOVQ DI, R11
	VSUBPS Z2, Z0, Z20
	VADDPS Z2, Z1, Z21
	VSUBPS Z1, Z2, Z22
	VSUBPS Z3, Z1, Z23
	VMOVUPS Z20, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z21, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z22, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, K1, (R11)
	ADDQ R9, R11
	VSUBPS Z6, Z4, Z20
	VADDPS Z6, Z5, Z21
	VSUBPS Z5, Z6, Z22
	VSUBPS Z7, Z5, Z23
	VMOVUPS Z20, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z21, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z22, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, K1, (R11)
	ADDQ R9, R11
	VSUBPS Z10, Z8, Z20
	VADDPS Z10, Z9, Z21
	VSUBPS Z9, Z10, Z22
	VSUBPS Z11, Z9, Z23
	VMOVUPS Z20, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z21, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z22, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, K1, (R11)
	ADDQ R9, R11
	VSUBPS Z14, Z12, Z20
	VADDPS Z14, Z13, Z21
	VSUBPS Z13, Z14, Z22
	VSUBPS Z15, Z13, Z23
	VMOVUPS Z20, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z21, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z22, K1, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, K1, (R11)

	ADDQ $128, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JG   inloop

indone:
	VZEROUPPER
	RET

// func winoOutputAVX512(m *float32, ms int, n int, nf int, b float32, relu int, out0, out1 *float32)
//
// winoOutputGo in AVX-512, 16 tiles a step; the two output rows are
// interleaved with VPERMT2PS and stored masked to nf floats each. VMAXPS
// returns its second source (zero) for NaN, as reluNaN0.
TEXT ·winoOutputAVX512(SB), NOSPLIT, $0-64
	MOVQ         m+0(FP), SI
	MOVQ         ms+8(FP), R8
	SHLQ         $2, R8
	MOVQ         n+16(FP), R13
	MOVQ         nf+24(FP), DX
	VBROADCASTSS b+32(FP), Z29
	MOVQ         relu+40(FP), BX
	MOVQ         out0+48(FP), DI
	MOVQ         out1+56(FP), R10
	VMOVUPS      ·winoLo<>(SB), Z30
	VMOVUPS      ·winoHi<>(SB), Z31
	VXORPS       Z28, Z28, Z28
	TESTQ        R13, R13
	JLE          outdone

outloop:
	// K2, K3: the floats of this step in each output row (first and
	// second 16), from the nf - 32*step left in DX.
	MOVL $0xffff, AX
	CMPQ DX, $16
	JGE  lofull
	XORL AX, AX
	CMPQ DX, $0
	JLE  lofull
	MOVQ DX, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX

lofull:
	KMOVW AX, K2
	MOVL  $0xffff, AX
	CMPQ  DX, $32
	JGE   hifull
	XORL  AX, AX
	CMPQ  DX, $16
	JLE   hifull
	MOVQ  DX, CX
	SUBQ  $16, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX

hifull:
	KMOVW AX, K3
	MOVQ  SI, R11

	VMOVUPS (R11), Z0
	ADDQ R8, R11
	VMOVUPS (R11), Z1
	ADDQ R8, R11
	VMOVUPS (R11), Z2
	ADDQ R8, R11
	VMOVUPS (R11), Z3
	ADDQ R8, R11
	VMOVUPS (R11), Z4
	ADDQ R8, R11
	VMOVUPS (R11), Z5
	ADDQ R8, R11
	VMOVUPS (R11), Z6
	ADDQ R8, R11
	VMOVUPS (R11), Z7
	ADDQ R8, R11
	VMOVUPS (R11), Z8
	ADDQ R8, R11
	VMOVUPS (R11), Z9
	ADDQ R8, R11
	VMOVUPS (R11), Z10
	ADDQ R8, R11
	VMOVUPS (R11), Z11
	ADDQ R8, R11
	VMOVUPS (R11), Z12
	ADDQ R8, R11
	VMOVUPS (R11), Z13
	ADDQ R8, R11
	VMOVUPS (R11), Z14
	ADDQ R8, R11
	VMOVUPS (R11), Z15

	// a = Aᵀ m: a0 = m0+m1+m2 into Z0..Z3, a1 = m1-m2-m3 into Z12..Z15.
	VSUBPS Z8, Z4, Z20
	VSUBPS Z12, Z20, Z12
	VADDPS Z4, Z0, Z0
	VADDPS Z8, Z0, Z0
	VSUBPS Z9, Z5, Z20
	VSUBPS Z13, Z20, Z13
	VADDPS Z5, Z1, Z1
	VADDPS Z9, Z1, Z1
	VSUBPS Z10, Z6, Z20
	VSUBPS Z14, Z20, Z14
	VADDPS Z6, Z2, Z2
	VADDPS Z10, Z2, Z2
	VSUBPS Z11, Z7, Z20
	VSUBPS Z15, Z20, Z15
	VADDPS Z7, Z3, Z3
	VADDPS Z11, Z3, Z3

	// y = a A + b: y00 in Z16, y01 in Z17, y10 in Z18, y11 in Z19.
	VADDPS Z1, Z0, Z16
	VADDPS Z2, Z16, Z16
	VADDPS Z29, Z16, Z16
	VSUBPS Z2, Z1, Z17
	VSUBPS Z3, Z17, Z17
	VADDPS Z29, Z17, Z17
	VADDPS Z13, Z12, Z18
	VADDPS Z14, Z18, Z18
	VADDPS Z29, Z18, Z18
	VSUBPS Z14, Z13, Z19
	VSUBPS Z15, Z19, Z19
	VADDPS Z29, Z19, Z19
	TESTQ  BX, BX
	JZ     norelu
	VMAXPS Z28, Z16, Z16
	VMAXPS Z28, Z17, Z17
	VMAXPS Z28, Z18, Z18
	VMAXPS Z28, Z19, Z19

norelu:
	// Interleave and store: out0 = y00, y01 pairs; out1 = y10, y11 pairs.
	VMOVAPS   Z16, Z20
	VPERMT2PS Z17, Z30, Z20
	VPERMT2PS Z17, Z31, Z16
	VMOVUPS   Z20, K2, (DI)
	VMOVUPS   Z16, K3, 64(DI)
	VMOVAPS   Z18, Z21
	VPERMT2PS Z19, Z30, Z21
	VPERMT2PS Z19, Z31, Z18
	VMOVUPS   Z21, K2, (R10)
	VMOVUPS   Z18, K3, 64(R10)

	ADDQ $64, SI
	ADDQ $128, DI
	ADDQ $128, R10
	SUBQ $32, DX
	SUBQ $16, R13
	JG   outloop

outdone:
	VZEROUPPER
	RET
