/*
 * romuse.c - ROM functions a firmware uses and ROM functions it copies.
 *
 * Used: absolute symbols named in the ROM table.  Copies: non-local
 * functions with a size whose name is in the table.  Literal words holding
 * a ROM address are counted by one pass over every loaded section against
 * the sorted table addresses.  Everything read from the file is bounds-
 * checked against the section headers and the file length.
 */
#include "romuse.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "elfread.h"

#define RU_SHN_ABS 0xfff1u
#define RU_STT_FUNC 2u
#define RU_STB_LOCAL 0u
#define RU_EM_ARM 40u

typedef struct ru_addr {
    uint64_t addr;
    size_t refs;
} ru_addr;

static int ru_addr_cmp(const void *a, const void *b)
{
    const ru_addr *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static ru_addr *ru_find_addr(ru_addr *v, size_t n, uint64_t addr)
{
    ru_addr key = {addr, 0};
    return bsearch(&key, v, n, sizeof *v, ru_addr_cmp);
}

/* Count aligned words equal to a table address in every loaded section. */
static void ru_count_word(ru_addr *v, size_t n, uint64_t x)
{
    ru_addr *a = ru_find_addr(v, n, x);
    if (a)
        a->refs++;
}

static void ru_count_refs(const fs_image *img, const uint8_t *data, size_t len, ru_addr *v, size_t n)
{
    if (n == 0)
        return;
    unsigned w = img->elf_class == 64 ? 8 : 4;
    const uint16_t probe = 1;
    bool host_big = *(const uint8_t *)&probe == 0;
    bool swap = host_big != img->big_endian; /* words are read with memcpy, so in host order */
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if (s->type != 1 /* SHT_PROGBITS */ || !(s->flags & 2 /* SHF_ALLOC */))
            continue;
        if (s->offset > len || s->size > len - s->offset)
            continue;
        const uint8_t *p = data + s->offset;
        uint64_t lo = v[0].addr, span = v[n - 1].addr - lo;
        uint64_t off = (4 - (s->addr & 3)) & 3;
        if (w == 4 && !swap) {
            /* the common case (32-bit, same byte order as the host): a tight loop */
            for (; off + 4 <= s->size; off += 4) {
                uint32_t word;
                memcpy(&word, p + off, 4);
                if ((uint64_t)word - lo <= span)
                    ru_count_word(v, n, word);
            }
            continue;
        }
        for (; off + w <= s->size; off += 4) {
            uint64_t x;
            if (w == 4) {
                uint32_t word;
                memcpy(&word, p + off, 4);
                x = swap ? __builtin_bswap32(word) : word;
            } else {
                memcpy(&x, p + off, 8);
                x = swap ? __builtin_bswap64(x) : x;
            }
            if (x - lo <= span) /* most words are not in the ROM's address range */
                ru_count_word(v, n, x);
        }
    }
}

static const char *ru_object(const fs_mapfile *map, uint64_t addr)
{
    if (!map)
        return NULL;
    for (size_t i = 0; i < map->ninputs; i++) {
        const fs_map_input *in = &map->inputs[i];
        if (in->fill || in->object < 0 || (size_t)in->object >= map->nobjects)
            continue;
        if (addr >= in->addr && addr - in->addr < in->size)
            return map->objects[in->object].path;
    }
    return NULL;
}

static int ru_add_used(fs_romuse *ru, const fs_symbol *s, const fs_romsym *r, size_t refs)
{
    fs_romuse_used *g = realloc(ru->used, (ru->nused + 1) * sizeof *g);
    if (!g)
        return -1;
    ru->used = g;
    g[ru->nused] = (fs_romuse_used){strdup(s->name), s->value, r->weak, refs, s->value == r->addr};
    return g[ru->nused++].name ? 0 : -1;
}

static int ru_add_dup(fs_romuse *ru, const fs_image *img, const fs_symbol *s, const fs_romsym *r,
                      const fs_mapfile *map)
{
    for (size_t i = 0; i < ru->ndups; i++)
        if (!strcmp(ru->dups[i].name, s->name))
            return 0;
    fs_romuse_dup *g = realloc(ru->dups, (ru->ndups + 1) * sizeof *g);
    if (!g)
        return -1;
    ru->dups = g;
    uint64_t addr = img->machine == RU_EM_ARM ? s->value & ~1ull : s->value;
    const char *obj = ru_object(map, addr);
    const char *sec = img->sections[s->section].name;
    fs_romuse_dup *d = &g[ru->ndups++];
    *d = (fs_romuse_dup){strdup(s->name), addr, s->size, r->addr, strdup(sec ? sec : ""), obj ? strdup(obj) : NULL};
    ru->dup_bytes += s->size;
    return d->name && d->section && (!obj || d->object) ? 0 : -1;
}

