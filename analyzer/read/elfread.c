/*
 * elfread.c - read an ELF file into the image model, on libelf.
 *
 * Works for ELF32 and ELF64 of either byte order and any e_machine: libelf's
 * GElf interface converts everything to the 64-bit host-order structs.  The
 * file is read into memory once and handed to elf_memory(); every offset and
 * count in it is checked against the real file size before use, because a
 * size tool reads files from any pull request, hostile ones included.
 *
 * Names: the section-name and symbol string tables are copied into one owned
 * buffer (img->strings), with a NUL appended after each, and every name
 * points into it.  That is one allocation instead of one per symbol, and a
 * name can never run off the end of its table.
 *
 * LMA: ELF sections have no load address of their own.  As objdump does, a
 * section inside a PT_LOAD segment gets lma = p_paddr + (addr - p_vaddr).
 */
#include "elfread.h"

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct elf_ctx {
    const char *name;      /* file name for messages */
    const unsigned char *data;
    size_t len;
    Elf *elf;
    fs_image *img;
    fs_error *err;
    size_t strings_used, strings_cap;
} elf_ctx;

const char *fs_elf_machine_name(uint16_t machine, char *buf, size_t len)
{
    switch (machine) {
    case EM_XTENSA: return "Xtensa";
    case EM_ARM: return "ARM";
    case EM_AARCH64: return "AArch64";
    case EM_RISCV: return "RISC-V";
    case EM_X86_64: return "x86-64";
    case EM_386: return "i386";
    case EM_MIPS: return "MIPS";
    case EM_PPC: return "PowerPC";
    case EM_PPC64: return "PowerPC64";
    default: snprintf(buf, len, "machine %u", (unsigned)machine); return buf;
    }
}

/* Does [off, off+size) lie within the file? */
static bool elf_in_file(const elf_ctx *c, uint64_t off, uint64_t size)
{
    return off <= c->len && size <= c->len - off;
}

/* Append a string table's bytes plus a NUL to img->strings; return the base
 * offset of the copy, or -1. */
static int64_t elf_copy_strtab(elf_ctx *c, const char *tab, size_t tab_len)
{
    size_t need = c->strings_used + tab_len + 1;
    if (need > c->strings_cap) {
        size_t cap = c->strings_cap ? c->strings_cap : 4096;
        while (cap < need)
            cap *= 2;
        char *grown = realloc(c->img->strings, cap);
        if (!grown)
            return fs_fail(c->err, "%s: out of memory", c->name);
        c->img->strings = grown;
        c->strings_cap = cap;
    }
    int64_t base = (int64_t)c->strings_used;
    if (tab_len)
        memcpy(c->img->strings + base, tab, tab_len);
    c->img->strings[base + (int64_t)tab_len] = '\0';
    c->strings_used = need;
    return base;
}

/* The raw bytes of section scn as stored in the file (no conversion). */
static int elf_raw_section(elf_ctx *c, Elf_Scn *scn, const GElf_Shdr *sh, size_t idx,
                           const char **bytes, size_t *len)
{
    if (sh->sh_type == SHT_NOBITS || sh->sh_size == 0) {
        *bytes = "";
        *len = 0;
        return 0;
    }
    if (!elf_in_file(c, sh->sh_offset, sh->sh_size))
        return fs_fail(c->err, "%s: section %zu data (offset %#llx, size %llu) lies past end of file (%zu bytes)",
                       c->name, idx, (unsigned long long)sh->sh_offset, (unsigned long long)sh->sh_size, c->len);
    (void)scn;
    *bytes = (const char *)c->data + sh->sh_offset;
    *len = (size_t)sh->sh_size;
    return 0;
}

