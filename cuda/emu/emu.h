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
// emu_register records a buffer: device address dev (the Go side's
// handle<<40) at host address host, bytes long; emu_unregister forgets it.
// The fake cuDNN and cuBLAS (fakelib.cc) resolve device pointers with it.
void emu_register(uint64_t dev, void *host, int64_t bytes);
void emu_unregister(uint64_t dev);
// emu_fake_sym returns the address of a fake cuDNN or cuBLAS entry point,
// or 0; emu_fake_calls and emu_fake_modes are what the tests inspect.
uintptr_t emu_fake_sym(const char *name);
long emu_fake_calls(const char *name);
void emu_fake_modes(long *dnn_math, long *blas_math, uint64_t *dnn_stream, uint64_t *blas_stream);
#ifdef __cplusplus
}
#endif
#endif
