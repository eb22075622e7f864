/*
 * mkespimg.c - test writer: the ESP32 app image esptool's `elf2image`
 * (default options: SHA-256 appended, no secure padding) writes for an ELF,
 * byte for byte (but for the ELF SHA-256 esptool patches into an app
 * description at 0xB0, which changes no size), so that tests/e2e/test_esp32part.sh can give flashsize a
 * real image file and compare the size flashsize computes from the ELF
 * with the size of a file written independently of it.  Checked against
 * esptool (espressif/esptool esptool/bin_image.py) when it was written:
 * identical bytes for the sample and 40 random layouts.
 *
 *   mkespimg IN.elf OUT.bin [--corrupt-checksum]
 *
 * Prints "size N" and "segments N" on stdout.  Exit 1 on any error.
 */
#include <fcntl.h>
#include <gelf.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALIGN64K 0x10000u

typedef struct { uint32_t addr; uint8_t *data; size_t off, len; const char *name; unsigned types; } seg;

static const uint32_t mm[][2] = {
    {0x00000000, 0x00010000}, {0x3F400000, 0x3F800000}, {0x3F800000, 0x3FC00000}, {0x3FF80000, 0x3FF82000},
    {0x3FF90000, 0x40000000}, {0x3FFAE000, 0x40000000}, {0x3FFE0000, 0x3FFFFFFC}, {0x40000000, 0x40070000},
    {0x40070000, 0x40078000}, {0x40078000, 0x40080000}, {0x40080000, 0x400A0000}, {0x400A0000, 0x400BFFFC},
    {0x400C0000, 0x400C2000}, {0x400D0000, 0x40400000}, {0x50000000, 0x50002000},
};

static unsigned types_of(uint32_t a)
{
    unsigned m = 0;
    for (unsigned i = 0; i < sizeof mm / sizeof mm[0]; i++)
        if (a >= mm[i][0] && a < mm[i][1])
            m |= 1u << i;
    return m;
}

static int flash(uint32_t a) { return (a >= 0x400D0000u && a < 0x40400000u) || (a >= 0x3F400000u && a < 0x3F800000u); }

static uint8_t *out;
static size_t pos, cap;
static uint8_t sum = 0xEF;

static void put(const void *p, size_t n, int checksum)
{
    if (pos + n > cap) {
        cap = (pos + n) * 2;
        out = realloc(out, cap);
        if (!out)
            exit(1);
    }
    if (p)
        memcpy(out + pos, p, n);
    else
        memset(out + pos, 0, n);
    if (checksum)
        for (size_t i = 0; i < n; i++)
            sum ^= out[pos + i];
    pos += n;
}