static int elf_read_header(elf_ctx *c)
{
    fs_image *img = c->img;
    if (c->len == 0)
        return fs_fail(c->err, "%s: empty file, not an ELF file", c->name);
    if (c->len < EI_NIDENT || memcmp(c->data, ELFMAG, SELFMAG) != 0)
        return fs_fail(c->err, "%s: not an ELF file (bad magic)", c->name);
    c->elf = elf_memory((char *)c->data, c->len);
    if (!c->elf)
        return fs_fail(c->err, "%s: cannot open as ELF: %s", c->name, elf_errmsg(-1));
    if (elf_kind(c->elf) != ELF_K_ELF)
        return fs_fail(c->err, "%s: not an ELF file", c->name);
    int cls = gelf_getclass(c->elf);
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return fs_fail(c->err, "%s: unknown ELF class %d", c->name, cls);
    unsigned char enc = c->data[EI_DATA];
    if (enc != ELFDATA2LSB && enc != ELFDATA2MSB)
        return fs_fail(c->err, "%s: unknown ELF data encoding %u", c->name, enc);
    GElf_Ehdr eh;
    if (!gelf_getehdr(c->elf, &eh))
        return fs_fail(c->err, "%s: truncated or corrupt ELF header: %s", c->name, elf_errmsg(-1));
    /* Check the raw header's tables against the file before libelf sizes
     * them: libelf quietly reports fewer entries for a table that does not
     * fit, which would turn a corrupt file into an empty-looking one. */
    if (eh.e_shnum && !elf_in_file(c, eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize))
        return fs_fail(c->err, "%s: section header table (%u entries of %u bytes at offset %#llx) lies past end of file (%zu bytes)",
                       c->name, (unsigned)eh.e_shnum, (unsigned)eh.e_shentsize, (unsigned long long)eh.e_shoff, c->len);
    if (eh.e_phnum && !elf_in_file(c, eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize))
        return fs_fail(c->err, "%s: program header table (%u entries of %u bytes at offset %#llx) lies past end of file (%zu bytes)",
                       c->name, (unsigned)eh.e_phnum, (unsigned)eh.e_phentsize, (unsigned long long)eh.e_phoff, c->len);
    if (eh.e_shnum && eh.e_shentsize != gelf_fsize(c->elf, ELF_T_SHDR, 1, EV_CURRENT))
        return fs_fail(c->err, "%s: section header entry size %u, expected %zu", c->name, (unsigned)eh.e_shentsize,
                       gelf_fsize(c->elf, ELF_T_SHDR, 1, EV_CURRENT));
    img->elf_class = cls == ELFCLASS32 ? 32 : 64;
    img->big_endian = enc == ELFDATA2MSB;
    img->machine = eh.e_machine;
    img->elf_type = eh.e_type;
    img->entry = eh.e_entry;
    img->file_size = c->len;
    return 0;
}

static int elf_read_segments(elf_ctx *c)
{
    size_t n;
    if (elf_getphdrnum(c->elf, &n) != 0)
        return fs_fail(c->err, "%s: bad program header table: %s", c->name, elf_errmsg(-1));
    if (n == 0)
        return 0;
    if (n > FS_ELF_MAX_SEGMENTS)
        return fs_fail(c->err, "%s: absurd program header count %zu (limit %u)", c->name, n, FS_ELF_MAX_SEGMENTS);
    GElf_Ehdr eh;
    gelf_getehdr(c->elf, &eh);
    if (!elf_in_file(c, eh.e_phoff, (uint64_t)n * eh.e_phentsize))
        return fs_fail(c->err, "%s: program header table (%zu entries at offset %#llx) lies past end of file",
                       c->name, n, (unsigned long long)eh.e_phoff);
    c->img->segments = calloc(n, sizeof *c->img->segments);
    if (!c->img->segments)
        return fs_fail(c->err, "%s: out of memory", c->name);
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(c->elf, (int)i, &ph))
            return fs_fail(c->err, "%s: cannot read program header %zu: %s", c->name, i, elf_errmsg(-1));
        if (ph.p_filesz && !elf_in_file(c, ph.p_offset, ph.p_filesz))
            return fs_fail(c->err, "%s: segment %zu (offset %#llx, size %llu) lies past end of file (%zu bytes)",
                           c->name, i, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz, c->len);
        fs_segment *s = &c->img->segments[i];
        s->type = ph.p_type;
        s->flags = ph.p_flags;
        s->offset = ph.p_offset;
        s->vaddr = ph.p_vaddr;
        s->paddr = ph.p_paddr;
        s->filesz = ph.p_filesz;
        s->memsz = ph.p_memsz;
        s->align = ph.p_align;
        c->img->nsegments = i + 1;
    }
    return 0;
}

/* Load address of an allocated section from the PT_LOAD segment holding it. */
static uint64_t elf_section_lma(const fs_image *img, const fs_section *s)
{
    for (size_t i = 0; i < img->nsegments; i++) {
        const fs_segment *p = &img->segments[i];
        if (p->type != PT_LOAD)
            continue;
        if (s->addr >= p->vaddr && s->addr - p->vaddr <= p->memsz &&
            s->size <= p->memsz - (s->addr - p->vaddr) && (s->size > 0 || s->addr < p->vaddr + p->memsz))
            return p->paddr + (s->addr - p->vaddr);
    }
    return s->addr;
}

