/*
 * model.h - the one image model every reader fills and every analysis reads.
 *
 * Readers (elfread.c, ldscript.c, mapfile.c, board.c, mpy.c, archive.c,
 * romfs.c, romsyms.c) turn bytes into these structs and know nothing of
 * findings or output formats.  Analyses (analyze.c and regions.c,
 * esp8266.c, frozen.c, romuse.c, natmod.c, refgraph.c, budget.c, diff.c,
 * forecast.c) only add derived facts, findings through findings.c.
 * Outputs (output.c, out_text.c, out_json.c, out_csv.c, bot.c) only
 * format.  The analysis document (document.c) is the JSON contract the
 * store (store*.c, the only code that speaks SQL) keeps.
 *
 * Ownership: every struct owns the heap memory its pointers point to and is
 * released with its fs_*_free() function.  Pointers marked "borrowed" point
 * into another struct that must outlive this one.
 *
 * Errors: library functions return 0 on success and -1 on failure, after
 * writing a one-line message into an fs_error that names the file and the
 * problem ("firmware.elf: section 7 data lies past end of file").  Library
 * code never exits and never prints.
 */
#ifndef FS_MODEL_H
#define FS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FS_VERSION "0.1.0"

/* What kind of failure an error is: callers decide on the kind, never on
 * the text (the CLI's exit status, cli.c; the server's HTTP status,
 * server/http.h: one table each). */
typedef enum fs_error_kind {
    FS_ERR_INPUT = 0,  /* bad input: a malformed file, request or option (the default) */
    FS_ERR_LIMIT,      /* input over one of the documented limits (too large, too many) */
    FS_ERR_NOMEM,      /* out of memory */
    FS_ERR_BUSY,       /* the database is locked by another writer */
    FS_ERR_READONLY,   /* the database cannot be written */
    FS_ERR_IO,         /* an I/O error, a full disk, a corrupt database */
    FS_ERR_NOTFOUND,   /* no such build, commit or token */
    FS_ERR_AUTH,       /* no or a bad credential */
    FS_ERR_INTERNAL,   /* neither the input nor the machine's state: a corrupt store, a bug */
    FS_ERR_UNAVAILABLE, /* the database server cannot be reached (lost connection, restart) */
    FS_ERR_KINDS
} fs_error_kind;

/* The members sit in an anonymous struct so that the usual `fs_error err =
 * {{0}};` zeroes both without a warning. */
typedef struct fs_error {
    struct {
        fs_error_kind kind;
        char msg[1024];
    };
} fs_error;

