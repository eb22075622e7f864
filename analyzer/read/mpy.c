/*
 * mpy.c - read MicroPython .mpy files.
 *
 * Header layout (py/persistentcode.h, facts doc 2.2): 'M', major version,
 * feature byte (bits 1..0 sub-version, bits 5..2 native arch, bit 6 "an
 * arch-flags vuint follows"), small-int bits; then the optional vuint.
 */
#include "mpy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mpy_arch_names[] = {
    "none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
    "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc", "debug",
};

const char *fs_mpy_arch_name(uint8_t arch)
{
    return arch < sizeof mpy_arch_names / sizeof *mpy_arch_names ? mpy_arch_names[arch] : "unknown";
}

int fs_mpy_read_vuint(const uint8_t *data, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t p = *pos; p < len; p++) {
        if (v >> 57)
            return -1; /* another 7 bits would not fit */
        v = (v << 7) | (data[p] & 0x7f);
        if (!(data[p] & 0x80)) {
            *pos = p + 1;
            *out = v;
            return 0;
        }
    }
    return -1;
}

int fs_mpy_read_header(const char *name, const uint8_t *data, size_t len, fs_mpy_header *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (len < 4)
        return fs_fail(err, "%s: truncated .mpy header (%zu bytes, need 4)", name, len);
    if (data[0] != FS_MPY_MAGIC)
        return fs_fail(err, "%s: not a .mpy file (bad magic 0x%02x)", name, data[0]);
    out->version = data[1];
    out->sub_version = data[2] & 3;
    out->arch = (data[2] >> 2) & 0x0f;
    out->has_arch_flags = (data[2] & 0x40) != 0;
    out->small_int_bits = data[3];
    out->header_len = 4;
    if (out->has_arch_flags) {
        size_t pos = 4;
        if (fs_mpy_read_vuint(data, len, &pos, &out->arch_flags) < 0)
            return fs_fail(err, "%s: truncated arch-flags varint in the .mpy header", name);
        out->header_len = pos;
    }
    return 0;
}

/* ---- whole-file parser ---------------------------------------------------
 *
 * The parser walks the file once with a cursor (mp_cursor) that knows the
 * file name, so every failure can say "NAME: offset 0x1f: problem".  Raw
 * codes are stored flat in pre-order with parent links; relocations are one
 * flat array with a range per raw code.  Every count read from the file is
 * checked against the bytes that remain and against the FS_MPY_MAX_* caps
 * before anything is allocated for it, so hostile counts cannot make us
 * allocate or loop much.
 */

typedef struct mp_cursor {
    const char *name;
    const uint8_t *data;
    size_t len, pos;
    fs_error *err;
} mp_cursor;

static int mp_vuint(mp_cursor *c, const char *what, uint64_t *out)
{
    size_t at = c->pos;
    if (fs_mpy_read_vuint(c->data, c->len, &c->pos, out) < 0)
        return fs_fail(c->err, "%s: offset 0x%zx: %s varint %s", c->name, at, what,
                       at >= c->len ? "missing (file truncated)" : "truncated or too long");
    return 0;
}

/* Skip n bytes that must be present. */
static int mp_skip(mp_cursor *c, uint64_t n, const char *what)
{
    if (n > c->len - c->pos)
        return fs_fail(c->err, "%s: offset 0x%zx: %s of %llu bytes runs past the end of the file (%zu left)", c->name,
                       c->pos, what, (unsigned long long)n, c->len - c->pos);
    c->pos += (size_t)n;
    return 0;
}

static int mp_byte(mp_cursor *c, const char *what, uint8_t *out)
{
    if (c->pos >= c->len)
        return fs_fail(c->err, "%s: offset 0x%zx: %s missing (file truncated)", c->name, c->pos, what);
    *out = c->data[c->pos++];
    return 0;
}

/* A count read from the file, capped by the caller's limit. */
static int mp_count(mp_cursor *c, const char *what, uint64_t cap, uint64_t *out)
{
    size_t at = c->pos;
    if (mp_vuint(c, what, out) < 0)
        return -1;
    if (*out > cap)
        return fs_fail(c->err, "%s: offset 0x%zx: %s %llu exceeds the limit of %llu", c->name, at, what,
                       (unsigned long long)*out, (unsigned long long)cap);
    return 0;
}