static int elf_read_sections(elf_ctx *c)
{
    size_t n, shstrndx;
    if (elf_getshdrnum(c->elf, &n) != 0)
        return fs_fail(c->err, "%s: bad section header table: %s", c->name, elf_errmsg(-1));
    if (n > FS_ELF_MAX_SECTIONS)
        return fs_fail(c->err, "%s: absurd section count %zu (limit %u)", c->name, n, FS_ELF_MAX_SECTIONS);
    if (n <= 1)
        return 0;
    GElf_Ehdr eh;
    gelf_getehdr(c->elf, &eh);
    if (!elf_in_file(c, eh.e_shoff, (uint64_t)n * eh.e_shentsize))
        return fs_fail(c->err, "%s: section header table (%zu entries at offset %#llx) lies past end of file",
                       c->name, n, (unsigned long long)eh.e_shoff);
    if (elf_getshdrstrndx(c->elf, &shstrndx) != 0)
        return fs_fail(c->err, "%s: bad section name table index: %s", c->name, elf_errmsg(-1));
    if (shstrndx == SHN_UNDEF || shstrndx >= n)
        return fs_fail(c->err, "%s: section name table index %zu out of range (%zu sections)", c->name, shstrndx, n);

    Elf_Scn *strscn = elf_getscn(c->elf, shstrndx);
    GElf_Shdr strsh;
    if (!strscn || !gelf_getshdr(strscn, &strsh))
        return fs_fail(c->err, "%s: cannot read section name table: %s", c->name, elf_errmsg(-1));
    const char *tab;
    size_t tab_len;
    if (elf_raw_section(c, strscn, &strsh, shstrndx, &tab, &tab_len) < 0)
        return -1;
    int64_t base = elf_copy_strtab(c, tab, tab_len);
    if (base < 0)
        return -1;

    c->img->sections = calloc(n - 1, sizeof *c->img->sections);
    if (!c->img->sections)
        return fs_fail(c->err, "%s: out of memory", c->name);
    size_t *name_off = calloc(n - 1, sizeof *name_off);
    if (!name_off)
        return fs_fail(c->err, "%s: out of memory", c->name);
    for (size_t i = 1; i < n; i++) {
        Elf_Scn *scn = elf_getscn(c->elf, i);
        GElf_Shdr sh;
        if (!scn || !gelf_getshdr(scn, &sh)) {
            free(name_off);
            return fs_fail(c->err, "%s: cannot read section header %zu: %s", c->name, i, elf_errmsg(-1));
        }
        if (sh.sh_name >= tab_len) {
            free(name_off);
            return fs_fail(c->err, "%s: section %zu name offset %u is outside the name table (%zu bytes)",
                           c->name, i, (unsigned)sh.sh_name, tab_len);
        }
        if (sh.sh_type != SHT_NOBITS && sh.sh_size && !elf_in_file(c, sh.sh_offset, sh.sh_size)) {
            free(name_off);
            return fs_fail(c->err,
                           "%s: section %zu (%s) data (offset %#llx, size %llu) lies past end of file (%zu bytes)",
                           c->name, i, tab + sh.sh_name, (unsigned long long)sh.sh_offset,
                           (unsigned long long)sh.sh_size, c->len);
        }
        fs_section *s = &c->img->sections[i - 1];
        name_off[i - 1] = (size_t)base + sh.sh_name;
        s->index = (uint32_t)i;
        s->type = sh.sh_type;
        s->flags = sh.sh_flags;
        s->addr = sh.sh_addr;
        s->size = sh.sh_size;
        s->offset = sh.sh_offset;
        s->align = sh.sh_addralign;
        s->vma_region = s->lma_region = -1;
        c->img->nsections = i;
    }
    /* Names are pointed at only now: the string buffer may move while the
     * symbol tables are appended, so symbols fix theirs up the same way. */
    for (size_t i = 0; i + 1 < n; i++)
        c->img->sections[i].name = (char *)(uintptr_t)name_off[i];
    free(name_off);
    for (size_t i = 0; i < c->img->nsections; i++) {
        fs_section *s = &c->img->sections[i];
        s->lma = (s->flags & SHF_ALLOC) ? elf_section_lma(c->img, s) : s->addr;
    }
    return 0;
}

/* Read the symbol table (SHT_SYMTAB, else SHT_DYNSYM).  Section and file
 * symbols and the null symbol are left out. */
