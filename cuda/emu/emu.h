// emu.h: the C interface of the CPU emulation (see emu.cc).
#ifndef GOOGLENET_EMU_H
#define GOOGLENET_EMU_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// emu_launch runs kernel name over the grid; slots holds one 8-byte slot per
// kernel parameter. It returns 0, -1 for an unknown kernel, -2 for a wrong
// parameter count.
int emu_launch(const char *name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
               unsigned bz, uint64_t *slots, int nslots);
#ifdef __cplusplus
}
#endif
#endif
