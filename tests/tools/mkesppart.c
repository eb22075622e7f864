/*
 * mkesppart.c - test writer: the binary ESP-IDF partition table
 * (partition-table.bin) for a partition CSV, written the way ESP-IDF's
 * gen_esp32part.py writes it (32-byte entries, the MD5 entry, 0xFF to
 * 0xC00 bytes), independently of flashsize's reader, for
 * tests/e2e/test_esp32part.sh.  Checked when it was written against the
 * format gen_esp32part.py (v1.5) packs (struct "<2sBBLL16sL", the MD5
 * entry, 0xFF to 0xC00), restated in a few lines of Python: identical bytes
 * for MicroPython's partitions-4MiB-ota.csv; flashsize reads the tables it
 * writes for all seven of MicroPython v1.28.0's CSVs as it reads the CSVs.
 *
 *   mkesppart IN.csv OUT.bin [--no-md5]
 *
 * Understands what the tests use: app/data types, the subtype keywords
 * factory, test, ota_N, ota, phy, nvs, coredump, nvs_keys, efuse,
 * undefined, fat, spiffs, littlefs, or numbers; offsets and sizes as 0x..
 * or decimal with K/M; empty offsets (app: next 64 KiB, others: 4 KiB,
 * from 0x9000); flags encrypted, readonly.  Prints one line per partition
 * on stdout: "NAME OFFSET SIZE" (decimal).  Exit 1 on anything else.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 0);
    while (*end == 'k' || *end == 'K' || *end == 'm' || *end == 'M')
        v *= (*end == 'k' || *end == 'K') ? 1024 : 1048576, end++;
    if (end == s || *end) {
        fprintf(stderr, "mkesppart: bad number '%s'\n", s);
        exit(1);
    }
    return v;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

static int subtype(int type, const char *s)
{
    static const char *data[] = {"ota", "phy", "nvs", "coredump", "nvs_keys", "efuse", "undefined"};
    if (!*s)
        return 0x06;
    if (type == 0) {
        if (!strcasecmp(s, "factory"))
            return 0;
        if (!strcasecmp(s, "test"))
            return 0x20;
        if (!strncasecmp(s, "ota_", 4))
            return 0x10 + (int)num(s + 4);
    } else if (type == 1) {
        for (int i = 0; i < 7; i++)
            if (!strcasecmp(s, data[i]))
                return i;
        if (!strcasecmp(s, "fat"))
            return 0x81;
        if (!strcasecmp(s, "spiffs"))
            return 0x82;
        if (!strcasecmp(s, "littlefs"))
            return 0x83;
    }
    return (int)num(s);
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mkesppart IN.csv OUT.bin [--no-md5]\n");
        return 1;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in)
        return 1;
    uint8_t table[0xC00];
    memset(table, 0xFF, sizeof table);
    size_t n = 0;
    long last_end = 0x9000;
    char line[1024];
    while (fgets(line, sizeof line, in)) {
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *f[6] = {"", "", "", "", "", ""};
        int nf = 0;
        for (char *p = l; p && nf < 6; nf++) {
            char *c = strchr(p, ',');
            if (c)
                *c = 0;
            f[nf] = trim(p);
            p = c ? c + 1 : NULL;
        }
        int type = !strcasecmp(f[1], "app") ? 0 : !strcasecmp(f[1], "data") ? 1 : (int)num(f[1]);
        int sub = subtype(type, f[2]);
        long off;
        if (*f[3])
            off = num(f[3]);
        else {
            long pad = type == 0 ? 0x10000 : 0x1000;
            off = (last_end + pad - 1) / pad * pad;
        }
        long size = num(f[4]);
        if (size < 0)
            size = -size - off;
        last_end = off + size;
        uint32_t flags = 0;
        if (strstr(f[5], "encrypted"))
            flags |= 1;
        if (strstr(f[5], "readonly"))
            flags |= 2;
        uint8_t *e = table + 32 * n++;
        memset(e, 0, 32);
        e[0] = 0xAA, e[1] = 0x50, e[2] = (uint8_t)type, e[3] = (uint8_t)sub;
        le32(e + 4, (uint32_t)off);
        le32(e + 8, (uint32_t)size);
        strncpy((char *)e + 12, f[0], 16);
        le32(e + 28, flags);
        printf("%s %ld %ld\n", f[0], off, size);
        if (32 * (n + 2) > sizeof table)
            return 1;
    }
    fclose(in);
    if (!(argc > 3 && strcmp(argv[3], "--no-md5") == 0)) {
        uint8_t *m = table + 32 * n;
        memset(m, 0xFF, 16);
        m[0] = m[1] = 0xEB;
        unsigned len = 0;
        EVP_Digest(table, 32 * n, m + 16, &len, EVP_md5(), NULL);
    }
    FILE *o = fopen(argv[2], "wb");
    if (!o || fwrite(table, 1, sizeof table, o) != sizeof table || fclose(o) != 0)
        return 1;
    return 0;
}
