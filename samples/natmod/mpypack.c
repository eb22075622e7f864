/*
 * mpypack.c - the project's minimal native-module packer (sample tooling,
 * built with the host compiler; not part of flashsize).
 *
 *   mpypack ARCH MODNAME LINKED.elf ROMTABLE|- OUT.mpy OUT.sidecar
 *
 * The real GNU ld does the linking: natmod.ld puts the entry jump,
 * literals, code and constants in one .text at address 0 and .bss after
 * it, `-q` keeps the relocations, `--unresolved-symbols=ignore-all` leaves
 * runtime and ROM names undefined.  This program then does what MicroPython
 * needs at load time (facts doc 2.5-2.7, 3.2):
 *
 *   - every absolute word (R_XTENSA_32/PLT, R_ARM_ABS32/TARGET1) becomes a
 *     relocation: text targets kind 0, bss targets kind 4 (the word is
 *     rewritten to the offset into bss), mp_fun_table kind 8, the runtime
 *     objects and memset/memmove/memcpy kind 9 + their mp_fun_table index;
 *   - except a word whose symbol is in ROMTABLE: like mpy_ld's
 *     fixed-address slots it gets the ROM address and no relocation, even
 *     when a local or library definition exists (that copy stays, redundant);
 *   - a PC-relative reference to an undefined symbol is an error, as is a
 *     non-empty .data.
 *
 * It writes a version 6.3 .mpy (one qstr, the module name; one viper raw
 * code) and a sidecar listing what it emitted, one fact per line:
 *   arch NAME / text_size N / rodata_size N / bss_size N / file_size N
 *   reloc BASE WORD COUNT KIND      (in stream order)
 *   rom WORD ADDR NAME              (un-relocated ROM words)
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROM 4096
#define MAX_WORDS 65536

typedef struct rom_sym { char name[512]; uint32_t addr; } rom_sym;
typedef struct word_fix { uint32_t word; unsigned kind; } word_fix;

static rom_sym rom[MAX_ROM];
static size_t nrom;

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "mpypack: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

/* name = 0x...; or PROVIDE ( name = 0x... ); one per line; comments skipped. */
static void rom_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open ROM table", path);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char squeezed[512], *o = squeezed;
        for (char *p = line; *p; p++)
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                *o++ = *p;
        *o = '\0';
        char *s = squeezed;
        if (strncmp(s, "PROVIDE(", 8) == 0)
            s += 8;
        char *eq = strchr(s, '=');
        if (!eq || s[0] == '/' || s[0] == '*' || nrom == MAX_ROM)
            continue;
        *eq = '\0';
        snprintf(rom[nrom].name, sizeof rom[nrom].name, "%s", s);
        rom[nrom].addr = (uint32_t)strtoul(eq + 1, NULL, 16);
        nrom++;
    }
    fclose(f);
}

static const rom_sym *rom_find(const char *name)
{
    for (size_t i = 0; i < nrom; i++)
        if (strcmp(rom[i].name, name) == 0)
            return &rom[i];
    return NULL;
}

/* mp_fun_table index of a runtime name (py/nativeglue.h), or -1. */
static int runtime_index(const char *name)
{
    static const char *const names[] = {
        "plat_print", "mp_type_type", "mp_type_str", "mp_type_list", "mp_type_dict",
        "mp_type_fun_builtin_0", "mp_type_fun_builtin_1", "mp_type_fun_builtin_2", "mp_type_fun_builtin_3",
        "mp_type_fun_builtin_var", "mp_obj_type_Exception", "mp_stream_read_obj", "mp_stream_readinto_obj",
        "mp_stream_unbuffered_readline_obj", "mp_stream_write_obj"};
    if (strcmp(name, "memset") == 0)
        return 50;
    if (strcmp(name, "memmove") == 0 || strcmp(name, "memcpy") == 0)
        return 51;
    for (size_t i = 1; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0)
            return 72 + (int)i;
    return -1;
}

static void put_vuint(FILE *f, uint64_t v)
{
    uint8_t buf[10];
    int n = 0;
    do {
        buf[n++] = v & 0x7f;
        v >>= 7;
    } while (v);
    while (n-- > 0)
        fputc(buf[n] | (n ? 0x80 : 0), f);
}

