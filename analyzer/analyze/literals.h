/*
 * literals.h - the literal words of a firmware's code and the functions
 * that load them: every word an Xtensa l32r or a Thumb PC-relative load
 * (ldr, ldr.w, ldrd, vldr) of a sized function reads, with the function it
 * is given to.  The accounting (accounting.h) turns the words that lie
 * between sized symbols into each function's literal bytes.
 *
 * Rule: a word loaded by several functions is given to the loader with the
 * lowest address (ties: the lower symbol index) and marked shared; it is
 * listed once.  Code without a sized FUNC symbol (assembler without .size,
 * a stripped library's static functions) and ARM (A32) code are not
 * decoded: what only they load is left to the literal-pool remainder.
 * Decoders: pcrel.h, shared with the reference graph.  Also here, for both:
 * the ARM mapping symbols ($d data inside code, $t/$a code again).
 *
 * Ownership: fs_literals owns its array.
 */
#ifndef FS_LITERALS_H
#define FS_LITERALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct fs_litword {
    uint64_t addr;
    uint32_t size;       /* 4, less where it overlaps the word before (unaligned ldr.w) */
    uint32_t owner;      /* symbol index of the function it is given to */
    bool shared;         /* another function loads it too */
} fs_litword;

typedef struct fs_literals {
    fs_litword *words; size_t nwords;   /* by address, disjoint; in allocated sections with contents */
    size_t nfuncs;                      /* functions decoded (aliases once) */
    size_t nloads;                      /* load instructions seen */
} fs_literals;

/* Find the literal words of img (file bytes data[0..len)).  Machines other
 * than Xtensa and ARM give none.  -1 with err on OOM. */
int fs_literals_find(const fs_image *img, const uint8_t *data, size_t len, fs_literals *out, fs_error *err);
void fs_literals_free(fs_literals *l);

/* ARM mapping symbols, sorted by address. */
typedef struct fs_armmap {
    uint64_t addr;
    int data;            /* $d: data from here; $t/$a: code */
} fs_armmap;

/* The mapping symbols of img (malloc'd; NULL with *n = 0 when there are
 * none or out of memory). */
fs_armmap *fs_armmap_of(const fs_image *img, size_t *n);
/* Is addr in data?  *until = the next mapping symbol's address (UINT64_MAX: none). */
int fs_armmap_data_at(const fs_armmap *m, size_t n, uint64_t addr, uint64_t *until);

#endif
