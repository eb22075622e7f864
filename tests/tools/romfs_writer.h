/*
 * romfs_writer.h - a ROMFS image writer for the tests (used by mkromfs.c and
 * tests/unit/test_romfs.c).  Written from the format description in the
 * facts doc (section 4.1), independently of the reader in analyzer/analyze/romfs.c,
 * so the tests compare the reader against what this writer knows it wrote.
 *
 * Input is a small line-based spec, one record per line:
 *   dir NAME              open a directory (closed by "end")
 *   end                   close the innermost open directory
 *   file NAME SIZE        file with SIZE content bytes in a verbatim record
 *   mpy NAME FEATURE SIZE file whose content is a .mpy header 'M', 6, FEATURE,
 *                         31 followed by filler, SIZE bytes in all (SIZE >= 4)
 *   link NAME SIZE PATH   file whose content is an indirect record pointing
 *                         at the first SIZE bytes of the verbatim file PATH
 *                         (full path, e.g. /lib/big.bin; may come later)
 *   nodata NAME           file record without any data record (empty file)
 *   pad N                 padding record with N payload bytes
 *   unknown KIND N        record of unknown kind KIND with N payload bytes
 *   lenpad N              the next record's length varint gets N leading 0x80s
 *   # ...                 comment
 * Content bytes are a deterministic pattern of the path and the position.
 * The filesystem record is padded to an even size as mpremote does (one 0x80
 * before its length) unless rw_fs.no_even is set.
 *
 * Build in three passes over a flat node list (children follow their parent
 * in spec order): sizes bottom-up, offsets top-down, then bytes.  Each node
 * keeps what the reader must reproduce: offsets, sizes, overhead, pads.
 */
#ifndef ROMFS_WRITER_H
#define ROMFS_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RW_DIR, RW_FILE, RW_MPY, RW_LINK, RW_NODATA, RW_PAD, RW_UNKNOWN };

typedef struct rw_node {
    int type;
    char name[256];
    char path[1024];
    int parent;             /* index of the enclosing dir, -1 at the top */
    unsigned depth;
    uint64_t size;          /* content / payload bytes */
    uint64_t kind;          /* unknown records */
    unsigned feature;       /* mpy feature byte */
    unsigned lenpad;        /* 0x80 pads on the length varint */
    char target[1024];      /* link target path */
    /* computed */
    uint64_t plen, rec_size, children, offset, data_offset, overhead, pads, link_offset;
} rw_node;

typedef struct rw_fs {
    rw_node *n;
    size_t count, cap;
    bool no_even;
    /* results */
    uint8_t *img;
    size_t img_len;
    uint64_t header, payload, data, overhead, padding, skipped, vuint_pad;
    size_t nfiles, ndirs;
    char err[256];
} rw_fs;

static inline unsigned rw_vlen(uint64_t v)
{
    unsigned n = 1;
    while (v >>= 7)
        n++;
    return n;
}

/* Write v as a varint of exactly width bytes (leading 0x80 pads). */
static inline size_t rw_put(uint8_t *p, uint64_t v, unsigned width)
{
    unsigned n = rw_vlen(v), pads = width > n ? width - n : 0;
    for (unsigned i = 0; i < pads; i++)
        p[i] = 0x80;
    for (unsigned i = 0; i < n; i++) {
        unsigned shift = 7 * (n - 1 - i);
        p[pads + i] = (uint8_t)(((v >> shift) & 0x7f) | (i + 1 < n ? 0x80 : 0));
    }
    return pads + n;
}

