/* runtime.h - the few MicroPython runtime names the sample natmods use;
 * the packer turns references to them into mp_fun_table relocations. */
#ifndef NATMOD_RUNTIME_H
#define NATMOD_RUNTIME_H
typedef unsigned int size_t;
extern void *mp_fun_table[];
extern const char mp_type_type;
void *memcpy(void *dst, const void *src, size_t n);
size_t strlen(const char *s);
int mpy_init(void *self, int n_args, int n_kw, void **args);
#endif
