/*
 * analyze.h - analyses over the image model: regions, the ESP8266 chip
 * module and findings, gathered in one report that every output formats.
 */
#ifndef FS_ANALYZE_H
#define FS_ANALYZE_H

#include "board.h"
#include "model.h"

typedef enum { FS_SEV_INFO = 0, FS_SEV_WARNING = 1, FS_SEV_ERROR = 2 } fs_severity;

typedef struct fs_num {
    const char *key;  /* static string, e.g. "size", "limit", "over" */
    uint64_t value;
} fs_num;

#define FS_FINDING_MAX_NUMS 6

typedef struct fs_finding {
    const char *id;        /* stable id, static string: "irom0-overflow" */
    fs_severity severity;
    char *subject;         /* region or section concerned, or NULL */
    char *message;         /* one line with the numbers */
    char *remedy;          /* one line: what to do */
    fs_num nums[FS_FINDING_MAX_NUMS];
    size_t nnums;
} fs_finding;

/* Where the memory regions came from. */
typedef enum { FS_REGIONS_NONE = 0, FS_REGIONS_LD, FS_REGIONS_BOARD, FS_REGIONS_ELF, FS_REGIONS_MAP } fs_region_source;

/* ESP8266 facts (MicroPython's esp8266 port; see docs/esp8266.md). */
#define FS_ESP8266_WINDOW_START 0x40200000u  /* flash offset 0 as the CPU maps it */
#define FS_ESP8266_WINDOW_END   0x40300000u  /* end of the 1 MiB mapped window */
#define FS_ESP8266_IROM0_FLASH_OFFSET 0x9000u /* irom0 starts 0x9000 into flash */
#define FS_ESP8266_BOOT_LIMIT   0x8ffcu      /* makeimg.py: boot image + 4-byte size word <= 0x9000 */
#define FS_ESP8266_MAX_BOOT_SEGMENTS 16      /* esptool refuses more */

typedef struct fs_boot_segment {
    uint64_t addr;
    uint64_t size;         /* data bytes, padded to 4 as esptool pads them */
    char names[96];        /* the sections merged into it, comma separated */
} fs_boot_segment;

typedef struct fs_esp8266 {
    bool detected;
    /* irom0: the .irom0.text output section (code + rodata mapped from flash) */
    bool has_irom0;
    uint64_t irom0_start, irom0_size;
    /* the irom0_0_seg region, from --ld/--board or _firmware_size */
    bool has_irom0_region;
    uint64_t irom0_region_start, irom0_region_length;
    bool has_firmware_size;
    uint64_t firmware_size;   /* _firmware_size: flash offset where the firmware region ends */
    /* ROMFS partition 0 (memory-mapped address and size) */
    bool has_romfs;
    uint64_t romfs_start, romfs_size;
    /* the boot image (firmware.elf-0x00000.bin): header, segments, checksum */
    uint64_t boot_image_size;
    size_t nboot_segments;        /* listed in boot_segments (at most the limit + 1) */
    size_t boot_segments_needed;  /* all of them */
    fs_boot_segment boot_segments[FS_ESP8266_MAX_BOOT_SEGMENTS + 1];
    bool boot_too_many_segments;
    /* the highest mapped-flash address anything ends at */
    uint64_t window_used_end;
} fs_esp8266;

typedef struct fs_analyze_opts {
    const fs_memmap *ld_map;   /* regions from --ld, or NULL; borrowed */
    const char *ld_path;
    const fs_board *board;     /* --board, or NULL; borrowed */
    double headroom_pct;       /* region-headroom threshold; 0 = board's or 90 */
} fs_analyze_opts;

typedef struct fs_report {
    const fs_image *image;        /* borrowed */
    const fs_board *board;        /* borrowed, may be NULL */
    fs_region_source region_source;
    char *region_source_detail;   /* path of the .ld, board name, or how inferred */
    fs_memmap map;                /* owned copy; used/high filled in */
    fs_esp8266 esp;
    double headroom_pct;
    fs_finding *findings; size_t nfindings;
    size_t *by_size; size_t nby_size; /* indexes of sized symbols, in table order */
} fs_report;

/* Run every analysis.  img's sections get their region indexes set. */
int fs_analyze(fs_image *img, const fs_analyze_opts *opts, fs_report *rep, fs_error *err);
void fs_report_free(fs_report *rep);

/* The n largest of rep's sized symbols (n = 0: all of them), largest first,
 * ties by name and then address: a new array of *count indexes into the
 * image's symbols, which the caller frees; NULL when out of memory. */
size_t *fs_report_largest(const fs_report *rep, size_t n, size_t *count);

/* Highest severity among the findings, or -1 if there are none. */
int fs_report_worst(const fs_report *rep);

const char *fs_severity_name(fs_severity s);
const char *fs_region_source_name(fs_region_source s);

/* --- pieces of fs_analyze, exposed for tests ---------------------------- */

/* Place every allocated section of img in map (by VMA, and by LMA for load
 * images that live elsewhere) and compute each region's used/high the way
 * GNU ld's --print-memory-usage does. */
void fs_regions_place(fs_image *img, fs_memmap *map);

/* Is this an ESP8266 image? (Xtensa with .irom0.text or _irom0_text_start) */
bool fs_esp8266_detect(const fs_image *img, const fs_board *board);
/* Regions of MicroPython's ESP8266 layout inferred from the ELF's linker
 * symbols (_firmware_size, _irom0_text_start, _heap_end, romfs symbols). */
int fs_esp8266_infer_regions(const fs_image *img, fs_memmap *map);
/* Regions of MicroPython's other ports (stm32, nrf, rp2, mimxrt, samd)
 * whose bounds the ELF's linker symbols pin (ports.c); adds none when no
 * rule applies.  Returns 0, -1 on out of memory. */
int fs_ports_infer_regions(const fs_image *img, fs_memmap *map);
/* Fill rep->esp (boot image, irom0, romfs, window). */
void fs_esp8266_analyze(const fs_image *img, fs_report *rep);
/* Add the ESP8266 findings (irom0-overflow, window-exhausted, ...). */
int fs_esp8266_findings(fs_report *rep);
/* The size of the esptool v1 boot image holding IRAM/DRAM sections. */
uint64_t fs_esp8266_boot_image_size(const fs_image *img, fs_esp8266 *esp);

/* Append a finding; message and remedy are printf formats. Returns 0/-1. */
int fs_report_add(fs_report *rep, const char *id, fs_severity sev, const char *subject,
                  const char *remedy, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void fs_finding_num(fs_report *rep, const char *key, uint64_t value);

#endif
