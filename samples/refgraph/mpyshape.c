/*
 * mpyshape.c - a firmware shaped like MicroPython's, for the refgraph tests:
 * the references real builds have, in the places real builds put them.
 *
 *   - function objects (const mp_obj_fun_builtin_t) pointing at C functions;
 *   - module globals tables (const map entries: small-int keys, object
 *     pointers), module objects, and the builtin module table that the
 *     import code searches;
 *   - type objects whose slot tables point at the type's functions
 *     (mp_type_bytearray -> array_subscr);
 *   - frozen content: a names string, a table of module bytecode blobs;
 *   - a loop bound one past the end of a table (&tbl[N]);
 *   - one function kept in IRAM on Xtensa (dht_readinto, as on ESP8266).
 * The linker scripts (mpyshape_xtensa.ld, mpyshape_thumb.ld) place .rodata
 * inside the code section, as ESP8266 (.irom0.text) and stm32 (.text) do.
 *
 * Chains the tests check (root first):
 *   entry -> mp_main -> mp_import -> mp_builtin_module_table -> mp_module_machine
 *         -> machine_module_globals -> machine_module_globals_table
 *         -> dht_readinto_obj -> dht_readinto
 *   bytearray_make (through mp_type_bytearray's slots) -> array_subscr
 */
#include <stddef.h>
#include <stdint.h>

#define FN __attribute__((noipa))
#ifdef __XTENSA__
#define IRAM __attribute__((section(".iram1.text"), noipa))
#else
#define IRAM FN
#endif

typedef uintptr_t mp_obj_t;
typedef struct mp_obj_type_t mp_obj_type_t;
typedef struct { const mp_obj_type_t *type; } mp_obj_base_t;
struct mp_obj_type_t {
    mp_obj_base_t base;
    uint16_t name;
    uint8_t slot_index_make_new, slot_index_subscr;
    const void *slots[4];
};
typedef struct {
    mp_obj_base_t base;
    mp_obj_t (*fun)(mp_obj_t a, mp_obj_t b);
} mp_obj_fun_builtin_t;
typedef struct { mp_obj_t key, value; } mp_map_elem_t;
typedef struct { size_t used; const mp_map_elem_t *table; } mp_map_t;
typedef struct { mp_obj_base_t base; const mp_map_t *globals; } mp_obj_module_t;

#define QSTR(n) ((mp_obj_t)(((n) << 3) | 2))
#define OBJ(p) ((mp_obj_t)(p))

volatile uint32_t mp_io[8];
uint32_t mp_state[16];

const mp_obj_type_t mp_type_type = {{&mp_type_type}, 1, 0, 0, {0, 0, 0, 0}};
const mp_obj_type_t mp_type_fun_builtin_2 = {{&mp_type_type}, 2, 0, 0, {0, 0, 0, 0}};
const mp_obj_type_t mp_type_module = {{&mp_type_type}, 3, 0, 0, {0, 0, 0, 0}};

/* ---- machine module, with a driver function kept in IRAM ---- */
IRAM mp_obj_t dht_readinto(mp_obj_t pin, mp_obj_t buf)
{
    uint32_t v = 0;
    for (int i = 0; i < 40; i++)
        v = (v << 1) | (mp_io[pin & 7] & 1);
    ((uint8_t *)buf)[0] = (uint8_t)v;
    return OBJ(v);
}
const mp_obj_fun_builtin_t dht_readinto_obj = {{&mp_type_fun_builtin_2}, dht_readinto};

FN mp_obj_t machine_freq(mp_obj_t a, mp_obj_t b)
{
    mp_state[1] = (uint32_t)(a + b);
    return OBJ(160000000);
}
const mp_obj_fun_builtin_t machine_freq_obj = {{&mp_type_fun_builtin_2}, machine_freq};