static inline uint8_t rw_byte(const char *path, uint64_t i)
{
    uint32_t h = 2166136261u;
    for (const char *c = path; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return (uint8_t)(h + i * 37 + (i >> 8));
}

static inline int rw_fail(rw_fs *fs, int line, const char *msg)
{
    snprintf(fs->err, sizeof fs->err, "spec line %d: %s", line, msg);
    return -1;
}

static inline int rw_parse_spec(rw_fs *fs, const char *text)
{
    int open_dir = -1, line = 0;
    unsigned lenpad = 0;
    const char *p = text;
    while (*p) {
        char buf[2048];
        size_t l = strcspn(p, "\n");
        if (l >= sizeof buf)
            return rw_fail(fs, line + 1, "line too long");
        memcpy(buf, p, l);
        buf[l] = '\0';
        p += l + (p[l] == '\n');
        line++;
        char word[32] = "", a[256] = "", b[1024] = "", c[1024] = "";
        int got = sscanf(buf, "%31s %255s %1023s %1023s", word, a, b, c);
        if (got <= 0 || word[0] == '#')
            continue;
        if (strcmp(word, "end") == 0) {
            if (open_dir < 0)
                return rw_fail(fs, line, "end without dir");
            open_dir = fs->n[open_dir].parent;
            continue;
        }
        if (strcmp(word, "lenpad") == 0) {
            lenpad = (unsigned)strtoul(a, NULL, 0);
            continue;
        }
        if (fs->count == fs->cap) {
            fs->cap = fs->cap ? fs->cap * 2 : 64;
            rw_node *g = realloc(fs->n, fs->cap * sizeof *g);
            if (!g)
                return rw_fail(fs, line, "out of memory");
            fs->n = g;
        }
        rw_node *n = &fs->n[fs->count];
        memset(n, 0, sizeof *n);
        n->parent = open_dir;
        n->depth = open_dir < 0 ? 0 : fs->n[open_dir].depth + 1;
        n->lenpad = lenpad;
        lenpad = 0;
        if (strcmp(word, "dir") == 0 && got >= 2) n->type = RW_DIR;
        else if (strcmp(word, "file") == 0 && got >= 3) n->type = RW_FILE, n->size = strtoull(b, NULL, 0);
        else if (strcmp(word, "mpy") == 0 && got >= 4) {
            n->type = RW_MPY;
            n->feature = (unsigned)strtoul(b, NULL, 0);
            n->size = strtoull(c, NULL, 0);
            if (n->size < 4)
                return rw_fail(fs, line, "mpy SIZE must be at least 4");
        } else if (strcmp(word, "link") == 0 && got >= 4) {
            n->type = RW_LINK;
            n->size = strtoull(b, NULL, 0);
            snprintf(n->target, sizeof n->target, "%s", c);
        } else if (strcmp(word, "nodata") == 0 && got >= 2) n->type = RW_NODATA;
        else if (strcmp(word, "pad") == 0 && got >= 2) n->type = RW_PAD, n->size = strtoull(a, NULL, 0);
        else if (strcmp(word, "unknown") == 0 && got >= 3) {
            n->type = RW_UNKNOWN;
            n->kind = strtoull(a, NULL, 0);
            n->size = strtoull(b, NULL, 0);
        } else
            return rw_fail(fs, line, "unknown or incomplete spec line");
        if (n->type != RW_PAD && n->type != RW_UNKNOWN) {
            snprintf(n->name, sizeof n->name, "%s", a);
            if (snprintf(n->path, sizeof n->path, "%s/%s", open_dir < 0 ? "" : fs->n[open_dir].path, a) >=
                (int)sizeof n->path)
                return rw_fail(fs, line, "path too long");
        }
        if (n->type == RW_DIR)
            open_dir = (int)fs->count;
        fs->count++;
    }
    return 0;
}

static inline uint64_t rw_kind(const rw_node *n)
{
    switch (n->type) {
    case RW_DIR: return 4;
    case RW_PAD: return 1;
    case RW_UNKNOWN: return n->kind;
    default: return 5;
    }
}

/* Bytes of the record header: kind varint, pads, length varint. */
static inline uint64_t rw_hdr(const rw_node *n)
{
    return rw_vlen(rw_kind(n)) + n->lenpad + rw_vlen(n->plen);
}

static inline uint64_t rw_namefield(const rw_node *n)
{
    size_t l = strlen(n->name);
    return rw_vlen(l) + l;
}

/* Pass 1: payload and record sizes, bottom-up (children follow parents). */
static inline void rw_sizes(rw_fs *fs)
{
    for (size_t i = fs->count; i-- > 0;) {
        rw_node *n = &fs->n[i];
        switch (n->type) {
        case RW_DIR: n->plen = rw_namefield(n) + n->children; break;
        case RW_FILE:
        case RW_MPY: n->plen = rw_namefield(n) + 1 + rw_vlen(n->size) + n->size; break;
        case RW_LINK: n->plen = rw_namefield(n) + 1 + 1 + 8; break; /* kind 3, len 8, two 4-byte varints */
        case RW_NODATA: n->plen = rw_namefield(n); break;
        default: n->plen = n->size; break;
        }
        n->rec_size = rw_hdr(n) + n->plen;
        if (n->parent >= 0)
            fs->n[n->parent].children += n->rec_size;
    }
}

static inline int rw_find(const rw_fs *fs, const char *path)
{
    for (size_t i = 0; i < fs->count; i++)
        if ((fs->n[i].type == RW_FILE || fs->n[i].type == RW_MPY) && strcmp(fs->n[i].path, path) == 0)
            return (int)i;
    return -1;
}

/* Pass 2: offsets top-down, and the accounting each node contributes. */
static inline int rw_layout(rw_fs *fs, uint64_t base)
{
    uint64_t *cursor = calloc(fs->count + 1, sizeof *cursor);
    if (!cursor)
        return -1;
    cursor[fs->count] = base; /* the top level */
    for (size_t i = 0; i < fs->count; i++) {
        rw_node *n = &fs->n[i];
        size_t p = n->parent < 0 ? fs->count : (size_t)n->parent;
        n->offset = cursor[p];
        cursor[p] += n->rec_size;
        uint64_t body = n->offset + rw_hdr(n) + rw_namefield(n);
        uint64_t base_overhead = rw_hdr(n) - n->lenpad + rw_namefield(n);
        n->pads = n->lenpad;
        switch (n->type) {
        case RW_DIR: cursor[i] = body; n->overhead = base_overhead; fs->ndirs++; break;
        case RW_FILE:
        case RW_MPY:
            n->data_offset = body + 1 + rw_vlen(n->size);
            n->overhead = base_overhead + 1 + rw_vlen(n->size);
            fs->data += n->size;
            fs->nfiles++;
            break;
        case RW_NODATA: n->overhead = base_overhead; fs->nfiles++; break;
        case RW_LINK: fs->nfiles++; break; /* finished in rw_links once every offset is known */
        case RW_PAD: fs->padding += n->rec_size; break;
        default: fs->skipped += n->rec_size; break;
        }
        if (n->type != RW_PAD && n->type != RW_UNKNOWN) {
            fs->vuint_pad += n->pads;
            fs->overhead += n->overhead;
        }
    }
    free(cursor);
    return 0;
}

static inline int rw_links(rw_fs *fs, uint64_t base)
{
    for (size_t i = 0; i < fs->count; i++) {
        rw_node *n = &fs->n[i];
        if (n->type != RW_LINK)
            continue;
        int t = rw_find(fs, n->target);
        if (t < 0 || fs->n[t].size < n->size) {
            snprintf(fs->err, sizeof fs->err, "link %.100s: no verbatim file %.100s of at least %llu bytes", n->path,
                     n->target, (unsigned long long)n->size);
            return -1;
        }
        n->data_offset = fs->n[t].data_offset;
        n->link_offset = n->data_offset - base;
        if (rw_vlen(n->size) > 4 || rw_vlen(n->link_offset) > 4) {
            snprintf(fs->err, sizeof fs->err, "link %.100s: too large for 4-byte varints", n->path);
            return -1;
        }
        uint64_t sub_pads = (4 - rw_vlen(n->size)) + (4 - rw_vlen(n->link_offset));
        n->pads += sub_pads;
        n->overhead = rw_hdr(n) - n->lenpad + rw_namefield(n) + 10 - sub_pads;
        fs->vuint_pad += sub_pads;
        fs->overhead += n->overhead;
    }
    return 0;
}

/* Pass 3: the bytes. */
static inline void rw_emit(rw_fs *fs, uint64_t base)
{
    uint8_t *img = fs->img;
    for (size_t i = 0; i < fs->count; i++) {
        const rw_node *n = &fs->n[i];
        uint8_t *p = img + n->offset;
        p += rw_put(p, rw_kind(n), 1);
        p += rw_put(p, n->plen, rw_vlen(n->plen) + n->lenpad);
        if (n->type == RW_PAD || n->type == RW_UNKNOWN) {
            memset(p, n->type == RW_PAD ? 0 : 0x5a, n->size);
            continue;
        }
        size_t l = strlen(n->name);
        p += rw_put(p, l, 1);
        memcpy(p, n->name, l);
        p += l;
        if (n->type == RW_FILE || n->type == RW_MPY) {
            *p++ = 2;
            p += rw_put(p, n->size, 1);
            for (uint64_t k = 0; k < n->size; k++)
                p[k] = rw_byte(n->path, k);
            if (n->type == RW_MPY) {
                p[0] = 'M';
                p[1] = 6;
                p[2] = (uint8_t)n->feature;
                p[3] = 31;
            }
        } else if (n->type == RW_LINK) {
            *p++ = 3;
            *p++ = 8;
            p += rw_put(p, n->size, 4);
            rw_put(p, n->link_offset, 4);
        }
    }
    (void)base;
}

static inline int rw_build(rw_fs *fs)
{
    rw_sizes(fs);
    uint64_t L = 0;
    for (size_t i = 0; i < fs->count; i++)
        if (fs->n[i].parent < 0)
            L += fs->n[i].rec_size;
    unsigned lw = rw_vlen(L);
    if (!fs->no_even && (3 + lw + L) % 2)
        lw++;
    fs->header = 3 + lw;
    fs->payload = L;
    fs->img_len = (size_t)(fs->header + L);
    fs->img = calloc(fs->img_len ? fs->img_len : 1, 1);
    if (!fs->img) {
        snprintf(fs->err, sizeof fs->err, "out of memory");
        return -1;
    }
    fs->img[0] = 0xD2;
    fs->img[1] = 0xCD;
    fs->img[2] = 0x31;
    rw_put(fs->img + 3, L, lw);
    if (rw_layout(fs, fs->header) < 0 || rw_links(fs, fs->header) < 0)
        return -1;
    rw_emit(fs, fs->header);
    return 0;
}

/* What the writer knows, one line per fact (see mkromfs.c). */
static inline void rw_manifest(const rw_fs *fs, FILE *out)
{
    fprintf(out, "image %zu\nheader %llu\npayload %llu\ndata %llu\noverhead %llu\npadding %llu\nskipped %llu\n"
                 "vuint_pad %llu\nfiles %zu\ndirs %zu\n",
            fs->img_len, (unsigned long long)fs->header, (unsigned long long)fs->payload,
            (unsigned long long)fs->data, (unsigned long long)fs->overhead, (unsigned long long)fs->padding,
            (unsigned long long)fs->skipped, (unsigned long long)fs->vuint_pad, fs->nfiles, fs->ndirs);
    for (size_t i = 0; i < fs->count; i++) {
        const rw_node *n = &fs->n[i];
        if (n->type == RW_PAD || n->type == RW_UNKNOWN)
            continue;
        if (n->type == RW_DIR)
            fprintf(out, "dir %s %llu %llu %llu\n", n->path, (unsigned long long)n->offset,
                    (unsigned long long)n->rec_size, (unsigned long long)n->overhead);
        else
            fprintf(out, "file %s %llu %llu %llu %llu %llu\n", n->path, (unsigned long long)n->offset,
                    (unsigned long long)n->rec_size, (unsigned long long)n->overhead,
                    (unsigned long long)(n->type == RW_NODATA ? 0 : n->size),
                    (unsigned long long)n->data_offset);
    }
}

static inline void rw_free(rw_fs *fs)
{
    free(fs->n);
    free(fs->img);
    memset(fs, 0, sizeof *fs);
}

#endif
