/*
 * romfs.c - read and walk MicroPython ROMFS images, weigh them against their
 * partition, and format the result.
 *
 * Reader: the whole file is read into memory (at most 64 MiB), the header is
 * checked, then the records are walked recursively.  Every length is checked
 * against the end of the record that encloses it before anything is read, so
 * a hostile image can only produce an error: a record can never reach past
 * its parent, a name past its record, an indirect reference past the
 * filesystem payload.  Lengths always advance the cursor by at least the two
 * varints, so the walk terminates; the depth and record-count caps bound
 * stack and memory.  Every byte lands in one accounting bucket (romfs.h),
 * and the sum is checked at the end.
 *
 * Analysis: the partition comes from --partition-size, the firmware ELF's
 * _micropy_hw_romfs_part0_* symbols, or the board file; findings go into an
 * fs_report like the firmware analysis's, so `analyze --romfs` can merge
 * them.  Output: a jansson object and a plain-text report.
 */
#include "romfs.h"
#include "document.h"

#include <elf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ROMFS_KIND_UNUSED   0u
#define ROMFS_KIND_PADDING  1u
#define ROMFS_KIND_VERBATIM 2u
#define ROMFS_KIND_INDIRECT 3u
#define ROMFS_KIND_DIR      4u
#define ROMFS_KIND_FILE     5u

#define ROMFS_PATH_MAX 4096u

/* ---- reader ------------------------------------------------------------ */

typedef struct romfs_walk {
    const char *name;
    const uint8_t *d;
    size_t base;            /* image offset where the filesystem payload starts */
    size_t end;             /* and ends */
    fs_romfs *r;
    size_t cap;
    fs_error *err;
} romfs_walk;

/* One varint: its value, its size and how many leading 0x80 pads it has. */
typedef struct romfs_vuint {
    uint64_t value;
    size_t len, pads;
} romfs_vuint;

static int romfs_read_vuint(const romfs_walk *w, size_t *pos, size_t limit, romfs_vuint *v)
{
    size_t start = *pos;
    if (fs_mpy_read_vuint(w->d, limit, pos, &v->value) < 0)
        return -1;
    v->len = *pos - start;
    v->pads = 0;
    while (v->pads + 1 < v->len && w->d[start + v->pads] == 0x80)
        v->pads++;
    return 0;
}

/* A record header: kind and length varints, checked against limit. */
typedef struct romfs_rec {
    size_t offset;          /* of the kind varint */
    romfs_vuint kind, len;
    size_t payload, end;    /* payload start and end */
} romfs_rec;

static int romfs_read_rec(romfs_walk *w, size_t pos, size_t limit, const char *parent, romfs_rec *rec)
{
    rec->offset = pos;
    if (romfs_read_vuint(w, &pos, limit, &rec->kind) < 0)
        return fs_fail(w->err, "%s: record at offset 0x%zx: kind varint truncated by the end of %s", w->name,
                       rec->offset, parent);
    if (romfs_read_vuint(w, &pos, limit, &rec->len) < 0)
        return fs_fail(w->err, "%s: record at offset 0x%zx: length varint truncated by the end of %s", w->name,
                       rec->offset, parent);
    if (rec->len.value > limit - pos)
        return fs_fail(w->err,
                       "%s: record at offset 0x%zx (kind %llu): length %llu runs past the end of %s "
                       "(%zu bytes left)",
                       w->name, rec->offset, (unsigned long long)rec->kind.value,
                       (unsigned long long)rec->len.value, parent, limit - pos);
    rec->payload = pos;
    rec->end = pos + (size_t)rec->len.value;
    if (rec->kind.value == ROMFS_KIND_UNUSED)
        return fs_fail(w->err, "%s: record at offset 0x%zx has kind 0 (unused): the image is corrupt", w->name,
                       rec->offset);
    if (++w->r->nrecords > FS_ROMFS_MAX_RECORDS)
        return fs_fail(w->err, "%s: more than %u records (limit)", w->name, FS_ROMFS_MAX_RECORDS);
    return 0;
}

/* Overhead of a record's kind and length varints, without their pads. */
static uint64_t romfs_rec_overhead(fs_romfs *r, const romfs_rec *rec)
{
    r->vuint_pad += rec->kind.pads + rec->len.pads;
    return (rec->kind.len - rec->kind.pads) + (rec->len.len - rec->len.pads);
}

static fs_romfs_entry *romfs_add_entry(romfs_walk *w)
{
    fs_romfs *r = w->r;
    if (r->nentries == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        fs_romfs_entry *grown = realloc(r->entries, cap * sizeof *grown);
        if (!grown)
            return NULL;
        r->entries = grown;
        w->cap = cap;
    }
    fs_romfs_entry *e = &r->entries[r->nentries++];
    memset(e, 0, sizeof *e);
    return e;
}

