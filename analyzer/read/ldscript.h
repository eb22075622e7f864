/*
 * ldscript.h - GNU ld linker scripts: MEMORY regions and symbol assignments.
 *
 * Reads what a size analysis needs from a linker script and the scripts it
 * INCLUDEs: every MEMORY region (name, attributes, ORIGIN, LENGTH) and the
 * top-level symbol assignments that can be evaluated without linking
 * (`_firmware_size = ORIGIN(irom0_0_seg) + LENGTH(irom0_0_seg) - 0x40200000;`,
 * `PROVIDE(memcpy = 0x4000df48);`).  SECTIONS and PHDRS bodies are skipped.
 */
#ifndef FS_LDSCRIPT_H
#define FS_LDSCRIPT_H

#include "model.h"

/* Limits: a script (with includes) larger or deeper than these is rejected. */
#define FS_LD_MAX_FILE_BYTES   (16u << 20)
#define FS_LD_MAX_INCLUDE_DEPTH 16
#define FS_LD_MAX_REGIONS      256
#define FS_LD_MAX_SYMBOLS      100000
#define FS_EXPR_MAX_DEPTH      64

typedef struct fs_ld_options {
    const char *const *search_dirs; /* extra INCLUDE search dirs (like ld -L); borrowed */
    size_t nsearch_dirs;
    const fs_ldsym *defsyms;        /* values for symbols (like ld --defsym); borrowed */
    size_t ndefsyms;
} fs_ld_options;

/*
 * Parse the script at path into out (which must be zeroed; caller frees it
 * with fs_memmap_free even on failure).  INCLUDE "f" is looked up, in order,
 * relative to: the current directory, the including script's directory, the
 * parent of the top-level script's directory, the SEARCH_DIRs seen so far,
 * then opts->search_dirs.  opts may be NULL.
 * Errors name file:line and the problem.
 */
int fs_ldscript_load(const char *path, const fs_ld_options *opts, fs_memmap *out, fs_error *err);
/* The same for a script read for its memory layout (--ld): one that
 * defines no MEMORY region (an empty file, a SECTIONS-only fragment) is
 * an error, "PATH: no MEMORY regions: ...". */
int fs_ldscript_load_regions(const char *path, const fs_ld_options *opts, fs_memmap *out, fs_error *err);

/*
 * Expression evaluation with GNU ld syntax: integers (0x.., 0.., decimal,
 * K/M/G suffixes), unary - ~ !, * / % + - << >> < <= > >= == != & ^ | && || ?:,
 * parentheses, ORIGIN(r)/LENGTH(r) (also org/len/o/l spellings are NOT
 * functions; only ORIGIN and LENGTH), ABSOLUTE(x), MAX(a,b), MIN(a,b),
 * ALIGN(x,a), DEFINED(sym) and plain symbol names.
 * Names are resolved through lookup: func is "ORIGIN", "LENGTH", "DEFINED" or
 * NULL (a plain symbol); it returns 0 and sets *value, or -1 if unknown.
 * Arithmetic is checked: a literal, sum, product or left shift that does
 * not fit in 64 bits, a difference below zero and a division by zero are
 * errors (ld would wrap them silently); a unary minus wraps as in ld
 * ("-1" is 2^64 - 1), except in fs_expr_eval_size, where a negation below
 * zero is an error (for sizes, such as budgets).  On error returns -1 and
 * writes a message (without a file name) into errbuf.
 */
typedef int (*fs_expr_lookup)(void *ctx, const char *func, const char *name, uint64_t *value);
int fs_expr_eval(const char *text, fs_expr_lookup lookup, void *ctx, uint64_t *value,
                 char *errbuf, size_t errlen);
int fs_expr_eval_size(const char *text, fs_expr_lookup lookup, void *ctx, uint64_t *value,
                      char *errbuf, size_t errlen);

#endif
