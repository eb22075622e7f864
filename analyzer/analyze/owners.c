/*
 * owners.c - what fills each memory region, split by who can change it
 * (owners.h has the rules; docs/mapfile.md "Who fills it").
 */
#include "owners.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define OWNER_RULES_MAX_BYTES (1u << 20)

const char *fs_owner_kind_name(fs_owner_kind k)
{
    static const char *const names[FS_OWNER_KINDS] = {"frozen", "user", "micropython", "sdk", "toolchain"};
    return k < FS_OWNER_KINDS ? names[k] : "unknown";
}

static const char *const owner_titles[FS_OWNER_KINDS] = {
    "your frozen modules", "your C modules", "MicroPython (by directory)", "the SDK / vendor libraries",
    "the toolchain's libraries"};

void fs_owner_rules_free(fs_owner_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->names[i]);
    free(r->names);
    free(r->kinds);
    memset(r, 0, sizeof *r);
}

static int owner_rules_add(fs_owner_rules *r, fs_owner_kind k, const char *name, size_t len)
{
    char **n = realloc(r->names, (r->n + 1) * sizeof *n);
    if (!n)
        return -1;
    r->names = n;
    fs_owner_kind *kk = realloc(r->kinds, (r->n + 1) * sizeof *kk);
    if (!kk)
        return -1;
    r->kinds = kk;
    if (!(r->names[r->n] = strndup(name, len)))
        return -1;
    r->kinds[r->n++] = k;
    return 0;
}

int fs_owner_rules_load(const char *rules_dir, fs_owner_rules *r, fs_error *err)
{
    memset(r, 0, sizeof *r);
    if (!rules_dir)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/owners/archives.txt", rules_dir);
    FILE *probe = fopen(path, "r");
    if (!probe)
        return 0; /* no list: owners from paths alone */
    fclose(probe);
    unsigned char *text;
    size_t len;
    if (fs_read_file(path, OWNER_RULES_MAX_BYTES, "archive owner list", &text, &len, err) < 0)
        return -1;
    size_t lineno = 0;
    int rc = 0;
    for (char *line = (char *)text, *next; rc == 0 && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line += strspn(line, " \t\r");
        if (!*line || *line == '#')
            continue;
        size_t kw = strcspn(line, " \t");
        char *name = line + kw + strspn(line + kw, " \t");
        size_t nl = strcspn(name, " \t\r");
        fs_owner_kind k = kw == 3 && !strncmp(line, "sdk", 3)         ? FS_OWNER_SDK
                          : kw == 9 && !strncmp(line, "toolchain", 9) ? FS_OWNER_TOOLCHAIN
                                                                      : FS_OWNER_KINDS;
        if (k == FS_OWNER_KINDS || nl == 0 || name[nl + strspn(name + nl, " \t\r")] != '\0')
            rc = fs_fail(err, "%s:%zu: expected \"sdk NAME\" or \"toolchain NAME\"", path, lineno);
        else if (owner_rules_add(r, k, name, nl) < 0)
            rc = fs_fail(err, "%s: out of memory", path);
    }
    free(text);
    if (rc < 0)
        fs_owner_rules_free(r);
    return rc;
}

static const char *owner_base(const char *p, size_t len)
{
    const char *b = p;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '/')
            b = p + i + 1;
    return b;
}