static int elf_read_symbols(elf_ctx *c)
{
    Elf_Scn *symscn = NULL, *shndxscn = NULL;
    GElf_Shdr symsh = {0};
    for (int pass = 0; pass < 2 && !symscn; pass++) {
        uint32_t want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
        for (Elf_Scn *scn = elf_nextscn(c->elf, NULL); scn; scn = elf_nextscn(c->elf, scn)) {
            GElf_Shdr sh;
            if (gelf_getshdr(scn, &sh) && sh.sh_type == want) {
                symscn = scn;
                symsh = sh;
                break;
            }
        }
    }
    if (!symscn)
        return 0;
    size_t symidx = elf_ndxscn(symscn);
    for (Elf_Scn *scn = elf_nextscn(c->elf, NULL); scn; scn = elf_nextscn(c->elf, scn)) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB_SHNDX && sh.sh_link == symidx)
            shndxscn = scn;
    }
    size_t entsize = gelf_fsize(c->elf, ELF_T_SYM, 1, EV_CURRENT);
    if (symsh.sh_entsize != entsize)
        return fs_fail(c->err, "%s: symbol table entry size %llu, expected %zu", c->name,
                       (unsigned long long)symsh.sh_entsize, entsize);
    size_t nsyms = symsh.sh_size / entsize;
    if (nsyms > FS_ELF_MAX_SYMBOLS)
        return fs_fail(c->err, "%s: absurd symbol count %zu (limit %u)", c->name, nsyms, FS_ELF_MAX_SYMBOLS);
    if (symsh.sh_link == 0 || symsh.sh_link > c->img->nsections)
        return fs_fail(c->err, "%s: symbol table links to invalid string table %u", c->name, (unsigned)symsh.sh_link);
    Elf_Scn *strscn = elf_getscn(c->elf, symsh.sh_link);
    GElf_Shdr strsh;
    if (!strscn || !gelf_getshdr(strscn, &strsh))
        return fs_fail(c->err, "%s: cannot read symbol string table: %s", c->name, elf_errmsg(-1));
    const char *tab;
    size_t tab_len;
    if (elf_raw_section(c, strscn, &strsh, symsh.sh_link, &tab, &tab_len) < 0)
        return -1;
    Elf_Data *data = elf_getdata(symscn, NULL);
    if (!data || data->d_size < nsyms * entsize)
        return fs_fail(c->err, "%s: cannot read symbol table: %s", c->name, elf_errmsg(-1));
    Elf_Data *shndx_data = shndxscn ? elf_getdata(shndxscn, NULL) : NULL;
    int64_t base = elf_copy_strtab(c, tab, tab_len);
    if (base < 0)
        return -1;
    c->img->has_symtab = symsh.sh_type == SHT_SYMTAB;
    if (nsyms <= 1)
        return 0;
    c->img->symbols = malloc((nsyms - 1) * sizeof *c->img->symbols); /* every field set below */
    if (!c->img->symbols)
        return fs_fail(c->err, "%s: out of memory", c->name);
    size_t out = 0;
    /* libelf hands the table over in the host's byte order (elf_getdata):
     * each entry is read from it directly, which costs a tenth of a call to
     * gelf_getsymshndx per symbol; memcpy, as d_buf may point into the file
     * at any alignment. */
    _Static_assert(sizeof(GElf_Sym) == sizeof(Elf64_Sym), "GElf_Sym is Elf64_Sym");
    bool wide = c->img->elf_class == 64;
    size_t nxndx = shndx_data && shndx_data->d_type == ELF_T_WORD ? shndx_data->d_size / sizeof(Elf32_Word) : 0;
    if (data->d_type != ELF_T_SYM)
        return fs_fail(c->err, "%s: cannot read symbol table: not a symbol table", c->name);
    for (size_t i = 1; i < nsyms; i++) {
        GElf_Sym sym;
        Elf32_Word xndx = 0;
        if (wide) {
            memcpy(&sym, (const char *)data->d_buf + i * sizeof(Elf64_Sym), sizeof sym);
        } else {
            Elf32_Sym s32;
            memcpy(&s32, (const char *)data->d_buf + i * sizeof s32, sizeof s32);
            sym = (GElf_Sym){s32.st_name, s32.st_info, s32.st_other, s32.st_shndx, s32.st_value, s32.st_size};
        }
        if (shndx_data) {
            if (i >= nxndx)
                return fs_fail(c->err, "%s: cannot read symbol %zu: its extended section index is missing", c->name,
                               i);
            memcpy(&xndx, (const char *)shndx_data->d_buf + i * sizeof xndx, sizeof xndx);
        }
        uint8_t type = GELF_ST_TYPE(sym.st_info);
        if (type == STT_SECTION || type == STT_FILE)
            continue;
        if (sym.st_name >= tab_len)
            return fs_fail(c->err, "%s: symbol %zu name offset %u is outside its string table (%zu bytes)",
                           c->name, i, (unsigned)sym.st_name, tab_len);
        fs_symbol *s = &c->img->symbols[out++];
        s->name = (char *)(uintptr_t)((size_t)base + sym.st_name);
        s->value = sym.st_value;
        s->size = sym.st_size;
        s->type = type;
        s->bind = GELF_ST_BIND(sym.st_info);
        s->shndx = sym.st_shndx;
        uint32_t real = sym.st_shndx == SHN_XINDEX ? xndx : sym.st_shndx;
        s->section = (sym.st_shndx != SHN_UNDEF && (sym.st_shndx < SHN_LORESERVE || sym.st_shndx == SHN_XINDEX) &&
                      real >= 1 && real <= c->img->nsections)
                         ? (int)(real - 1)
                         : -1;
    }
    c->img->nsymbols = out;
    return 0;
}

