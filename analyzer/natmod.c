/*
 * natmod.c - summarise a native module: sizes, relocations by destination
 * and inferred ROM references (see natmod.h for the inference rule).
 */
#include "natmod.h"

#include <stdlib.h>
#include <string.h>

const char *fs_natmod_dest_name(int dest)
{
    static const char *const names[] = {"text", "rodata", "bss", "qstr_table", "obj_table", "fun_table",
                                        "fun_table_entry"};
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