/* parent + "/" + name, with bytes outside printable ASCII (and '\') as \xHH. */
static char *romfs_join(const char *parent, const uint8_t *name, size_t len)
{
    size_t plen = strlen(parent);
    if (plen + 1 + len * 4 + 1 > ROMFS_PATH_MAX)
        return NULL;
    char *out = malloc(plen + 1 + len * 4 + 1);
    if (!out)
        return NULL;
    memcpy(out, parent, plen);
    size_t o = plen;
    out[o++] = '/';
    for (size_t i = 0; i < len; i++) {
        if (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '\\')
            out[o++] = (char)name[i];
        else
            o += (size_t)sprintf(out + o, "\\x%02x", name[i]);
    }
    out[o] = '\0';
    return out;
}

/* The name_len varint and name of a directory or file record; adds them to
 * e->overhead and sets e->path.  *pos ends just after the name. */
static int romfs_read_name(romfs_walk *w, const romfs_rec *rec, const char *parent, fs_romfs_entry *e,
                           size_t *pos)
{
    romfs_vuint n;
    *pos = rec->payload;
    if (romfs_read_vuint(w, pos, rec->end, &n) < 0)
        return fs_fail(w->err, "%s: record at offset 0x%zx: name length varint truncated by the end of the record",
                       w->name, rec->offset);
    if (n.value > rec->end - *pos)
        return fs_fail(w->err,
                       "%s: record at offset 0x%zx: name of %llu bytes runs past the end of the record "
                       "(%zu bytes left)",
                       w->name, rec->offset, (unsigned long long)n.value, rec->end - *pos);
    e->path = romfs_join(parent, w->d + *pos, (size_t)n.value);
    if (!e->path)
        return fs_fail(w->err, "%s: record at offset 0x%zx: path longer than %u bytes (or out of memory)", w->name,
                       rec->offset, ROMFS_PATH_MAX);
    w->r->vuint_pad += n.pads;
    e->overhead += (n.len - n.pads) + n.value;
    *pos += (size_t)n.value;
    return 0;
}

static void romfs_detect_mpy(const romfs_walk *w, fs_romfs_entry *e)
{
    const uint8_t *c = w->d + e->data_offset;
    if (e->size < 4 || c[0] != FS_MPY_MAGIC || (c[1] != 5 && c[1] != 6) || (c[2] & 0x80) || c[3] == 0 || c[3] > 64)
        return;
    fs_mpy_header h;
    if (fs_mpy_read_header(e->path, c, (size_t)e->size, &h, NULL) == 0) {
        e->is_mpy = true;
        e->mpy = h;
    }
}

/* The content of a file from its indirect record: vuint size, vuint offset
 * (relative to the filesystem payload), which must lie inside the payload. */
static int romfs_indirect(romfs_walk *w, const romfs_rec *rec, fs_romfs_entry *e)
{
    size_t pos = rec->payload;
    romfs_vuint size, off;
    if (romfs_read_vuint(w, &pos, rec->end, &size) < 0 || romfs_read_vuint(w, &pos, rec->end, &off) < 0)
        return fs_fail(w->err, "%s: indirect data record at offset 0x%zx (file %s): size/offset varints truncated",
                       w->name, rec->offset, e->path);
    uint64_t payload = w->end - w->base;
    if (off.value > payload || size.value > payload - off.value)
        return fs_fail(w->err,
                       "%s: indirect data record at offset 0x%zx (file %s): %llu bytes at payload offset %llu "
                       "lie past the filesystem payload (%llu bytes)",
                       w->name, rec->offset, e->path, (unsigned long long)size.value,
                       (unsigned long long)off.value, (unsigned long long)payload);
    e->indirect = true;
    e->size = size.value;
    e->data_offset = w->base + off.value;
    w->r->vuint_pad += size.pads + off.pads;
    e->overhead += (rec->end - rec->offset) - size.pads - off.pads - rec->kind.pads - rec->len.pads;
    w->r->vuint_pad += rec->kind.pads + rec->len.pads;
    return 0;
}

/* The records nested inside a file: the first data record is the content,
 * padding is padding, anything else is the file's metadata (overhead). */
static int romfs_file_body(romfs_walk *w, size_t pos, const romfs_rec *file, fs_romfs_entry *e)
{
    while (pos < file->end) {
        romfs_rec rec;
        if (romfs_read_rec(w, pos, file->end, "its file record", &rec) < 0)
            return -1;
        uint64_t kind = rec.kind.value;
        if (kind == ROMFS_KIND_PADDING) {
            w->r->padding += rec.end - rec.offset;
            w->r->npadding++;
        } else if (!e->has_data && kind == ROMFS_KIND_VERBATIM) {
            e->has_data = true;
            e->size = e->stored = rec.len.value;
            e->data_offset = rec.payload;
            e->overhead += romfs_rec_overhead(w->r, &rec);
            w->r->data += rec.len.value;
        } else if (!e->has_data && kind == ROMFS_KIND_INDIRECT) {
            e->has_data = true;
            if (romfs_indirect(w, &rec, e) < 0)
                return -1;
        } else {
            e->overhead += rec.end - rec.offset;
        }
        pos = rec.end;
    }
    return 0;
}