/* Format a message into err (if non-NULL), kind FS_ERR_INPUT, and return -1. */
int fs_fail(fs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with another kind. */
int fs_fail_kind(fs_error *err, fs_error_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The kind's name ("input", "limit", "out of memory", ...), for logs. */
const char *fs_error_kind_name(fs_error_kind kind);

/*
 * Open a user-named input for reading: the one open every reader uses.
 * Opened O_NONBLOCK (a FIFO or a device must not block in open()) and
 * O_CLOEXEC, checked with fstat, refused unless it is a regular file
 * ("PATH: not a regular file"), then O_NONBLOCK cleared.  Returns the
 * descriptor, or -1 with err set ("PATH: cannot open: REASON").  *st (if
 * non-NULL) receives the file's status.
 */
struct stat;
int fs_open_input(const char *path, struct stat *st, fs_error *err);
/* The same, as a stdio stream opened with mode ("r" or "rb"). */
FILE *fs_fopen_input(const char *path, const char *mode, fs_error *err);

/*
 * Read a whole regular file into a malloc'd buffer (*data, with a NUL byte
 * after the last one, so text readers may treat it as a string; *len does
 * not count it).  Files larger than max bytes are refused; what names the
 * kind of file in that message ("ELF file", ".mpy file").  Errors name the
 * file: cannot open, not a regular file, too large, read error.
 */
int fs_read_file(const char *path, uint64_t max, const char *what, unsigned char **data, size_t *len, fs_error *err);
/* The same checks, the file mapped read-only instead of copied (a large
 * ELF: no copy, and only the pages read are faulted in: the DWARF of a
 * debug build, most of its bytes, never is; mapping every page up front
 * made `analyze` of ESP8266_GENERIC 5-10% slower).  *data is
 * never NUL-terminated; give it back with fs_unmap_file.  A file that
 * shrinks while mapped raises SIGBUS on access: the CLI's main() turns
 * that into exit 2 with a message (a library caller must do likewise). */
int fs_map_file(const char *path, uint64_t max, const char *what, const unsigned char **data, size_t *len,
                fs_error *err);
void fs_unmap_file(const unsigned char *data, size_t len);

/*
 * Parse the INI file at path (a regular file of at most max bytes, read with
 * fs_read_file) with an inih handler and its user pointer.  A handler that
 * rejects a line returns 0 after writing why into reason, a buffer of the
 * caller's that user leads to; the error is then "FILE:LINE: reason", or
 * "FILE:LINE: syntax error ..." when reason is empty.
 *
 * Before the handler sees anything, one rule for every .ini file: a
 * section given twice ("FILE:LINE: section [S] given twice (first on line
 * N)"), a key given twice in a section ("FILE:LINE: 'K' given twice in [S]
 * (first on line N)"), and a line longer than FS_INI_MAX_LINE characters
 * ("FILE:LINE: line too long (more than 198 characters)": inih's line
 * buffer would split it) are errors.
 */
#define FS_INI_MAX_LINE 198
typedef int (*fs_ini_handler)(void *user, const char *section, const char *name, const char *value);
int fs_ini_load(const char *path, uint64_t max, fs_ini_handler handler, void *user, const char *reason,
                fs_error *err);

/* ---- ELF image ---------------------------------------------------------- */

typedef struct fs_section {
    char *name;
    uint32_t index;   /* ELF section header index */
    uint32_t type;    /* SHT_* */
    uint64_t flags;   /* SHF_* */
    uint64_t addr;    /* VMA (sh_addr) */
    uint64_t lma;     /* load address, from the PT_LOAD segment holding it; = addr if none */
    uint64_t size;
    uint64_t offset;  /* file offset */
    uint64_t align;
    int vma_region;   /* index into the report's regions, -1 if none (set by regions.c) */
    int lma_region;   /* region of the load image when lma != addr, else -1 */
} fs_section;

typedef struct fs_segment {
    uint32_t type;    /* PT_* */
    uint32_t flags;   /* PF_* */
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} fs_segment;

typedef struct fs_symbol {
    char *name;
    uint64_t value;
    uint64_t size;
    uint8_t type;     /* STT_* */
    uint8_t bind;     /* STB_* */
    uint16_t shndx;   /* raw st_shndx (SHN_ABS, SHN_UNDEF, ...) */
    int section;      /* index into fs_image.sections, -1 for ABS/UNDEF/COMMON */
} fs_symbol;

typedef struct fs_image {
    char *path;
    uint64_t file_size;
    int elf_class;    /* 32 or 64 */
    bool big_endian;
    uint16_t machine; /* EM_* */
    uint16_t elf_type;/* ET_* */
    uint64_t entry;
    bool has_symtab;
    fs_section *sections; size_t nsections;
    fs_segment *segments; size_t nsegments;
    fs_symbol *symbols;   size_t nsymbols;
    char *strings;    /* owned copy of the string tables; names point into it */
    char *first;      /* first[i]: the first byte of symbols[i].name, for fs_image_symbol's scan
                         (NULL: none made, the names are read) */
} fs_image;

void fs_image_free(fs_image *img);
/* The section at ELF index shndx, or NULL. */
const fs_section *fs_image_section_by_index(const fs_image *img, uint32_t shndx);
/* First section called name, or NULL. */
const fs_section *fs_image_section(const fs_image *img, const char *name);
/* First symbol called name, or NULL. */
const fs_symbol *fs_image_symbol(const fs_image *img, const char *name);

/* ---- memory regions (from a linker script, a board file or the ELF) ----- */

typedef struct fs_region {
    char *name;
    uint64_t origin;
    uint64_t length;
    char attrs[16];   /* GNU ld attribute string without parentheses, e.g. "rx" */
    /* computed by regions.c: */
    uint64_t used;    /* bytes of sections placed here (VMA and load images) */
    uint64_t high;    /* highest end address of anything placed here, 0 if empty */
} fs_region;

/* A symbol assignment evaluated from a linker script (e.g. _firmware_size). */
typedef struct fs_ldsym {
    char *name;
    uint64_t value;
} fs_ldsym;

typedef struct fs_memmap {
    fs_region *regions; size_t nregions;
    fs_ldsym *symbols;  size_t nsymbols;
} fs_memmap;

void fs_memmap_free(fs_memmap *map);
/* Index of the region called name, or -1. */
int fs_memmap_find(const fs_memmap *map, const char *name);
/* Append a region (copies name); returns its index or -1 on overflow/OOM. */
int fs_memmap_add(fs_memmap *map, const char *name, uint64_t origin, uint64_t length, const char *attrs);
/* Deep copy of src into dst (dst is overwritten, not freed). */
int fs_memmap_copy(fs_memmap *dst, const fs_memmap *src);

#endif
