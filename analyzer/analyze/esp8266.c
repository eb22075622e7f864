/*
 * esp8266.c - the ESP8266 chip module: MicroPython's flash layout, the boot
 * image, the 1 MiB memory-mapped window, and the findings that follow.
 *
 * Facts (from MicroPython's ports/esp8266: boards/esp8266_*.ld, makeimg.py,
 * modesp.c; and esptool's v1 image format):
 *   - Flash offset 0 is mapped at 0x40200000, and only the first 1 MiB
 *     (up to 0x40300000) can be mapped.  irom0 code and a ROMFS partition
 *     that VfsRom mounts must both lie inside it.
 *   - Flash 0x0000-0x8FFF holds the boot image written by esptool elf2image
 *     (every PROGBITS section with a non-zero address outside irom0: IRAM
 *     .text/.lit4, DRAM .data/.rodata), then makeimg.py writes a 4-byte
 *     size word at 0x8FFC.  So the boot image must be <= 0x8FFC bytes.
 *   - irom0 (the .irom0.text output section) starts at flash 0x9000,
 *     i.e. 0x40209000, and the linker region irom0_0_seg bounds it.
 *   - _firmware_size = ORIGIN(irom0_0_seg) + LENGTH(irom0_0_seg) - 0x40200000.
 *
 * The esptool v1 image: an 8-byte header; per segment an 8-byte header
 * (address, length) and the data padded to a multiple of 4; consecutive
 * sections that are contiguous in the same memory type are merged into one
 * segment; then zero padding up to the last byte of a 16-byte block, which
 * holds the checksum.
 */
#include "analyze.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#define ESP_IMAGE_HEADER   8
#define ESP_SEGMENT_HEADER 8

/* Memory types the ESP8266 ROM loader knows; esptool merges sections only
 * within one type. */
static const struct {
    uint64_t start, end;
} esp_memory_types[] = {
    {0x3ff00000, 0x3ff00010}, /* DPORT */
    {0x3ffe8000, 0x40000000}, /* DRAM */
    {0x40100000, 0x40108000}, /* IRAM */
    {0x40201010, 0x402e1010}, /* IROM */
};

static int esp_memory_type(uint64_t addr)
{
    for (size_t i = 0; i < sizeof esp_memory_types / sizeof *esp_memory_types; i++)
        if (addr >= esp_memory_types[i].start && addr < esp_memory_types[i].end)
            return (int)i;
    return -1;
}

static bool esp_in_window(uint64_t addr)
{
    return addr >= FS_ESP8266_WINDOW_START && addr < FS_ESP8266_WINDOW_END;
}

static bool esp_symbol_value(const fs_image *img, const char *name, uint64_t *value)
{
    const fs_symbol *s = fs_image_symbol(img, name);
    if (s)
        *value = s->value;
    return s != NULL;
}

bool fs_esp8266_detect(const fs_image *img, const fs_board *board)
{
    if (board && board->chip == FS_CHIP_ESP8266)
        return true;
    if (img->machine != EM_XTENSA)
        return false;
    return fs_image_section(img, ".irom0.text") || fs_image_symbol(img, "_irom0_text_start");
}

int fs_esp8266_infer_regions(const fs_image *img, fs_memmap *map)
{
    uint64_t heap_end = 0x3fffc000, irom0_start = 0x40209000, fw_size, romfs_start, romfs_size;
    const fs_section *irom0 = fs_image_section(img, ".irom0.text");
    esp_symbol_value(img, "_heap_end", &heap_end);
    if (!esp_symbol_value(img, "_irom0_text_start", &irom0_start) && irom0)
        irom0_start = irom0->addr;
    uint64_t irom0_end = FS_ESP8266_WINDOW_END;
    if (esp_symbol_value(img, "_firmware_size", &fw_size))
        irom0_end = FS_ESP8266_WINDOW_START + fw_size;
    if (heap_end < 0x3ffe8000 || irom0_end < irom0_start)
        return -1;
    if (fs_memmap_add(map, "dport0_0_seg", 0x3ff00000, 0x10, "rw") < 0 ||
        fs_memmap_add(map, "dram0_0_seg", 0x3ffe8000, heap_end - 0x3ffe8000, "rw") < 0 ||
        fs_memmap_add(map, "iram1_0_seg", 0x40100000, 0x8000, "rx") < 0 ||
        fs_memmap_add(map, "irom0_0_seg", irom0_start, irom0_end - irom0_start, "rx") < 0)
        return -1;
    if (esp_symbol_value(img, "_micropy_hw_romfs_part0_start", &romfs_start) &&
        esp_symbol_value(img, "_micropy_hw_romfs_part0_size", &romfs_size) &&
        fs_memmap_add(map, "FLASH_ROMFS", romfs_start, romfs_size, "r") < 0)
        return -1;
    return 0;
}

