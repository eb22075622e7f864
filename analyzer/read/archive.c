/*
 * archive.c - relocatable objects and ar archives (see archive.h).
 *
 * The archive is read into memory once and opened with elf_memory(); libelf
 * walks the member headers.  libelf trusts a member header's size more than
 * a size tool should, so every member's byte range is checked against the
 * real file length before its bytes are handed to the ELF reader, which
 * then checks the member as it checks any ELF file.
 */
#include "archive.h"

#include "elfread.h"

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AR_MAGIC      "!<arch>\n"
#define AR_THIN_MAGIC "!<thin>\n"
#define AR_MAGIC_LEN  8
#define AR_HEADER_LEN 60

bool fs_symbol_is_global_def(const fs_symbol *s)
{
    return s->shndx != SHN_UNDEF && (s->bind == STB_GLOBAL || s->bind == STB_WEAK) && s->name && s->name[0] &&
           s->type != STT_SECTION && s->type != STT_FILE;
}

bool fs_symbol_is_undef_ref(const fs_symbol *s)
{
    return s->shndx == SHN_UNDEF && (s->bind == STB_GLOBAL || s->bind == STB_WEAK) && s->name && s->name[0];
}

uint64_t fs_object_file_bytes(const fs_object *o)
{
    return o->text + o->rodata + o->data;
}

/* Add each allocated section's size to its class. */
static void object_classify(fs_object *o)
{
    for (size_t i = 0; i < o->img.nsections; i++) {
        const fs_section *s = &o->img.sections[i];
        if (!(s->flags & SHF_ALLOC))
            continue;
        if (s->type == SHT_NOBITS)
            o->bss += s->size;
        else if (s->flags & SHF_EXECINSTR)
            o->text += s->size;
        else if (s->flags & SHF_WRITE)
            o->data += s->size;
        else
            o->rodata += s->size;
    }
}

int fs_object_load_mem(const char *label, const char *name, const void *data, size_t len, fs_object *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (fs_elf_load_mem(label, data, len, &out->img, err) < 0)
        return -1;
    if (out->img.elf_type != ET_REL) {
        fs_fail(err, "%s: not a relocatable object (ELF type %u, expected ET_REL)", label, (unsigned)out->img.elf_type);
        fs_object_free(out);
        return -1;
    }
    out->name = strdup(name);
    if (!out->name) {
        fs_object_free(out);
        return fs_fail(err, "%s: out of memory", label);
    }
    out->member_size = len;
    object_classify(out);
    return 0;
}

int fs_object_load(const char *path, fs_object *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t len;
    if (fs_read_file(path, FS_ELF_MAX_FILE_BYTES, "object file", &buf, &len, err) < 0)
        return -1;
    int rc = fs_object_load_mem(path, path, buf, len, out, err);
    free(buf);
    return rc;
}

void fs_object_free(fs_object *o)
{
    if (!o)
        return;
    free(o->name);
    fs_image_free(&o->img);
    memset(o, 0, sizeof *o);
}