static int ru_dup_cmp(const void *a, const void *b)
{
    const fs_romuse_dup *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int ru_used_cmp(const void *a, const void *b)
{
    const fs_romuse_used *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int fs_romuse_analyze(const fs_image *img, const uint8_t *data, size_t len, const fs_romtable *rom,
                      const fs_mapfile *map, fs_romuse *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!img->has_symtab)
        return fs_fail(err, "%s: no symbol table (stripped?): ROM use cannot be found", img->path);
    out->table = strdup(rom->path ? rom->path : "");
    out->table_syms = rom->nsyms;
    out->with_map = map != NULL;
    ru_addr *addrs = calloc(rom->nsyms + 1, sizeof *addrs);
    if (!out->table || !addrs) {
        free(addrs);
        fs_romuse_free(out);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    for (size_t i = 0; i < rom->nsyms; i++)
        addrs[i].addr = rom->syms[i].addr;
    qsort(addrs, rom->nsyms, sizeof *addrs, ru_addr_cmp);
    ru_count_refs(img, data, len, addrs, rom->nsyms);
    int rc = 0;
    for (size_t i = 0; i < img->nsymbols && rc == 0; i++) {
        const fs_symbol *s = &img->symbols[i];
        const fs_romsym *r = fs_romtable_find(rom, s->name);
        if (!r)
            continue;
        if (s->shndx == RU_SHN_ABS) {
            ru_addr *a = ru_find_addr(addrs, rom->nsyms, s->value);
            size_t refs = a ? a->refs : 0;
            if (r->weak || refs > 0)
                rc = ru_add_used(out, s, r, refs);
            else
                out->unreferenced++;
        } else if (s->type == RU_STT_FUNC && s->size > 0 && s->section >= 0 && s->bind != RU_STB_LOCAL) {
            rc = ru_add_dup(out, img, s, r, map);
        }
    }
    free(addrs);
    if (rc < 0) {
        fs_romuse_free(out);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    if (out->nused)
        qsort(out->used, out->nused, sizeof *out->used, ru_used_cmp);
    if (out->ndups)
        qsort(out->dups, out->ndups, sizeof *out->dups, ru_dup_cmp);
    return 0;
}

int fs_romuse_analyze_file(const fs_image *img, const fs_romtable *rom, const fs_mapfile *map, fs_romuse *out,
                           fs_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t n;
    if (fs_elf_reread(img, &buf, &n, err) < 0)
        return -1;
    int rc = fs_romuse_analyze(img, buf, n, rom, map, out, err);
    free(buf);
    return rc;
}

void fs_romuse_free(fs_romuse *ru)
{
    if (!ru)
        return;
    for (size_t i = 0; i < ru->nused; i++)
        free(ru->used[i].name);
    for (size_t i = 0; i < ru->ndups; i++) {
        free(ru->dups[i].name);
        free(ru->dups[i].section);
        free(ru->dups[i].object);
    }
    free(ru->used);
    free(ru->dups);
    free(ru->table);
    memset(ru, 0, sizeof *ru);
}

const char *fs_romuse_default_table(const fs_image *img, const fs_board *board)
{
    if ((board && board->chip == FS_CHIP_ESP8266) || fs_esp8266_detect(img, board))
        return "rom/esp8266.ld";
    return NULL;
}

int fs_romuse_table_path(const char *rom, const fs_image *img, const fs_board *board, const char *rules_dir,
                         char **path)
{
    *path = NULL;
    if (rom)
        return (*path = strdup(rom)) ? 0 : -1;
    const char *rel = fs_romuse_default_table(img, board);
    if (!rel)
        return FS_ROMTABLE_NONE;
    if (!rules_dir)
        return FS_ROMTABLE_NO_RULES;
    return asprintf(path, "%s/%s", rules_dir, rel) < 0 ? (*path = NULL, -1) : 0;
}

int fs_romuse_findings(const fs_romuse *ru, fs_report *rep)
{
    for (size_t i = 0; i < ru->ndups; i++) {
        const fs_romuse_dup *d = &ru->dups[i];
        if (fs_report_add(rep, "rom-duplicate", FS_SEV_WARNING, d->name,
                          "use the ROM's copy: drop the local definition (or the library that brings it)",
                          "%s: the firmware carries its own %" PRIu64 "-byte copy of a ROM function (ROM 0x%08" PRIx64
                          ")%s%s", d->name, d->size, d->rom_addr, d->object ? ", from " : "",
                          d->object ? d->object : "") < 0)
            return -1;
        fs_finding_num(rep, "bytes", d->size);
        fs_finding_num(rep, "rom_addr", d->rom_addr);
    }
    return 0;
}

/* ---- output (format only) ------------------------------------------------ */

json_t *fs_romuse_json(const fs_romuse *ru, const char *path)
{
    json_t *root = json_object(), *used = json_array(), *dups = json_array(), *finds = json_array();
    if (!root || !used || !dups || !finds) {
        json_decref(root);
        json_decref(used);
        json_decref(dups);
        json_decref(finds);
        return NULL;
    }
    json_object_set_new(root, "schema", json_string("flashsize-rom"));
    json_object_set_new(root, "schema_version", json_integer(FS_ROMUSE_SCHEMA_VERSION));
    json_object_set_new(root, "file", json_string(path ? path : ""));
    json_object_set_new(root, "rom_table", json_string(ru->table));
    json_object_set_new(root, "rom_table_symbols", json_integer((json_int_t)ru->table_syms));
    json_object_set_new(root, "with_map", json_boolean(ru->with_map));
    for (size_t i = 0; i < ru->nused; i++) {
        const fs_romuse_used *u = &ru->used[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(u->name));
        json_object_set_new(o, "address", json_integer((json_int_t)u->addr));
        json_object_set_new(o, "provide", json_boolean(u->weak));
        json_object_set_new(o, "literal_refs", json_integer((json_int_t)u->refs));
        json_object_set_new(o, "address_matches_table", json_boolean(u->addr_matches));
        json_array_append_new(used, o);
    }
    for (size_t i = 0; i < ru->ndups; i++) {
        const fs_romuse_dup *d = &ru->dups[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(d->name));
        json_object_set_new(o, "address", json_integer((json_int_t)d->addr));
        json_object_set_new(o, "size", json_integer((json_int_t)d->size));
        json_object_set_new(o, "rom_address", json_integer((json_int_t)d->rom_addr));
        json_object_set_new(o, "section", json_string(d->section));
        json_object_set_new(o, "object", d->object ? json_string(d->object) : json_null());
        json_array_append_new(dups, o);
        json_t *f = json_object();
        json_object_set_new(f, "id", json_string("rom-duplicate"));
        json_object_set_new(f, "severity", json_string("warning"));
        json_object_set_new(f, "subject", json_string(d->name));
        json_object_set_new(f, "bytes", json_integer((json_int_t)d->size));
        json_array_append_new(finds, f);
    }
    json_object_set_new(root, "used", used);
    json_object_set_new(root, "unreferenced_strong", json_integer((json_int_t)ru->unreferenced));
    json_object_set_new(root, "duplicates", dups);
    json_object_set_new(root, "duplicate_bytes", json_integer((json_int_t)ru->dup_bytes));
    json_object_set_new(root, "findings", finds);
    return root;
}

int fs_romuse_print_text(FILE *out, const fs_romuse *ru, const char *path)
{
    fprintf(out, "ROM use of %s (table %s, %zu symbols)\n", path ? path : "", ru->table, ru->table_syms);
    fprintf(out, "\n  ROM functions used: %zu\n", ru->nused);
    for (size_t i = 0; i < ru->nused; i++) {
        const fs_romuse_used *u = &ru->used[i];
        fprintf(out, "    %-28s 0x%08" PRIx64 "  %s, %zu literal refs%s\n", u->name, u->addr,
                u->weak ? "PROVIDE" : "strong", u->refs, u->addr_matches ? "" : " (address differs from the table)");
    }
    if (ru->unreferenced)
        fprintf(out, "  (%zu strong table symbols are defined but nothing references them)\n", ru->unreferenced);
    fprintf(out, "\n  own copies of ROM functions: %zu, %" PRIu64 " bytes that could be saved\n", ru->ndups,
            ru->dup_bytes);
    for (size_t i = 0; i < ru->ndups; i++) {
        const fs_romuse_dup *d = &ru->dups[i];
        fprintf(out, "    warning [rom-duplicate] %-20s %6" PRIu64 " bytes in %s (ROM 0x%08" PRIx64 ")%s%s\n", d->name,
                d->size, d->section, d->rom_addr, d->object ? " from " : "", d->object ? d->object : "");
    }
    return ferror(out) ? -1 : 0;
}
