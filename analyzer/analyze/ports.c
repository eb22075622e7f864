/*
 * ports.c - memory regions of MicroPython's non-ESP8266 ports recovered
 * from the linker symbols their scripts define, when neither --ld, --board
 * nor a map says more.  Each rule names the region as the port's linker
 * script does and takes its bounds from symbols the script sets from
 * ORIGIN()/LENGTH() of that region (MicroPython v1.28.0):
 *
 *   stm32  boards/stm32f405.ld (and the other stm32*.ld):
 *            _ram_start = ORIGIN(RAM); _ram_end = ORIGIN(RAM) + LENGTH(RAM);
 *            _micropy_hw_internal_flash_storage_start/_end = FLASH_FS's bounds
 *   nrf    boards/common.ld: _ram_start at the start of RAM, _ram_end =
 *            ORIGIN(RAM) + LENGTH(RAM) (the same names as stm32)
 *   rp2    memmap_mp_rp2040.ld / memmap_mp_rp2350.ld: RAM at 0x20000000 (the
 *            scripts' ORIGIN), __GcHeapEnd = ORIGIN(RAM) + LENGTH(RAM)
 *            (rp2350: minus __micropy_extra_stack__)
 *   mimxrt boards/common.ld: __vfs_start/__vfs_end = m_vfs's bounds;
 *            boards/MIMXRT10xx.ld: _gc_heap_start/_end = m_ocrm's (or, at
 *            0x80000000 and above, m_sdram's)
 *   samd   boards/samd21x18a.ld, samd51x19a.ld: FLASH = ORIGIN _bootloader
 *            ("must match the ORIGIN value of FLASH"), LENGTH _codesize
 *
 * Only regions whose both ends are pinned are added; the flash text region
 * of stm32 and rp2 is not, so sections outside the inferred regions are
 * not reported as unplaced (analyze.c).
 */
#include "analyze.h"

#include <elf.h>

static bool port_sym(const fs_image *img, const char *name, uint64_t *v)
{
    const fs_symbol *s = fs_image_symbol(img, name);
    if (s)
        *v = s->value;
    return s != NULL;
}

static int port_add(fs_memmap *map, const char *name, uint64_t start, uint64_t end, const char *attrs)
{
    if (end <= start || fs_memmap_find(map, name) >= 0)
        return 0;
    return fs_memmap_add(map, name, start, end - start, attrs) < 0 ? -1 : 0;
}

int fs_ports_infer_regions(const fs_image *img, fs_memmap *map)
{
    uint64_t a, b;
    if (port_sym(img, "_ram_start", &a) && port_sym(img, "_ram_end", &b) && port_add(map, "RAM", a, b, "xrw") < 0)
        return -1;
    if (port_sym(img, "_micropy_hw_internal_flash_storage_start", &a) &&
        port_sym(img, "_micropy_hw_internal_flash_storage_end", &b) && port_add(map, "FLASH_FS", a, b, "rx") < 0)
        return -1;
    if (port_sym(img, "__GcHeapEnd", &b) && port_add(map, "RAM", 0x20000000u, b, "rwx") < 0)
        return -1;
    if (port_sym(img, "__vfs_start", &a) && port_sym(img, "__vfs_end", &b) && port_add(map, "m_vfs", a, b, "rx") < 0)
        return -1;
    if (port_sym(img, "_gc_heap_start", &a) && port_sym(img, "_gc_heap_end", &b) &&
        port_add(map, a >= 0x80000000u ? "m_sdram" : "m_ocrm", a, b, "rw") < 0)
        return -1;
    if (port_sym(img, "_bootloader", &a) && port_sym(img, "_codesize", &b) && port_add(map, "FLASH", a, a + b, "rx") < 0)
        return -1;
    return 0;
}
