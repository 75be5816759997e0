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
