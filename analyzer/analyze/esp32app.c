/*
 * esp32app.c - the ESP32 app image size (read from the image file, or
 * computed from the ELF as esptool's elf2image lays it out) against the
 * app partitions of an ESP-IDF partition table (esp32app.h has the facts).
 */
#include "esp32app.h"

#include "digest.h"
#include "document.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- the chip's memory map (esptool/targets/esp32.py MEMORY_MAP) ---------- */

static const struct {
    uint32_t start, end;
} esp32_memory_map[] = {
    {0x00000000u, 0x00010000u}, /* PADDING */
    {0x3F400000u, 0x3F800000u}, /* DROM */
    {0x3F800000u, 0x3FC00000u}, /* EXTRAM_DATA */
    {0x3FF80000u, 0x3FF82000u}, /* RTC_DRAM */
    {0x3FF90000u, 0x40000000u}, /* BYTE_ACCESSIBLE */
    {0x3FFAE000u, 0x40000000u}, /* DRAM */
    {0x3FFE0000u, 0x3FFFFFFCu}, /* DIRAM_DRAM */
    {0x40000000u, 0x40070000u}, /* IROM (mask ROM) */
    {0x40070000u, 0x40078000u}, /* CACHE_PRO */
    {0x40078000u, 0x40080000u}, /* CACHE_APP */
    {0x40080000u, 0x400A0000u}, /* IRAM */
    {0x400A0000u, 0x400BFFFCu}, /* DIRAM_IRAM */
    {0x400C0000u, 0x400C2000u}, /* RTC_IRAM */
    {0x400D0000u, 0x40400000u}, /* IROM (flash) */
    {0x50000000u, 0x50002000u}, /* RTC_DATA */
};

static unsigned memory_types(uint64_t addr)
{
    unsigned mask = 0;
    for (unsigned i = 0; i < sizeof esp32_memory_map / sizeof esp32_memory_map[0]; i++)
        if (addr >= esp32_memory_map[i].start && addr < esp32_memory_map[i].end)
            mask |= 1u << i;
    return mask;
}

static bool is_flash_addr(uint64_t addr)
{
    return (addr >= 0x400D0000u && addr < 0x40400000u) || (addr >= 0x3F400000u && addr < 0x3F800000u);
}

void fs_esp32_image_free(fs_esp32_image *im)
{
    if (!im)
        return;
    free(im->path);
    memset(im, 0, sizeof *im);
}

/* ---- computed from the ELF ------------------------------------------------ */

typedef struct seg {
    uint64_t addr, len;
    const char *name;  /* of its first section */
    unsigned types;
} seg;

static int cmp_seg_addr(const void *a, const void *b)
{
    const seg *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return 0;
}

/* sorted() is stable in Python: keep equal addresses in their order */
static void sort_stable(seg *s, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp_seg_addr(&s[j - 1], &s[j]) > 0; j--) {
            seg t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
}

static void move_first(seg *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].name && strcmp(s[i].name, name) == 0) {
            seg t = s[i];
            memmove(s + 1, s, i * sizeof *s);
            s[0] = t;
            return;
        }
}

/* The padding esptool puts before a flash segment (get_alignment_data_needed). */
static int64_t alignment_needed(uint64_t addr, uint64_t pos)
{
    const int64_t A = FS_ESP32_IROM_ALIGN, H = FS_ESP32_SEG_HEADER;
    int64_t align_past = (int64_t)(addr % (uint64_t)A) - H;
    int64_t pad = (A - (int64_t)(pos % (uint64_t)A)) + align_past;
    if (pad == 0 || pad == A)
        return 0;
    pad -= H;
    if (pad < 0)
        pad += A;
    return pad;
}

