/*
 * mpstub.h - a 32-bit stand-in for the MicroPython types that a frozen
 * content file uses, written for the flashsize samples.
 *
 * Only the shapes matter: each struct has the field sizes MicroPython's
 * has on a 32-bit port (docs/frozen.md lists them), so the objects the
 * generated file defines take the bytes a real firmware's would.
 * QSTR_BYTES_IN_HASH (0, 1 or 2) and RAW_CODE_V122 (v1.19-v1.22 raw_code_t)
 * are set on the compiler command line.
 */
#ifndef MPSTUB_H
#define MPSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t byte;
typedef const void *mp_rom_obj_t;
typedef uint16_t qstr_short_t;
typedef uint8_t qstr_len_t;
#if QSTR_BYTES_IN_HASH == 1
typedef uint8_t qstr_hash_t;
#elif QSTR_BYTES_IN_HASH == 2
typedef uint16_t qstr_hash_t;
#endif

/* The firmware's own (static) qstrs end here; frozen ones follow. */
enum { MP_QSTRnumber_of = 500 };

typedef struct _mp_obj_type_t {
    uint16_t flags;
    uint16_t name;
} mp_obj_type_t;

typedef struct _mp_obj_base_t {
    const mp_obj_type_t *type;
} mp_obj_base_t;

extern const mp_obj_type_t mp_type_str, mp_type_bytes, mp_type_tuple, mp_type_int;

typedef struct _qstr_pool_t {
    const struct _qstr_pool_t *prev;
    size_t total_prev_len : 31;
    size_t is_sorted : 1;
    size_t alloc;
    size_t len;
#if QSTR_BYTES_IN_HASH
    qstr_hash_t *hashes;
#endif
    qstr_len_t *lengths;
    const char *qstrs[];
} qstr_pool_t;

extern const qstr_pool_t mp_qstr_const_pool;

typedef struct _mp_obj_str_t {
    mp_obj_base_t base;
    size_t hash;
    size_t len;
    const byte *data;
} mp_obj_str_t;

typedef struct _mp_rom_obj_tuple_t {
    mp_obj_base_t base;
    size_t len;
    mp_rom_obj_t items[];
} mp_rom_obj_tuple_t;

typedef struct _mpz_t {
    size_t neg : 1;
    size_t fixed_dig : 1;
    size_t alloc : 30;
    size_t len;
    uint16_t *dig;
} mpz_t;

typedef struct _mp_obj_int_t {
    mp_obj_base_t base;
    mpz_t mpz;
} mp_obj_int_t;

/* v1.23+: the head of a raw code that has children (12 bytes). */
typedef struct _mp_raw_code_truncated_t {
    uint8_t proto_fun_indicator[2];
    uint8_t kind;
    bool is_generator;
    const void *fun_data;
    const void *const *children;
} mp_raw_code_truncated_t;

/* v1.19-v1.22: every raw code (12 bytes without PERSISTENT_CODE_SAVE). */
typedef struct _mp_raw_code_t {
    uint32_t kind : 3;
    uint32_t scope_flags : 7;
    uint32_t is_generator : 1;
    const void *fun_data;
    const void *const *children;
} mp_raw_code_t;

typedef struct _mp_module_constants_t {
    const qstr_short_t *qstr_table;
    const mp_rom_obj_t *obj_table;
} mp_module_constants_t;

typedef struct _mp_frozen_module_t {
    mp_module_constants_t constants;
    const void *proto_fun;
} mp_frozen_module_t;

#define MP_ROM_INT(i) ((mp_rom_obj_t)(((uintptr_t)(intptr_t)(i) << 1) | 1))
#define MP_ROM_QSTR(q) ((mp_rom_obj_t)(((uintptr_t)(q) << 3) | 2))
#define MP_ROM_PTR(p) ((mp_rom_obj_t)(p))

#endif
