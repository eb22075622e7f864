/*
 * natmod.c - summarise a native module: sizes, relocations by destination
 * and inferred ROM references (see natmod.h for the inference rule); and
 * classify what a module needs by re-running mpy_ld's resolution over its
 * objects, the ROM table and the libraries (fs_natmod_link_run).  Names are
 * looked up by linear search: a module has tens to hundreds of symbols.
 */
#include "natmod.h"

#include "elfread.h"

#include <elf.h>

#include <stdlib.h>
#include <string.h>

const char *fs_natmod_dest_name(int dest)
{
    static const char *const names[] = {"text",      "rodata",         "bss", "qstr_table", "obj_table",
                                        "fun_table", "fun_table_entry"};
    return dest >= 0 && dest < FS_NATMOD_NDEST ? names[dest] : "unknown";
}

static int natmod_dest(unsigned kind)
{
    if (kind < 6)
        return (int)(kind >> 1);
    if (kind == FS_MPY_RELOC_QSTR_TABLE)
        return FS_NATMOD_DEST_QSTR;
    if (kind == FS_MPY_RELOC_OBJ_TABLE)
        return FS_NATMOD_DEST_OBJ;
    if (kind == FS_MPY_RELOC_FUN_TABLE)
        return FS_NATMOD_DEST_FUN_TABLE;
    return FS_NATMOD_DEST_FUN_ENTRY;
}

static int natmod_rom_scan(fs_natmod *n, const fs_romtable *rom, fs_error *err)
{
    const fs_mpy *m = n->mpy;
    uint64_t words = n->text_size / m->word_size;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t v;
        if (fs_mpy_text_word(m, n->rawcode, w, &v) < 0 || fs_mpy_text_word_relocated(m, n->rawcode, w))
            continue;
        const fs_romsym *s = fs_romtable_at(rom, v);
        if (!s)
            continue;
        fs_natmod_romref *g = realloc(n->rom, (n->nrom + 1) * sizeof *g);
        if (!g)
            return fs_fail(err, "%s: out of memory", m->path);
        n->rom = g;
        n->rom[n->nrom++] = (fs_natmod_romref){w, v, s};
    }
    return 0;
}

int fs_natmod_analyze(const fs_mpy *m, const fs_romtable *rom, fs_natmod *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (m->natmod < 0)
        return fs_fail(err, "%s: no native module inside (no viper raw code with relocations)", m->path);
    out->mpy = m;
    out->rawcode = (size_t)m->natmod;
    const fs_mpy_rawcode *rc = &m->rawcodes[out->rawcode];
    out->text_size = rc->data_len;
    out->rodata_size = rc->rodata_size;
    out->bss_size = rc->bss_size;
    for (size_t i = rc->first_reloc; i < rc->first_reloc + rc->nrelocs; i++) {
        out->reloc_words[natmod_dest(m->relocs[i].kind)] += m->relocs[i].count;
        out->reloc_entries++;
    }
    if (rom) {
        out->rom_inferred = true;
        if (natmod_rom_scan(out, rom, err) < 0) {
            fs_natmod_free(out);
            return -1;
        }
    }
    return 0;
}

void fs_natmod_free(fs_natmod *n)
{
    if (!n)
        return;
    free(n->rom);
    memset(n, 0, sizeof *n);
}

/* ---- classification (see natmod.h) --------------------------------------- */

typedef struct link_def { /* a definition the link knows */
    const char *name;
    const fs_symbol *sym;
    long obj;    /* own object index, or -1 */
    long member; /* pulled member index, or -1 */
} link_def;

typedef struct link_ref { /* a non-weak undefined reference: the closure's queue */
    const char *name;
    long from;  /* pulled member index, or -1 for an own object */
    size_t obj; /* the own object, when from is -1 */
} link_ref;

typedef struct link_ctx {
    fs_natmod_link *l;
    link_def *defs;
    size_t ndefs;
    link_ref *refs;
    size_t nrefs;
    uint16_t machine;
    fs_error *err;
} link_ctx;

