/*
 * mpcore.c - the small hand-written "core" every generated module calls
 * into: a bump allocator over a static heap, a hash, an error hook and a
 * range check.  It gives the samples cross-object calls and a large .bss
 * object (the heap) like a real interpreter has.
 */
#include "fw.h"

#define FW_HEAP_BYTES (16 * 1024)

uint8_t fw_heap[FW_HEAP_BYTES] __attribute__((aligned(8)));
static uint32_t fw_heap_top;
uint32_t fw_core_error_count;
const char *volatile fw_core_last_error;
volatile uint32_t fw_core_last_arg;

static const uint32_t fw_core_mix[16] = {
    0x9e3779b9u, 0x85ebca6bu, 0xc2b2ae35u, 0x27d4eb2fu,
    0x165667b1u, 0xd3a2646cu, 0xfd7046c5u, 0xb55a4f09u,
    0x7f4a7c15u, 0x94d049bbu, 0xbf58476du, 0x1b873593u,
    0xcc9e2d51u, 0xe6546b64u, 0x68e31da4u, 0xb5297a4du,
};

uint32_t fw_core_alloc(uint32_t size, uint32_t flags)
{
    size = (size + 7u) & ~7u;
    if (size > FW_HEAP_BYTES - fw_heap_top) {
        fw_core_raise("memory allocation failed", size);
        return 0;
    }
    uint32_t at = fw_heap_top;
    fw_heap_top += size;
    if (flags & 1u) {
        for (uint32_t i = 0; i < size; i++) {
            fw_heap[at + i] = 0;
        }
    }
    return (uint32_t)(uintptr_t)&fw_heap[at];
}

uint32_t fw_core_hash(uint32_t seed, uint32_t value)
{
    uint32_t h = seed ^ fw_core_mix[value & 15u];
    for (int i = 0; i < 4; i++) {
        h ^= (value >> (8 * i)) & 0xffu;
        h *= 0x01000193u;
        h = (h << 13) | (h >> 19);
    }
    return h ^ fw_core_mix[h >> 28];
}

void fw_core_raise(const char *msg, uint32_t arg)
{
    fw_core_error_count++;
    fw_core_last_error = msg;
    fw_core_last_arg = arg;
}

uint32_t fw_core_check(uint32_t value, uint32_t limit)
{
    if (value >= limit) {
        fw_core_raise("index out of range", value);
        return limit - 1u;
    }
    return value;
}