/* Does section s go into the boot image?  (esptool: PROGBITS-like, with an
 * address, non-empty; the one irom segment goes to its own file.) */
static bool esp_boot_section(const fs_section *s)
{
    if (s->type != SHT_PROGBITS && s->type != SHT_INIT_ARRAY && s->type != SHT_FINI_ARRAY)
        return false;
    return s->addr != 0 && s->size != 0 && !esp_in_window(s->addr);
}

uint64_t fs_esp8266_boot_image_size(const fs_image *img, fs_esp8266 *esp)
{
    /* Every segment counts in the size and in boot_segments_needed; the
     * first FS_ESP8266_MAX_BOOT_SEGMENTS + 1 are also listed. */
    size_t n = 0, needed = 0;
    bool have_prev = false, listed = false;
    uint64_t prev_addr = 0, prev_len = 0, pos = ESP_IMAGE_HEADER;
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if (!esp_boot_section(s))
            continue;
        uint64_t padded = (s->size + 3) & ~(uint64_t)3;
        bool merge = have_prev && s->addr == prev_addr + prev_len &&
                     esp_memory_type(s->addr) == esp_memory_type(prev_addr);
        if (!merge) {
            needed++;
            pos += ESP_SEGMENT_HEADER;
            listed = n <= FS_ESP8266_MAX_BOOT_SEGMENTS;
            if (listed) {
                fs_boot_segment *seg = &esp->boot_segments[n++];
                seg->addr = s->addr;
                seg->size = 0;
                snprintf(seg->names, sizeof seg->names, "%s", s->name);
            }
        } else if (listed) {
            fs_boot_segment *seg = &esp->boot_segments[n - 1];
            size_t used = strlen(seg->names);
            snprintf(seg->names + used, sizeof seg->names - used, ",%s", s->name);
        }
        if (listed)
            esp->boot_segments[n - 1].size += padded;
        pos += padded;
        have_prev = true;
        prev_addr = s->addr;
        prev_len = padded;
    }
    esp->nboot_segments = n;
    esp->boot_segments_needed = needed;
    esp->boot_too_many_segments = needed > FS_ESP8266_MAX_BOOT_SEGMENTS;
    /* pad to the last byte of a 16-byte block, then the checksum byte */
    return pos + (15 - pos % 16) + 1;
}

void fs_esp8266_analyze(const fs_image *img, fs_report *rep)
{
    fs_esp8266 *esp = &rep->esp;
    memset(esp, 0, sizeof *esp);
    esp->detected = true;

    const fs_section *irom0 = fs_image_section(img, ".irom0.text");
    if (irom0) {
        esp->has_irom0 = true;
        esp->irom0_start = irom0->addr;
        esp->irom0_size = irom0->size;
    }
    int r = fs_memmap_find(&rep->map, "irom0_0_seg");
    if (r < 0 && irom0)
        r = irom0->vma_region;
    if (r >= 0) {
        esp->has_irom0_region = true;
        esp->irom0_region_start = rep->map.regions[r].origin;
        esp->irom0_region_length = rep->map.regions[r].length;
    }
    esp->has_firmware_size = esp_symbol_value(img, "_firmware_size", &esp->firmware_size);

    /* ROMFS partition: what the firmware was linked with, else what the
     * linker script or the board says. */
    uint64_t start, size;
    if (esp_symbol_value(img, "_micropy_hw_romfs_part0_start", &start) &&
        esp_symbol_value(img, "_micropy_hw_romfs_part0_size", &size)) {
        esp->has_romfs = true;
        esp->romfs_start = start;
        esp->romfs_size = size;
    } else if ((r = fs_memmap_find(&rep->map, "FLASH_ROMFS")) >= 0) {
        esp->has_romfs = true;
        esp->romfs_start = rep->map.regions[r].origin;
        esp->romfs_size = rep->map.regions[r].length;
    } else if (rep->board && rep->board->has_romfs) {
        esp->has_romfs = true;
        esp->romfs_start = rep->board->romfs_start;
        esp->romfs_size = rep->board->romfs_size;
    }

    esp->boot_image_size = fs_esp8266_boot_image_size(img, esp);

    esp->window_used_end = FS_ESP8266_WINDOW_START + FS_ESP8266_IROM0_FLASH_OFFSET;
    if (esp->has_irom0 && esp->irom0_start + esp->irom0_size > esp->window_used_end)
        esp->window_used_end = esp->irom0_start + esp->irom0_size;
    if (esp->has_romfs && esp->romfs_start + esp->romfs_size > esp->window_used_end)
        esp->window_used_end = esp->romfs_start + esp->romfs_size;
}