const char *fs_natmod_need_kind_name(fs_need_kind k)
{
    static const char *const names[] = {"own", "library", "rom", "runtime", "unresolved"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "unknown";
}

uint16_t fs_natmod_arch_machine(uint8_t arch)
{
    switch (arch) {
    case 1: return EM_386;
    case 2: return EM_X86_64;
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8: return EM_ARM;
    case 9:
    case 10: return EM_XTENSA;
    case 11:
    case 12: return EM_RISCV;
    default: return 0;
    }
}

const fs_object *fs_natmod_member_object(const fs_natmod_link *l, size_t member)
{
    const fs_natmod_member *m = &l->members[member];
    return &l->libs[m->lib].members[m->member];
}

const char *fs_natmod_member_archive(const fs_natmod_link *l, size_t member)
{
    return l->libs[l->members[member].lib].path;
}

/* The label of whoever holds a definition, for messages. */
static const char *link_owner(const link_ctx *c, const link_def *d)
{
    return d->obj >= 0 ? c->l->objs[d->obj].img.path : fs_natmod_member_object(c->l, (size_t)d->member)->img.path;
}

static link_def *link_find(const link_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->ndefs; i++)
        if (strcmp(c->defs[i].name, name) == 0)
            return &c->defs[i];
    return NULL;
}

static const fs_romsym *link_rom(const link_ctx *c, const char *name)
{
    return c->l->rom ? fs_romtable_find(c->l->rom, name) : NULL;
}

static int link_check_machine(link_ctx *c, const fs_object *o)
{
    if (!c->machine || o->img.machine == c->machine)
        return 0;
    char a[32], b[32];
    return fs_fail(c->err, "%s: machine %s, but the module is built for %s", o->img.path,
                   fs_elf_machine_name(o->img.machine, a, sizeof a), fs_elf_machine_name(c->machine, b, sizeof b));
}

/* Record a definition; a second one of a name is mpy_ld's duplicate-symbol
 * error, except between pulled members where a weak one is skipped. */
static int link_define(link_ctx *c, const fs_symbol *s, long obj, long member)
{
    link_def *old = link_find(c, s->name);
    if (old) {
        if (old->member >= 0 && member >= 0 && (old->sym->bind == STB_WEAK || s->bind == STB_WEAK))
            return 0;
        const char *here =
            obj >= 0 ? c->l->objs[obj].img.path : fs_natmod_member_object(c->l, (size_t)member)->img.path;
        return fs_fail(c->err, "%s: symbol '%s' is also defined in %s (mpy_ld refuses duplicate definitions)", here,
                       s->name, link_owner(c, old));
    }
    link_def *g = realloc(c->defs, (c->ndefs + 1) * sizeof *g);
    if (!g)
        return fs_fail(c->err, "out of memory");
    c->defs = g;
    c->defs[c->ndefs++] = (link_def){s->name, s, obj, member};
    return 0;
}

static int link_queue(link_ctx *c, const char *name, long from, size_t obj)
{
    link_ref *g = realloc(c->refs, (c->nrefs + 1) * sizeof *g);
    if (!g)
        return fs_fail(c->err, "out of memory");
    c->refs = g;
    c->refs[c->nrefs++] = (link_ref){name, from, obj};
    return 0;
}

/* Definitions and non-weak undefined references of one object. */
static int link_add(link_ctx *c, const fs_object *o, long obj, long member)
{
    if (link_check_machine(c, o) < 0)
        return -1;
    for (size_t i = 0; i < o->img.nsymbols; i++) {
        const fs_symbol *s = &o->img.symbols[i];
        if (fs_symbol_is_global_def(s) && link_define(c, s, obj, member) < 0)
            return -1;
        if (fs_symbol_is_undef_ref(s) && s->bind == STB_GLOBAL && link_queue(c, s->name, member, (size_t)obj) < 0)
            return -1;
    }
    return 0;
}

