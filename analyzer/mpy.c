/*
 * mpy.c - read MicroPython .mpy files.
 *
 * Header layout (py/persistentcode.h, facts doc 2.2): 'M', major version,
 * feature byte (bits 1..0 sub-version, bits 5..2 native arch, bit 6 "an
 * arch-flags vuint follows"), small-int bits; then the optional vuint.
 */
#include "mpy.h"

#include <string.h>

static const char *const mpy_arch_names[] = {
    "none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
    "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc", "debug",
};

const char *fs_mpy_arch_name(uint8_t arch)
{
    return arch < sizeof mpy_arch_names / sizeof *mpy_arch_names ? mpy_arch_names[arch] : "unknown";
}

int fs_mpy_read_vuint(const uint8_t *data, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t p = *pos; p < len; p++) {
        if (v >> 57)
            return -1; /* another 7 bits would not fit */
        v = (v << 7) | (data[p] & 0x7f);
        if (!(data[p] & 0x80)) {
            *pos = p + 1;
            *out = v;
            return 0;
        }
    }
    return -1;
}

int fs_mpy_read_header(const char *name, const uint8_t *data, size_t len, fs_mpy_header *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (len < 4)
        return fs_fail(err, "%s: truncated .mpy header (%zu bytes, need 4)", name, len);
    if (data[0] != FS_MPY_MAGIC)
        return fs_fail(err, "%s: not a .mpy file (bad magic 0x%02x)", name, data[0]);
    out->version = data[1];
    out->sub_version = data[2] & 3;
    out->arch = (data[2] >> 2) & 0x0f;
    out->has_arch_flags = (data[2] & 0x40) != 0;
    out->small_int_bits = data[3];
    out->header_len = 4;
    if (out->has_arch_flags) {
        size_t pos = 4;
        if (fs_mpy_read_vuint(data, len, &pos, &out->arch_flags) < 0)
            return fs_fail(err, "%s: truncated arch-flags varint in the .mpy header", name);
        out->header_len = pos;
    }
    return 0;
}
