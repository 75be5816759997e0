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

// winoFilterAVX512 transposes 16 filters (144 floats) into 9 vectors, g[j]
// lane i = w[9i+j], with masked VPERMPS: winoTIdx row j holds the lanes
// (9i+j) mod 16, and winoTMask[j][k] the lanes i whose value is in the
// k-th 16 floats ((9i+j)/16 = k).
DATA ·winoTIdx<>+0(SB)/4, $0
DATA ·winoTIdx<>+4(SB)/4, $9
DATA ·winoTIdx<>+8(SB)/4, $2
DATA ·winoTIdx<>+12(SB)/4, $11
DATA ·winoTIdx<>+16(SB)/4, $4
DATA ·winoTIdx<>+20(SB)/4, $13
DATA ·winoTIdx<>+24(SB)/4, $6
DATA ·winoTIdx<>+28(SB)/4, $15
DATA ·winoTIdx<>+32(SB)/4, $8
DATA ·winoTIdx<>+36(SB)/4, $1
DATA ·winoTIdx<>+40(SB)/4, $10
DATA ·winoTIdx<>+44(SB)/4, $3
DATA ·winoTIdx<>+48(SB)/4, $12
DATA ·winoTIdx<>+52(SB)/4, $5
DATA ·winoTIdx<>+56(SB)/4, $14
DATA ·winoTIdx<>+60(SB)/4, $7
DATA ·winoTIdx<>+64(SB)/4, $1
DATA ·winoTIdx<>+68(SB)/4, $10
DATA ·winoTIdx<>+72(SB)/4, $3
DATA ·winoTIdx<>+76(SB)/4, $12
DATA ·winoTIdx<>+80(SB)/4, $5
DATA ·winoTIdx<>+84(SB)/4, $14
DATA ·winoTIdx<>+88(SB)/4, $7
DATA ·winoTIdx<>+92(SB)/4, $0
DATA ·winoTIdx<>+96(SB)/4, $9
DATA ·winoTIdx<>+100(SB)/4, $2
DATA ·winoTIdx<>+104(SB)/4, $11
DATA ·winoTIdx<>+108(SB)/4, $4
DATA ·winoTIdx<>+112(SB)/4, $13
DATA ·winoTIdx<>+116(SB)/4, $6
DATA ·winoTIdx<>+120(SB)/4, $15
DATA ·winoTIdx<>+124(SB)/4, $8
DATA ·winoTIdx<>+128(SB)/4, $2
DATA ·winoTIdx<>+132(SB)/4, $11
DATA ·winoTIdx<>+136(SB)/4, $4
DATA ·winoTIdx<>+140(SB)/4, $13
DATA ·winoTIdx<>+144(SB)/4, $6
DATA ·winoTIdx<>+148(SB)/4, $15
DATA ·winoTIdx<>+152(SB)/4, $8
DATA ·winoTIdx<>+156(SB)/4, $1
DATA ·winoTIdx<>+160(SB)/4, $10
DATA ·winoTIdx<>+164(SB)/4, $3
DATA ·winoTIdx<>+168(SB)/4, $12
DATA ·winoTIdx<>+172(SB)/4, $5
DATA ·winoTIdx<>+176(SB)/4, $14
DATA ·winoTIdx<>+180(SB)/4, $7
DATA ·winoTIdx<>+184(SB)/4, $0
DATA ·winoTIdx<>+188(SB)/4, $9
DATA ·winoTIdx<>+192(SB)/4, $3
DATA ·winoTIdx<>+196(SB)/4, $12
DATA ·winoTIdx<>+200(SB)/4, $5
DATA ·winoTIdx<>+204(SB)/4, $14
DATA ·winoTIdx<>+208(SB)/4, $7
DATA ·winoTIdx<>+212(SB)/4, $0
DATA ·winoTIdx<>+216(SB)/4, $9
DATA ·winoTIdx<>+220(SB)/4, $2
DATA ·winoTIdx<>+224(SB)/4, $11
DATA ·winoTIdx<>+228(SB)/4, $4
DATA ·winoTIdx<>+232(SB)/4, $13
DATA ·winoTIdx<>+236(SB)/4, $6
DATA ·winoTIdx<>+240(SB)/4, $15
DATA ·winoTIdx<>+244(SB)/4, $8
DATA ·winoTIdx<>+248(SB)/4, $1
DATA ·winoTIdx<>+252(SB)/4, $10
DATA ·winoTIdx<>+256(SB)/4, $4
DATA ·winoTIdx<>+260(SB)/4, $13
DATA ·winoTIdx<>+264(SB)/4, $6
DATA ·winoTIdx<>+268(SB)/4, $15
DATA ·winoTIdx<>+272(SB)/4, $8
DATA ·winoTIdx<>+276(SB)/4, $1
DATA ·winoTIdx<>+280(SB)/4, $10
DATA ·winoTIdx<>+284(SB)/4, $3
DATA ·winoTIdx<>+288(SB)/4, $12
DATA ·winoTIdx<>+292(SB)/4, $5
DATA ·winoTIdx<>+296(SB)/4, $14
DATA ·winoTIdx<>+300(SB)/4, $7
DATA ·winoTIdx<>+304(SB)/4, $0
DATA ·winoTIdx<>+308(SB)/4, $9
DATA ·winoTIdx<>+312(SB)/4, $2
DATA ·winoTIdx<>+316(SB)/4, $11
DATA ·winoTIdx<>+320(SB)/4, $5
DATA ·winoTIdx<>+324(SB)/4, $14
DATA ·winoTIdx<>+328(SB)/4, $7
DATA ·winoTIdx<>+332(SB)/4, $0
DATA ·winoTIdx<>+336(SB)/4, $9
DATA ·winoTIdx<>+340(SB)/4, $2
DATA ·winoTIdx<>+344(SB)/4, $11
DATA ·winoTIdx<>+348(SB)/4, $4
DATA ·winoTIdx<>+352(SB)/4, $13
DATA ·winoTIdx<>+356(SB)/4, $6
DATA ·winoTIdx<>+360(SB)/4, $15
DATA ·winoTIdx<>+364(SB)/4, $8
DATA ·winoTIdx<>+368(SB)/4, $1
DATA ·winoTIdx<>+372(SB)/4, $10
DATA ·winoTIdx<>+376(SB)/4, $3
DATA ·winoTIdx<>+380(SB)/4, $12
DATA ·winoTIdx<>+384(SB)/4, $6
DATA ·winoTIdx<>+388(SB)/4, $15
DATA ·winoTIdx<>+392(SB)/4, $8
DATA ·winoTIdx<>+396(SB)/4, $1
DATA ·winoTIdx<>+400(SB)/4, $10
DATA ·winoTIdx<>+404(SB)/4, $3
DATA ·winoTIdx<>+408(SB)/4, $12
DATA ·winoTIdx<>+412(SB)/4, $5
DATA ·winoTIdx<>+416(SB)/4, $14
DATA ·winoTIdx<>+420(SB)/4, $7
DATA ·winoTIdx<>+424(SB)/4, $0
DATA ·winoTIdx<>+428(SB)/4, $9
DATA ·winoTIdx<>+432(SB)/4, $2
DATA ·winoTIdx<>+436(SB)/4, $11
DATA ·winoTIdx<>+440(SB)/4, $4
DATA ·winoTIdx<>+444(SB)/4, $13
DATA ·winoTIdx<>+448(SB)/4, $7
DATA ·winoTIdx<>+452(SB)/4, $0
DATA ·winoTIdx<>+456(SB)/4, $9
DATA ·winoTIdx<>+460(SB)/4, $2
DATA ·winoTIdx<>+464(SB)/4, $11
DATA ·winoTIdx<>+468(SB)/4, $4
DATA ·winoTIdx<>+472(SB)/4, $13
DATA ·winoTIdx<>+476(SB)/4, $6
DATA ·winoTIdx<>+480(SB)/4, $15
DATA ·winoTIdx<>+484(SB)/4, $8
DATA ·winoTIdx<>+488(SB)/4, $1
DATA ·winoTIdx<>+492(SB)/4, $10
DATA ·winoTIdx<>+496(SB)/4, $3
DATA ·winoTIdx<>+500(SB)/4, $12
DATA ·winoTIdx<>+504(SB)/4, $5
DATA ·winoTIdx<>+508(SB)/4, $14
DATA ·winoTIdx<>+512(SB)/4, $8
DATA ·winoTIdx<>+516(SB)/4, $1
DATA ·winoTIdx<>+520(SB)/4, $10
DATA ·winoTIdx<>+524(SB)/4, $3
DATA ·winoTIdx<>+528(SB)/4, $12
DATA ·winoTIdx<>+532(SB)/4, $5
DATA ·winoTIdx<>+536(SB)/4, $14
DATA ·winoTIdx<>+540(SB)/4, $7
DATA ·winoTIdx<>+544(SB)/4, $0
DATA ·winoTIdx<>+548(SB)/4, $9
DATA ·winoTIdx<>+552(SB)/4, $2
DATA ·winoTIdx<>+556(SB)/4, $11
DATA ·winoTIdx<>+560(SB)/4, $4
DATA ·winoTIdx<>+564(SB)/4, $13
DATA ·winoTIdx<>+568(SB)/4, $6
DATA ·winoTIdx<>+572(SB)/4, $15
GLOBL ·winoTIdx<>(SB), RODATA|NOPTR, $576