static int esp_finding_irom0(fs_report *rep)
{
    const fs_esp8266 *esp = &rep->esp;
    if (!esp->has_irom0 || !esp->has_irom0_region || esp->irom0_size <= esp->irom0_region_length)
        return 0;
    uint64_t over = esp->irom0_size - esp->irom0_region_length;
    if (fs_report_add(rep, "irom0-overflow", FS_SEV_ERROR, ".irom0.text",
                      "Drop frozen modules or C modules (see `flashsize frozen`), or use a layout with a larger "
                      "irom0 (esp8266-2m); do not raise LENGTH(irom0_0_seg) past the 1 MiB window.",
                      ".irom0.text is %llu bytes but irom0_0_seg holds %llu: over by %llu bytes",
                      (unsigned long long)esp->irom0_size, (unsigned long long)esp->irom0_region_length,
                      (unsigned long long)over) < 0)
        return -1;
    fs_finding_num(rep, "size", esp->irom0_size);
    fs_finding_num(rep, "limit", esp->irom0_region_length);
    fs_finding_num(rep, "over", over);
    return 0;
}

static int esp_finding_window(fs_report *rep, const char *what, uint64_t start, uint64_t end, const char *consequence,
                              const char *remedy)
{
    if (end <= FS_ESP8266_WINDOW_END)
        return 0;
    uint64_t over = end - FS_ESP8266_WINDOW_END;
    if (fs_report_add(rep, "window-exhausted", FS_SEV_ERROR, what, remedy,
                      "%s ends at 0x%llx, %llu bytes past the end of the 1 MiB flash window the CPU can map "
                      "(0x%x): %s",
                      what, (unsigned long long)end, (unsigned long long)over, FS_ESP8266_WINDOW_END, consequence) < 0)
        return -1;
    fs_finding_num(rep, "start", start);
    fs_finding_num(rep, "end", end);
    fs_finding_num(rep, "window_end", FS_ESP8266_WINDOW_END);
    fs_finding_num(rep, "over", over);
    return 0;
}

static int esp_finding_region_past_window(fs_report *rep)
{
    const fs_esp8266 *esp = &rep->esp;
    if (!esp->has_irom0_region)
        return 0;
    uint64_t end = esp->irom0_region_start + esp->irom0_region_length;
    uint64_t content_end = esp->has_irom0 ? esp->irom0_start + esp->irom0_size : 0;
    if (end <= FS_ESP8266_WINDOW_END || content_end > FS_ESP8266_WINDOW_END)
        return 0; /* fine, or already reported as window-exhausted */
    if (fs_report_add(rep, "irom0-region-past-window", FS_SEV_WARNING, "irom0_0_seg",
                      "Set LENGTH(irom0_0_seg) so that it ends at or before 0x40300000 (1M - 36K for the 2 MiB "
                      "layout), so the linker stops the build instead of the board.",
                      "irom0_0_seg ends at 0x%llx, %llu bytes past the 1 MiB mapped window: the linker will accept "
                      "code that cannot be mapped, and the image will link but not boot",
                      (unsigned long long)end, (unsigned long long)(end - FS_ESP8266_WINDOW_END)) < 0)
        return -1;
    fs_finding_num(rep, "end", end);
    fs_finding_num(rep, "window_end", FS_ESP8266_WINDOW_END);
    fs_finding_num(rep, "over", end - FS_ESP8266_WINDOW_END);
    return 0;
}

