/*
 * stubs.c - the firmware-side objects a frozen content file points at:
 * the type objects of its constants and the firmware's own qstr pool.
 * In MicroPython these live in py/; here they only have to exist.
 */
#include "mpstub.h"

const mp_obj_type_t mp_type_str = {1, 10};
const mp_obj_type_t mp_type_bytes = {2, 11};
const mp_obj_type_t mp_type_tuple = {3, 12};
const mp_obj_type_t mp_type_int = {4, 13};

const qstr_pool_t mp_qstr_const_pool = {NULL, 0, true, 0, 0,
#if QSTR_BYTES_IN_HASH
                                        NULL,
#endif
                                        NULL, {NULL}};