static int fix_cmp(const void *a, const void *b)
{
    const word_fix *x = a, *y = b;
    return (x->word > y->word) - (x->word < y->word);
}

static int is_abs_type(int xtensa, unsigned type)
{
    return xtensa ? (type == 1 /* R_XTENSA_32 */ || type == 6 /* R_XTENSA_PLT */)
                  : (type == 2 /* R_ARM_ABS32 */ || type == 38 /* R_ARM_TARGET1 */);
}

int main(int argc, char **argv)
{
    if (argc != 7)
        die("usage: mpypack ARCH MODNAME LINKED.elf ROMTABLE|- OUT.mpy OUT.sidecar", NULL);
    const char *arch = argv[1];
    int xtensa = strcmp(arch, "xtensa") == 0;
    unsigned arch_code = xtensa ? 9 : strcmp(arch, "armv7m") == 0 ? 5 : 0;
    if (!arch_code)
        die("unsupported arch (xtensa or armv7m)", arch);
    if (strcmp(argv[4], "-") != 0)
        rom_load(argv[4]);

    elf_version(EV_CURRENT);
    int fd = open(argv[3], O_RDONLY);
    if (fd < 0)
        die("cannot open", argv[3]);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    size_t shstrndx;
    if (!e || elf_getshdrstrndx(e, &shstrndx) < 0)
        die("not an ELF file", argv[3]);

    Elf_Scn *scn = NULL, *text = NULL, *rel = NULL, *symtab = NULL;
    GElf_Shdr sh, text_sh = {0}, rel_sh = {0}, sym_sh = {0};
    uint64_t bss_addr = 0, bss_size = 0;
    while ((scn = elf_nextscn(e, scn))) {
        gelf_getshdr(scn, &sh);
        const char *name = elf_strptr(e, shstrndx, sh.sh_name);
        if (strcmp(name, ".text") == 0)
            text = scn, text_sh = sh;
        else if (strcmp(name, ".rela.text") == 0 || strcmp(name, ".rel.text") == 0)
            rel = scn, rel_sh = sh;
        else if (sh.sh_type == SHT_SYMTAB)
            symtab = scn, sym_sh = sh;
        else if (strcmp(name, ".bss") == 0)
            bss_addr = sh.sh_addr, bss_size = sh.sh_size;
        else if (strcmp(name, ".data") == 0 && sh.sh_size)
            die("non-empty .data is not allowed in a native module", argv[3]);
    }
    if (!text || !symtab || text_sh.sh_addr != 0)
        die("no .text at address 0 or no symbol table", argv[3]);
    Elf_Data *td = elf_getdata(text, NULL);
    size_t text_size = text_sh.sh_size;
    uint8_t *code = calloc(text_size + 4, 1);
    memcpy(code, td->d_buf, text_size);

    static word_fix fixes[MAX_WORDS];
    size_t nfix = 0;
    char romlines[65536] = "";
    Elf_Data *sd = elf_getdata(symtab, NULL);
    if (rel) {
        Elf_Data *rd = elf_getdata(rel, NULL);
        size_t n = rel_sh.sh_size / rel_sh.sh_entsize;
        for (size_t i = 0; i < n; i++) {
            GElf_Rela r;
            if (rel_sh.sh_type == SHT_RELA)
                gelf_getrela(rd, (int)i, &r);
            else {
                GElf_Rel rr;
                gelf_getrel(rd, (int)i, &rr);
                r.r_offset = rr.r_offset, r.r_info = rr.r_info, r.r_addend = 0;
            }
            GElf_Sym s;
            gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &s);
            const char *sname = elf_strptr(e, sym_sh.sh_link, s.st_name);
            unsigned type = (unsigned)GELF_R_TYPE(r.r_info);
            if (!is_abs_type(xtensa, type)) {
                if (s.st_shndx == SHN_UNDEF && GELF_R_SYM(r.r_info))
                    die("PC-relative reference to an undefined symbol", sname);
                continue;
            }
            if (r.r_offset % 4 || r.r_offset + 4 > text_size)
                die("unaligned or out-of-range absolute word", sname);
            uint32_t off = (uint32_t)r.r_offset;
            uint32_t v = code[off] | code[off + 1] << 8 | (uint32_t)code[off + 2] << 16 | (uint32_t)code[off + 3] << 24;
            const rom_sym *rs = sname[0] ? rom_find(sname) : NULL;
            unsigned kind;
            if (rs) {
                v = rs->addr;
                char line[200];
                snprintf(line, sizeof line, "rom %u 0x%08x %s\n", off / 4, rs->addr, sname);
                strncat(romlines, line, sizeof romlines - strlen(romlines) - 1);
                kind = 1000; /* no relocation */
            } else if (s.st_shndx == SHN_UNDEF) {
                int idx = runtime_index(sname);
                if (strcmp(sname, "mp_fun_table") == 0)
                    kind = 8;
                else if (strcmp(sname, "mp_native_qstr_table") == 0)
                    kind = 6;
                else if (strcmp(sname, "mp_native_obj_table") == 0)
                    kind = 7;
                else if (idx >= 0)
                    kind = 9 + (unsigned)idx, v = 0;
                else
                    die("undefined symbol", sname);
            } else if (v < text_size) {
                kind = 0;
            } else if (v >= bss_addr && v <= bss_addr + bss_size) {
                kind = 4;
                v -= (uint32_t)bss_addr;
            } else {
                die("absolute word points outside text and bss", sname);
            }
            code[off] = v & 0xff, code[off + 1] = (v >> 8) & 0xff, code[off + 2] = (v >> 16) & 0xff,
            code[off + 3] = v >> 24;
            if (kind != 1000) {
                if (nfix == MAX_WORDS)
                    die("too many relocations", NULL);
                fixes[nfix++] = (word_fix){off / 4, kind};
            }
        }
    }
    qsort(fixes, nfix, sizeof *fixes, fix_cmp);

    FILE *f = fopen(argv[5], "wb");
    FILE *side = fopen(argv[6], "w");
    if (!f || !side)
        die("cannot write", argv[5]);
    fputc('M', f), fputc(6, f), fputc((int)(arch_code << 2 | 3), f), fputc(31, f);
    put_vuint(f, 1), put_vuint(f, 0);
    size_t mlen = strlen(argv[2]);
    put_vuint(f, mlen << 1);
    fwrite(argv[2], 1, mlen + 1, f);
    put_vuint(f, (uint64_t)text_size << 3 | 2); /* viper, no children */
    fwrite(code, 1, text_size, f);
    put_vuint(f, 0x10 | (bss_size ? 0x40 : 0));
    if (bss_size)
        put_vuint(f, bss_size);
    fprintf(side, "arch %s\ntext_size %zu\nrodata_size 0\nbss_size %llu\n", arch, text_size,
            (unsigned long long)bss_size);
    uint32_t next = 0;
    for (size_t i = 0; i < nfix;) {
        size_t j = i + 1;
        /* runs only for text/rodata/bss destinations (k <= 5) */
        while (fixes[i].kind < 6 && j < nfix && fixes[j].kind == fixes[i].kind && fixes[j].word == fixes[j - 1].word + 1)
            j++;
        unsigned k = fixes[i].kind + (j - i > 1 ? 1 : 0);
        int jump = fixes[i].word != next;
        fputc((int)(k << 1 | (unsigned)jump), f);
        if (jump)
            put_vuint(f, (uint64_t)fixes[i].word << 1);
        if (j - i > 1)
            put_vuint(f, j - i);
        fprintf(side, "reloc 0 %u %zu %u\n", fixes[i].word, j - i, k);
        next = fixes[j - 1].word + 1;
        i = j;
    }
    fputc(0xff, f);
    long fsize = ftell(f);
    fputs(romlines, side);
    fprintf(side, "file_size %ld\n", fsize);
    if (fclose(f) || fclose(side))
        die("write error", argv[5]);
    free(code);
    elf_end(e);
    close(fd);
    return 0;
}