static int mp_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *g = realloc(*arr, ncap * elem);
    if (!g)
        return -1;
    *arr = g;
    *cap = ncap;
    return 0;
}

static int mp_qstrs(mp_cursor *c, fs_mpy *m, uint64_t n)
{
    m->qstrs = calloc(n ? n : 1, sizeof *m->qstrs);
    if (!m->qstrs)
        return fs_fail(c->err, "%s: out of memory", c->name);
    for (uint64_t i = 0; i < n; i++) {
        fs_mpy_qstr *q = &m->qstrs[i];
        q->offset = c->pos;
        uint64_t v;
        if (mp_vuint(c, "qstr", &v) < 0)
            return -1;
        m->nqstrs = i + 1;
        if (v & 1) {
            q->is_static = true;
            q->static_id = v >> 1;
            char buf[48];
            snprintf(buf, sizeof buf, "<static %llu>", (unsigned long long)q->static_id);
            q->str = strdup(buf);
        } else {
            size_t at = c->pos;
            if (mp_skip(c, v >> 1, "qstr") < 0 || mp_skip(c, 1, "qstr terminator") < 0)
                return -1;
            if (c->data[c->pos - 1] != '\0')
                return fs_fail(c->err, "%s: offset 0x%zx: qstr %llu is not NUL-terminated", c->name, c->pos - 1,
                               (unsigned long long)i);
            q->str = strndup((const char *)c->data + at, (size_t)(v >> 1));
        }
        if (!q->str)
            return fs_fail(c->err, "%s: out of memory", c->name);
    }
    return 0;
}

static int mp_object(mp_cursor *c, fs_mpy_obj *o, unsigned depth)
{
    o->offset = c->pos;
    if (mp_byte(c, "object type", &o->type) < 0)
        return -1;
    switch (o->type) {
    case 0: case 1: case 2: case 3: case 4:
        break;
    case 5: case 6: case 7: case 8: case 9:
        if (mp_vuint(c, "object length", &o->len) < 0 || mp_skip(c, o->len, "object") < 0 ||
            (o->type <= 6 && mp_skip(c, 1, "object terminator") < 0))
            return -1;
        break;
    case 10: {
        if (depth >= FS_MPY_MAX_DEPTH)
            return fs_fail(c->err, "%s: offset 0x%zx: tuples nested deeper than %u", c->name, o->offset,
                           FS_MPY_MAX_DEPTH);
        if (mp_count(c, "tuple length", FS_MPY_MAX_OBJS, &o->len) < 0)
            return -1;
        for (uint64_t i = 0; i < o->len; i++) {
            fs_mpy_obj inner;
            if (mp_object(c, &inner, depth + 1) < 0)
                return -1;
        }
        break;
    }
    default:
        return fs_fail(c->err, "%s: offset 0x%zx: unknown object type %u", c->name, o->offset, o->type);
    }
    o->size = c->pos - o->offset;
    return 0;
}

static int mp_objects(mp_cursor *c, fs_mpy *m, uint64_t n)
{
    m->objs = calloc(n ? n : 1, sizeof *m->objs);
    if (!m->objs)
        return fs_fail(c->err, "%s: out of memory", c->name);
    for (uint64_t i = 0; i < n; i++) {
        if (mp_object(c, &m->objs[i], 0) < 0)
            return -1;
        m->nobjs = i + 1;
    }
    return 0;
}

/* Check that words [word, word+count) lie inside the base they patch. */
static int mp_reloc_check(mp_cursor *c, const fs_mpy *m, const fs_mpy_rawcode *rc, const fs_mpy_reloc *r)
{
    uint64_t size = r->base ? rc->rodata_size : rc->data_len;
    uint64_t words = size / m->word_size;
    if (r->word > words || r->count > words - r->word)
        return fs_fail(c->err,
                       "%s: offset 0x%zx: relocation of %llu word(s) at %s word %llu lies outside %s (%llu bytes)",
                       c->name, r->offset, (unsigned long long)r->count, r->base ? "rodata" : "text",
                       (unsigned long long)r->word, r->base ? "rodata" : "text", (unsigned long long)size);
    return 0;
}