int fs_esp32_image_from_elf(const fs_image *img, fs_esp32_image *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->source = FS_ESP32_SIZE_ELF;
    if (img->elf_class != 32 || img->machine != EM_XTENSA)
        return fs_fail(err, "%s: not a 32-bit Xtensa ELF: the app image size cannot be computed for it (give --app-image)",
                       img->path);
    seg *s = calloc(img->nsections ? img->nsections : 1, sizeof *s);
    bool *keep = calloc(img->nsections ? img->nsections : 1, sizeof *keep);
    seg *flash = NULL, *ram = NULL;
    int rc = -1;
    if (!s || !keep || !(flash = calloc(img->nsections + 1, sizeof *flash)) ||
        !(ram = calloc(img->nsections + 1, sizeof *ram))) {
        fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *sec = &img->sections[i];
        if (sec->addr == 0 || sec->size == 0)
            continue;
        if (sec->type != SHT_PROGBITS && sec->type != SHT_INIT_ARRAY && sec->type != SHT_FINI_ARRAY &&
            sec->type != SHT_PREINIT_ARRAY)
            continue;
        s[n].addr = sec->addr;
        s[n].len = (sec->size + 3) & ~(uint64_t)3;
        s[n].name = sec->name;
        s[n].types = memory_types(sec->addr);
        n++;
    }
    if (n == 0) {
        fs_fail(err, "%s: no loadable sections: not an application ELF", img->path);
        goto done;
    }
    /* merge_adjacent_segments: backwards, each section into the one before it */
    for (size_t i = n - 1; i > 0; i--) {
        seg *e = &s[i - 1], *next = &s[i];
        if (e->types == next->types && next->addr == e->addr + e->len) {
            e->len += next->len;
            keep[i] = false;
        } else {
            keep[i] = true;
        }
    }
    keep[0] = true;
    size_t nf = 0, nr = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        kept++;
        if (is_flash_addr(s[i].addr))
            flash[nf++] = s[i];
        else
            ram[nr++] = s[i];
    }
    if (kept > FS_ESP32_MAX_ELF_SEGMENTS) {
        fs_fail(err, "%s: %zu segments after merging adjacent sections; esptool refuses more than %u", img->path, kept,
                FS_ESP32_MAX_ELF_SEGMENTS);
        goto done;
    }
    sort_stable(flash, nf);
    sort_stable(ram, nr);
    move_first(flash, nf, ".flash.appdesc");
    move_first(ram, nr, ".dram0.bootdesc");
    for (size_t i = 1; i < nf; i++)
        if (flash[i].addr / FS_ESP32_IROM_ALIGN == flash[i - 1].addr / FS_ESP32_IROM_ALIGN) {
            fs_fail(err, "%s: flash segments at 0x%" PRIx64 " and 0x%" PRIx64 " share one 64 KiB flash page; esptool "
                         "cannot make an image of it",
                    img->path, flash[i - 1].addr, flash[i].addr);
            goto done;
        }
    uint64_t pos = FS_ESP32_IMAGE_HEADER;
    unsigned total = 0;
    size_t fi = 0, ri = 0;
    while (fi < nf) {
        seg *f = &flash[fi];
        int64_t pad = alignment_needed(f->addr, pos);
        uint64_t len;
        if (pad > 0) {
            if (ri < nr && pad > (int64_t)FS_ESP32_SEG_HEADER) {
                len = ram[ri].len < (uint64_t)pad ? ram[ri].len : (uint64_t)pad;
                ram[ri].len -= len;
                ram[ri].addr += len;
                if (ram[ri].len == 0)
                    ri++;
            } else {
                len = (uint64_t)pad;
                out->padding += len;
            }
        } else {
            len = f->len;
            uint64_t rem = (pos + len + FS_ESP32_SEG_HEADER) % FS_ESP32_IROM_ALIGN;
            if (rem < 0x24) { /* the ESP32 bootloader's last-MMU-page workaround */
                len += 0x24 - rem;
                out->padding += 0x24 - rem;
            }
            out->flash_segments++;
            fi++;
        }
        if (len % 4 || len >= (16u << 20)) {
            fs_fail(err, "%s: a %" PRIu64 "-byte image segment before 0x%" PRIx64 ": esptool needs a multiple of 4 below 16 MiB",
                    img->path, len, f->addr);
            goto done;
        }
        pos += FS_ESP32_SEG_HEADER + len;
        total++;
    }
    for (; ri < nr; ri++) {
        if (ram[ri].len >= (16u << 20)) {
            fs_fail(err, "%s: segment at 0x%" PRIx64 " is 16 MiB or more", img->path, ram[ri].addr);
            goto done;
        }
        pos += FS_ESP32_SEG_HEADER + ram[ri].len;
        total++;
    }
    if (total > 255) {
        fs_fail(err, "%s: %u image segments do not fit the header's count byte", img->path, total);
        goto done;
    }
    pos += 15 - pos % 16; /* zero padding, then the checksum byte at a 16-byte boundary */
    pos += 1;
    pos += 32;            /* SHA-256 of everything before it */
    out->digest = true;
    out->segments = total;
    out->size = out->content_size = pos;
    if (!(out->path = strdup(img->path))) {
        fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(s);
    free(keep);
    free(flash);
    free(ram);
    if (rc < 0)
        fs_esp32_image_free(out);
    return rc;
}