static int romfs_walk_records(romfs_walk *w, size_t pos, size_t end, unsigned depth, const char *parent,
                              const char *what);

static int romfs_entry(romfs_walk *w, const romfs_rec *rec, unsigned depth, const char *parent)
{
    bool dir = rec->kind.value == ROMFS_KIND_DIR;
    if (dir && depth >= FS_ROMFS_MAX_DEPTH)
        return fs_fail(w->err, "%s: directory at offset 0x%zx is nested more than %u levels deep (limit)", w->name,
                       rec->offset, FS_ROMFS_MAX_DEPTH);
    size_t index = w->r->nentries;
    fs_romfs_entry *e = romfs_add_entry(w);
    if (!e)
        return fs_fail(w->err, "%s: out of memory", w->name);
    e->type = dir ? FS_ROMFS_DIR : FS_ROMFS_FILE;
    e->depth = depth;
    e->offset = rec->offset;
    e->record_size = rec->end - rec->offset;
    e->overhead = romfs_rec_overhead(w->r, rec);
    size_t pos;
    if (romfs_read_name(w, rec, parent, e, &pos) < 0)
        return -1;
    if (dir) {
        w->r->ndirs++;
        w->r->overhead += e->overhead;
        char *path = strdup(e->path); /* entries may move while recursing */
        if (!path)
            return fs_fail(w->err, "%s: out of memory", w->name);
        int rc = romfs_walk_records(w, pos, rec->end, depth + 1, path, "its directory record");
        free(path);
        return rc;
    }
    w->r->nfiles++;
    if (romfs_file_body(w, pos, rec, e) < 0)
        return -1;
    e = &w->r->entries[index];
    w->r->overhead += e->overhead;
    romfs_detect_mpy(w, e);
    return 0;
}

static int romfs_walk_records(romfs_walk *w, size_t pos, size_t end, unsigned depth, const char *parent,
                              const char *what)
{
    while (pos < end) {
        romfs_rec rec;
        if (romfs_read_rec(w, pos, end, what, &rec) < 0)
            return -1;
        uint64_t kind = rec.kind.value;
        if (kind == ROMFS_KIND_DIR || kind == ROMFS_KIND_FILE) {
            if (romfs_entry(w, &rec, depth, parent) < 0)
                return -1;
        } else if (kind == ROMFS_KIND_PADDING) {
            w->r->padding += rec.end - rec.offset;
            w->r->npadding++;
        } else {
            w->r->skipped += rec.end - rec.offset;
            w->r->nskipped++;
        }
        pos = rec.end;
    }
    return 0;
}

static int romfs_header(romfs_walk *w, size_t len)
{
    fs_romfs *r = w->r;
    const uint8_t *d = w->d;
    if (len == 0)
        return fs_fail(w->err, "%s: empty file", w->name);
    if (len < 3 || d[0] != 0xD2 || d[1] != 0xCD || d[2] != 0x31) {
        char got[16] = "";
        for (size_t i = 0; i < len && i < 3; i++)
            sprintf(got + strlen(got), "%s%02X", i ? " " : "", d[i]);
        return fs_fail(w->err, "%s: not a ROMFS image (starts with %s, expected the magic D2 CD 31)", w->name, got);
    }
    size_t pos = 3;
    romfs_vuint L;
    if (romfs_read_vuint(w, &pos, len, &L) < 0)
        return fs_fail(w->err, "%s: filesystem length varint after the magic is truncated or too long", w->name);
    if (L.value > len - pos)
        return fs_fail(w->err,
                       "%s: filesystem payload of %llu bytes runs past the end of the file (%zu bytes after the "
                       "%zu-byte header)",
                       w->name, (unsigned long long)L.value, len - pos, pos);
    r->header = pos;
    r->payload_size = L.value;
    r->image_size = pos + L.value;
    r->file_size = len;
    w->base = pos;
    w->end = pos + (size_t)L.value;
    r->odd_size = r->image_size % 2 != 0;
    return 0;
}

static void romfs_trailing(fs_romfs *r, const uint8_t *d, size_t len)
{
    for (size_t i = (size_t)r->image_size; i < len; i++) {
        r->trailing++;
        if (d[i] == 0xFF)
            r->trailing_ff++;
        else if (d[i] == 0x00)
            r->trailing_00++;
        else
            r->trailing_other++;
    }
}