/* Decode the relocation stream of viper raw code rc (facts 2.6). */
static int mp_relocs(mp_cursor *c, fs_mpy *m, size_t rci, size_t *cap)
{
    fs_mpy_rawcode *rc = &m->rawcodes[rci];
    rc->first_reloc = m->nrelocs;
    uint8_t base = 0;
    uint64_t next = 0; /* word after the last one patched */
    for (;;) {
        fs_mpy_reloc r = {0};
        r.offset = c->pos;
        if (mp_byte(c, "relocation op", &r.op) < 0)
            return -1;
        if (r.op == 0xff)
            break;
        if (r.op & 1) {
            uint64_t addr;
            if (mp_vuint(c, "relocation address", &addr) < 0)
                return -1;
            base = addr & 1;
            next = addr >> 1;
        }
        r.kind = r.op >> 1;
        r.base = base;
        r.word = next;
        r.count = 1;
        if (r.kind < 6 && (r.kind & 1) && mp_count(c, "relocation run length", UINT32_MAX, &r.count) < 0)
            return -1;
        if (mp_reloc_check(c, m, rc, &r) < 0)
            return -1;
        if (m->nrelocs == FS_MPY_MAX_RELOCS)
            return fs_fail(c->err, "%s: offset 0x%zx: more than %u relocations", c->name, r.offset, FS_MPY_MAX_RELOCS);
        if (mp_grow((void **)&m->relocs, cap, m->nrelocs, sizeof *m->relocs) < 0)
            return fs_fail(c->err, "%s: out of memory", c->name);
        r.rawcode = rci;
        m->relocs[m->nrelocs++] = r;
        next = r.word + r.count;
    }
    rc = &m->rawcodes[rci];
    rc->nrelocs = m->nrelocs - rc->first_reloc;
    return 0;
}

typedef struct mp_caps {
    size_t rawcodes, relocs;
} mp_caps;

static int mp_rawcode(mp_cursor *c, fs_mpy *m, int parent, unsigned depth, mp_caps *caps);

/* The kind-specific fields after fun_data (facts 2.4 step 3). */
static int mp_rawcode_fields(mp_cursor *c, fs_mpy_rawcode *rc)
{
    if (rc->kind == FS_MPY_NATIVE)
        return mp_vuint(c, "prelude offset", &rc->prelude_offset);
    if (rc->kind == FS_MPY_BYTECODE)
        return 0;
    if (mp_vuint(c, "scope flags", &rc->scope_flags) < 0)
        return -1;
    if (rc->kind == FS_MPY_ASM)
        return mp_vuint(c, "n_pos_args", &rc->n_pos_args) < 0 ? -1 : mp_vuint(c, "type signature", &rc->type_sig);
    if ((rc->scope_flags & FS_MPY_SCOPE_VIPERRODATA) && mp_vuint(c, "rodata size", &rc->rodata_size) < 0)
        return -1;
    if ((rc->scope_flags & FS_MPY_SCOPE_VIPERBSS) && mp_vuint(c, "bss size", &rc->bss_size) < 0)
        return -1;
    rc->rodata_offset = c->pos;
    return mp_skip(c, rc->rodata_size, "rodata");
}

