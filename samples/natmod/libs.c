/* libs.c - a native module whose helpers come from archives: a signed
 * modulo (__modsi3 from the toolchain's libgcc.a on xtensa, which the ROM
 * lacks; Cortex-M3 divides in hardware and needs none), memcpy from the
 * sample libc archive (redundant on the ESP8266, whose ROM has it) and a
 * runtime object. */
#include "runtime.h"

static int state[4];

int mpy_init(void *self, int n_args, int n_kw, void **args)
{
    memcpy(state, args, sizeof state);
    int r = state[0] % (n_args + 3);
    unsigned q = (unsigned)state[1] / (unsigned)(n_kw + 7);
    return r + (int)q + (self == &mp_type_type);
}