int fs_romfs_parse(const char *name, const uint8_t *data, size_t len, fs_romfs *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    romfs_walk w = {.name = name, .d = data, .r = out, .err = err};
    if (len > FS_ROMFS_MAX_IMAGE_BYTES) {
        fs_fail(err, "%s: %zu bytes, larger than the %llu-byte limit", name, len, FS_ROMFS_MAX_IMAGE_BYTES);
        goto fail;
    }
    if (romfs_header(&w, len) < 0 || romfs_walk_records(&w, w.base, w.end, 0, "", "the filesystem payload") < 0)
        goto fail;
    uint64_t sum = out->header + out->data + out->overhead + out->padding + out->skipped + out->vuint_pad;
    if (sum != out->image_size) {
        fs_fail(err, "%s: internal error: accounted %llu bytes of a %llu-byte image", name,
                (unsigned long long)sum, (unsigned long long)out->image_size);
        goto fail;
    }
    romfs_trailing(out, data, len);
    if (!(out->path = strdup(name))) {
        fs_fail(err, "%s: out of memory", name);
        goto fail;
    }
    return 0;
fail:
    fs_romfs_free(out);
    return -1;
}

int fs_romfs_load(const char *path, fs_romfs *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t len;
    if (fs_read_file(path, FS_ROMFS_MAX_IMAGE_BYTES, "file", &buf, &len, err) < 0)
        return -1;
    int rc = fs_romfs_parse(path, buf, len, out, err);
    free(buf);
    return rc;
}

void fs_romfs_free(fs_romfs *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nentries; i++)
        free(r->entries[i].path);
    free(r->entries);
    free(r->path);
    memset(r, 0, sizeof *r);
}

/* ---- occupancy --------------------------------------------------------- */

const char *fs_romfs_part_source_name(fs_romfs_part_source s)
{
    switch (s) {
    case FS_ROMFS_PART_OPTION: return "option";
    case FS_ROMFS_PART_FIRMWARE: return "firmware";
    case FS_ROMFS_PART_BOARD: return "board";
    default: return "none";
    }
}

/* The .mpy native archs a firmware loads (facts 2.2): Thumb cores accept
 * armv6m up to their own arch, others need an exact match.  The ELF header
 * does not say which Cortex-M an ARM image is for, so any Thumb arch is
 * accepted there. */
static void romfs_firmware_arch(const fs_image *fw, const fs_board *board, fs_romfs_occupancy *o)
{
    enum { ARMV6M = 4, ARMV7EMDP = 8, XTENSA = 9, XTENSAWIN = 10, RV32 = 11, RV64 = 12, X86 = 1, X64 = 2 };
    uint8_t lo = 0, hi = 0;
    const char *from = NULL;
    if (o->esp8266) {
        lo = hi = XTENSA;
        from = board && board->chip == FS_CHIP_ESP8266 ? "board chip esp8266" : "ESP8266 firmware";
    } else if (fw) {
        switch (fw->machine) {
        case EM_XTENSA: lo = hi = XTENSAWIN; from = "ELF machine Xtensa (not ESP8266: ESP32 family)"; break;
        case EM_ARM: lo = ARMV6M; hi = ARMV7EMDP; from = "ELF machine ARM (Thumb: armv6m..armv7emdp)"; break;
        case EM_RISCV:
            lo = hi = fw->elf_class == 64 ? RV64 : RV32;
            from = fw->elf_class == 64 ? "ELF machine RISC-V, 64-bit" : "ELF machine RISC-V, 32-bit";
            break;
        case EM_X86_64: lo = hi = X64; from = "ELF machine x86-64"; break;
        case EM_386: lo = hi = X86; from = "ELF machine x86"; break;
        default: break;
        }
    }
    o->arch_known = from != NULL;
    o->arch_lo = lo;
    o->arch_hi = hi;
    o->arch_from = from;
}

static bool romfs_fw_partition(const fs_image *fw, uint64_t *start, uint64_t *size)
{
    if (!fw)
        return false;
    const fs_symbol *s = fs_image_symbol(fw, "_micropy_hw_romfs_part0_start");
    const fs_symbol *z = fs_image_symbol(fw, "_micropy_hw_romfs_part0_size");
    if (!s || !z)
        return false;
    *start = s->value;
    *size = z->value;
    return true;
}

int fs_romfs_occupancy_compute(const fs_romfs *img, const fs_image *firmware, const fs_board *board,
                               uint64_t partition_size, double headroom, fs_romfs_occupancy *o, fs_error *err)
{
    (void)err;
    memset(o, 0, sizeof *o);
    uint64_t fw_start = 0, fw_size = 0;
    bool has_fw = romfs_fw_partition(firmware, &fw_start, &fw_size);
    bool has_board = board && board->has_romfs;
    if (has_fw) {
        o->source = FS_ROMFS_PART_FIRMWARE;
        o->has_start = true;
        o->start = fw_start;
        o->size = fw_size;
        if (has_board && (board->romfs_start != fw_start || board->romfs_size != fw_size)) {
            o->mismatch = true;
            o->other_start = board->romfs_start;
            o->other_size = board->romfs_size;
        }
    } else if (has_board) {
        o->source = FS_ROMFS_PART_BOARD;
        o->has_start = true;
        o->start = board->romfs_start;
        o->size = board->romfs_size;
    }
    if (partition_size) {
        o->source = FS_ROMFS_PART_OPTION;
        o->size = partition_size;
    }
    if (o->source != FS_ROMFS_PART_NONE) {
        if (img->image_size > o->size)
            o->over = img->image_size - o->size;
        else
            o->free = o->size - img->image_size;
        o->percent = o->size ? (double)img->image_size * 100.0 / (double)o->size : 100.0;
    }
    o->headroom_pct = headroom > 0 ? headroom : board && board->headroom_pct > 0 ? board->headroom_pct : 90.0;
    o->esp8266 = (board && board->chip == FS_CHIP_ESP8266) || (firmware && fs_esp8266_detect(firmware, board));
    romfs_firmware_arch(firmware, board, o);
    return 0;
}