/* ---- read from the image file --------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int fs_esp32_image_parse(const char *name, const uint8_t *data, size_t len, fs_esp32_image *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->source = FS_ESP32_SIZE_IMAGE;
    if (len < FS_ESP32_IMAGE_HEADER || data[0] != FS_ESP32_IMAGE_MAGIC)
        return fs_fail(err, "%s: not an ESP app image (no 0xE9 magic and 24-byte header)", name);
    if (data[23] > 1)
        return fs_fail(err, "%s: offset 0x17: hash_appended is 0x%02x, not 0 or 1 (not an ESP32-family image)", name,
                       data[23]);
    unsigned nseg = data[1];
    uint64_t pos = FS_ESP32_IMAGE_HEADER;
    uint8_t sum = 0xEF;
    for (unsigned i = 0; i < nseg; i++) {
        if (len - pos < FS_ESP32_SEG_HEADER)
            return fs_fail(err, "%s: offset 0x%" PRIx64 ": segment %u of %u: header past the end of the file", name, pos,
                           i + 1, nseg);
        uint32_t addr = rd32(data + pos), slen = rd32(data + pos + 4);
        if (slen > len - pos - FS_ESP32_SEG_HEADER)
            return fs_fail(err, "%s: offset 0x%" PRIx64 ": segment %u of %u (load 0x%08" PRIx32 ", %" PRIu32
                                " bytes) runs past the end of the file",
                           name, pos, i + 1, nseg, addr, slen);
        pos += FS_ESP32_SEG_HEADER;
        for (uint32_t k = 0; k < slen; k++)
            sum ^= data[pos + k];
        pos += slen;
        if (is_flash_addr(addr))
            out->flash_segments++;
    }
    pos += 15 - pos % 16;
    if (pos >= len)
        return fs_fail(err, "%s: the checksum byte (offset 0x%" PRIx64 ") lies past the end of the file", name, pos);
    out->checksum_ok = data[pos] == sum;
    if (!out->checksum_ok)
        return fs_fail(err, "%s: offset 0x%" PRIx64 ": checksum 0x%02x, the segments give 0x%02x (damaged image)", name,
                       pos, data[pos], sum);
    pos += 1;
    if (data[23] == 1) {
        out->digest = true;
        if (len - pos < 32)
            return fs_fail(err, "%s: the SHA-256 digest (offset 0x%" PRIx64 ") runs past the end of the file", name, pos);
        unsigned char md[32];
        if (fs_digest(FS_DIGEST_SHA256, data, pos, md) < 0)
            return fs_fail(err, "%s: SHA-256 not available (libcrypto; use flashsize-full)", name);
        out->digest_ok = memcmp(md, data + pos, 32) == 0;
        if (!out->digest_ok)
            return fs_fail(err, "%s: offset 0x%" PRIx64 ": the SHA-256 digest does not match the image (damaged image)",
                           name, pos);
        pos += 32;
    }
    for (uint64_t k = pos; k < len; k++)
        if (data[k] != 0xFF)
            return fs_fail(err, "%s: offset 0x%" PRIx64 ": %" PRIu64 " more bytes after the image ends at 0x%" PRIx64
                                " (a merged flash image with bootloader and partition table? give the app image alone)",
                           name, k, (uint64_t)len - pos, pos);
    static const uint64_t sizes[] = {1, 2, 4, 8, 16, 32, 64, 128};
    unsigned fsz = data[3] >> 4;
    out->flash_size = fsz < 8 ? sizes[fsz] << 20 : 0;
    out->segments = nseg;
    out->content_size = pos;
    out->size = len;
    if (!(out->path = strdup(name)))
        return fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
    return 0;
}

int fs_esp32_image_load(const char *path, fs_esp32_image *out, fs_error *err)
{
    const unsigned char *data;
    size_t len;
    memset(out, 0, sizeof *out);
    if (fs_map_file(path, FS_ESP32_MAX_IMAGE_BYTES, "app image", &data, &len, err) < 0)
        return -1;
    int rc = fs_esp32_image_parse(path, data, len, out, err);
    fs_unmap_file(data, len);
    return rc;
}

/* ---- against the partition table ------------------------------------------ */

void fs_esp32app_free(fs_esp32app *a)
{
    if (!a)
        return;
    fs_esppart_free(&a->table);
    fs_esp32_image_free(&a->image);
    memset(a, 0, sizeof *a);
}