static bool owner_is_mp_dir(const char *d, size_t n)
{
    static const char *const dirs[] = {"py", "extmod", "shared", "lib", "drivers", "ports"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        if (strlen(dirs[i]) == n && !strncmp(d, dirs[i], n))
            return true;
    return false;
}

/* Objects from a vendor tree by their path (an SDK object not in an archive). */
static bool owner_sdk_path(const char *p)
{
    return strstr(p, "esp-sysroot/") || strstr(p, "NONOS_SDK") || strstr(p, "esp-idf/");
}

fs_owner_kind fs_owner_classify(const fs_owner_rules *r, const char *object, char *group, size_t len)
{
    size_t n = strlen(object);
    const char *paren = n && object[n - 1] == ')' ? strrchr(object, '(') : NULL;
    if (paren) { /* archive member: the archive's owner */
        size_t alen = (size_t)(paren - object);
        const char *b = owner_base(object, alen);
        size_t blen = (size_t)(paren - b);
        snprintf(group, len, "%.*s", (int)blen, b);
        for (size_t i = 0; r && i < r->n; i++)
            if (strlen(r->names[i]) == blen && !strncmp(r->names[i], b, blen))
                return r->kinds[i];
        if (!strncmp(object, "/usr/", 5) || strstr(object, "/gcc/"))
            return FS_OWNER_TOOLCHAIN;
        if (owner_sdk_path(object))
            return FS_OWNER_SDK;
        n = alen; /* an archive the build made: by its path, like an object */
    }
    const char *b = owner_base(object, n);
    if (!paren && !strcmp(b, "frozen_content.o")) {
        snprintf(group, len, "frozen_content.o");
        return FS_OWNER_FROZEN;
    }
    if (!strncmp(object, "/usr/", 5) || strstr(object, "/gcc/")) {
        snprintf(group, len, "%.*s", (int)(object + n - b), b);
        return FS_OWNER_TOOLCHAIN;
    }
    if (owner_sdk_path(object)) {
        snprintf(group, len, "%.*s", (int)(object + n - b), b);
        return FS_OWNER_SDK;
    }
    /* Outside the build directory: where make puts USER_C_MODULES objects. */
    const char *slash = memchr(object, '/', n);
    if (object[0] == '/' || !strncmp(object, "../", 3) || strstr(object, "/../") || strstr(object, "//")) {
        /* the module's directory as the map prints it */
        snprintf(group, len, "%.*s", b > object ? (int)(b - object - 1) : (int)n, object);
        return FS_OWNER_USER;
    }
    /* BUILD/DIR/...: MicroPython's directories; BUILD/x.o and other
     * directories are the port's. */
    if (slash) {
        const char *d = slash + 1, *e = memchr(d, '/', (size_t)(object + n - d));
        if (e && owner_is_mp_dir(d, (size_t)(e - d))) {
            snprintf(group, len, "%.*s/", (int)(e - d), d);
            return FS_OWNER_MICROPYTHON;
        }
    }
    snprintf(group, len, "port");
    return FS_OWNER_MICROPYTHON;
}

/* ---- tables ---------------------------------------------------------------- */

typedef struct owner_acc {
    fs_owner_row *rows;
    size_t n;
} owner_acc;

static int owner_add(owner_acc *a, fs_owner_kind k, const char *group, uint64_t bytes)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->rows[i].kind == k && !strcmp(a->rows[i].group, group)) {
            a->rows[i].bytes += bytes;
            return 0;
        }
    fs_owner_row *g = realloc(a->rows, (a->n + 1) * sizeof *g);
    if (!g)
        return -1;
    a->rows = g;
    g[a->n] = (fs_owner_row){k, strdup(group), bytes};
    return g[a->n++].group ? 0 : -1;
}

static int owner_row_cmp(const void *x, const void *y)
{
    const fs_owner_row *a = x, *b = y;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->group, b->group);
}

/* frozen_content.o's bytes in a region, split per module when the frozen
 * analysis has them all in this region; the rest is one "shared" row. */
static int owner_frozen_rows(owner_acc *a, const fs_frozen *fz, uint64_t obj_bytes, bool irom)
{
    uint64_t sum = 0;
    if (fz && fz->present && irom) {
        for (size_t i = 0; i < fz->nmodules; i++)
            sum += fz->modules[i].bytes - fz->modules[i].iram;
    }
    if (!fz || !fz->present || !irom || sum == 0 || sum > obj_bytes)
        return owner_add(a, FS_OWNER_FROZEN, "frozen_content.o", obj_bytes);
    for (size_t i = 0; i < fz->nmodules; i++) {
        uint64_t b = fz->modules[i].bytes - fz->modules[i].iram;
        if (b && owner_add(a, FS_OWNER_FROZEN, fz->modules[i].name, b) < 0)
            return -1;
    }
    return obj_bytes > sum ? owner_add(a, FS_OWNER_FROZEN, "(shared: qstr pool, names, tables)", obj_bytes - sum) : 0;
}