/* ---- findings ---------------------------------------------------------- */

static int romfs_find_partition(const fs_romfs *img, const fs_romfs_occupancy *o, fs_report *rep)
{
    const char *src = fs_romfs_part_source_name(o->source);
    if (o->over) {
        if (fs_report_add(rep, "romfs-full", FS_SEV_ERROR, img->path,
                          "Remove or shrink files (compile .py to .mpy), or give the ROMFS partition more room.",
                          "ROMFS image is %llu bytes, larger than its %llu-byte partition (from %s) by %llu bytes",
                          (unsigned long long)img->image_size, (unsigned long long)o->size, src,
                          (unsigned long long)o->over) < 0)
            return -1;
        fs_finding_num(rep, "image", img->image_size);
        fs_finding_num(rep, "partition", o->size);
        fs_finding_num(rep, "over", o->over);
    } else if (o->percent >= o->headroom_pct) {
        if (fs_report_add(rep, "romfs-headroom", FS_SEV_WARNING, img->path,
                          "Budget the remaining space now: the next files may not fit.",
                          "ROMFS image fills %.2f%% of its partition (%llu of %llu bytes, %llu free; threshold %.0f%%)",
                          o->percent, (unsigned long long)img->image_size, (unsigned long long)o->size,
                          (unsigned long long)o->free, o->headroom_pct) < 0)
            return -1;
        fs_finding_num(rep, "image", img->image_size);
        fs_finding_num(rep, "partition", o->size);
        fs_finding_num(rep, "free", o->free);
    }
    return 0;
}

static int romfs_find_unmapped(const fs_romfs *img, const fs_romfs_occupancy *o, fs_report *rep)
{
    uint64_t end = o->start + o->size;
    if (!o->esp8266 || !o->has_start || (o->start >= FS_ESP8266_WINDOW_START && end <= FS_ESP8266_WINDOW_END))
        return 0;
    if (fs_report_add(rep, "romfs-unmapped", FS_SEV_ERROR, img->path,
                      "Place the ROMFS partition inside the first 1 MiB of flash (0x40200000-0x40300000).",
                      "ROMFS partition 0x%llx-0x%llx lies outside the ESP8266's memory-mapped flash window "
                      "0x%x-0x%x: VfsRom cannot mount it",
                      (unsigned long long)o->start, (unsigned long long)end, FS_ESP8266_WINDOW_START,
                      FS_ESP8266_WINDOW_END) < 0)
        return -1;
    fs_finding_num(rep, "start", o->start);
    fs_finding_num(rep, "end", end);
    return 0;
}

static int romfs_find_arch(const fs_romfs *img, const fs_romfs_occupancy *o, fs_report *rep)
{
    if (!o->arch_known)
        return 0;
    for (size_t i = 0; i < img->nentries; i++) {
        const fs_romfs_entry *e = &img->entries[i];
        if (!e->is_mpy || e->mpy.arch == 0 || (e->mpy.arch >= o->arch_lo && e->mpy.arch <= o->arch_hi))
            continue;
        if (fs_report_add(rep, "romfs-arch-mismatch", FS_SEV_ERROR, e->path,
                          "Rebuild the module with mpy-cross/mpy_ld -march for this firmware's architecture.",
                          "%s holds native code for %s, but the firmware loads %s%s%s (%s): importing it fails",
                          e->path, fs_mpy_arch_name(e->mpy.arch), fs_mpy_arch_name(o->arch_lo),
                          o->arch_hi != o->arch_lo ? ".." : "", o->arch_hi != o->arch_lo ? fs_mpy_arch_name(o->arch_hi) : "",
                          o->arch_from) < 0)
            return -1;
        fs_finding_num(rep, "arch", e->mpy.arch);
        fs_finding_num(rep, "offset", e->offset);
    }
    return 0;
}