/* Pull the member of lib that defines name. */
static int link_pull(link_ctx *c, size_t lib, size_t member, const char *name, long parent)
{
    fs_natmod_link *l = c->l;
    fs_natmod_member *g = realloc(l->members, (l->nmembers + 1) * sizeof *g);
    if (!g)
        return fs_fail(c->err, "out of memory");
    l->members = g;
    l->members[l->nmembers] = (fs_natmod_member){lib, member, name, parent, false, 0};
    long idx = (long)l->nmembers++;
    const fs_object *o = &l->libs[lib].members[member];
    l->lib_bytes += fs_object_file_bytes(o);
    l->lib_bss += o->bss;
    return link_add(c, o, -1, idx);
}

/* Search the archives, in order, for every queued name nobody defines. */
static int link_closure(link_ctx *c)
{
    for (size_t i = 0; i < c->nrefs; i++) {
        const char *name = c->refs[i].name;
        if (link_find(c, name))
            continue;
        for (size_t k = 0; k < c->l->nlibs; k++) {
            long m = fs_archive_find(&c->l->libs[k], name);
            if (m >= 0) {
                if (link_pull(c, k, (size_t)m, name, c->refs[i].from) < 0)
                    return -1;
                break;
            }
        }
    }
    return 0;
}

/* mp_fun_table index of a runtime name, -1 for a table itself, -2 if not one. */
static int link_runtime(const char *name)
{
    if (!strcmp(name, "mp_fun_table") || !strcmp(name, "mp_native_qstr_table") || !strcmp(name, "mp_native_obj_table"))
        return -1;
    if (!strcmp(name, "memset"))
        return 50;
    if (!strcmp(name, "memmove") || !strcmp(name, "memcpy"))
        return 51;
    for (unsigned i = 73; i < FS_MPY_FUN_TABLE_SIZE; i++) {
        const char *n = fs_mpy_fun_table_name(i);
        if (n && strcmp(n, name) == 0)
            return (int)i;
    }
    return -2;
}

static fs_natmod_need *link_need(link_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->l->nneeds; i++)
        if (strcmp(c->l->needs[i].name, name) == 0)
            return &c->l->needs[i];
    return NULL;
}

static fs_natmod_need *link_new_need(link_ctx *c, const char *name, fs_need_kind kind)
{
    fs_natmod_need *g = realloc(c->l->needs, (c->l->nneeds + 1) * sizeof *g);
    if (!g) {
        fs_fail(c->err, "out of memory");
        return NULL;
    }
    c->l->needs = g;
    fs_natmod_need *n = &g[c->l->nneeds++];
    *n = (fs_natmod_need){.name = name, .kind = kind, .member = -1, .fun_index = -1, .rom = link_rom(c, name)};
    return n;
}

/* A need for a definition (own object or pulled member). */
static fs_natmod_need *link_defined_need(link_ctx *c, const link_def *d)
{
    fs_natmod_need *n = link_new_need(c, d->name, d->obj >= 0 ? FS_NEED_OWN : FS_NEED_LIBRARY);
    if (!n)
        return NULL;
    n->type = d->sym->type;
    n->size = d->sym->size;
    if (d->obj >= 0) {
        n->obj = (size_t)d->obj;
        n->bytes = d->sym->size;
    } else {
        n->member = d->member;
        n->bytes = fs_object_file_bytes(fs_natmod_member_object(c->l, (size_t)d->member));
    }
    n->redundant = n->rom != NULL;
    return n;
}

/* The need for one referenced name: where step 3 of natmod.h resolves it. */
static int link_resolve_ref(link_ctx *c, const char *name)
{
    fs_natmod_need *n = link_need(c, name);
    if (n) {
        n->referenced = true;
        return 0;
    }
    if (strcmp(name, "_GLOBAL_OFFSET_TABLE_") == 0)
        return 0;
    int rt = link_runtime(name);
    const link_def *d = link_find(c, name);
    if (rt == -1)
        n = link_new_need(c, name, FS_NEED_RUNTIME);
    else if (d)
        n = link_defined_need(c, d);
    else if (link_rom(c, name))
        n = link_new_need(c, name, FS_NEED_ROM);
    else if (rt >= 0) {
        n = link_new_need(c, name, FS_NEED_RUNTIME);
        if (n)
            n->fun_index = rt;
    } else
        n = link_new_need(c, name, FS_NEED_UNRESOLVED);
    if (!n)
        return -1;
    n->referenced = true;
    return 0;
}

