#include "textflag.h"

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
