/*
 * mutate.c - deterministic damage for the CLI mutation test
 * (tests/e2e/test_mutate.sh): writes N damaged copies of one input file.
 *
 *   mutate SEED N INPUT OUTDIR
 *
 * Copy K is OUTDIR/BASE.mK (BASE: INPUT's file name) and gets one
 * mutation, drawn from a PRNG seeded with SEED, the input's name and K, so
 * the same arguments always give the same files: a truncation (at a random
 * offset, at half, or just past the ELF header), 1 to 8 flipped bits, a
 * byte range overwritten with 0x00 or 0xff, a span deleted or duplicated,
 * or, for an ELF file, one header field damaged (e_shoff, e_shnum,
 * e_shstrndx, e_phoff, e_phnum, e_shentsize, or a section header's
 * sh_type, sh_offset, sh_size, sh_addr, sh_link, sh_info, sh_entsize,
 * sh_name) with a value from {0, 1, 0x7fffffff, 0xffffffff, 0xfffffff0,
 * the file's size, the size + 1, a random one}.
 *
 * Prints one line per copy: "PATH<TAB>what was done".  Exits 0, or 2 on
 * bad usage or an unreadable input.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(size_t n)
{
    return n ? (size_t)(next() % n) : 0;
}

static void put(unsigned char *p, unsigned size, int be, uint64_t v)
{
    for (unsigned i = 0; i < size; i++)
        p[be ? size - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const unsigned char *p, unsigned size, int be)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
    return v;
}

/* Damage one ELF header or section header field; 0 if d is not an ELF. */
static int elf_field(unsigned char *d, size_t len, char *what, size_t wlen)
{
    if (len < 52 || memcmp(d, "\177ELF", 4) != 0)
        return 0;
    int is64 = d[4] == 2, be = d[5] == 2;
    if (is64 && len < 64)
        return 0;
    uint64_t vals[] = {0, 1, 0x7fffffff, 0xffffffff, 0xfffffff0, len, len + 1, next() & 0xffffffff};
    uint64_t v = vals[below(sizeof vals / sizeof *vals)];
    /* ELF header fields: name, offset (32-bit, 64-bit), size (32, 64) */
    static const struct { const char *name; unsigned o32, o64, s32, s64; } eh[] = {
        {"e_phoff", 28, 32, 4, 8},     {"e_shoff", 32, 40, 4, 8},     {"e_phnum", 44, 56, 2, 2},
        {"e_shentsize", 46, 58, 2, 2}, {"e_shnum", 48, 60, 2, 2},     {"e_shstrndx", 50, 62, 2, 2},
    };
    uint64_t shoff = get(d + (is64 ? 40 : 32), is64 ? 8 : 4, be);
    unsigned shnum = (unsigned)get(d + (is64 ? 60 : 48), 2, be);
    unsigned shent = is64 ? 64 : 40;
    int sections = shnum && shoff < len && shnum <= (len - shoff) / shent;
    if (!sections || below(3) == 0) {
        unsigned k = (unsigned)below(sizeof eh / sizeof *eh);
        unsigned size = is64 ? eh[k].s64 : eh[k].s32;
        put(d + (is64 ? eh[k].o64 : eh[k].o32), size, be, v);
        snprintf(what, wlen, "ELF %s := %#llx", eh[k].name, (unsigned long long)(size == 2 ? v & 0xffff : v));
        return 1;
    }
    static const struct { const char *name; unsigned o32, o64, s32, s64; } sh[] = {
        {"sh_name", 0, 0, 4, 4},     {"sh_type", 4, 4, 4, 4},   {"sh_addr", 12, 16, 4, 8},
        {"sh_offset", 16, 24, 4, 8}, {"sh_size", 20, 32, 4, 8}, {"sh_link", 24, 40, 4, 4},
        {"sh_info", 28, 44, 4, 4},   {"sh_entsize", 36, 56, 4, 8},
    };
    unsigned i = (unsigned)below(shnum), k = (unsigned)below(sizeof sh / sizeof *sh);
    unsigned char *h = d + shoff + (size_t)i * shent;
    if (k == 1 && below(2)) /* a type that changes how the bytes are read */
        v = (uint64_t[]){8 /* NOBITS */, 2 /* SYMTAB */, 3 /* STRTAB */, 4 /* RELA */, 9 /* REL */}[below(5)];
    put(h + (is64 ? sh[k].o64 : sh[k].o32), is64 ? sh[k].s64 : sh[k].s32, be, v);
    snprintf(what, wlen, "section %u %s := %#llx", i, sh[k].name, (unsigned long long)v);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: mutate SEED N INPUT OUTDIR\n");
        return 2;
    }
    unsigned long long seed = strtoull(argv[1], NULL, 0);
    int n = atoi(argv[2]);
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
        perror(argv[3]);
        return 2;
    }
    unsigned char *orig = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap && !(orig = realloc(orig, cap = cap ? 2 * cap : 65536)))
            return 2;
        size_t got = fread(orig + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    const char *base = strrchr(argv[3], '/');
    base = base ? base + 1 : argv[3];
    uint64_t name_hash = 1469598103934665603ull;
    for (const char *p = base; *p; p++)
        name_hash = (name_hash ^ (unsigned char)*p) * 1099511628211ull;
    unsigned char *d = malloc(2 * len + 16);
    if (!d)
        return 2;
    for (int k = 0; k < n; k++) {
        rng = seed * 0x100000001b3ull ^ name_hash ^ ((uint64_t)k << 32);
        memcpy(d, orig, len);
        size_t dlen = len;
        char what[160];
        unsigned kind = (unsigned)below(6);
        if (kind == 5 && !elf_field(d, dlen, what, sizeof what))
            kind = (unsigned)below(5);
        switch (kind) {
        case 0: { /* truncation */
            unsigned how = (unsigned)below(3);
            dlen = how == 0 ? below(len) : how == 1 ? len / 2 : (len > 64 ? 52 + below(12) : below(len));
            snprintf(what, sizeof what, "truncated to %zu of %zu bytes", dlen, len);
            break;
        }
        case 1: { /* bit flips */
            unsigned nb = 1 + (unsigned)below(8);
            snprintf(what, sizeof what, "%u bit(s) flipped:", nb);
            for (unsigned b = 0; b < nb && len; b++) {
                size_t at = below(len);
                unsigned bit = (unsigned)below(8);
                d[at] ^= (unsigned char)(1u << bit);
                size_t w = strlen(what);
                snprintf(what + w, sizeof what - w, " %zu.%u", at, bit);
            }
            break;
        }
        case 2: { /* a range overwritten */
            size_t at = below(len), span = 1 + below(len - at < 64 ? len - at : 64);
            int v = below(2) ? 0xff : 0x00;
            if (len)
                memset(d + at, v, span);
            snprintf(what, sizeof what, "%zu bytes at %zu set to %#x", len ? span : 0, at, v);
            break;
        }
        case 3: { /* a span deleted */
            size_t at = below(len), span = 1 + below(len - at < 256 ? len - at : 256);
            if (len) {
                memmove(d + at, d + at + span, len - at - span);
                dlen = len - span;
            }
            snprintf(what, sizeof what, "%zu bytes deleted at %zu", len ? span : 0, at);
            break;
        }
        case 4: { /* a span duplicated */
            size_t at = below(len), span = 1 + below(len - at < 256 ? len - at : 256);
            if (len) {
                memmove(d + at + span, d + at, len - at);
                dlen = len + span;
            }
            snprintf(what, sizeof what, "%zu bytes at %zu repeated", len ? span : 0, at);
            break;
        }
        default: break; /* 5: elf_field wrote what */
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.m%d", argv[4], base, k);
        FILE *o = fopen(path, "wb");
        if (!o || fwrite(d, 1, dlen, o) != dlen || fclose(o) != 0) {
            perror(path);
            return 2;
        }
        printf("%s\t%s\n", path, what);
    }
    free(d);
    free(orig);
    return 0;
}
