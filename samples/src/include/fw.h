/*
 * fw.h - the few types and helpers shared by the sample firmware sources.
 *
 * The samples are built with -nostdlib and without a C library, so this
 * header defines its own fixed-width types from the compiler's predefined
 * macros.  Nothing here is meant to run; the code only has to compile and
 * link into a firmware image with a realistic shape.
 */
#ifndef SAMPLES_FW_H
#define SAMPLES_FW_H

typedef __UINT8_TYPE__  uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT32_TYPE__  int32_t;
typedef __SIZE_TYPE__   size_t;
typedef __UINTPTR_TYPE__ uintptr_t;

/* An object handle, as an interpreter would pass around. */
typedef void *mp_obj_t;
typedef mp_obj_t (*fw_fun_t)(mp_obj_t, mp_obj_t);

/* One named entry of a module's method table. */
typedef struct fw_method {
    const char *name;
    fw_fun_t fun;
} fw_method_t;

/* A module: its name and its method table. */
typedef struct fw_module {
    const char *name;
    const fw_method_t *table;
    uint32_t count;
} fw_module_t;

/* A frozen (pre-compiled, built-in) script. */
typedef struct fw_frozen {
    const char *name;
    const uint8_t *data;
    uint32_t size;
} fw_frozen_t;

/*
 * Code placed in the memory-mapped SPI flash (irom0) on the ESP8266.  Other
 * targets have no such distinction.
 */
#if defined(__XTENSA__)
#define FLASH_FN(name) __attribute__((section(".irom0.text." #name)))
#else
#define FLASH_FN(name)
#endif

#define FW_NOINLINE __attribute__((noinline))

/* Core services every generated module may call (src/py/mpcore.c). */
uint32_t fw_core_alloc(uint32_t size, uint32_t flags);
uint32_t fw_core_hash(uint32_t seed, uint32_t value);
void fw_core_raise(const char *msg, uint32_t arg);
uint32_t fw_core_check(uint32_t value, uint32_t limit);

/* Tables the image is built around (generated per sample). */
extern const fw_module_t *const fw_module_table[];
extern const uint32_t fw_module_count;
extern const fw_frozen_t fw_frozen_table[];
extern const uint32_t fw_frozen_count;

#endif
