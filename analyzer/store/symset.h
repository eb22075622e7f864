/*
 * symset.h - the packed forms of a build's symbol table, as the size
 * history stores them (store.c): a full snapshot, or a delta against
 * another build's table.  Pure encoding and decoding over arrays of
 * records; no SQL, no JSON.
 *
 * A record is a symbol with its strings replaced by ids of the store's
 * string table: (name, address, size, type, bind, section).  Tables are
 * kept sorted by fs_symrec_cmp (address first), which is the order of both
 * encodings.
 *
 * Snapshot (schema v1's only form, unchanged): varints - the number of
 * distinct (type, bind, section) kinds and the kinds as string ids; the
 * record count; then per record: name id, address minus the previous
 * address (zigzag), size, kind index.  Sorted, it is canonical: equal
 * tables give equal bytes, so its hash identifies a table.
 *
 * Delta: the kinds of the inserted records (as above), then operations
 * over the base table read front to back, each a varint (count << 2 | op):
 *   COPY n    the next n base records, each address plus the current shift;
 *   SKIP n    drop the next n base records;
 *   INSERT n  n new records follow (name, address minus the previous output
 *             address (zigzag), size, kind index);
 *   SHIFT     (count 0) a zigzag varint follows, added to the current shift.
 * A symbol that grows by 4 bytes costs SKIP 1, INSERT 1 (its new size),
 * SHIFT +4 and one COPY for all the symbols after it: a few bytes instead
 * of a new snapshot.  A changed symbol is a SKIP and an INSERT.  The whole
 * base must be consumed, and the result must come out sorted, or the delta
 * is corrupt.
 *
 * Ownership: decoders return malloc'd arrays the caller frees; encoders
 * append to a caller's fs_symbuf (free its p).
 */
#ifndef FS_SYMSET_H
#define FS_SYMSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct fs_symrec {
    int64_t name;           /* string ids; 0 = NULL (a section may be null) */
    uint64_t addr, size;
    int64_t type, bind, section;
} fs_symrec;

typedef struct fs_symbuf {
    unsigned char *p;
    size_t len, cap;
} fs_symbuf;

/* Results of the decoders. */
#define FS_SYMSET_OK       0
#define FS_SYMSET_NOMEM   -1
#define FS_SYMSET_CORRUPT -2

/* Order by address, name, size, type, bind, section. */
int fs_symrec_cmp(const void *a, const void *b);
void fs_symrec_sort(fs_symrec *v, size_t n);
/* Same records in the same order? */
int fs_symrec_equal(const fs_symrec *a, size_t na, const fs_symrec *b, size_t nb);

/* Encoders over sorted tables; 0, or -1 when out of memory. */
int fs_symset_pack_full(const fs_symrec *v, size_t n, fs_symbuf *out);
int fs_symset_pack_delta(const fs_symrec *base, size_t nb, const fs_symrec *v, size_t n, fs_symbuf *out);

/* Decoders: FS_SYMSET_OK with *out (malloc'd, sorted) and *n, or an error. */
int fs_symset_unpack_full(const unsigned char *p, size_t len, fs_symrec **out, size_t *n);
int fs_symset_apply_delta(const fs_symrec *base, size_t nb, const unsigned char *p, size_t len, fs_symrec **out,
                          size_t *n);

/* FNV-1a of a packed snapshot, kept positive for SQLite. */
int64_t fs_symset_hash(const unsigned char *p, size_t len);

#endif