/* Turn the string offsets stored in the name pointers into real pointers. */
static void elf_fix_names(fs_image *img)
{
    for (size_t i = 0; i < img->nsections; i++)
        img->sections[i].name = img->strings + (uintptr_t)img->sections[i].name;
    img->first = malloc(img->nsymbols + 1); /* NULL when out of memory: fs_image_symbol reads the names */
    for (size_t i = 0; i < img->nsymbols; i++) {
        img->symbols[i].name = img->strings + (uintptr_t)img->symbols[i].name;
        if (img->first)
            img->first[i] = img->symbols[i].name[0];
    }
}

int fs_elf_load_mem(const char *name, const void *data, size_t len, fs_image *img, fs_error *err)
{
    elf_ctx c = {.name = name, .data = data, .len = len, .img = img, .err = err};
    memset(img, 0, sizeof *img);
    if (elf_version(EV_CURRENT) == EV_NONE)
        return fs_fail(err, "%s: libelf is out of date", name);
    int rc = -1;
    if (elf_read_header(&c) == 0 && elf_read_segments(&c) == 0 && elf_read_sections(&c) == 0 &&
        elf_read_symbols(&c) == 0)
        rc = 0;
    if (c.elf)
        elf_end(c.elf);
    if (rc == 0) {
        elf_fix_names(img);
        img->path = strdup(name);
        if (!img->path)
            rc = fs_fail(err, "%s: out of memory", name);
    }
    if (rc != 0) {
        /* Names still hold offsets: clear them so fs_image_free never sees them. */
        for (size_t i = 0; i < img->nsections; i++)
            img->sections[i].name = NULL;
        fs_image_free(img);
    }
    return rc;
}

int fs_elf_load(const char *path, fs_image *img, fs_error *err)
{
    memset(img, 0, sizeof *img);
    const unsigned char *buf;
    size_t len;
    if (fs_map_file(path, FS_ELF_MAX_FILE_BYTES, "ELF file", &buf, &len, err) < 0)
        return -1;
    int rc = fs_elf_load_mem(path, buf, len, img, err);
    fs_unmap_file(buf, len);
    return rc;
}

int fs_elf_reread(const fs_image *img, const unsigned char **data, size_t *len, fs_error *err)
{
    if (fs_map_file(img->path, FS_ELF_MAX_FILE_BYTES, "ELF file", data, len, err) < 0)
        return -1;
    if (*len != img->file_size) {
        fs_unmap_file(*data, *len);
        *data = NULL;
        *len = 0;
        return fs_fail(err, "%s: file changed since it was read", img->path);
    }
    return 0;
}

void fs_image_free(fs_image *img)
{
    if (!img)
        return;
    free(img->path);
    free(img->sections);
    free(img->segments);
    free(img->symbols);
    free(img->strings);
    free(img->first);
    memset(img, 0, sizeof *img);
}

const fs_section *fs_image_section_by_index(const fs_image *img, uint32_t shndx)
{
    if (shndx == 0 || shndx > img->nsections)
        return NULL;
    return &img->sections[shndx - 1];
}

const fs_section *fs_image_section(const fs_image *img, const char *name)
{
    for (size_t i = 0; i < img->nsections; i++)
        if (strcmp(img->sections[i].name, name) == 0)
            return &img->sections[i];
    return NULL;
}

const fs_symbol *fs_image_symbol(const fs_image *img, const char *name)
{
    /* A handful of lookups per run: a scan of the names' first bytes (one
     * array, read in order), strcmp only where the first byte matches. */
    if (img->first) {
        for (const char *f = img->first, *end = f + img->nsymbols; (f = memchr(f, name[0], (size_t)(end - f))); f++)
            if (strcmp(img->symbols[f - img->first].name, name) == 0)
                return &img->symbols[f - img->first];
        return NULL;
    }
    for (size_t i = 0; i < img->nsymbols; i++)
        if (img->symbols[i].name[0] == name[0] && strcmp(img->symbols[i].name, name) == 0)
            return &img->symbols[i];
    return NULL;
}
