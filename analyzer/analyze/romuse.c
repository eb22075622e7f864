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

/* Four words compared at once (GCC's and Clang's vector extension). */
typedef uint32_t ru_v4 __attribute__((vector_size(16)));

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
            /* the common case (32-bit, same byte order as the host): sixteen
             * words at a time, looked at one by one only when one of them is
             * in the table's address range (few are) */
            uint32_t lo32 = (uint32_t)lo, span32 = span > UINT32_MAX ? UINT32_MAX : (uint32_t)span;
            const ru_v4 vlo = {lo32, lo32, lo32, lo32}, vspan = {span32, span32, span32, span32};
            for (; off + 64 <= s->size; off += 64) {
                ru_v4 q[4];
                memcpy(q, p + off, sizeof q);
                ru_v4 any = (q[0] - vlo <= vspan) | (q[1] - vlo <= vspan) | (q[2] - vlo <= vspan) |
                            (q[3] - vlo <= vspan);
                if (any[0] | any[1] | any[2] | any[3]) {
                    uint32_t word[16];
                    memcpy(word, q, sizeof word);
                    for (unsigned k = 0; k < 16; k++)
                        if (word[k] - lo32 <= span32)
                            ru_count_word(v, n, word[k]);
                }
            }
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

/* The object of the first input section (in the map's order) that holds
 * addr.  Only the output sections whose inputs can reach addr are walked:
 * an address is in one of a few. */
