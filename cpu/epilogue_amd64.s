#include "textflag.h"

// func biasReLUAVX(x *float32, n int, b float32)
//
// x[i] = max(x[i]+b, 0) for i < n, n a multiple of 8; VMAXPS returns its
// second source (zero) when x[i]+b is NaN, like epilogueGo.
TEXT ·biasReLUAVX(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS b+16(FP), Y1
	VXORPS       Y2, Y2, Y2
	SHRQ         $3, CX
	JZ           done

loop:
	VADDPS  (DI), Y1, Y0
	VMAXPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET

// func biasAVX(x *float32, n int, b float32)
//
// x[i] += b for i < n, n a multiple of 8.
TEXT ·biasAVX(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS b+16(FP), Y1
	SHRQ         $3, CX
	JZ           done2

loop2:
	VADDPS  (DI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop2

done2:
	VZEROUPPER
	RET