const fs_symbol *fs_object_defines(const fs_object *o, const char *name)
{
    for (size_t i = 0; i < o->img.nsymbols; i++) {
        const fs_symbol *s = &o->img.symbols[i];
        if (fs_symbol_is_global_def(s) && strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

long fs_archive_find(const fs_archive *a, const char *name)
{
    for (size_t i = 0; i < a->nmembers; i++)
        if (fs_object_defines(&a->members[i], name))
            return (long)i;
    return -1;
}

void fs_archive_free(fs_archive *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nmembers; i++)
        fs_object_free(&a->members[i]);
    free(a->members);
    free(a->path);
    memset(a, 0, sizeof *a);
}

/* The archive's own bookkeeping members, which are not objects. */
static bool archive_is_index(const char *name)
{
    return strcmp(name, "/") == 0 || strcmp(name, "//") == 0 || strcmp(name, "/SYM64/") == 0 ||
           strcmp(name, "__.SYMDEF") == 0 || strcmp(name, "__.SYMDEF SORTED") == 0;
}

typedef struct ar_walk {
    const char *path;
    const unsigned char *data;
    size_t len;
    fs_archive *ar;
    fs_error *err;
    uint64_t end; /* where the last member seen ends (before padding) */
} ar_walk;

/* The member size as its raw header says (libelf clips it to the bytes it
 * has, which would hide a truncation).  The 60-byte header ends at base. */
static int archive_raw_size(ar_walk *w, int64_t base, const char *name, uint64_t *size)
{
    if (base < AR_MAGIC_LEN + AR_HEADER_LEN || (uint64_t)base > w->len)
        return fs_fail(w->err, "%s: member '%s' has a bad offset (%lld)", w->path, name, (long long)base);
    const unsigned char *h = w->data + base - AR_HEADER_LEN;
    if (h[58] != '`' || h[59] != '\n')
        return fs_fail(w->err, "%s: corrupt member header at offset %lld (no end marker)", w->path,
                       (long long)(base - AR_HEADER_LEN));
    uint64_t v = 0;
    size_t i = 48;
    for (; i < 58 && h[i] >= '0' && h[i] <= '9'; i++)
        v = v * 10 + (uint64_t)(h[i] - '0');
    for (; i < 58 && h[i] == ' '; i++)
        ;
    if (i != 58 || h[48] == ' ')
        return fs_fail(w->err, "%s: corrupt member header at offset %lld (bad size field)", w->path,
                       (long long)(base - AR_HEADER_LEN));
    if (v > w->len - (uint64_t)base)
        return fs_fail(w->err, "%s: truncated archive: member '%s' claims %llu bytes at offset %lld, only %llu left",
                       w->path, name, (unsigned long long)v, (long long)base,
                       (unsigned long long)(w->len - (uint64_t)base));
    *size = v;
    return 0;
}

/* Read one member's bytes as an object. */
static int archive_member(ar_walk *w, int64_t base, uint64_t size, const char *name)
{
    if (w->ar->nmembers == FS_ARCHIVE_MAX_MEMBERS)
        return fs_fail(w->err, "%s: more than %u members", w->path, FS_ARCHIVE_MAX_MEMBERS);
    fs_object *g = realloc(w->ar->members, (w->ar->nmembers + 1) * sizeof *g);
    if (!g)
        return fs_fail(w->err, "%s: out of memory", w->path);
    w->ar->members = g;
    char *label = NULL;
    if (asprintf(&label, "%s(%s)", w->path, name) < 0)
        return fs_fail(w->err, "%s: out of memory", w->path);
    fs_object *o = &w->ar->members[w->ar->nmembers];
    int rc = fs_object_load_mem(label, name, w->data + base, (size_t)size, o, w->err);
    free(label);
    if (rc < 0)
        return -1;
    o->member_offset = (uint64_t)base;
    w->ar->nmembers++;
    return 0;
}

/* One header libelf returned: check it, read it unless it is an index. */
static int archive_entry(ar_walk *w, Elf *m)
{
    Elf_Arhdr *h = elf_getarhdr(m);
    if (!h || !h->ar_name)
        return fs_fail(w->err, "%s: bad member header after offset %llu: %s", w->path, (unsigned long long)w->end,
                       elf_errmsg(-1));
    int64_t base = elf_getbase(m);
    uint64_t size = 0;
    if (archive_raw_size(w, base, h->ar_name, &size) < 0)
        return -1;
    w->end = (uint64_t)base + size;
    return archive_is_index(h->ar_name) ? 0 : archive_member(w, base, size, h->ar_name);
}

/* Every member the symbol index points at must have its header in the file. */
static int archive_check_index(ar_walk *w, Elf *ar)
{
    size_t n = 0;
    Elf_Arsym *syms = elf_getarsym(ar, &n);
    for (size_t i = 0; syms && i < n; i++) {
        if (!syms[i].as_name || (uint64_t)syms[i].as_off + AR_HEADER_LEN <= w->len)
            continue;
        /* The name comes from the file and need not be NUL-terminated:
         * print at most the bytes left in the file, and none from elsewhere. */
        const char *name = syms[i].as_name;
        const char *data = (const char *)w->data;
        int shown = name >= data && name < data + w->len ? (int)strnlen(name, (size_t)(data + w->len - name)) : 0;
        if (shown > 200)
            shown = 200;
        return fs_fail(w->err,
                       "%s: truncated archive: the symbol index puts '%.*s' in a member at offset %llu, past the end "
                       "(%zu bytes)",
                       w->path, shown, shown ? name : "", (unsigned long long)syms[i].as_off, w->len);
    }
    return 0;
}

/* Walk the members of an archive already in memory. */
static int archive_walk(ar_walk *w)
{
    Elf *ar = elf_memory((char *)w->data, w->len);
    if (!ar || elf_kind(ar) != ELF_K_AR) {
        if (ar)
            elf_end(ar);
        return fs_fail(w->err, "%s: cannot open as an ar archive: %s", w->path, elf_errmsg(-1));
    }
    int rc = archive_check_index(w, ar);
    Elf_Cmd cmd = ELF_C_READ_MMAP; /* the command an elf_memory image accepts */
    Elf *m;
    w->end = AR_MAGIC_LEN;
    while (rc == 0 && (m = elf_begin(-1, cmd, ar)) != NULL) {
        rc = archive_entry(w, m);
        cmd = elf_next(m);
        elf_end(m);
    }
    /* libelf stops quietly at a header it cannot read: anything after the
     * last member but its padding byte is a truncated or corrupt header. */
    uint64_t next = w->end + (w->end & 1);
    if (rc == 0 && next < w->len)
        rc = fs_fail(w->err,
                     "%s: truncated or corrupt archive: unreadable member header at offset %llu (file has %zu bytes)",
                     w->path, (unsigned long long)next, w->len);
    elf_end(ar);
    return rc;
}

int fs_archive_load(const char *path, fs_archive *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (elf_version(EV_CURRENT) == EV_NONE)
        return fs_fail(err, "%s: libelf is out of date", path);
    unsigned char *buf;
    size_t len;
    if (fs_read_file(path, FS_ARCHIVE_MAX_BYTES, "archive", &buf, &len, err) < 0)
        return -1;
    int rc;
    if (len >= AR_MAGIC_LEN && memcmp(buf, AR_THIN_MAGIC, AR_MAGIC_LEN) == 0)
        rc = fs_fail(err, "%s: thin archive (members live in other files): not supported", path);
    else if (len < AR_MAGIC_LEN || memcmp(buf, AR_MAGIC, AR_MAGIC_LEN) != 0)
        rc = fs_fail(err, "%s: not an ar archive (no \"!<arch>\" magic)", path);
    else {
        out->path = strdup(path);
        ar_walk w = {path, buf, len, out, err, AR_MAGIC_LEN};
        rc = out->path ? archive_walk(&w) : fs_fail(err, "%s: out of memory", path);
    }
    free(buf);
    if (rc < 0)
        fs_archive_free(out);
    return rc;
}