static unsigned nsegs;
static void write_seg(uint32_t addr, const uint8_t *data, size_t len)
{
    uint8_t h[8] = {(uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16), (uint8_t)(addr >> 24),
                    (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    put(h, 8, 0);
    put(data, len, 1);
    nsegs++;
}

static int cmp(const void *a, const void *b)
{
    const seg *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* by address, equal ones kept in order (Python's sorted) */
static void sort_stable(seg *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(&v[j - 1], &v[j]) > 0; j--) {
            seg t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mkespimg IN.elf OUT.bin [--corrupt-checksum]\n");
        return 1;
    }
    elf_version(EV_CURRENT);
    int fd = open(argv[1], O_RDONLY);
    Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
    size_t shstr;
    if (!e || elf_getshdrstrndx(e, &shstr) != 0) {
        fprintf(stderr, "mkespimg: %s: not an ELF\n", argv[1]);
        return 1;
    }
    GElf_Ehdr eh;
    gelf_getehdr(e, &eh);
    seg s[256];
    size_t n = 0;
    for (Elf_Scn *sc = NULL; (sc = elf_nextscn(e, sc)) != NULL;) {
        GElf_Shdr sh;
        gelf_getshdr(sc, &sh);
        if (!sh.sh_addr || !sh.sh_size || n == 256)
            continue;
        if (sh.sh_type != SHT_PROGBITS && sh.sh_type != SHT_INIT_ARRAY && sh.sh_type != SHT_FINI_ARRAY &&
            sh.sh_type != SHT_PREINIT_ARRAY)
            continue;
        Elf_Data *d = elf_getdata(sc, NULL);
        size_t len = (sh.sh_size + 3) & ~(size_t)3;
        s[n].data = calloc(1, len + 1);
        memcpy(s[n].data, d->d_buf, sh.sh_size);
        s[n].len = len;
        s[n].off = 0;
        s[n].addr = (uint32_t)sh.sh_addr;
        s[n].name = elf_strptr(e, shstr, sh.sh_name);
        s[n].types = types_of(s[n].addr);
        n++;
    }
    /* merge adjacent sections of the same memory types, last to first */
    int keep[256];
    for (size_t i = n - 1; i > 0; i--) {
        seg *a = &s[i - 1], *b = &s[i];
        keep[i] = !(a->types == b->types && b->addr == a->addr + a->len);
        if (!keep[i]) {
            a->data = realloc(a->data, a->len + b->len);
            if (!a->data)
                return 1;
            memcpy(a->data + a->len, b->data, b->len);
            a->len += b->len;
            free(b->data);
            b->data = NULL;
        }
    }
    keep[0] = 1;
    seg fl[256], ram[256];
    size_t nf = 0, nr = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            (flash(s[i].addr) ? (fl[nf++] = s[i]) : (ram[nr++] = s[i]));
    sort_stable(fl, nf);
    sort_stable(ram, nr);
    for (size_t i = 0; i < nf; i++)
        if (strcmp(fl[i].name, ".flash.appdesc") == 0 && i) {
            seg t = fl[i];
            memmove(fl + 1, fl, i * sizeof *fl);
            fl[0] = t;
        }
    uint8_t hdr[24] = {0xE9, 0, 0, 0, (uint8_t)eh.e_entry, (uint8_t)(eh.e_entry >> 8), (uint8_t)(eh.e_entry >> 16),
                       (uint8_t)(eh.e_entry >> 24), 0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    put(hdr, 24, 0);
    size_t ri = 0;
    for (size_t fi = 0; fi < nf;) {
        seg *f = &fl[fi];
        long pad = (long)(ALIGN64K - pos % ALIGN64K) + (long)(f->addr % ALIGN64K) - 8;
        if (pad == 0 || pad == (long)ALIGN64K)
            pad = 0;
        else if ((pad -= 8) < 0)
            pad += ALIGN64K;
        if (pad > 0) {
            if (ri < nr && pad > 8) {
                size_t take = ram[ri].len < (size_t)pad ? ram[ri].len : (size_t)pad;
                write_seg(ram[ri].addr, ram[ri].data + ram[ri].off, take);
                ram[ri].off += take;
                ram[ri].len -= take;
                ram[ri].addr += (uint32_t)take;
                if (!ram[ri].len)
                    ri++;
            } else {
                write_seg(0, NULL, (size_t)pad);
            }
        } else {
            size_t rem = (pos + f->len + 8) % ALIGN64K;
            size_t len = f->len + (rem < 0x24 ? 0x24 - rem : 0);
            uint8_t *d = calloc(1, len);
            memcpy(d, f->data, f->len);
            write_seg(f->addr, d, len);
            free(d);
            fi++;
        }
    }
    for (; ri < nr; ri++)
        write_seg(ram[ri].addr, ram[ri].data + ram[ri].off, ram[ri].len);
    put(NULL, 15 - pos % 16, 0);
    uint8_t c = argc > 3 && strcmp(argv[3], "--corrupt-checksum") == 0 ? (uint8_t)(sum ^ 0x5A) : sum;
    put(&c, 1, 0);
    out[1] = (uint8_t)nsegs;
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_Digest(out, pos, md, &mdlen, EVP_sha256(), NULL);
    put(md, 32, 0);
    FILE *o = fopen(argv[2], "wb");
    if (!o || fwrite(out, 1, pos, o) != pos || fclose(o) != 0) {
        fprintf(stderr, "mkespimg: cannot write %s\n", argv[2]);
        return 1;
    }
    printf("size %zu\nsegments %u\n", pos, nsegs);
    for (size_t i = 0; i < n; i++)
        free(s[i].data);
    free(out);
    elf_end(e);
    close(fd);
    return 0;
}