static int romfs_find_format(const fs_romfs *img, const fs_romfs_occupancy *o, fs_report *rep)
{
    if (img->odd_size) {
        if (fs_report_add(rep, "romfs-odd-size", FS_SEV_WARNING, img->path,
                          "Rebuild the image with mpremote romfs build, which pads the filesystem record to an even "
                          "size with a 0x80 byte before its length.",
                          "the %llu-byte filesystem record has an odd size; images are padded to an even size",
                          (unsigned long long)img->image_size) < 0)
            return -1;
        fs_finding_num(rep, "image", img->image_size);
    }
    if (img->trailing_other) {
        if (fs_report_add(rep, "romfs-trailing-data", FS_SEV_WARNING, img->path,
                          "Check that this is the image you meant: VfsRom ignores everything after the filesystem.",
                          "%llu bytes follow the %llu-byte filesystem record, %llu of them neither 0xFF nor 0x00",
                          (unsigned long long)img->trailing, (unsigned long long)img->image_size,
                          (unsigned long long)img->trailing_other) < 0)
            return -1;
        fs_finding_num(rep, "trailing", img->trailing);
        fs_finding_num(rep, "other", img->trailing_other);
    }
    if (o->mismatch) {
        if (fs_report_add(rep, "romfs-partition-mismatch", FS_SEV_WARNING, img->path,
                          "Use the board file that matches this firmware, or fix the board file's [romfs].",
                          "the firmware's ROMFS partition 0x%llx+0x%llx differs from the board's 0x%llx+0x%llx",
                          (unsigned long long)o->start, (unsigned long long)o->size,
                          (unsigned long long)o->other_start, (unsigned long long)o->other_size) < 0)
            return -1;
        fs_finding_num(rep, "start", o->start);
        fs_finding_num(rep, "size", o->size);
    }
    return 0;
}

int fs_romfs_findings(const fs_romfs *img, const fs_romfs_occupancy *o, fs_report *rep, fs_error *err)
{
    if ((o->source != FS_ROMFS_PART_NONE && romfs_find_partition(img, o, rep) < 0) ||
        romfs_find_unmapped(img, o, rep) < 0 || romfs_find_arch(img, o, rep) < 0 ||
        romfs_find_format(img, o, rep) < 0)
        return fs_fail(err, "%s: out of memory", img->path);
    return 0;
}

int fs_romfs_analyze(const fs_romfs *img, const fs_image *firmware, const fs_board *board,
                     uint64_t partition_size, double headroom, fs_romfs_occupancy *occ, fs_report *rep,
                     fs_error *err)
{
    fs_romfs_occupancy local;
    if (!occ)
        occ = &local;
    if (fs_romfs_occupancy_compute(img, firmware, board, partition_size, headroom, occ, err) < 0)
        return -1;
    return fs_romfs_findings(img, occ, rep, err);
}

/* ---- output ------------------------------------------------------------ */

static json_t *romfs_json_entry(const fs_romfs_entry *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(e->path));
    json_object_set_new(o, "type", json_string(e->type == FS_ROMFS_DIR ? "dir" : "file"));
    json_object_set_new(o, "depth", json_integer(e->depth));
    json_object_set_new(o, "offset", fs_json_from_u64(e->offset));
    json_object_set_new(o, "record_size", fs_json_from_u64(e->record_size));
    json_object_set_new(o, "overhead", fs_json_from_u64(e->overhead));
    if (e->type == FS_ROMFS_FILE) {
        json_object_set_new(o, "size", fs_json_from_u64(e->size));
        json_object_set_new(o, "stored", fs_json_from_u64(e->stored));
        json_object_set_new(o, "data_offset", e->has_data ? fs_json_from_u64(e->data_offset) : json_null());
        json_object_set_new(o, "storage", json_string(!e->has_data ? "none" : e->indirect ? "indirect" : "verbatim"));
        if (e->is_mpy) {
            json_t *m = json_object();
            json_object_set_new(m, "version", json_integer(e->mpy.version));
            json_object_set_new(m, "sub_version", json_integer(e->mpy.sub_version));
            json_object_set_new(m, "arch", json_string(fs_mpy_arch_name(e->mpy.arch)));
            json_object_set_new(m, "arch_code", json_integer(e->mpy.arch));
            json_object_set_new(m, "small_int_bits", json_integer(e->mpy.small_int_bits));
            json_object_set_new(o, "mpy", m);
        } else {
            json_object_set_new(o, "mpy", json_null());
        }
    }
    return o;
}

static json_t *romfs_json_partition(const fs_romfs_occupancy *o)
{
    if (!o || o->source == FS_ROMFS_PART_NONE)
        return json_null();
    json_t *p = json_object();
    json_object_set_new(p, "source", json_string(fs_romfs_part_source_name(o->source)));
    json_object_set_new(p, "start", o->has_start ? fs_json_from_u64(o->start) : json_null());
    json_object_set_new(p, "size", fs_json_from_u64(o->size));
    json_object_set_new(p, "free", fs_json_from_u64(o->free));
    json_object_set_new(p, "over", fs_json_from_u64(o->over));
    json_object_set_new(p, "percent", json_real(o->percent));
    json_object_set_new(p, "headroom_percent", json_real(o->headroom_pct));
    return p;
}