static int mp_rawcode(mp_cursor *c, fs_mpy *m, int parent, unsigned depth, mp_caps *caps)
{
    size_t at = c->pos;
    if (depth >= FS_MPY_MAX_DEPTH)
        return fs_fail(c->err, "%s: offset 0x%zx: raw code nested deeper than %u", c->name, at, FS_MPY_MAX_DEPTH);
    if (m->nrawcodes == FS_MPY_MAX_RAWCODES)
        return fs_fail(c->err, "%s: offset 0x%zx: more than %u raw codes", c->name, at, FS_MPY_MAX_RAWCODES);
    if (mp_grow((void **)&m->rawcodes, &caps->rawcodes, m->nrawcodes, sizeof *m->rawcodes) < 0)
        return fs_fail(c->err, "%s: out of memory", c->name);
    size_t idx = m->nrawcodes++;
    fs_mpy_rawcode rc = {0};
    rc.offset = at;
    rc.parent = parent;
    rc.depth = depth;
    uint64_t kind_len;
    if (mp_vuint(c, "raw code kind/length", &kind_len) < 0)
        return -1;
    rc.kind = (int)(kind_len & 3);
    rc.data_offset = c->pos;
    rc.data_len = kind_len >> 3;
    if (mp_skip(c, rc.data_len, rc.kind == FS_MPY_BYTECODE ? "bytecode" : "machine code") < 0 ||
        mp_rawcode_fields(c, &rc) < 0)
        return -1;
    m->rawcodes[idx] = rc;
    uint64_t nchildren = 0;
    if ((kind_len & 4) && mp_count(c, "number of children", FS_MPY_MAX_RAWCODES, &nchildren) < 0)
        return -1;
    for (uint64_t i = 0; i < nchildren; i++)
        if (mp_rawcode(c, m, (int)idx, depth + 1, caps) < 0)
            return -1;
    m->rawcodes[idx].nchildren = (size_t)nchildren;
    if (rc.kind == FS_MPY_VIPER && (rc.scope_flags & FS_MPY_SCOPE_VIPERRELOC)) {
        if (mp_relocs(c, m, idx, &caps->relocs) < 0)
            return -1;
        if (m->natmod < 0)
            m->natmod = (int)idx;
    }
    else
        m->rawcodes[idx].first_reloc = m->nrelocs; /* an empty range */
    m->rawcodes[idx].end = c->pos;
    return 0;
}

static int mp_parse_body(mp_cursor *c, fs_mpy *m)
{
    if (fs_mpy_read_header(c->name, c->data, c->len, &m->hdr, c->err) < 0)
        return -1;
    if (m->hdr.version != 6)
        return fs_fail(c->err, "%s: offset 0x1: unsupported .mpy version %u (only version 6, MicroPython 1.19 and later)",
                       c->name, m->hdr.version);
    if (c->data[2] & 0x80)
        return fs_fail(c->err, "%s: offset 0x2: reserved feature bit 7 is set (feature byte 0x%02x)", c->name,
                       c->data[2]);
    if (m->hdr.arch > 12)
        return fs_fail(c->err, "%s: offset 0x2: native architecture %u is not loadable", c->name, m->hdr.arch);
    m->word_size = (m->hdr.arch == 2 || m->hdr.arch == 12) ? 8 : 4;
    c->pos = m->hdr.header_len;
    uint64_t nq, no;
    if (mp_count(c, "number of qstrs", FS_MPY_MAX_QSTRS, &nq) < 0 || mp_count(c, "number of objects", FS_MPY_MAX_OBJS, &no) < 0)
        return -1;
    /* each qstr takes at least 1 byte, each object 1: refuse counts the file cannot hold */
    if (nq + no > c->len - c->pos)
        return fs_fail(c->err, "%s: offset 0x%zx: %llu qstrs and %llu objects cannot fit in the %zu bytes left",
                       c->name, c->pos, (unsigned long long)nq, (unsigned long long)no, c->len - c->pos);
    if (mp_qstrs(c, m, nq) < 0 || mp_objects(c, m, no) < 0)
        return -1;
    mp_caps caps = {0, 0};
    if (mp_rawcode(c, m, -1, 0, &caps) < 0)
        return -1;
    if (c->pos != c->len)
        return fs_fail(c->err, "%s: offset 0x%zx: %zu unexpected bytes after the raw code", c->name, c->pos,
                       c->len - c->pos);
    if (m->natmod >= 0 && m->nqstrs)
        m->rawcodes[m->natmod].name = m->qstrs[0].str;
    return 0;
}

int fs_mpy_parse(const char *name, const uint8_t *data, size_t len, fs_mpy *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->natmod = -1;
    if (len > FS_MPY_MAX_FILE)
        return fs_fail(err, "%s: .mpy file is %zu bytes, larger than the %u-byte limit", name, len, FS_MPY_MAX_FILE);
    out->path = strdup(name);
    out->data = malloc(len ? len : 1);
    if (!out->path || !out->data) {
        fs_mpy_free(out);
        return fs_fail(err, "%s: out of memory", name);
    }
    if (len)
        memcpy(out->data, data, len);
    out->len = len;
    mp_cursor c = {name, out->data, len, 0, err};
    if (mp_parse_body(&c, out) < 0) {
        fs_mpy_free(out);
        return -1;
    }
    return 0;
}