int fs_esp32app_check(fs_esp32app *out, const char *app_partition, fs_error *err)
{
    const fs_esppart *t = &out->table;
    if (app_partition) {
        for (size_t i = 0; i < t->nentries; i++)
            if (strcmp(t->entries[i].name, app_partition) == 0)
                out->target = &t->entries[i];
        if (!out->target || out->target->type != FS_ESPPART_TYPE_APP) {
            char names[512] = "";
            size_t used = 0;
            for (size_t i = 0; i < t->nentries && used < sizeof names - 40; i++)
                if (t->entries[i].type == FS_ESPPART_TYPE_APP)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                                             t->entries[i].name);
            fs_fail(err, "%s: %s '%s'; its app partitions: %s", t->path,
                    out->target ? "not an app partition:" : "no partition named", app_partition, names);
            return -1;
        }
        out->ntargets = 1;
        out->named = true;
    } else {
        for (size_t i = 0; i < t->nentries; i++) {
            const fs_esppart_entry *e = &t->entries[i];
            if (!fs_esppart_is_app_slot(e))
                continue;
            out->ntargets++;
            if (!out->target || e->size < out->target->size)
                out->target = e;
        }
    }
    if (!out->target)
        return fs_fail(err, "%s: no app partition (factory or ota_N) to hold the application", t->path);
    out->free = (int64_t)out->target->size - (int64_t)out->image.size;
    out->free_pct = out->target->size ? 100.0 * (double)out->free / (double)out->target->size : -100.0;
    return 0;
}

int fs_esp32app_run(const char *table_path, const char *image_path, const char *app_partition, const fs_image *elf,
                    uint64_t flash_size, fs_esp32app *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (image_path ? fs_esp32_image_load(image_path, &out->image, err) < 0
                   : fs_esp32_image_from_elf(elf, &out->image, err) < 0)
        return -1;
    if (fs_esppart_load(table_path, flash_size, &out->table, err) < 0) {
        fs_esp32app_free(out);
        return -1;
    }
    if (fs_esp32app_check(out, app_partition, err) < 0) {
        fs_esp32app_free(out);
        return -1;
    }
    return 0;
}

int fs_esp32app_findings(const fs_esp32app *a, fs_report *rep)
{
    const fs_esppart_entry *p = a->target;
    char which[64];
    if (a->named)
        snprintf(which, sizeof which, "the one named");
    else if (a->ntargets == 1)
        snprintf(which, sizeof which, "the only one");
    else
        snprintf(which, sizeof which, "the smallest of %zu", a->ntargets);
    if (a->free < 0) {
        if (fs_report_add(rep, "app-partition-overflow", FS_SEV_ERROR, p->name,
                          "Shrink the firmware (fewer frozen modules or features in mpconfigboard) or give the app "
                          "partitions more room in the partition table.",
                          "app image %s is %" PRIu64 " bytes, larger than app partition '%s' (%" PRIu32
                          " bytes, %s) by %" PRIu64 " bytes",
                          a->image.path, a->image.size, p->name, p->size, which, (uint64_t)-a->free) < 0)
            return -1;
        fs_finding_num(rep, "size", a->image.size);
        fs_finding_num(rep, "partition", p->size);
        fs_finding_num(rep, "over", (uint64_t)-a->free);
    } else if (a->free_pct < FS_ESP32_HEADROOM_PCT) {
        if (fs_report_add(rep, "app-partition-headroom", FS_SEV_WARNING, p->name,
                          "The next feature may not fit: shrink the firmware or give the app partitions more room.",
                          "app image fills %.2f%% of app partition '%s' (%" PRIu64 " of %" PRIu32 " bytes, %" PRId64
                          " free, %s; idf.py warns below 5%% free)",
                          100.0 - a->free_pct, p->name, a->image.size, p->size, a->free, which) < 0)
            return -1;
        fs_finding_num(rep, "size", a->image.size);
        fs_finding_num(rep, "partition", p->size);
        fs_finding_num(rep, "free", (uint64_t)a->free);
    }
    return 0;
}