static const char *ru_object(const fs_mapfile *map, uint64_t addr)
{
    if (!map)
        return NULL;
    for (size_t k = 0; k < map->nsections; k++) {
        const fs_map_section *sec = &map->sections[k];
        if (sec->ninputs == 0 || addr < sec->inputs_lo || addr >= sec->inputs_hi)
            continue;
        for (size_t i = sec->first_input; i < sec->first_input + sec->ninputs; i++) {
            const fs_map_input *in = &map->inputs[i];
            if (in->fill || in->object < 0 || (size_t)in->object >= map->nobjects)
                continue;
            if (addr >= in->addr && addr - in->addr < in->size)
                return map->objects[in->object].path;
        }
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
    *d = (fs_romuse_dup){strdup(s->name), addr, s->size, r->addr, strdup(sec ? sec : ""), obj ? strdup(obj) : NULL,
                         NULL, FS_OWNER_KINDS};
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
        /* Only an absolute symbol (a use of the ROM's copy) or a global
         * function with code (a copy of its own) can matter: the name is
         * looked up for those alone. */
        bool abs = s->shndx == RU_SHN_ABS;
        if (!abs && !(s->type == RU_STT_FUNC && s->size > 0 && s->section >= 0 && s->bind != RU_STB_LOCAL))
            continue;
        const fs_romsym *r = fs_romtable_find(rom, s->name);
        if (!r)
            continue;
        if (abs) {
            ru_addr *a = ru_find_addr(addrs, rom->nsyms, s->value);
            size_t refs = a ? a->refs : 0;
            if (r->weak || refs > 0)
                rc = ru_add_used(out, s, r, refs);
            else
                out->unreferenced++;
        } else {
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
    if (fs_romuse_set_owners(out, NULL) < 0) { /* owners from paths; the caller may refine with its rules */
        fs_romuse_free(out);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    return 0;
}

int fs_romuse_analyze_file(const fs_image *img, const fs_romtable *rom, const fs_mapfile *map, fs_romuse *out,
                           fs_error *err)
{
    memset(out, 0, sizeof *out);
    const unsigned char *buf;
    size_t n;
    if (fs_elf_reread(img, &buf, &n, err) < 0)
        return -1;
    int rc = fs_romuse_analyze(img, buf, n, rom, map, out, err);
    fs_unmap_file(buf, n);
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
        free(ru->dups[i].origin);
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

int fs_romuse_set_owners(fs_romuse *ru, const fs_owner_rules *rules)
{
    for (size_t i = 0; i < ru->ndups; i++) {
        fs_romuse_dup *d = &ru->dups[i];
        free(d->origin);
        d->origin = NULL;
        d->owner = FS_OWNER_KINDS;
        if (!d->object)
            continue;
        char group[256];
        d->owner = fs_owner_classify(rules, d->object, group, sizeof group);
        size_t n = strlen(d->object);
        const char *paren = n && d->object[n - 1] == ')' ? strrchr(d->object, '(') : NULL;
        d->origin = paren ? strndup(d->object, (size_t)(paren - d->object)) : strdup(d->object);
        if (!d->origin)
            return -1;
    }
    return 0;
}

fs_severity fs_romuse_severity(fs_owner_kind k)
{
    return k == FS_OWNER_USER ? FS_SEV_WARNING : FS_SEV_INFO;
}

static const char *ru_origin(const fs_romuse_dup *d)
{
    return d->origin ? d->origin : "origin unknown";
}

static const char *ru_remedy(fs_owner_kind k)
{
    switch (k) {
    case FS_OWNER_USER:
        return "Use the ROM's copy: drop the local definition from your module (the ROM table in the linker script "
               "provides the symbol).";
    case FS_OWNER_SDK:
        return "Nothing to change in your tree: the vendor's SDK library links its own copy.";
    case FS_OWNER_TOOLCHAIN:
        return "Nothing to change in your tree: the toolchain's library brings it; a port could PROVIDE the ROM's "
               "address in its linker script instead.";
    case FS_OWNER_MICROPYTHON:
    case FS_OWNER_FROZEN:
        return "MicroPython's own copy (a port could use the ROM's through its linker script); nothing to change in "
               "your code.";
    default:
        return "Give the link's map (--map firmware.map) to learn which objects bring them.";
    }
}

typedef struct ru_group {
    const char *origin;
    fs_owner_kind owner;
    uint64_t bytes;
    size_t count, first;
} ru_group;

static int ru_group_cmp(const void *a, const void *b)
{
    const ru_group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->origin, y->origin);
}

int fs_romuse_findings(const fs_romuse *ru, fs_report *rep)
{
    ru_group *g = calloc(ru->ndups + 1, sizeof *g);
    if (!g)
        return -1;
    size_t ng = 0;
    for (size_t i = 0; i < ru->ndups; i++) {
        const fs_romuse_dup *d = &ru->dups[i];
        size_t k = 0;
        while (k < ng && strcmp(g[k].origin, ru_origin(d)))
            k++;
        if (k == ng)
            g[ng++] = (ru_group){ru_origin(d), d->owner, 0, 0, i};
        if (d->owner < g[k].owner) /* the most changeable owner of the group decides */
            g[k].owner = d->owner;
        g[k].bytes += d->size;
        g[k].count++;
    }
    qsort(g, ng, sizeof *g, ru_group_cmp);
    int rc = 0;
    for (size_t k = 0; k < ng && rc == 0; k++) {
        char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);
        if (!f) {
            rc = -1;
            break;
        }
        size_t shown = 0;
        for (size_t i = g[k].first; i < ru->ndups; i++) {
            const fs_romuse_dup *d = &ru->dups[i];
            if (strcmp(ru_origin(d), g[k].origin))
                continue;
            if (shown++ < 8)
                fprintf(f, "%s%s %" PRIu64, shown > 1 ? ", " : "", d->name, d->size);
        }
        if (shown > 8)
            fprintf(f, ", %zu more", shown - 8);
        if (fclose(f) != 0) {
            free(list);
            rc = -1;
            break;
        }
        rc = fs_report_add(rep, "rom-duplicate", fs_romuse_severity(g[k].owner), g[k].origin, ru_remedy(g[k].owner),
                           "%s%s%s%s: %zu cop%s of ROM functions, %" PRIu64 " bytes (%s)", g[k].origin,
                           g[k].owner < FS_OWNER_KINDS ? " (" : "",
                           g[k].owner < FS_OWNER_KINDS ? fs_owner_kind_name(g[k].owner) : "",
                           g[k].owner < FS_OWNER_KINDS ? ")" : "", g[k].count,
                           g[k].count == 1 ? "y" : "ies", g[k].bytes, list);
        free(list);
        if (rc == 0) {
            fs_finding_num(rep, "bytes", g[k].bytes);
            fs_finding_num(rep, "copies", g[k].count);
        }
    }
    free(g);
    return rc;
}

/* ---- output (format only) ------------------------------------------------ */

void fs_romuse_emit(const fs_romuse *ru, const char *path, fs_jemit *e)
{
    fs_jemit_open(e, false);
    fs_jemit_ktext(e, "schema", "flashsize-rom");
    fs_jemit_kint(e, "schema_version", FS_ROMUSE_SCHEMA_VERSION);
    fs_jemit_ktext(e, "file", path ? path : "");
    fs_jemit_ktext(e, "rom_table", ru->table);
    fs_jemit_kint(e, "rom_table_symbols", (int64_t)ru->table_syms);
    fs_jemit_kbool(e, "with_map", ru->with_map);
    fs_jemit_kopen(e, "used", true);
    for (size_t i = 0; i < ru->nused; i++) {
        const fs_romuse_used *u = &ru->used[i];
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "name", u->name);
        fs_jemit_kint(e, "address", (int64_t)u->addr);
        fs_jemit_kbool(e, "provide", u->weak);
        fs_jemit_kint(e, "literal_refs", (int64_t)u->refs);
        fs_jemit_kbool(e, "address_matches_table", u->addr_matches);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    fs_jemit_kint(e, "unreferenced_strong", (int64_t)ru->unreferenced);
    fs_jemit_kopen(e, "duplicates", true);
    for (size_t i = 0; i < ru->ndups; i++) {
        const fs_romuse_dup *d = &ru->dups[i];
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "name", d->name);
        fs_jemit_kint(e, "address", (int64_t)d->addr);
        fs_jemit_kint(e, "size", (int64_t)d->size);
        fs_jemit_kint(e, "rom_address", (int64_t)d->rom_addr);
        fs_jemit_ktext(e, "section", d->section);
        fs_jemit_ktext(e, "object", d->object);
        fs_jemit_ktext(e, "origin", d->origin);
        fs_jemit_ktext(e, "owner", d->owner < FS_OWNER_KINDS ? fs_owner_kind_name(d->owner) : NULL);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    fs_jemit_kint(e, "duplicate_bytes", (int64_t)ru->dup_bytes);
    fs_jemit_kopen(e, "findings", true);
    fs_report rep = {0};
    if (fs_romuse_findings(ru, &rep) == 0) {
        for (size_t i = 0; i < rep.nfindings; i++) {
            const fs_finding *fd = &rep.findings[i];
            fs_jemit_open(e, false);
            fs_jemit_ktext(e, "id", fd->id);
            fs_jemit_ktext(e, "severity", fs_severity_name(fd->severity));
            fs_jemit_ktext(e, "subject", fd->subject);
            fs_jemit_kint(e, "bytes", (int64_t)fd->nums[0].value);
            fs_jemit_kint(e, "copies", (int64_t)fd->nums[1].value);
            fs_jemit_close(e);
        }
    }
    fs_report_free(&rep);
    fs_jemit_close(e);
    fs_jemit_close(e);
}

json_t *fs_romuse_json(const fs_romuse *ru, const char *path)
{
    fs_jemit_tree t;
    fs_jemit_tree_init(&t);
    fs_romuse_emit(ru, path, &t.base);
    return fs_jemit_tree_finish(&t);
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
        fprintf(out, "    %s [rom-duplicate] %-20s %6" PRIu64 " bytes in %s (ROM 0x%08" PRIx64 ")%s%s\n",
                fs_severity_name(fs_romuse_severity(d->owner)), d->name, d->size, d->section, d->rom_addr,
                d->object ? " from " : "", d->object ? d->object : "");
    }
    return ferror(out) ? -1 : 0;
}
