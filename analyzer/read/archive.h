/*
 * archive.h - relocatable objects (.o, ET_REL) and ar archives of them
 * (libgcc.a, libc.a), read with libelf, for linking questions asked offline:
 * which member defines a name, what it needs, and how many bytes it adds.
 *
 * An object is kept as its fs_image (sections and symbols, elfread.c) plus
 * its allocated bytes in four classes, classified like the Berkeley form of
 * `size`: SHF_ALLOC sections only; SHT_NOBITS is bss, SHF_EXECINSTR text,
 * SHF_WRITE data, anything else rodata.  A linker that takes a member takes
 * all of its allocated sections, so these sums are what the member costs.
 *
 * An archive is read whole into memory (capped) and walked member by
 * member with elf_begin/elf_next/elf_getarhdr; the symbol index ("/",
 * "/SYM64/") and long-name table ("//") are skipped.  Every member must be
 * an ELF relocatable object lying wholly inside the file.
 *
 * Errors name the file, and for a member the member too: "libc.a(foo.o):
 * not an ELF file (bad magic)".
 *
 * Ownership: fs_object and fs_archive own everything they point to;
 * release with fs_object_free / fs_archive_free.
 */
#ifndef FS_ARCHIVE_H
#define FS_ARCHIVE_H

#include "model.h"

#define FS_ARCHIVE_MAX_BYTES   (256ull << 20)
#define FS_ARCHIVE_MAX_MEMBERS 100000u

typedef struct fs_object {
    char *name;                       /* the path of a .o; the member name inside an archive */
    fs_image img;                     /* sections and symbols (img.path is "lib.a(member.o)" for members) */
    uint64_t text, rodata, data, bss; /* allocated bytes by class */
    uint64_t member_offset;           /* archive member: file offset of its contents; 0 for a .o */
    uint64_t member_size;             /* archive member: bytes in the archive; file size for a .o */
} fs_object;

typedef struct fs_archive {
    char *path;
    fs_object *members;
    size_t nmembers; /* in archive order */
} fs_archive;

/* Read a relocatable object file (ET_REL). */
int fs_object_load(const char *path, fs_object *out, fs_error *err);
/* The same from memory (borrowed for the call); label is used in messages
 * and becomes img.path, name becomes out->name. */
int fs_object_load_mem(const char *label, const char *name, const void *data, size_t len, fs_object *out,
                       fs_error *err);
void fs_object_free(fs_object *o);

/* Read an ar archive of relocatable objects. */
int fs_archive_load(const char *path, fs_archive *out, fs_error *err);
void fs_archive_free(fs_archive *a);

/* Bytes the object puts into an image file: text + rodata + data (bss excluded). */
uint64_t fs_object_file_bytes(const fs_object *o);

/* Is s a definition visible to other objects (GLOBAL or WEAK, not UNDEF)? */
bool fs_symbol_is_global_def(const fs_symbol *s);
/* Is s an undefined reference (UNDEF, GLOBAL or WEAK, with a name)? */
bool fs_symbol_is_undef_ref(const fs_symbol *s);

/* The global or weak definition of name in o, or NULL. */
const fs_symbol *fs_object_defines(const fs_object *o, const char *name);
/* Index of the first member (archive order) that defines name, or -1. */
long fs_archive_find(const fs_archive *a, const char *name);

#endif