static int owner_table(const fs_owner_rules *r, const fs_mapfile *m, int ri, const fs_frozen *fz, fs_owner_table *t)
{
    const fs_region *reg = &m->map.regions[ri];
    fs_map_contrib *c = NULL;
    fs_map_region_rest rest;
    long n = fs_mapfile_region_objects(m, ri, &c, &rest);
    if (n < 0)
        return -1;
    owner_acc a = {0};
    /* frozen content is in irom0 on ESP8266, in the flash text region elsewhere:
     * the region holding .irom0.text or (else) the frozen object's largest share */
    const fs_map_section *irom = fs_mapfile_section(m, ".irom0.text");
    bool frozen_here = irom ? irom->vma_region == ri : true;
    int rc = 0;
    uint64_t sum = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        char group[256];
        fs_owner_kind k = fs_owner_classify(r, c[i].name, group, sizeof group);
        sum += c[i].bytes;
        rc = k == FS_OWNER_FROZEN ? owner_frozen_rows(&a, fz, c[i].bytes, frozen_here)
                                  : owner_add(&a, k, group, c[i].bytes);
    }
    free(c);
    t->region = strdup(reg->name);
    t->used = reg->used;
    t->length = reg->length;
    t->rows = a.rows;
    t->nrows = a.n;
    if (rc < 0 || !t->region)
        return -1;
    qsort(t->rows, t->nrows, sizeof *t->rows, owner_row_cmp);
    for (size_t i = 0; i < t->nrows; i++)
        t->kind_bytes[t->rows[i].kind] += t->rows[i].bytes;
    t->other = reg->used > sum ? reg->used - sum : 0;
    return 0;
}

static void owner_table_free(fs_owner_table *t)
{
    for (size_t i = 0; i < t->nrows; i++)
        free(t->rows[i].group);
    free(t->rows);
    free(t->region);
}

void fs_owners_free(fs_owners *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->ntables; i++)
        owner_table_free(&o->tables[i]);
    free(o->tables);
    memset(o, 0, sizeof *o);
}

int fs_owners_build(const fs_owner_rules *r, const fs_mapfile *m, const fs_frozen *fz, fs_owners *out,
                    fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->tables = calloc(m->map.nregions + 1, sizeof *out->tables);
    if (!out->tables)
        return fs_fail(err, "%s: out of memory", m->path);
    for (size_t i = 0; i < m->map.nregions; i++) {
        if (m->map.regions[i].used == 0)
            continue;
        if (owner_table(r, m, (int)i, fz, &out->tables[out->ntables++]) < 0) {
            fs_owners_free(out);
            return fs_fail(err, "%s: out of memory", m->path);
        }
    }
    return 0;
}

const fs_owner_table *fs_owners_table(const fs_owners *o, const char *region)
{
    for (size_t i = 0; o && i < o->ntables; i++)
        if (!strcmp(o->tables[i].region, region))
            return &o->tables[i];
    return NULL;
}

/* ---- the overflow remedy ------------------------------------------------------ */

typedef struct owner_cand {
    const char *name;
    uint64_t bytes;
} owner_cand;