json_t *fs_romfs_json(const fs_romfs *img, const fs_romfs_occupancy *occ)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(img->path));
    json_object_set_new(o, "file_size", fs_json_from_u64(img->file_size));
    json_object_set_new(o, "image_size", fs_json_from_u64(img->image_size));
    json_object_set_new(o, "payload_size", fs_json_from_u64(img->payload_size));
    json_t *t = json_object();
    json_object_set_new(t, "header", fs_json_from_u64(img->header));
    json_object_set_new(t, "data", fs_json_from_u64(img->data));
    json_object_set_new(t, "overhead", fs_json_from_u64(img->overhead));
    json_object_set_new(t, "padding", fs_json_from_u64(img->padding));
    json_object_set_new(t, "skipped", fs_json_from_u64(img->skipped));
    json_object_set_new(t, "vuint_pad", fs_json_from_u64(img->vuint_pad));
    json_object_set_new(t, "files", json_integer((json_int_t)img->nfiles));
    json_object_set_new(t, "dirs", json_integer((json_int_t)img->ndirs));
    json_object_set_new(t, "padding_records", json_integer((json_int_t)img->npadding));
    json_object_set_new(t, "skipped_records", json_integer((json_int_t)img->nskipped));
    json_object_set_new(t, "odd_size", json_boolean(img->odd_size));
    json_object_set_new(t, "records", json_integer((json_int_t)img->nrecords));
    json_object_set_new(o, "totals", t);
    json_t *tr = json_object();
    json_object_set_new(tr, "bytes", fs_json_from_u64(img->trailing));
    json_object_set_new(tr, "ff", fs_json_from_u64(img->trailing_ff));
    json_object_set_new(tr, "zero", fs_json_from_u64(img->trailing_00));
    json_object_set_new(tr, "other", fs_json_from_u64(img->trailing_other));
    json_object_set_new(o, "trailing", tr);
    json_t *a = json_array();
    for (size_t i = 0; i < img->nentries; i++)
        json_array_append_new(a, romfs_json_entry(&img->entries[i]));
    json_object_set_new(o, "entries", a);
    json_object_set_new(o, "partition", romfs_json_partition(occ));
    if (occ && occ->arch_known) {
        json_t *fa = json_object();
        json_object_set_new(fa, "lo", json_string(fs_mpy_arch_name(occ->arch_lo)));
        json_object_set_new(fa, "hi", json_string(fs_mpy_arch_name(occ->arch_hi)));
        json_object_set_new(fa, "from", json_string(occ->arch_from));
        json_object_set_new(o, "firmware_arch", fa);
    } else {
        json_object_set_new(o, "firmware_arch", json_null());
    }
    return o;
}

static json_t *romfs_json_findings(const fs_report *rep, size_t *errors, size_t *warnings)
{
    json_t *a = json_array();
    for (size_t i = 0; rep && i < rep->nfindings; i++) {
        const fs_finding *f = &rep->findings[i];
        *errors += f->severity == FS_SEV_ERROR;
        *warnings += f->severity == FS_SEV_WARNING;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(f->id));
        json_object_set_new(o, "severity", json_string(fs_severity_name(f->severity)));
        json_object_set_new(o, "subject", f->subject ? json_string(f->subject) : json_null());
        json_object_set_new(o, "message", json_string(f->message));
        json_object_set_new(o, "remedy", f->remedy ? json_string(f->remedy) : json_null());
        json_t *nums = json_object();
        for (size_t k = 0; k < f->nnums; k++)
            json_object_set_new(nums, f->nums[k].key, fs_json_from_u64(f->nums[k].value));
        json_object_set_new(o, "numbers", nums);
        json_array_append_new(a, o);
    }
    return a;
}

int fs_romfs_output_json(FILE *out, const fs_romfs *img, const fs_romfs_occupancy *occ, const fs_report *rep)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string("flashsize-romfs"));
    json_object_set_new(doc, "schema_version", json_integer(FS_ROMFS_JSON_SCHEMA_VERSION));
    json_t *tool = json_object();
    json_object_set_new(tool, "name", json_string("flashsize"));
    json_object_set_new(tool, "version", json_string(FS_VERSION));
    json_object_set_new(doc, "tool", tool);
    json_object_set_new(doc, "romfs", fs_romfs_json(img, occ));
    size_t errors = 0, warnings = 0;
    json_object_set_new(doc, "findings", romfs_json_findings(rep, &errors, &warnings));
    json_t *sum = json_object();
    json_object_set_new(sum, "errors", json_integer((json_int_t)errors));
    json_object_set_new(sum, "warnings", json_integer((json_int_t)warnings));
    json_object_set_new(sum, "verdict", json_string(errors ? "fail" : warnings ? "warnings" : "ok"));
    json_object_set_new(doc, "summary", sum);
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    fputc('\n', out);
    json_decref(doc);
    return rc == 0 && !ferror(out) ? 0 : -1;
}

