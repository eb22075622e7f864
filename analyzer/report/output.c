/*
 * output.c - helpers shared by the text, JSON and CSV formatters.
 */
#include "output.h"

#include <elf.h>
#include <string.h>

const char *fs_section_type_name(uint32_t type)
{
    switch (type) {
    case SHT_NULL: return "NULL";
    case SHT_PROGBITS: return "PROGBITS";
    case SHT_SYMTAB: return "SYMTAB";
    case SHT_STRTAB: return "STRTAB";
    case SHT_RELA: return "RELA";
    case SHT_HASH: return "HASH";
    case SHT_DYNAMIC: return "DYNAMIC";
    case SHT_NOTE: return "NOTE";
    case SHT_NOBITS: return "NOBITS";
    case SHT_REL: return "REL";
    case SHT_DYNSYM: return "DYNSYM";
    case SHT_INIT_ARRAY: return "INIT_ARRAY";
    case SHT_FINI_ARRAY: return "FINI_ARRAY";
    case SHT_PREINIT_ARRAY: return "PREINIT_ARRAY";
    case SHT_GROUP: return "GROUP";
    case SHT_SYMTAB_SHNDX: return "SYMTAB_SHNDX";
    case SHT_GNU_HASH: return "GNU_HASH";
    case SHT_GNU_versym: return "VERSYM";
    case SHT_GNU_verneed: return "VERNEED";
    case SHT_GNU_verdef: return "VERDEF";
    case 0x70000003: return "ARM_ATTRIBUTES"; /* also LOPROC+3 on other machines */
    case SHT_ARM_EXIDX: return "ARM_EXIDX";
    default: return "OTHER";
    }
}

const char *fs_symbol_type_name(uint8_t type)
{
    switch (type) {
    case STT_NOTYPE: return "NOTYPE";
    case STT_OBJECT: return "OBJECT";
    case STT_FUNC: return "FUNC";
    case STT_SECTION: return "SECTION";
    case STT_FILE: return "FILE";
    case STT_COMMON: return "COMMON";
    case STT_TLS: return "TLS";
    case STT_GNU_IFUNC: return "IFUNC";
    default: return "OTHER";
    }
}

const char *fs_symbol_bind_name(uint8_t bind)
{
    switch (bind) {
    case STB_LOCAL: return "LOCAL";
    case STB_GLOBAL: return "GLOBAL";
    case STB_WEAK: return "WEAK";
    case STB_GNU_UNIQUE: return "UNIQUE";
    default: return "OTHER";
    }
}

void fs_section_flags(uint64_t flags, char *buf, size_t len)
{
    static const struct {
        uint64_t bit;
        char letter;
    } map[] = {{SHF_WRITE, 'W'}, {SHF_ALLOC, 'A'}, {SHF_EXECINSTR, 'X'}, {SHF_MERGE, 'M'},
               {SHF_STRINGS, 'S'}, {SHF_INFO_LINK, 'I'}, {SHF_LINK_ORDER, 'L'}, {SHF_GROUP, 'G'},
               {SHF_TLS, 'T'}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof map / sizeof *map && n + 1 < len; i++)
        if (flags & map[i].bit)
            buf[n++] = map[i].letter;
    if (len)
        buf[n < len ? n : len - 1] = '\0';
}

double fs_region_percent(const fs_region *r)
{
    return r->length ? (double)r->used * 100.0 / (double)r->length : 0.0;
}

const char *fs_report_verdict(const fs_report *rep)
{
    int worst = fs_report_worst(rep);
    return worst == FS_SEV_ERROR ? "fail" : worst == FS_SEV_WARNING ? "warnings" : "ok";
}

bool fs_report_boots(const fs_report *rep)
{
    static const char *const blocking[] = {"irom0-overflow", "window-exhausted", "boot-segments-overflow",
                                           "romfs-overlap", "region-overflow"};
    for (size_t i = 0; i < rep->nfindings; i++)
        for (size_t j = 0; j < sizeof blocking / sizeof *blocking; j++)
            if (strcmp(rep->findings[i].id, blocking[j]) == 0 && rep->findings[i].severity == FS_SEV_ERROR)
                return false;
    return true;
}