static int link_needs(link_ctx *c)
{
    /* every definition of the own objects, then every reference, then the
     * pulled members' unreferenced copies of ROM names */
    for (size_t i = 0; i < c->ndefs; i++)
        if (c->defs[i].obj >= 0 && !link_defined_need(c, &c->defs[i]))
            return -1;
    for (size_t i = 0; i < c->nrefs; i++)
        if (link_resolve_ref(c, c->refs[i].name) < 0)
            return -1;
    for (size_t i = 0; i < c->ndefs; i++)
        if (c->defs[i].member >= 0 && link_rom(c, c->defs[i].name) && !link_need(c, c->defs[i].name) &&
            !link_defined_need(c, &c->defs[i]))
            return -1;
    return 0;
}

/* Members still reached when every ROM name goes to the ROM. */
static void link_liveness(link_ctx *c)
{
    fs_natmod_link *l = c->l;
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t i = 0; i < c->nrefs; i++) {
            const link_ref *r = &c->refs[i];
            if (r->from >= 0 && !l->members[r->from].live)
                continue;
            const link_def *d = link_find(c, r->name);
            if (d && d->member >= 0 && !link_rom(c, r->name) && !l->members[d->member].live) {
                l->members[d->member].live = true;
                changed = true;
            }
        }
    }
}

/* Waste: a dead member's bytes go to the ROM name that pulled the topmost
 * dead member of its chain; a redundant copy otherwise wastes its size. */
static void link_waste(link_ctx *c)
{
    fs_natmod_link *l = c->l;
    for (size_t i = 0; i < l->nneeds; i++) {
        fs_natmod_need *n = &l->needs[i];
        if (n->redundant && (n->kind == FS_NEED_OWN || l->members[n->member].live))
            n->wasted = n->size;
    }
    for (size_t m = 0; m < l->nmembers; m++) {
        if (l->members[m].live)
            continue;
        size_t top = m;
        while (l->members[top].parent >= 0 && !l->members[l->members[top].parent].live)
            top = (size_t)l->members[top].parent;
        l->members[m].wasted = fs_object_file_bytes(fs_natmod_member_object(l, m));
        fs_natmod_need *n = link_need(c, l->members[top].pulled_for);
        if (n)
            n->wasted += l->members[m].wasted;
    }
    for (size_t i = 0; i < l->nneeds; i++)
        l->wasted += l->needs[i].wasted;
}

static int link_need_cmp(const void *a, const void *b)
{
    const fs_natmod_need *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->name, y->name);
}

int fs_natmod_link_run(const fs_object *objs, size_t nobjs, const fs_archive *libs, size_t nlibs,
                       const fs_romtable *rom, uint16_t machine, fs_natmod_link *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    *out = (fs_natmod_link){.objs = objs, .nobjs = nobjs, .libs = libs, .nlibs = nlibs, .rom = rom};
    link_ctx c = {.l = out, .machine = machine, .err = err};
    if (!c.machine && nobjs)
        c.machine = objs[0].img.machine; /* no arch given: the objects must agree */
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nobjs; i++) {
        out->own_bytes += fs_object_file_bytes(&objs[i]);
        out->own_bss += objs[i].bss;
        rc = link_add(&c, &objs[i], (long)i, -1);
    }
    if (rc == 0)
        rc = link_closure(&c);
    if (rc == 0)
        rc = link_needs(&c);
    if (rc == 0) {
        link_liveness(&c);
        link_waste(&c);
        if (out->nneeds)
            qsort(out->needs, out->nneeds, sizeof *out->needs, link_need_cmp);
    }
    free(c.defs);
    free(c.refs);
    if (rc < 0)
        fs_natmod_link_free(out);
    return rc;
}

