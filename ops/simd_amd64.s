#include "textflag.h"

// func powNeg075AVX(s *float32, n int)
//
// s[i] = 1/(r·√r) with r = √s[i], for i < n, n a multiple of 8: the same
// correctly rounded float32 operations, in the same order, as powPlane's
// scalar float32 path, eight at a time.
TEXT ·powNeg075AVX(SB), NOSPLIT, $0-16
	MOVQ         s+0(FP), DI
	MOVQ         n+8(FP), CX
	MOVL         $0x3f800000, AX
	MOVL         AX, X3
	VBROADCASTSS X3, Y3
	SHRQ         $3, CX
	JZ           done

loop:
	VSQRTPS (DI), Y0
	VSQRTPS Y0, Y1
	VMULPS  Y1, Y0, Y0
	VDIVPS  Y0, Y3, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET

// func maxNaNAVX(dst, a, b *float32, n int)
//
// dst[i] = max(a[i], b[i]) for i < n, n a multiple of 8, NaN when either
// is NaN (VMAXPS alone would return b): the unordered-compare mask (all
// ones, a NaN) is ORed into the result. dst may be a or b.
TEXT ·maxNaNAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   done2

loop2:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMAXPS  Y1, Y0, Y2
	VCMPPS  $3, Y1, Y0, Y3
	VORPS   Y3, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop2

done2:
	VZEROUPPER
	RET

// func reluAVX(y, x *float32, n int)
//
// y[i] = x[i] if x[i] > 0, else +0 (NaN included: the ordered compare is
// false), for i < n, n a multiple of 8.
TEXT ·reluAVX(SB), NOSPLIT, $0-24
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y4, Y4, Y4
	SHRQ   $3, CX
	JZ     done3

loop3:
	VMOVUPS (SI), Y0
	VCMPPS  $0x1e, Y4, Y0, Y1
	VANDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop3

done3:
	VZEROUPPER
	RET