static int owner_cand_cmp(const void *x, const void *y)
{
    const owner_cand *a = x, *b = y;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* "removing the frozen modules A (n), B (m) (N bytes) would make it fit" */
static char *owner_remedy(owner_cand *c, size_t n, uint64_t over, const char *old)
{
    qsort(c, n, sizeof *c, owner_cand_cmp);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += c[i].bytes;
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return NULL;
    if (n == 0) {
        fputs("No frozen modules to drop: ", f);
    } else if (total < over) {
        fprintf(f, "Your frozen modules take only %" PRIu64 " bytes here, less than the %" PRIu64
                " over: drop C modules or MicroPython features (see \"Who fills it\") as well. ", total, over);
    } else if (n == 1 && !strcmp(c[0].name, "frozen_content.o")) {
        /* the map alone: the frozen content as one object */
        fprintf(f, "Your frozen modules (frozen_content.o, %" PRIu64 " bytes) are more than the %" PRIu64
                " over: dropping enough of them from the manifest makes it fit (the ELF names them one by one). "
                "Otherwise: ", total, over);
    } else {
        uint64_t sum = 0;
        size_t k = 0;
        while (sum < over)
            sum += c[k++].bytes;
        fprintf(f, "Removing %s %zu frozen module%s from the manifest would make it fit (%" PRIu64
                " bytes freed, %" PRIu64 " needed): ", k == n ? "all" : "these", k, k == 1 ? "" : "s", sum, over);
        for (size_t i = 0; i < k; i++)
            fprintf(f, "%s%s (%" PRIu64 ")", i ? ", " : "", c[i].name, c[i].bytes);
        fputs(". Otherwise: ", f);
    }
    fputs(old ? old : "", f);
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static uint64_t owner_num(const fs_finding *f, const char *key)
{
    for (size_t i = 0; i < f->nnums; i++)
        if (!strcmp(f->nums[i].key, key))
            return f->nums[i].value;
    return 0;
}

int fs_owners_amend_findings(const fs_owners *o, const fs_frozen *fz, fs_report *rep)
{
    for (size_t i = 0; i < rep->nfindings; i++) {
        fs_finding *f = &rep->findings[i];
        bool irom = !strcmp(f->id, "irom0-overflow");
        if (!irom && strcmp(f->id, "region-overflow"))
            continue;
        const char *region = irom ? "irom0_0_seg" : f->subject;
        const fs_owner_table *t = region ? fs_owners_table(o, region) : NULL;
        uint64_t over = owner_num(f, "over");
        owner_cand *c = NULL;
        size_t n = 0;
        bool frozen_region = irom || (t && t->kind_bytes[FS_OWNER_FROZEN] > 0);
        if (fz && fz->present && frozen_region) {
            c = calloc(fz->nmodules + 1, sizeof *c);
            if (!c)
                return -1;
            for (size_t k = 0; k < fz->nmodules; k++)
                if (fz->modules[k].bytes > fz->modules[k].iram)
                    c[n++] = (owner_cand){fz->modules[k].name, fz->modules[k].bytes - fz->modules[k].iram};
        } else if (t) {
            c = calloc(t->nrows + 1, sizeof *c);
            if (!c)
                return -1;
            for (size_t k = 0; k < t->nrows; k++)
                if (t->rows[k].kind == FS_OWNER_FROZEN)
                    c[n++] = (owner_cand){t->rows[k].group, t->rows[k].bytes};
        } else {
            continue;
        }
        char *s = owner_remedy(c, n, over, f->remedy);
        free(c);
        if (!s)
            return -1;
        free(f->remedy);
        f->remedy = s;
    }
    return 0;
}

/* ---- output ---------------------------------------------------------------- */

int fs_owners_print(FILE *out, const fs_owners *o)
{
    for (size_t i = 0; i < o->ntables; i++) {
        const fs_owner_table *t = &o->tables[i];
        fprintf(out, "Who fills %s (%" PRIu64 " of %" PRIu64 " bytes; from the map)\n", t->region, t->used, t->length);
        for (int k = 0; k < FS_OWNER_KINDS; k++) {
            if (!t->kind_bytes[k])
                continue;
            fprintf(out, "  %10" PRIu64 "  %s\n", t->kind_bytes[k], owner_titles[k]);
            size_t shown = 0, more = 0;
            uint64_t rest = 0;
            for (size_t j = 0; j < t->nrows; j++) {
                if (t->rows[j].kind != (fs_owner_kind)k)
                    continue;
                if (shown < 12) {
                    fprintf(out, "  %10" PRIu64 "      %s\n", t->rows[j].bytes, t->rows[j].group);
                    shown++;
                } else {
                    more++;
                    rest += t->rows[j].bytes;
                }
            }
            if (more)
                fprintf(out, "  %10" PRIu64 "      (%zu more)\n", rest, more);
        }
        if (t->other)
            fprintf(out, "  %10" PRIu64 "  fill, linker data and gaps\n", t->other);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

json_t *fs_owners_json(const fs_owners *o)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < o->ntables; i++) {
        const fs_owner_table *t = &o->tables[i];
        json_t *tj = json_object(), *rows = json_array(), *kinds = json_object();
        for (int k = 0; k < FS_OWNER_KINDS; k++)
            json_object_set_new(kinds, fs_owner_kind_name((fs_owner_kind)k), json_integer((json_int_t)t->kind_bytes[k]));
        for (size_t j = 0; j < t->nrows; j++) {
            json_t *r = json_object();
            json_object_set_new(r, "owner", json_string(fs_owner_kind_name(t->rows[j].kind)));
            json_object_set_new(r, "group", json_string(t->rows[j].group));
            json_object_set_new(r, "bytes", json_integer((json_int_t)t->rows[j].bytes));
            json_array_append_new(rows, r);
        }
        json_object_set_new(tj, "region", json_string(t->region));
        json_object_set_new(tj, "used", json_integer((json_int_t)t->used));
        json_object_set_new(tj, "length", json_integer((json_int_t)t->length));
        json_object_set_new(tj, "by_owner", kinds);
        json_object_set_new(tj, "rows", rows);
        json_object_set_new(tj, "other", json_integer((json_int_t)t->other));
        json_array_append_new(a, tj);
    }
    return a;
}