static int esp_finding_boot(fs_report *rep)
{
    const fs_esp8266 *esp = &rep->esp;
    const char *remedy = "Move code out of IRAM (drop IRAM_ATTR or the linker-script rules that put objects in "
                         ".text) and constant data out of .rodata/.data into irom0.";
    if (esp->boot_too_many_segments) {
        if (fs_report_add(rep, "boot-segments-overflow", FS_SEV_ERROR, "boot image", remedy,
                          "the boot image needs more than %d segments, which esptool refuses",
                          FS_ESP8266_MAX_BOOT_SEGMENTS) < 0)
            return -1;
        fs_finding_num(rep, "segments", esp->boot_segments_needed);
        fs_finding_num(rep, "limit", FS_ESP8266_MAX_BOOT_SEGMENTS);
    }
    if (esp->boot_image_size <= FS_ESP8266_BOOT_LIMIT)
        return 0;
    uint64_t over = esp->boot_image_size - FS_ESP8266_BOOT_LIMIT;
    if (fs_report_add(rep, "boot-segments-overflow", FS_SEV_ERROR, "boot image", remedy,
                      "the boot image (header, IRAM and DRAM segments, checksum) is %llu bytes but only %u fit "
                      "before irom0 at flash 0x9000: over by %llu bytes (makeimg.py will fail)",
                      (unsigned long long)esp->boot_image_size, FS_ESP8266_BOOT_LIMIT, (unsigned long long)over) < 0)
        return -1;
    fs_finding_num(rep, "size", esp->boot_image_size);
    fs_finding_num(rep, "limit", FS_ESP8266_BOOT_LIMIT);
    fs_finding_num(rep, "over", over);
    return 0;
}

static int esp_finding_romfs_overlap(fs_report *rep)
{
    const fs_esp8266 *esp = &rep->esp;
    if (!esp->has_romfs || !esp->has_irom0 || esp->romfs_size == 0)
        return 0;
    uint64_t irom0_end = esp->irom0_start + esp->irom0_size;
    uint64_t romfs_end = esp->romfs_start + esp->romfs_size;
    if (irom0_end <= esp->romfs_start || esp->irom0_start >= romfs_end)
        return 0;
    uint64_t overlap = (irom0_end < romfs_end ? irom0_end : romfs_end) -
                       (esp->irom0_start > esp->romfs_start ? esp->irom0_start : esp->romfs_start);
    if (fs_report_add(rep, "romfs-overlap", FS_SEV_ERROR, ".irom0.text",
                      "Shrink irom0 (drop frozen modules) or move the ROMFS partition; restore LENGTH(irom0_0_seg) "
                      "so irom0_0_seg ends where FLASH_ROMFS begins.",
                      ".irom0.text ends at 0x%llx, %llu bytes into the ROMFS partition at 0x%llx: writing a ROMFS "
                      "image will overwrite firmware code",
                      (unsigned long long)irom0_end, (unsigned long long)overlap,
                      (unsigned long long)esp->romfs_start) < 0)
        return -1;
    fs_finding_num(rep, "irom0_end", irom0_end);
    fs_finding_num(rep, "romfs_start", esp->romfs_start);
    fs_finding_num(rep, "romfs_size", esp->romfs_size);
    fs_finding_num(rep, "overlap", overlap);
    return 0;
}

int fs_esp8266_findings(fs_report *rep)
{
    const fs_esp8266 *esp = &rep->esp;
    if (esp_finding_irom0(rep) < 0)
        return -1;
    if (esp->has_irom0 &&
        esp_finding_window(rep, ".irom0.text", esp->irom0_start, esp->irom0_start + esp->irom0_size,
                           "the link succeeds but the firmware will not boot",
                           "Drop frozen modules or C modules until .irom0.text ends by 0x40300000, and restore "
                           "LENGTH(irom0_0_seg) to at most 1M - 36K.") < 0)
        return -1;
    if (esp->has_romfs &&
        esp_finding_window(rep, "ROMFS partition", esp->romfs_start, esp->romfs_start + esp->romfs_size,
                           "VfsRom cannot mount a partition the CPU cannot map",
                           "Place the ROMFS partition so that it ends at or before 0x40300000, or shrink it.") < 0)
        return -1;
    if (esp_finding_region_past_window(rep) < 0 || esp_finding_boot(rep) < 0 || esp_finding_romfs_overlap(rep) < 0)
        return -1;
    return 0;
}