const mp_map_elem_t machine_module_globals_table[] = {
    {QSTR(10), QSTR(11)},
    {QSTR(12), OBJ(&dht_readinto_obj)},
    {QSTR(13), OBJ(&machine_freq_obj)},
};
const mp_map_t machine_module_globals = {3, machine_module_globals_table};
const mp_obj_module_t mp_module_machine = {{&mp_type_module}, &machine_module_globals};

/* ---- array module: a type with a slot table ---- */
FN mp_obj_t array_subscr(mp_obj_t self, mp_obj_t index)
{
    return ((const uint8_t *)self)[index & 15];
}
FN mp_obj_t bytearray_make(mp_obj_t a, mp_obj_t b)
{
    mp_state[2] = (uint32_t)(a ^ b);
    return OBJ(&mp_state[2]);
}
const mp_obj_type_t mp_type_bytearray = {{&mp_type_type}, 20, 1, 2, {bytearray_make, array_subscr, 0, 0}};

FN mp_obj_t array_append(mp_obj_t self, mp_obj_t v)
{
    mp_state[3] = (uint32_t)(self + v);
    return self;
}
const mp_obj_fun_builtin_t array_append_obj = {{&mp_type_fun_builtin_2}, array_append};
const mp_map_elem_t array_module_globals_table[] = {
    {QSTR(21), OBJ(&mp_type_bytearray)},
    {QSTR(22), OBJ(&array_append_obj)},
};
const mp_map_t array_module_globals = {2, array_module_globals_table};
const mp_obj_module_t mp_module_array = {{&mp_type_module}, &array_module_globals};

/* ---- frozen modules ---- */
const char mp_frozen_names[] = "boot.py\0main.py\0";
const uint8_t frozen_module_boot[24] = {'M', 6, 0, 31, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
const uint8_t frozen_module_main[20] = {'M', 6, 0, 31, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
const uint8_t *const mp_frozen_content[] = {frozen_module_boot, frozen_module_main};

FN const uint8_t *mp_find_frozen(mp_obj_t n)
{
    const char *s = mp_frozen_names;
    for (size_t i = 0; i < sizeof mp_frozen_content / sizeof *mp_frozen_content; i++) {
        if ((mp_obj_t)(uint8_t)s[0] == n)
            return mp_frozen_content[i];
        while (*s++)
            ;
    }
    return NULL;
}

/* ---- import: the builtin module table, searched up to one past its end ---- */
const mp_map_elem_t mp_builtin_module_table[] = {
    {QSTR(30), OBJ(&mp_module_machine)},
    {QSTR(31), OBJ(&mp_module_array)},
};
#define N_BUILTIN (sizeof mp_builtin_module_table / sizeof *mp_builtin_module_table)

FN mp_obj_t mp_import(mp_obj_t name)
{
    for (const mp_map_elem_t *e = mp_builtin_module_table; e != &mp_builtin_module_table[N_BUILTIN]; e++)
        if (e->key == name)
            return e->value;
    return OBJ(mp_find_frozen(name));
}

FN mp_obj_t mp_call(mp_obj_t module, mp_obj_t attr, mp_obj_t arg)
{
    const mp_map_t *g = ((const mp_obj_module_t *)module)->globals;
    for (size_t i = 0; i < g->used; i++)
        if (g->table[i].key == attr) {
            const mp_obj_base_t *o = (const mp_obj_base_t *)g->table[i].value;
            if (o->type == &mp_type_fun_builtin_2)
                return ((const mp_obj_fun_builtin_t *)o)->fun(arg, arg);
            if (o->type == &mp_type_type)
                return ((mp_obj_t(*)(mp_obj_t, mp_obj_t))((const mp_obj_type_t *)o)->slots[0])(arg, arg);
        }
    return 0;
}

int mp_main(void)
{
    for (;;) {
        mp_obj_t m = mp_import(mp_io[0]);
        if (m)
            mp_io[1] = (uint32_t)mp_call(m, mp_io[2], mp_io[3]);
    }
}