// func reluGradAVX(dx, y, dy *float32, n int)
//
// dx[i] = dy[i] if y[i] > 0, else +0, for i < n, n a multiple of 8.
TEXT ·reluGradAVX(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   y+8(FP), SI
	MOVQ   dy+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y4, Y4, Y4
	SHRQ   $3, CX
	JZ     done4

loop4:
	VMOVUPS (SI), Y0
	VCMPPS  $0x1e, Y4, Y0, Y1
	VANDPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop4

done4:
	VZEROUPPER
	RET

// func selectEqAVX(sel, x, y *float32, n int, k float32)
//
// sel[i] = k where x[i] == y[i] or both are NaN, for i < n, n a multiple
// of 8; other sel[i] are kept.
TEXT ·selectEqAVX(SB), NOSPLIT, $0-36
	MOVQ         sel+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS k+32(FP), Y5
	SHRQ         $3, CX
	JZ           done5

loop5:
	VMOVUPS   (SI), Y0
	VMOVUPS   (DX), Y1
	VCMPPS    $0, Y1, Y0, Y2
	VCMPPS    $3, Y0, Y0, Y3
	VCMPPS    $3, Y1, Y1, Y4
	VANDPS    Y4, Y3, Y3
	VORPS     Y3, Y2, Y2
	VMOVUPS   (DI), Y0
	VBLENDVPS Y2, Y5, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, DI
	DECQ      CX
	JNZ       loop5

done5:
	VZEROUPPER
	RET

// func addWhereAVX(dst, v, sel *float32, n int, k float32)
//
// dst[i] += v[i] where sel[i] == k, for i < n, n a multiple of 8.
TEXT ·addWhereAVX(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         v+8(FP), SI
	MOVQ         sel+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS k+32(FP), Y5
	SHRQ         $3, CX
	JZ           done6

loop6:
	VCMPPS  $0, (DX), Y5, Y2
	VANDPS  (SI), Y2, Y2
	VADDPS  (DI), Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop6

done6:
	VZEROUPPER
	RET

// func sqAccAVX(s, x *float32, n int)
//
// s[i] += x[i]*x[i] for i < n, n a multiple of 8 (multiply, then add: the
// same roundings as the Go loop).
TEXT ·sqAccAVX(SB), NOSPLIT, $0-24
	MOVQ s+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done7

loop7:
	VMOVUPS (SI), Y0
	VMULPS  Y0, Y0, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop7

done7:
	VZEROUPPER
	RET

// func subScaledProdAVX(d, x, r *float32, n int, c float32)
//
// d[i] -= (c*x[i])*r[i] for i < n, n a multiple of 8, in that order.
TEXT ·subScaledProdAVX(SB), NOSPLIT, $0-36
	MOVQ         d+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         r+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS c+32(FP), Y5
	SHRQ         $3, CX
	JZ           done8

loop8:
	VMULPS  (SI), Y5, Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS (DI), Y1
	VSUBPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop8

done8:
	VZEROUPPER
	RET

// func max3s2AVX2(dst, v *float32, n int)
//
// dst[j] = max(v[2j], v[2j+1], v[2j+2]) for j < n, n a multiple of 8, NaN
// when any of the three is NaN (as maxNaNAVX): the 3-wide stride-2 windows
// of a max pool row. v must be readable up to v[2n+1]. VSHUFPS picks the
// even (0x88) or odd (0xDD) elements of two vectors within each 128-bit
// lane; VPERMPD $0xD8 puts the lanes' halves in order.
TEXT ·max3s2AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done9

loop9:
	VMOVUPS (SI), Y0      // v[2j .. 2j+7]
	VMOVUPS 32(SI), Y1    // v[2j+8 .. 2j+15]
	VMOVUPS 8(SI), Y4     // v[2j+2 .. 2j+9]
	VMOVUPS 40(SI), Y5    // v[2j+10 .. 2j+17]
	VSHUFPS $0x88, Y1, Y0, Y2
	VPERMPD $0xD8, Y2, Y2 // v[2j+2i]
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y3, Y3 // v[2j+2i+1]
	VSHUFPS $0x88, Y5, Y4, Y6
	VPERMPD $0xD8, Y6, Y6 // v[2j+2i+2]
	VMAXPS  Y3, Y2, Y7
	VCMPPS  $3, Y3, Y2, Y8
	VORPS   Y8, Y7, Y7
	VMAXPS  Y6, Y7, Y0
	VCMPPS  $3, Y6, Y7, Y1
	VORPS   Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $64, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop9

done9:
	VZEROUPPER
	RET

// func deinterleaveAVX2(ev, od, src *float32, n int)
//
// ev[j] = src[2j], od[j] = src[2j+1] for j < n, n a multiple of 8 (the
// even/odd lane selection of max3s2AVX2).
TEXT ·deinterleaveAVX2(SB), NOSPLIT, $0-32
	MOVQ ev+0(FP), DI
	MOVQ od+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   done10

loop10:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VPERMPD $0xD8, Y2, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (DX)
	ADDQ    $64, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     loop10

done10:
	VZEROUPPER
	RET

// func interleaveAVX(dst, ev, od *float32, n int)
//
// dst[2j] = ev[j], dst[2j+1] = od[j] for j < n, n a multiple of 8:
// VUNPCKLPS/VUNPCKHPS interleave within 128-bit lanes, VPERM2F128 joins the
// lanes' halves in order.
TEXT ·interleaveAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ ev+8(FP), SI
	MOVQ od+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   done11

loop11:
	VMOVUPS    (SI), Y0
	VMOVUPS    (DX), Y1
	VUNPCKLPS  Y1, Y0, Y2       // e0 o0 e1 o1 | e4 o4 e5 o5
	VUNPCKHPS  Y1, Y0, Y3       // e2 o2 e3 o3 | e6 o6 e7 o7
	VPERM2F128 $0x20, Y3, Y2, Y4 // e0 o0 .. e3 o3
	VPERM2F128 $0x31, Y3, Y2, Y5 // e4 o4 .. e7 o7
	VMOVUPS    Y4, (DI)
	VMOVUPS    Y5, 32(DI)
	ADDQ       $32, SI
	ADDQ       $32, DX
	ADDQ       $64, DI
	DECQ       CX
	JNZ        loop11

done11:
	VZEROUPPER
	RET

// func mulAVX(dst, a, b *float32, n int)
//
// dst[i] = a[i]*b[i] for i < n, n a multiple of 8 (one rounding each, as
// the Go loop). dst may be a or b.
TEXT ·mulAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   done12

loop12:
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop12

done12:
	VZEROUPPER
	RET

// func mulDivAVX(dst, a, b, c *float32, n int)
//
// dst[i] = (a[i]*b[i]) / c[i] for i < n, n a multiple of 8 (two roundings,
// in the Go loop's order).
TEXT ·mulDivAVX(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ c+24(FP), BX
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JZ   done13

loop13:
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VDIVPS  (BX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, BX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop13

done13:
	VZEROUPPER
	RET

// func affineAVX(s *float32, n int, a, k float32)
//
// s[i] = k + a*s[i] for i < n, n a multiple of 8: a multiply then an add,
// each rounded (no FMA), as the Go loop.
TEXT ·affineAVX(SB), NOSPLIT, $0-24
	MOVQ         s+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS a+16(FP), Y1
	VBROADCASTSS k+20(FP), Y2
	SHRQ         $3, CX
	JZ           done14

loop14:
	VMULPS  (DI), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop14

done14:
	VZEROUPPER
	RET
