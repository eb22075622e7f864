/*
 * elfread.h - the ELF reader (on libelf): sections, program headers, symbols.
 */
#ifndef FS_ELFREAD_H
#define FS_ELFREAD_H

#include "model.h"

/* Limits: inputs beyond these are rejected with a clear error. */
#define FS_ELF_MAX_FILE_BYTES (512ull << 20)
#define FS_ELF_MAX_SECTIONS   100000u
#define FS_ELF_MAX_SEGMENTS   65535u
#define FS_ELF_MAX_SYMBOLS    5000000u

/* Read the ELF file at path into img (zeroed by the caller).  On failure img
 * is left empty and err names the file and the problem. */
int fs_elf_load(const char *path, fs_image *img, fs_error *err);

/* The same from memory; name is used in messages.  data is borrowed for the
 * duration of the call only. */
int fs_elf_load_mem(const char *name, const void *data, size_t len, fs_image *img, fs_error *err);

/* Map again the file img was loaded from, for analyses that look into
 * section contents (read-only, no copy: give it back with fs_unmap_file).
 * Fails with "file changed since it was read" if its size is no longer
 * img->file_size. */
int fs_elf_reread(const fs_image *img, const unsigned char **data, size_t *len, fs_error *err);

/* "Xtensa", "ARM", "RISC-V", "x86-64", ... or "machine N" written into buf. */
const char *fs_elf_machine_name(uint16_t machine, char *buf, size_t len);

#endif