static void romfs_text_entry(FILE *out, const fs_romfs_entry *e)
{
    const char *base = strrchr(e->path, '/');
    base = base ? base + 1 : e->path;
    char name[160];
    snprintf(name, sizeof name, "%*s%s%s", (int)(2 * e->depth), "", base, e->type == FS_ROMFS_DIR ? "/" : "");
    if (e->type == FS_ROMFS_DIR) {
        fprintf(out, "  %-40s %10s %8llu\n", name, "-", (unsigned long long)e->overhead);
        return;
    }
    char note[96] = "";
    if (e->is_mpy)
        snprintf(note, sizeof note, ".mpy v%u.%u %s", e->mpy.version, e->mpy.sub_version,
                 e->mpy.arch ? fs_mpy_arch_name(e->mpy.arch) : "bytecode");
    if (e->indirect)
        snprintf(note + strlen(note), sizeof note - strlen(note), "%sindirect @0x%llx", note[0] ? ", " : "",
                 (unsigned long long)e->data_offset);
    fprintf(out, "  %-40s %10llu %8llu  %s\n", name, (unsigned long long)e->size, (unsigned long long)e->overhead,
            note);
}

static void romfs_text_findings(FILE *out, const fs_report *rep)
{
    size_t n = rep ? rep->nfindings : 0, errors = 0, warnings = 0;
    fprintf(out, "\nFindings (%zu)\n", n);
    if (!n)
        fprintf(out, "  none\n");
    for (size_t i = 0; i < n; i++) {
        const fs_finding *f = &rep->findings[i];
        errors += f->severity == FS_SEV_ERROR;
        warnings += f->severity == FS_SEV_WARNING;
        fprintf(out, "  %-7s %s: %s\n", fs_severity_name(f->severity), f->id, f->message);
        if (f->remedy)
            fprintf(out, "          remedy: %s\n", f->remedy);
    }
    fprintf(out, "\nVerdict: %s (%zu errors, %zu warnings)\n", errors ? "fail" : warnings ? "warnings" : "ok",
            errors, warnings);
}

int fs_romfs_output_text(FILE *out, const fs_romfs *img, const fs_romfs_occupancy *o, const fs_report *rep)
{
    fprintf(out, "ROMFS image %s: %llu bytes (payload %llu, header %llu), %zu files, %zu directories\n\n", img->path,
            (unsigned long long)img->image_size, (unsigned long long)img->payload_size,
            (unsigned long long)img->header, img->nfiles, img->ndirs);
    fprintf(out, "  %-40s %10s %8s  %s\n", "path", "bytes", "overhead", "notes");
    for (size_t i = 0; i < img->nentries; i++)
        romfs_text_entry(out, &img->entries[i]);
    fprintf(out, "\nTotals\n");
    fprintf(out, "  %-12s %10llu\n", "header", (unsigned long long)img->header);
    fprintf(out, "  %-12s %10llu\n", "file data", (unsigned long long)img->data);
    fprintf(out, "  %-12s %10llu\n", "overhead", (unsigned long long)img->overhead);
    fprintf(out, "  %-12s %10llu  (%zu records)\n", "padding", (unsigned long long)img->padding, img->npadding);
    fprintf(out, "  %-12s %10llu  (%zu records)\n", "skipped", (unsigned long long)img->skipped, img->nskipped);
    fprintf(out, "  %-12s %10llu\n", "varint pads", (unsigned long long)img->vuint_pad);
    fprintf(out, "  %-12s %10llu\n", "image", (unsigned long long)img->image_size);
    if (img->trailing)
        fprintf(out, "  %-12s %10llu  (after the image: %llu 0xFF, %llu 0x00, %llu other)\n", "trailing",
                (unsigned long long)img->trailing, (unsigned long long)img->trailing_ff,
                (unsigned long long)img->trailing_00, (unsigned long long)img->trailing_other);
    fprintf(out, "\nPartition\n");
    if (!o || o->source == FS_ROMFS_PART_NONE) {
        fprintf(out, "  unknown (give --partition-size, --board or --firmware)\n");
    } else {
        if (o->has_start)
            fprintf(out, "  %-12s 0x%08llx\n", "start", (unsigned long long)o->start);
        fprintf(out, "  %-12s %10llu  (from %s)\n", "size", (unsigned long long)o->size,
                fs_romfs_part_source_name(o->source));
        if (o->over)
            fprintf(out, "  %-12s %10llu  (image does not fit)\n", "over", (unsigned long long)o->over);
        else
            fprintf(out, "  %-12s %10llu  (%.2f%% used)\n", "free", (unsigned long long)o->free, o->percent);
    }
    if (o && o->arch_known)
        fprintf(out, "  %-12s %s%s%s (%s)\n", "firmware", fs_mpy_arch_name(o->arch_lo),
                o->arch_hi != o->arch_lo ? ".." : "", o->arch_hi != o->arch_lo ? fs_mpy_arch_name(o->arch_hi) : "",
                o->arch_from);
    if (rep)
        romfs_text_findings(out, rep);
    return ferror(out) ? -1 : 0;
}