int fs_mpy_load(const char *path, fs_mpy *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->natmod = -1;
    unsigned char *buf;
    size_t n;
    if (fs_read_file(path, FS_MPY_MAX_FILE, ".mpy file", &buf, &n, err) < 0)
        return -1;
    if (n == 0) {
        free(buf);
        return fs_fail(err, "%s: empty file", path);
    }
    int rc = fs_mpy_parse(path, buf, n, out, err);
    free(buf);
    return rc;
}

void fs_mpy_free(fs_mpy *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nqstrs; i++)
        free(m->qstrs[i].str);
    free(m->qstrs);
    free(m->objs);
    free(m->rawcodes);
    free(m->relocs);
    free(m->data);
    free(m->path);
    memset(m, 0, sizeof *m);
    m->natmod = -1;
}

const char *fs_mpy_kind_name(int kind)
{
    static const char *const names[] = {"bytecode", "native", "viper", "asm"};
    return kind >= 0 && kind < 4 ? names[kind] : "unknown";
}

const char *fs_mpy_obj_type_name(uint8_t type)
{
    static const char *const names[] = {"fun_table", "none", "false", "true", "ellipsis", "str",
                                        "bytes", "int", "float", "complex", "tuple"};
    return type < sizeof names / sizeof *names ? names[type] : "unknown";
}

const char *fs_mpy_fun_table_name(unsigned idx)
{
    /* The entries mpy_ld refers to by name (py/nativeglue.h, facts 2.6). */
    static const char *const tail[] = {
        "plat_print", "mp_type_type", "mp_type_str", "mp_type_list", "mp_type_dict",
        "mp_type_fun_builtin_0", "mp_type_fun_builtin_1", "mp_type_fun_builtin_2", "mp_type_fun_builtin_3",
        "mp_type_fun_builtin_var", "mp_obj_type_Exception", "mp_stream_read_obj", "mp_stream_readinto_obj",
        "mp_stream_unbuffered_readline_obj", "mp_stream_write_obj"};
    if (idx == 50)
        return "memset";
    if (idx == 51)
        return "memmove";
    if (idx >= 72 && idx < 72 + sizeof tail / sizeof *tail)
        return tail[idx - 72];
    return NULL;
}

void fs_mpy_reloc_dest(const fs_mpy_reloc *r, char *buf, size_t len)
{
    static const char *const dests[] = {"text", "rodata", "bss"};
    if (r->kind < 6)
        snprintf(buf, len, "%s", dests[r->kind >> 1]);
    else if (r->kind == FS_MPY_RELOC_QSTR_TABLE)
        snprintf(buf, len, "qstr_table");
    else if (r->kind == FS_MPY_RELOC_OBJ_TABLE)
        snprintf(buf, len, "obj_table");
    else if (r->kind == FS_MPY_RELOC_FUN_TABLE)
        snprintf(buf, len, "fun_table");
    else {
        unsigned idx = r->kind - FS_MPY_RELOC_FUN_ENTRY;
        const char *n = fs_mpy_fun_table_name(idx);
        snprintf(buf, len, "fun_table[%u]%s%s", idx, n ? " " : "", n ? n : "");
    }
}

int fs_mpy_text_word(const fs_mpy *m, size_t rc, uint64_t idx, uint64_t *value)
{
    if (rc >= m->nrawcodes)
        return -1;
    const fs_mpy_rawcode *r = &m->rawcodes[rc];
    if (idx >= r->data_len / m->word_size)
        return -1;
    const uint8_t *p = m->data + r->data_offset + idx * m->word_size;
    uint64_t v = 0;
    for (unsigned i = m->word_size; i-- > 0;)
        v = (v << 8) | p[i];
    *value = v;
    return 0;
}

bool fs_mpy_text_word_relocated(const fs_mpy *m, size_t rc, uint64_t idx)
{
    if (rc >= m->nrawcodes)
        return false;
    const fs_mpy_rawcode *r = &m->rawcodes[rc];
    for (size_t i = r->first_reloc; i < r->first_reloc + r->nrelocs; i++) {
        const fs_mpy_reloc *x = &m->relocs[i];
        if (x->base == 0 && idx >= x->word && idx - x->word < x->count)
            return true;
    }
    return false;
}