DATA ·winoTMask<>+0(SB)/2, $0x0003
DATA ·winoTMask<>+2(SB)/2, $0x000c
DATA ·winoTMask<>+4(SB)/2, $0x0030
DATA ·winoTMask<>+6(SB)/2, $0x00c0
DATA ·winoTMask<>+8(SB)/2, $0x0100
DATA ·winoTMask<>+10(SB)/2, $0x0600
DATA ·winoTMask<>+12(SB)/2, $0x1800
DATA ·winoTMask<>+14(SB)/2, $0x6000
DATA ·winoTMask<>+16(SB)/2, $0x8000
DATA ·winoTMask<>+18(SB)/2, $0x0003
DATA ·winoTMask<>+20(SB)/2, $0x000c
DATA ·winoTMask<>+22(SB)/2, $0x0030
DATA ·winoTMask<>+24(SB)/2, $0x0040
DATA ·winoTMask<>+26(SB)/2, $0x0180
DATA ·winoTMask<>+28(SB)/2, $0x0600
DATA ·winoTMask<>+30(SB)/2, $0x1800
DATA ·winoTMask<>+32(SB)/2, $0x6000
DATA ·winoTMask<>+34(SB)/2, $0x8000
DATA ·winoTMask<>+36(SB)/2, $0x0003
DATA ·winoTMask<>+38(SB)/2, $0x000c
DATA ·winoTMask<>+40(SB)/2, $0x0030
DATA ·winoTMask<>+42(SB)/2, $0x0040
DATA ·winoTMask<>+44(SB)/2, $0x0180
DATA ·winoTMask<>+46(SB)/2, $0x0600
DATA ·winoTMask<>+48(SB)/2, $0x1800
DATA ·winoTMask<>+50(SB)/2, $0x2000
DATA ·winoTMask<>+52(SB)/2, $0xc000
DATA ·winoTMask<>+54(SB)/2, $0x0003
DATA ·winoTMask<>+56(SB)/2, $0x000c
DATA ·winoTMask<>+58(SB)/2, $0x0010
DATA ·winoTMask<>+60(SB)/2, $0x0060
DATA ·winoTMask<>+62(SB)/2, $0x0180
DATA ·winoTMask<>+64(SB)/2, $0x0600
DATA ·winoTMask<>+66(SB)/2, $0x1800
DATA ·winoTMask<>+68(SB)/2, $0x2000
DATA ·winoTMask<>+70(SB)/2, $0xc000
DATA ·winoTMask<>+72(SB)/2, $0x0003
DATA ·winoTMask<>+74(SB)/2, $0x000c
DATA ·winoTMask<>+76(SB)/2, $0x0010
DATA ·winoTMask<>+78(SB)/2, $0x0060
DATA ·winoTMask<>+80(SB)/2, $0x0180
DATA ·winoTMask<>+82(SB)/2, $0x0600
DATA ·winoTMask<>+84(SB)/2, $0x0800
DATA ·winoTMask<>+86(SB)/2, $0x3000
DATA ·winoTMask<>+88(SB)/2, $0xc000
DATA ·winoTMask<>+90(SB)/2, $0x0003
DATA ·winoTMask<>+92(SB)/2, $0x0004
DATA ·winoTMask<>+94(SB)/2, $0x0018
DATA ·winoTMask<>+96(SB)/2, $0x0060
DATA ·winoTMask<>+98(SB)/2, $0x0180
DATA ·winoTMask<>+100(SB)/2, $0x0600
DATA ·winoTMask<>+102(SB)/2, $0x0800
DATA ·winoTMask<>+104(SB)/2, $0x3000
DATA ·winoTMask<>+106(SB)/2, $0xc000
DATA ·winoTMask<>+108(SB)/2, $0x0003
DATA ·winoTMask<>+110(SB)/2, $0x0004
DATA ·winoTMask<>+112(SB)/2, $0x0018
DATA ·winoTMask<>+114(SB)/2, $0x0060
DATA ·winoTMask<>+116(SB)/2, $0x0180
DATA ·winoTMask<>+118(SB)/2, $0x0200
DATA ·winoTMask<>+120(SB)/2, $0x0c00
DATA ·winoTMask<>+122(SB)/2, $0x3000
DATA ·winoTMask<>+124(SB)/2, $0xc000
DATA ·winoTMask<>+126(SB)/2, $0x0001
DATA ·winoTMask<>+128(SB)/2, $0x0006
DATA ·winoTMask<>+130(SB)/2, $0x0018
DATA ·winoTMask<>+132(SB)/2, $0x0060
DATA ·winoTMask<>+134(SB)/2, $0x0180
DATA ·winoTMask<>+136(SB)/2, $0x0200
DATA ·winoTMask<>+138(SB)/2, $0x0c00
DATA ·winoTMask<>+140(SB)/2, $0x3000
DATA ·winoTMask<>+142(SB)/2, $0xc000
DATA ·winoTMask<>+144(SB)/2, $0x0001
DATA ·winoTMask<>+146(SB)/2, $0x0006
DATA ·winoTMask<>+148(SB)/2, $0x0018
DATA ·winoTMask<>+150(SB)/2, $0x0060
DATA ·winoTMask<>+152(SB)/2, $0x0080
DATA ·winoTMask<>+154(SB)/2, $0x0300
DATA ·winoTMask<>+156(SB)/2, $0x0c00
DATA ·winoTMask<>+158(SB)/2, $0x3000
DATA ·winoTMask<>+160(SB)/2, $0xc000
GLOBL ·winoTMask<>(SB), RODATA|NOPTR, $162