void fs_natmod_link_free(fs_natmod_link *l)
{
    if (!l)
        return;
    free(l->members);
    free(l->needs);
    memset(l, 0, sizeof *l);
}

/* Who references name first (for messages): an own object or a member label. */
static const char *link_first_user(const fs_natmod_link *l, const char *name)
{
    for (size_t i = 0; i < l->nobjs; i++)
        for (size_t k = 0; k < l->objs[i].img.nsymbols; k++) {
            const fs_symbol *s = &l->objs[i].img.symbols[k];
            if (fs_symbol_is_undef_ref(s) && strcmp(s->name, name) == 0)
                return l->objs[i].img.path;
        }
    for (size_t m = 0; m < l->nmembers; m++) {
        const fs_object *o = fs_natmod_member_object(l, m);
        for (size_t k = 0; k < o->img.nsymbols; k++)
            if (fs_symbol_is_undef_ref(&o->img.symbols[k]) && strcmp(o->img.symbols[k].name, name) == 0)
                return o->img.path;
    }
    return "an object";
}

static int link_redundant_finding(const fs_natmod_link *l, const fs_natmod_need *n, fs_report *rep)
{
    unsigned long long addr = (unsigned long long)n->rom->addr, wasted = (unsigned long long)n->wasted;
    int rc;
    if (n->kind == FS_NEED_OWN)
        rc = fs_report_add(rep, "natmod-redundant-copy", FS_SEV_WARNING, n->name,
                           "Remove the module's own copy and let the ROM table (--externs) resolve the name.",
                           "%s is in ROM at 0x%08llx but %s defines a copy of it: %llu bytes that GOT "
                           "references never reach",
                           n->name, addr, l->objs[n->obj].img.path, wasted);
    else if (!l->members[n->member].live)
        rc = fs_report_add(rep, "natmod-redundant-copy", FS_SEV_WARNING, n->name,
                           "Drop the library (-l) that supplies it: GOT references go to the ROM copy anyway.",
                           "%s is in ROM at 0x%08llx but %s was linked in for it: %llu bytes wasted (the "
                           "member%s, needed by nothing else)",
                           n->name, addr, fs_natmod_member_object(l, (size_t)n->member)->img.path, wasted,
                           wasted > fs_object_file_bytes(fs_natmod_member_object(l, (size_t)n->member))
                               ? " and the members it pulled"
                               : "");
    else
        rc = fs_report_add(rep, "natmod-redundant-copy", FS_SEV_WARNING, n->name,
                           "The member is needed for other names; only this function's copy is redundant.",
                           "%s is in ROM at 0x%08llx but %s, linked in for other names too, carries a copy: "
                           "%llu bytes",
                           n->name, addr, fs_natmod_member_object(l, (size_t)n->member)->img.path, wasted);
    if (rc < 0)
        return -1;
    fs_finding_num(rep, "rom_address", n->rom->addr);
    fs_finding_num(rep, "wasted", n->wasted);
    fs_finding_num(rep, "size", n->size);
    return 0;
}

int fs_natmod_link_findings(const fs_natmod_link *l, fs_report *rep)
{
    for (size_t i = 0; i < l->nneeds; i++) {
        const fs_natmod_need *n = &l->needs[i];
        if (n->redundant && link_redundant_finding(l, n, rep) < 0)
            return -1;
        if (n->kind == FS_NEED_UNRESOLVED &&
            fs_report_add(rep, "natmod-unresolved", FS_SEV_ERROR, n->name,
                          "Add the object or library (--objs/--lib) that defines it, or the ROM table that has it.",
                          "%s is referenced by %s but defined nowhere: not in the objects, the libraries, the "
                          "ROM table or mp_fun_table (mpy_ld: undefined symbol)",
                          n->name, link_first_user(l, n->name)) < 0)
            return -1;
    }
    return 0;
}