int fs_esp32app_print_text(FILE *out, const fs_esp32app *a)
{
    const fs_esp32_image *im = &a->image;
    fprintf(out, "ESP32 app image and partition table (%s, %s):\n", a->table.path, a->table.binary ? "binary" : "CSV");
    if (im->source == FS_ESP32_SIZE_IMAGE)
        fprintf(out, "  app image      %" PRIu64 " bytes (0x%" PRIx64 "), read from %s: %u segments, %u flash-mapped%s\n",
                im->size, im->size, im->path, im->segments, im->flash_segments,
                im->digest ? ", SHA-256 appended" : "");
    else
        fprintf(out,
                "  app image      %" PRIu64 " bytes (0x%" PRIx64 "), computed from the ELF as esptool elf2image "
                "writes it: %u segments (%u flash-mapped), %" PRIu64 " bytes of alignment padding, SHA-256 appended\n",
                im->size, im->size, im->segments, im->flash_segments, im->padding);
    char buf[16];
    fprintf(out, "  %-16s %-5s %-10s %10s %10s\n", "partition", "type", "subtype", "offset", "size");
    for (size_t i = 0; i < a->table.nentries; i++) {
        const fs_esppart_entry *e = &a->table.entries[i];
        const char *ty = fs_esppart_type_name(e->type), *st = fs_esppart_subtype_name(e->type, e->subtype, buf, sizeof buf);
        char tyb[8], stb[8];
        if (!ty)
            snprintf(tyb, sizeof tyb, "0x%02x", e->type), ty = tyb;
        if (!st)
            snprintf(stb, sizeof stb, "0x%02x", e->subtype), st = stb;
        fprintf(out, "  %-16s %-5s %-10s %#10" PRIx32 " %#10" PRIx32 "%s\n", e->name, ty, st, e->offset, e->size,
                e == a->target ? (a->free < 0 ? "  <- app image does NOT fit" : "  <- app image checked against")
                               : "");
    }
    if (a->free >= 0)
        fprintf(out, "  app partition '%s': %" PRIu32 " bytes, %" PRId64 " free (%.2f%%)\n", a->target->name,
                a->target->size, a->free, a->free_pct);
    else
        fprintf(out, "  app partition '%s': %" PRIu32 " bytes, over by %" PRId64 "\n", a->target->name, a->target->size,
                -a->free);
    return ferror(out) ? -1 : 0;
}

json_t *fs_esp32app_json(const fs_esp32app *a)
{
    const fs_esp32_image *im = &a->image;
    json_t *o = json_object(), *img = json_object(), *parts = json_array(), *tgt = json_object();
    if (!o || !img || !parts || !tgt) {
        json_decref(o), json_decref(img), json_decref(parts), json_decref(tgt);
        return NULL;
    }
    json_object_set_new(img, "source", json_string(im->source == FS_ESP32_SIZE_IMAGE ? "image" : "elf"));
    json_object_set_new(img, "path", json_string(im->path));
    json_object_set_new(img, "size", fs_json_from_u64(im->size));
    json_object_set_new(img, "segments", json_integer(im->segments));
    json_object_set_new(img, "flash_segments", json_integer(im->flash_segments));
    json_object_set_new(img, "digest", json_boolean(im->digest));
    json_object_set_new(img, "padding", im->source == FS_ESP32_SIZE_ELF ? fs_json_from_u64(im->padding) : json_null());
    json_object_set_new(img, "flash_size", im->flash_size ? fs_json_from_u64(im->flash_size) : json_null());
    json_object_set_new(o, "image", img);
    json_object_set_new(o, "table", json_string(a->table.path));
    json_object_set_new(o, "table_format", json_string(a->table.binary ? "binary" : "csv"));
    char buf[16];
    for (size_t i = 0; i < a->table.nentries; i++) {
        const fs_esppart_entry *e = &a->table.entries[i];
        json_t *p = json_object();
        const char *st = fs_esppart_subtype_name(e->type, e->subtype, buf, sizeof buf);
        json_object_set_new(p, "name", json_string(e->name));
        json_object_set_new(p, "type", json_integer(e->type));
        json_object_set_new(p, "subtype", json_integer(e->subtype));
        json_object_set_new(p, "subtype_name", st ? json_string(st) : json_null());
        json_object_set_new(p, "offset", json_integer(e->offset));
        json_object_set_new(p, "size", json_integer(e->size));
        json_object_set_new(p, "encrypted", json_boolean(e->flags & 1u));
        json_object_set_new(p, "readonly", json_boolean(e->flags & 2u));
        json_object_set_new(p, "app_slot", json_boolean(fs_esppart_is_app_slot(e)));
        json_array_append_new(parts, p);
    }
    json_object_set_new(o, "partitions", parts);
    json_object_set_new(tgt, "name", json_string(a->target->name));
    json_object_set_new(tgt, "size", json_integer(a->target->size));
    json_object_set_new(tgt, "chosen_by", json_string(a->named ? "option" : "smallest"));
    json_object_set_new(tgt, "candidates", json_integer((json_int_t)a->ntargets));
    json_object_set_new(o, "app_partition", tgt);
    json_object_set_new(o, "free", json_integer(a->free));
    json_object_set_new(o, "free_percent", json_real(a->free_pct));
    return o;
}
