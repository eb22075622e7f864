/*
 * mpy.h - MicroPython .mpy files (format version 6; facts doc section 2,
 * py/persistentcode.h).  The header reader is shared by the ROMFS walker
 * (to report .mpy files inside an image) and the natmod analysis; the
 * whole-file parser (fs_mpy_load) serves `flashsize natmod`.  Ownership:
 * fs_mpy owns every pointer in it (raw code names point into its qstrs) and
 * is released with fs_mpy_free.
 */
#ifndef FS_MPY_H
#define FS_MPY_H

#include "model.h"

#define FS_MPY_MAGIC 'M'

typedef struct fs_mpy_header {
    uint8_t version;        /* major version, 6 for v1.19 and later */
    uint8_t sub_version;    /* feature byte bits 1..0 */
    uint8_t arch;           /* MP_NATIVE_ARCH_*, 0 for bytecode only */
    uint8_t small_int_bits; /* byte 3 */
    bool has_arch_flags;    /* feature bit 6: an arch-flags vuint follows */
    uint64_t arch_flags;
    size_t header_len;      /* 4, or more with the arch-flags vuint */
} fs_mpy_header;

/* Parse the header at data[0..len); name is used in messages. */
int fs_mpy_read_header(const char *name, const uint8_t *data, size_t len, fs_mpy_header *out, fs_error *err);

/* "xtensa", "armv7m", ... or "unknown" for codes outside the table. */
const char *fs_mpy_arch_name(uint8_t arch);

/* Read a .mpy vuint (MSB-first groups of 7 bits) at *pos, advancing it.
 * Fails on a truncated or over-long (more than 64 bits) value. */
int fs_mpy_read_vuint(const uint8_t *data, size_t len, size_t *pos, uint64_t *out);

/* ---- whole-file parser ---------------------------------------------------
 * fs_mpy_load reads a .mpy (format 6, sub-versions 0..3) into fs_mpy: the
 * qstr and object tables, the raw code tree and, for viper raw codes with a
 * relocation stream (native modules from mpy_ld), the decoded relocations.
 * Limits (beyond them the file is refused with an error): */
#define FS_MPY_MAX_FILE     (16u << 20) /* bytes */
#define FS_MPY_MAX_QSTRS    65536u
#define FS_MPY_MAX_OBJS     65536u
#define FS_MPY_MAX_RAWCODES 65536u
#define FS_MPY_MAX_DEPTH    64u         /* raw code and tuple nesting */
#define FS_MPY_MAX_RELOCS   (1u << 20)  /* relocation entries per file */

/* Raw code kinds (kind_len bits 1..0). */
enum { FS_MPY_BYTECODE = 0, FS_MPY_NATIVE = 1, FS_MPY_VIPER = 2, FS_MPY_ASM = 3 };

/* Viper scope flags a native module sets (facts 2.4/2.5). */
#define FS_MPY_SCOPE_VIPERRELOC  0x10u
#define FS_MPY_SCOPE_VIPERRODATA 0x20u
#define FS_MPY_SCOPE_VIPERBSS    0x40u

/* Relocation kinds k = op >> 1 with a fixed meaning. */
#define FS_MPY_RELOC_QSTR_TABLE 6u
#define FS_MPY_RELOC_OBJ_TABLE  7u
#define FS_MPY_RELOC_FUN_TABLE  8u
#define FS_MPY_RELOC_FUN_ENTRY  9u  /* k >= 9: the value mp_fun_table[k - 9] */
#define FS_MPY_FUN_TABLE_SIZE   87u /* entries of mp_fun_table_t (py/nativeglue.h) */

typedef struct fs_mpy_qstr {
    char *str;            /* the text; for static qstrs "<static N>" */
    bool is_static;
    uint64_t static_id;   /* id of a static qstr (v >> 1) */
    size_t offset;        /* file offset of its vuint */
} fs_mpy_qstr;

typedef struct fs_mpy_obj {
    uint8_t type;         /* 0 fun_table .. 10 tuple */
    uint64_t len;         /* payload length (str/bytes/int/float/complex) or tuple count */
    size_t offset, size;  /* file bytes it takes, nested objects included */
} fs_mpy_obj;

typedef struct fs_mpy_reloc {
    size_t offset;        /* file offset of the op byte */
    uint8_t op;
    uint8_t kind;         /* k = op >> 1 */
    uint8_t base;         /* where the patched words are: 0 text, 1 rodata */
    uint64_t word;        /* index of the first patched word in that base */
    uint64_t count;       /* consecutive words patched */
    size_t rawcode;       /* index into fs_mpy.rawcodes */
} fs_mpy_reloc;

typedef struct fs_mpy_rawcode {
    int kind;             /* FS_MPY_BYTECODE .. FS_MPY_ASM */
    size_t offset;        /* file offset of kind_len */
    size_t end;           /* file offset after it, children and relocations included */
    size_t data_offset;   /* file offset of fun_data (the text of a native module) */
    uint64_t data_len;
    uint64_t prelude_offset;            /* native */
    uint64_t scope_flags;               /* viper, asm */
    uint64_t n_pos_args, type_sig;      /* asm */
    uint64_t rodata_size, bss_size;     /* viper */
    size_t rodata_offset;
    int parent;           /* index of the parent raw code, -1 for the top */
    unsigned depth;
    size_t nchildren;
    size_t first_reloc, nrelocs;        /* range in fs_mpy.relocs */
    const char *name;     /* borrowed from qstrs: bytecode's simple name, else NULL */
} fs_mpy_rawcode;

typedef struct fs_mpy {
    char *path;
    fs_mpy_header hdr;
    unsigned word_size;   /* 8 on x64/rv64imc, else 4 */
    fs_mpy_qstr *qstrs; size_t nqstrs;
    fs_mpy_obj *objs;   size_t nobjs;
    fs_mpy_rawcode *rawcodes; size_t nrawcodes; /* pre-order; [0] is the top level */
    fs_mpy_reloc *relocs; size_t nrelocs;
    int natmod;           /* index of the first viper raw code with relocations, or -1 */
    uint8_t *data; size_t len; /* owned copy of the file's bytes */
} fs_mpy;

/* Read and parse path.  On failure out is empty and err names the file,
 * the offset and the problem. */
int fs_mpy_load(const char *path, fs_mpy *out, fs_error *err);
/* Parse bytes already in memory (copied); name is used in messages. */
int fs_mpy_parse(const char *name, const uint8_t *data, size_t len, fs_mpy *out, fs_error *err);
void fs_mpy_free(fs_mpy *m);

/* "bytecode", "native", "viper", "asm". */
const char *fs_mpy_kind_name(int kind);
/* "fun_table", "none", ..., "tuple", or "unknown". */
const char *fs_mpy_obj_type_name(uint8_t type);
/* What a relocation adds: "text", "rodata", "bss", "qstr_table",
 * "obj_table", "fun_table" or "fun_table[N]" with the entry's name when
 * known ("fun_table[51] memmove"), written into buf. */
void fs_mpy_reloc_dest(const fs_mpy_reloc *r, char *buf, size_t len);
/* The name of mp_fun_table entry idx, or NULL when we do not know it. */
const char *fs_mpy_fun_table_name(unsigned idx);

/* The little-endian word at index idx of raw code rc's text; -1 if out of range. */
int fs_mpy_text_word(const fs_mpy *m, size_t rc, uint64_t idx, uint64_t *value);
/* Is text word idx of raw code rc patched by a relocation? */
bool fs_mpy_text_word_relocated(const fs_mpy *m, size_t rc, uint64_t idx);

#endif