// func winoFilterAVX512(w *float32, u *float32, us int, n int)
//
// winoFilterGo in AVX-512 for n a multiple of 16: 16 filters a step,
// transposed into a vector per filter value, the transforms computed in the
// same order as winoFilterGo.
TEXT ·winoFilterAVX512(SB), NOSPLIT, $0-32
	MOVQ         w+0(FP), SI
	MOVQ         u+8(FP), DI
	MOVQ         us+16(FP), R9
	SHLQ         $2, R9
	MOVQ         n+24(FP), CX
	MOVL         $0x3f000000, AX // 0.5
	VPBROADCASTD AX, Z31
	SHRQ         $4, CX
	JZ           fdone

floop:
	// g[j] into Zj.
	VMOVUPS ·winoTIdx<>+0(SB), Z26
	KMOVW ·winoTMask<>+0(SB), K1
	VPERMPS 0(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+2(SB), K1
	VPERMPS 64(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+4(SB), K1
	VPERMPS 128(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+6(SB), K1
	VPERMPS 192(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+8(SB), K1
	VPERMPS 256(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+10(SB), K1
	VPERMPS 320(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+12(SB), K1
	VPERMPS 384(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+14(SB), K1
	VPERMPS 448(SI), Z26, K1, Z0
	KMOVW ·winoTMask<>+16(SB), K1
	VPERMPS 512(SI), Z26, K1, Z0
	VMOVUPS ·winoTIdx<>+64(SB), Z26
	KMOVW ·winoTMask<>+18(SB), K1
	VPERMPS 0(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+20(SB), K1
	VPERMPS 64(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+22(SB), K1
	VPERMPS 128(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+24(SB), K1
	VPERMPS 192(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+26(SB), K1
	VPERMPS 256(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+28(SB), K1
	VPERMPS 320(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+30(SB), K1
	VPERMPS 384(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+32(SB), K1
	VPERMPS 448(SI), Z26, K1, Z1
	KMOVW ·winoTMask<>+34(SB), K1
	VPERMPS 512(SI), Z26, K1, Z1
	VMOVUPS ·winoTIdx<>+128(SB), Z26
	KMOVW ·winoTMask<>+36(SB), K1
	VPERMPS 0(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+38(SB), K1
	VPERMPS 64(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+40(SB), K1
	VPERMPS 128(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+42(SB), K1
	VPERMPS 192(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+44(SB), K1
	VPERMPS 256(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+46(SB), K1
	VPERMPS 320(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+48(SB), K1
	VPERMPS 384(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+50(SB), K1
	VPERMPS 448(SI), Z26, K1, Z2
	KMOVW ·winoTMask<>+52(SB), K1
	VPERMPS 512(SI), Z26, K1, Z2
	VMOVUPS ·winoTIdx<>+192(SB), Z26
	KMOVW ·winoTMask<>+54(SB), K1
	VPERMPS 0(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+56(SB), K1
	VPERMPS 64(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+58(SB), K1
	VPERMPS 128(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+60(SB), K1
	VPERMPS 192(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+62(SB), K1
	VPERMPS 256(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+64(SB), K1
	VPERMPS 320(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+66(SB), K1
	VPERMPS 384(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+68(SB), K1
	VPERMPS 448(SI), Z26, K1, Z3
	KMOVW ·winoTMask<>+70(SB), K1
	VPERMPS 512(SI), Z26, K1, Z3
	VMOVUPS ·winoTIdx<>+256(SB), Z26
	KMOVW ·winoTMask<>+72(SB), K1
	VPERMPS 0(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+74(SB), K1
	VPERMPS 64(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+76(SB), K1
	VPERMPS 128(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+78(SB), K1
	VPERMPS 192(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+80(SB), K1
	VPERMPS 256(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+82(SB), K1
	VPERMPS 320(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+84(SB), K1
	VPERMPS 384(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+86(SB), K1
	VPERMPS 448(SI), Z26, K1, Z4
	KMOVW ·winoTMask<>+88(SB), K1
	VPERMPS 512(SI), Z26, K1, Z4
	VMOVUPS ·winoTIdx<>+320(SB), Z26
	KMOVW ·winoTMask<>+90(SB), K1
	VPERMPS 0(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+92(SB), K1
	VPERMPS 64(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+94(SB), K1
	VPERMPS 128(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+96(SB), K1
	VPERMPS 192(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+98(SB), K1
	VPERMPS 256(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+100(SB), K1
	VPERMPS 320(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+102(SB), K1
	VPERMPS 384(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+104(SB), K1
	VPERMPS 448(SI), Z26, K1, Z5
	KMOVW ·winoTMask<>+106(SB), K1
	VPERMPS 512(SI), Z26, K1, Z5
	VMOVUPS ·winoTIdx<>+384(SB), Z26
	KMOVW ·winoTMask<>+108(SB), K1
	VPERMPS 0(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+110(SB), K1
	VPERMPS 64(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+112(SB), K1
	VPERMPS 128(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+114(SB), K1
	VPERMPS 192(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+116(SB), K1
	VPERMPS 256(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+118(SB), K1
	VPERMPS 320(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+120(SB), K1
	VPERMPS 384(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+122(SB), K1
	VPERMPS 448(SI), Z26, K1, Z6
	KMOVW ·winoTMask<>+124(SB), K1
	VPERMPS 512(SI), Z26, K1, Z6
	VMOVUPS ·winoTIdx<>+448(SB), Z26
	KMOVW ·winoTMask<>+126(SB), K1
	VPERMPS 0(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+128(SB), K1
	VPERMPS 64(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+130(SB), K1
	VPERMPS 128(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+132(SB), K1
	VPERMPS 192(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+134(SB), K1
	VPERMPS 256(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+136(SB), K1
	VPERMPS 320(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+138(SB), K1
	VPERMPS 384(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+140(SB), K1
	VPERMPS 448(SI), Z26, K1, Z7
	KMOVW ·winoTMask<>+142(SB), K1
	VPERMPS 512(SI), Z26, K1, Z7
	VMOVUPS ·winoTIdx<>+512(SB), Z26
	KMOVW ·winoTMask<>+144(SB), K1
	VPERMPS 0(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+146(SB), K1
	VPERMPS 64(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+148(SB), K1
	VPERMPS 128(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+150(SB), K1
	VPERMPS 192(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+152(SB), K1
	VPERMPS 256(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+154(SB), K1
	VPERMPS 320(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+156(SB), K1
	VPERMPS 384(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+158(SB), K1
	VPERMPS 448(SI), Z26, K1, Z8
	KMOVW ·winoTMask<>+160(SB), K1
	VPERMPS 512(SI), Z26, K1, Z8

	// a = G g, column s of g (g[r][s] in Z(3r+s)): a0 = g0, a1 = (g0+g2+g1)/2,
	// a2 = (g0+g2-g1)/2, a3 = g2; a[i][s] goes to Z(10+3i+s).
	VADDPS Z6, Z0, Z9
	VADDPS Z3, Z9, Z13
	VMULPS Z31, Z13, Z13
	VSUBPS Z3, Z9, Z16
	VMULPS Z31, Z16, Z16
	VMOVAPS Z0, Z10
	VMOVAPS Z6, Z19
	VADDPS Z7, Z1, Z9
	VADDPS Z4, Z9, Z14
	VMULPS Z31, Z14, Z14
	VSUBPS Z4, Z9, Z17
	VMULPS Z31, Z17, Z17
	VMOVAPS Z1, Z11
	VMOVAPS Z7, Z20
	VADDPS Z8, Z2, Z9
	VADDPS Z5, Z9, Z15
	VMULPS Z31, Z15, Z15
	VSUBPS Z5, Z9, Z18
	VMULPS Z31, Z18, Z18
	VMOVAPS Z2, Z12
	VMOVAPS Z8, Z21

	// U = a Gᵀ, row i of a: U[i][0..3] into planes 4i..4i+3, us apart.
	MOVQ DI, R11
	VADDPS Z12, Z10, Z9
	VADDPS Z11, Z9, Z23
	VMULPS Z31, Z23, Z23
	VSUBPS Z11, Z9, Z24
	VMULPS Z31, Z24, Z24
	VMOVAPS Z10, Z22
	VMOVAPS Z12, Z25
	VMOVUPS Z22, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, (R11)
	ADDQ R9, R11
	VMOVUPS Z24, (R11)
	ADDQ R9, R11
	VMOVUPS Z25, (R11)
	ADDQ R9, R11
	VADDPS Z15, Z13, Z9
	VADDPS Z14, Z9, Z23
	VMULPS Z31, Z23, Z23
	VSUBPS Z14, Z9, Z24
	VMULPS Z31, Z24, Z24
	VMOVAPS Z13, Z22
	VMOVAPS Z15, Z25
	VMOVUPS Z22, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, (R11)
	ADDQ R9, R11
	VMOVUPS Z24, (R11)
	ADDQ R9, R11
	VMOVUPS Z25, (R11)
	ADDQ R9, R11
	VADDPS Z18, Z16, Z9
	VADDPS Z17, Z9, Z23
	VMULPS Z31, Z23, Z23
	VSUBPS Z17, Z9, Z24
	VMULPS Z31, Z24, Z24
	VMOVAPS Z16, Z22
	VMOVAPS Z18, Z25
	VMOVUPS Z22, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, (R11)
	ADDQ R9, R11
	VMOVUPS Z24, (R11)
	ADDQ R9, R11
	VMOVUPS Z25, (R11)
	ADDQ R9, R11
	VADDPS Z21, Z19, Z9
	VADDPS Z20, Z9, Z23
	VMULPS Z31, Z23, Z23
	VSUBPS Z20, Z9, Z24
	VMULPS Z31, Z24, Z24
	VMOVAPS Z19, Z22
	VMOVAPS Z21, Z25
	VMOVUPS Z22, (R11)
	ADDQ R9, R11
	VMOVUPS Z23, (R11)
	ADDQ R9, R11
	VMOVUPS Z24, (R11)
	ADDQ R9, R11
	VMOVUPS Z25, (R11)

	ADDQ $576, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  floop

fdone:
	VZEROUPPER
	RET
