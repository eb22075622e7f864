/*
 * esppart.c - read and verify ESP-IDF partition tables, CSV or binary
 * (esppart.h has the format; facts from ESP-IDF's
 * components/partition_table/gen_esp32part.py, no code from it).
 */
#include "esppart.h"

#include "digest.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    uint8_t value;
} data_subtypes[] = {
    {"ota", 0x00},      {"phy", 0x01},   {"nvs", 0x02},     {"coredump", 0x03}, {"nvs_keys", 0x04},
    {"efuse", 0x05},    {"undefined", 0x06}, {"esphttpd", 0x80}, {"fat", 0x81},  {"spiffs", 0x82},
    {"littlefs", 0x83}, {"tee_ota", 0x90},
};

const char *fs_esppart_type_name(uint8_t type)
{
    return type == FS_ESPPART_TYPE_APP ? "app" : type == FS_ESPPART_TYPE_DATA ? "data" : NULL;
}

const char *fs_esppart_subtype_name(uint8_t type, uint8_t subtype, char *buf, size_t len)
{
    if (type == FS_ESPPART_TYPE_APP) {
        if (subtype == FS_ESPPART_SUBTYPE_FACTORY)
            return "factory";
        if (subtype == FS_ESPPART_SUBTYPE_TEST)
            return "test";
        if (subtype >= FS_ESPPART_SUBTYPE_OTA_0 && subtype < FS_ESPPART_SUBTYPE_OTA_0 + 16) {
            snprintf(buf, len, "ota_%u", (unsigned)(subtype - FS_ESPPART_SUBTYPE_OTA_0));
            return buf;
        }
        if (subtype == 0x30 || subtype == 0x31) {
            snprintf(buf, len, "tee_%u", (unsigned)(subtype - 0x30));
            return buf;
        }
        return NULL;
    }
    if (type == FS_ESPPART_TYPE_DATA)
        for (size_t i = 0; i < sizeof data_subtypes / sizeof data_subtypes[0]; i++)
            if (data_subtypes[i].value == subtype)
                return data_subtypes[i].name;
    return NULL;
}

bool fs_esppart_is_app_slot(const fs_esppart_entry *e)
{
    return e->type == FS_ESPPART_TYPE_APP &&
           (e->subtype == FS_ESPPART_SUBTYPE_FACTORY ||
            (e->subtype >= FS_ESPPART_SUBTYPE_OTA_0 && e->subtype < FS_ESPPART_SUBTYPE_OTA_0 + 16));
}

void fs_esppart_free(fs_esppart *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->entries);
    memset(t, 0, sizeof *t);
}

/* Where an entry is, for messages: "FILE:LINE" or "FILE: entry N". */
static void where(const fs_esppart *t, const fs_esppart_entry *e, char *buf, size_t len)
{
    if (t->binary)
        snprintf(buf, len, "%s: entry %u", t->path, e->line);
    else
        snprintf(buf, len, "%s:%u", t->path, e->line);
}

/* ---- CSV ------------------------------------------------------------------ */

/* A number as gen_esp32part.py's parse_int reads it (int(v, 0) after
 * stripping k/m suffixes, each one multiplying), into *out; a leading '-' is
 * allowed when neg is non-NULL.  Returns false when it is not a number or
 * does not fit in 33 bits (partition offsets and sizes are 32-bit). */
static bool csv_number(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40)
        return false;
    char buf[48];
    memcpy(buf, s, n + 1);
    uint64_t mult = 1;
    while (n > 0 && (buf[n - 1] == 'k' || buf[n - 1] == 'K' || buf[n - 1] == 'm' || buf[n - 1] == 'M')) {
        mult *= (buf[n - 1] == 'k' || buf[n - 1] == 'K') ? 1024u : 1048576u;
        if (mult > (1ull << 40))
            return false;
        buf[--n] = '\0';
    }
    char *p = buf;
    while (*p == ' ' || *p == '\t')
        p++;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && p[1] != '\0') {
        for (const char *q = p; *q; q++) /* Python refuses 010 but takes 000 */
            if (*q != '0' && *q != '_')
                return false;
    }
    uint64_t v = 0;
    bool digits = false, last_us = true;
    for (; *p && *p != ' ' && *p != '\t'; p++) {
        if (*p == '_') { /* Python allows one _ between digits */
            if (last_us && digits)
                return false;
            last_us = true;
            continue;
        }
        int d = isdigit((unsigned char)*p) ? *p - '0'
                : isxdigit((unsigned char)*p) ? tolower((unsigned char)*p) - 'a' + 10
                                              : 99;
        if (d >= base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
        if (v > 0x1FFFFFFFFull)
            return false;
        digits = true;
        last_us = false;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (!digits || last_us || *p)
        return false;
    v *= mult;
    if (v > 0x1FFFFFFFFull)
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static bool streq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

typedef struct csv_row {
    fs_esppart_entry e;
    bool has_offset;
    int64_t size;   /* negative: an end address */
} csv_row;

static int csv_line(const fs_esppart *t, char *line, unsigned lineno, csv_row *row, fs_error *err)
{
    char *fields[6] = {0};
    size_t nf = 0;
    for (char *p = line; nf < 6;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        fields[nf++] = trim(p);
        if (!comma)
            break;
        p = comma + 1;
    }
    for (size_t i = nf; i < 6; i++)
        fields[i] = "";
    memset(row, 0, sizeof *row);
    row->e.line = lineno;
    const char *name = fields[0];
    if (strlen(name) > FS_ESPPART_NAME_MAX)
        return fs_fail(err, "%s:%u: partition name '%.40s' is longer than %u bytes", t->path, lineno, name,
                       FS_ESPPART_NAME_MAX);
    for (const char *c = name; *c; c++)
        if (!isprint((unsigned char)*c))
            return fs_fail(err, "%s:%u: partition name has a byte outside printable ASCII (0x%02x)", t->path, lineno,
                           (unsigned char)*c);
    memcpy(row->e.name, name, strlen(name) + 1);
    /* type */
    const char *ty = fields[1];
    int64_t v;
    if (!*ty)
        return fs_fail(err, "%s:%u: the type field is empty", t->path, lineno);
    if (streq_ci(ty, "app"))
        row->e.type = FS_ESPPART_TYPE_APP;
    else if (streq_ci(ty, "data"))
        row->e.type = FS_ESPPART_TYPE_DATA;
    else if (streq_ci(ty, "bootloader") || streq_ci(ty, "partition_table"))
        return fs_fail(err, "%s:%u: '%s' entries are not supported (their place comes from the build's configuration)",
                       t->path, lineno, ty);
    else if (csv_number(ty, &v) && v >= 0 && v <= 0xFE)
        row->e.type = (uint8_t)v;
    else
        return fs_fail(err, "%s:%u: type '%.40s' is not app, data or a number 0-254", t->path, lineno, ty);
    /* subtype */
    const char *st = fields[2];
    if (!*st) {
        if (row->e.type == FS_ESPPART_TYPE_APP)
            return fs_fail(err, "%s:%u: an app partition needs a subtype (factory, ota_N, test)", t->path, lineno);
        row->e.subtype = 0x06; /* "undefined" */
    } else if (csv_number(st, &v)) {
        if (v < 0 || v > 0xFE)
            return fs_fail(err, "%s:%u: subtype %.40s is not between 0 and 254", t->path, lineno, st);
        row->e.subtype = (uint8_t)v;
    } else {
        bool found = false;
        char buf[16];
        for (unsigned s = 0; s < 256 && !found; s++) {
            const char *n = fs_esppart_subtype_name(row->e.type, (uint8_t)s, buf, sizeof buf);
            if (n && streq_ci(n, st)) {
                row->e.subtype = (uint8_t)s;
                found = true;
            }
        }
        if (!found)
            return fs_fail(err, "%s:%u: subtype '%.40s' is not known for type %s", t->path, lineno, st, ty);
    }
    /* offset */
    if (*fields[3]) {
        if (!csv_number(fields[3], &v) || v < 0 || v > 0xFFFFFFFFll)
            return fs_fail(err, "%s:%u: offset '%.40s' is not a number between 0 and 0xFFFFFFFF", t->path, lineno,
                           fields[3]);
        row->e.offset = (uint32_t)v;
        row->has_offset = true;
    }
    /* size */
    if (!*fields[4])
        return fs_fail(err, "%s:%u: the size field is empty", t->path, lineno);
    if (!csv_number(fields[4], &row->size) || row->size > 0xFFFFFFFFll || row->size < -0xFFFFFFFFll)
        return fs_fail(err, "%s:%u: size '%.40s' is not a number that fits 32 bits", t->path, lineno, fields[4]);
    /* flags: colon separated */
    char *fl = fields[5];
    for (char *tok = fl; tok && *tok;) {
        char *colon = strchr(tok, ':');
        if (colon)
            *colon = '\0';
        char *f = trim(tok);
        if (strcmp(f, "encrypted") == 0)
            row->e.flags |= 1u;
        else if (strcmp(f, "readonly") == 0)
            row->e.flags |= 2u;
        else if (*f)
            return fs_fail(err, "%s:%u: unknown flag '%.40s' (known: encrypted, readonly)", t->path, lineno, f);
        tok = colon ? colon + 1 : NULL;
    }
    return 0;
}

static int parse_csv(fs_esppart *t, const uint8_t *data, size_t len, fs_error *err)
{
    char *text = malloc(len + 1);
    csv_row *rows = NULL;
    size_t nrows = 0;
    int rc = -1;
    if (!text)
        return fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
    memcpy(text, data, len);
    text[len] = '\0';
    if (memchr(data, '\0', len)) {
        fs_fail(err, "%s: a NUL byte: not a partition table CSV", t->path);
        goto done;
    }
    char *p = text;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 byte order mark */
        p += 3;
    unsigned lineno = 0;
    while (p && *p) {
        char *nl = strpbrk(p, "\r\n");
        char *next = NULL;
        if (nl) {
            next = nl + 1;
            if (*nl == '\r' && *next == '\n')
                next++;
            *nl = '\0';
        }
        lineno++;
        char *line = trim(p);
        p = next;
        if (!*line || *line == '#')
            continue;
        if (strlen(line) > 1000) {
            fs_fail(err, "%s:%u: line longer than 1000 characters", t->path, lineno);
            goto done;
        }
        if (strchr(line, '$')) {
            fs_fail(err, "%s:%u: environment variables ($NAME) are not expanded; give the table the build used "
                         "(build/partition_table/partition-table.bin)",
                    t->path, lineno);
            goto done;
        }
        if (nrows >= FS_ESPPART_MAX_PARTITIONS) {
            fs_fail_kind(err, FS_ERR_LIMIT, "%s:%u: more than %u partitions do not fit the 0x%x-byte table", t->path,
                         lineno, FS_ESPPART_MAX_PARTITIONS, FS_ESPPART_MAX_TABLE_BYTES);
            goto done;
        }
        if (nrows % 16 == 0) {
            csv_row *r = realloc(rows, (nrows + 16) * sizeof *rows);
            if (!r) {
                fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
                goto done;
            }
            rows = r;
        }
        if (csv_line(t, line, lineno, &rows[nrows], err) < 0)
            goto done;
        nrows++;
    }
    /* offsets left empty follow the previous end, aligned by type; sizes
     * given as -END reach END */
    uint64_t last_end = FS_ESPPART_TABLE_OFFSET + FS_ESPPART_TABLE_SIZE;
    for (size_t i = 0; i < nrows; i++) {
        csv_row *r = &rows[i];
        if (r->has_offset && r->e.offset < last_end) {
            fs_fail(err, "%s:%u: partition '%s' at 0x%" PRIx32 " overlaps %s ending at 0x%" PRIx64, t->path, r->e.line,
                    r->e.name, r->e.offset, i == 0 ? "the partition table" : "the previous partition", last_end);
            goto done;
        }
        if (!r->has_offset) {
            uint64_t pad = r->e.type == FS_ESPPART_TYPE_APP ? 0x10000u : 0x1000u;
            last_end = (last_end + pad - 1) / pad * pad;
            if (last_end > 0xFFFFFFFFu) {
                fs_fail(err, "%s:%u: partition '%s' would start past 4 GiB", t->path, r->e.line, r->e.name);
                goto done;
            }
            r->e.offset = (uint32_t)last_end;
        }
        int64_t size = r->size;
        if (size < 0) {
            size = -size - (int64_t)r->e.offset;
            if (size < 0) {
                fs_fail(err, "%s:%u: partition '%s' ends (0x%" PRIx64 ") before it starts (0x%" PRIx32 ")", t->path,
                        r->e.line, r->e.name, (uint64_t)-r->size, r->e.offset);
                goto done;
            }
        }
        if ((uint64_t)r->e.offset + (uint64_t)size > 0x100000000ull) {
            fs_fail(err, "%s:%u: partition '%s' ends past 4 GiB", t->path, r->e.line, r->e.name);
            goto done;
        }
        r->e.size = (uint32_t)size;
        last_end = (uint64_t)r->e.offset + (uint64_t)size;
    }
    if (nrows) {
        t->entries = calloc(nrows, sizeof *t->entries);
        if (!t->entries) {
            fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < nrows; i++)
            t->entries[i] = rows[i].e;
    }
    t->nentries = nrows;
    rc = 0;
done:
    free(rows);
    free(text);
    return rc;
}

/* ---- binary --------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int parse_binary(fs_esppart *t, const uint8_t *data, size_t len, fs_error *err)
{
    if (len > FS_ESPPART_MAX_BIN_BYTES)
        return fs_fail_kind(err, FS_ERR_LIMIT, "%s: %zu bytes: a partition table is at most 0x%x bytes (one flash sector)",
                            t->path, len, FS_ESPPART_MAX_BIN_BYTES);
    t->entries = calloc(FS_ESPPART_MAX_ENTRIES, sizeof *t->entries);
    if (!t->entries)
        return fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t o = 0;; o += 32) {
        unsigned idx = (unsigned)(o / 32 + 1);
        if (o + 32 > len)
            return fs_fail(err, "%s: entry %u: the table ends without its end marker (32 bytes of 0xFF)%s", t->path, idx,
                           len % 32 ? " in the middle of an entry" : "");
        const uint8_t *e = data + o;
        bool end = true;
        for (int i = 0; i < 32; i++)
            end = end && e[i] == 0xFF;
        if (end)
            break;
        if (o + 32 > FS_ESPPART_MAX_TABLE_BYTES)
            return fs_fail(err, "%s: entry %u: entries run past 0x%x bytes, the most a table may hold", t->path, idx,
                           FS_ESPPART_MAX_TABLE_BYTES);
        if (e[0] == 0xEB && e[1] == 0xEB) {
            unsigned char md[16];
            if (fs_digest(FS_DIGEST_MD5, data, o, md) < 0)
                return fs_fail(err, "%s: MD5 not available (libcrypto; use flashsize-full)", t->path);
            if (memcmp(md, e + 16, 16) != 0)
                return fs_fail(err, "%s: entry %u: the MD5 of the %u entries before it does not match (the table is damaged)",
                               t->path, idx, idx - 1);
            t->has_md5 = true;
            continue;
        }
        if (e[0] != 0xAA || e[1] != 0x50)
            return fs_fail(err, "%s: entry %u: magic %02X %02X, not AA 50 (a partition), EB EB (MD5) or FF (end)", t->path,
                           idx, e[0], e[1]);
        if (t->has_md5)
            return fs_fail(err, "%s: entry %u: a partition after the MD5 entry", t->path, idx);
        fs_esppart_entry *p = &t->entries[n++];
        p->type = e[2];
        p->subtype = e[3];
        p->offset = le32(e + 4);
        p->size = le32(e + 8);
        p->flags = le32(e + 28);
        p->line = idx;
        size_t nl = 0;
        while (nl < 16 && e[12 + nl])
            nl++;
        for (size_t i = 0; i < nl; i++)
            if (!isprint(e[12 + i]))
                return fs_fail(err, "%s: entry %u: the name has a byte outside printable ASCII (0x%02x)", t->path, idx,
                               e[12 + i]);
        memcpy(p->name, e + 12, nl);
        p->name[nl] = '\0';
        if ((uint64_t)p->offset + p->size > 0x100000000ull)
            return fs_fail(err, "%s: entry %u: partition '%s' 0x%" PRIx32 "+0x%" PRIx32 " ends past 4 GiB", t->path, idx,
                           p->name, p->offset, p->size);
    }
    t->nentries = n;
    return 0;
}

/* ---- verify --------------------------------------------------------------- */

static int cmp_offset(const void *a, const void *b)
{
    const fs_esppart_entry *x = *(const fs_esppart_entry *const *)a, *y = *(const fs_esppart_entry *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset ? 1 : (x->line > y->line) - (x->line < y->line);
}

static int verify(const fs_esppart *t, uint64_t flash_size, fs_error *err)
{
    char at[600], at2[600];
    if (t->nentries == 0)
        return fs_fail(err, "%s: no partitions", t->path);
    const fs_esppart_entry *otadata = NULL;
    bool any_app = false;
    for (size_t i = 0; i < t->nentries; i++) {
        const fs_esppart_entry *e = &t->entries[i];
        where(t, e, at, sizeof at);
        uint32_t align = e->type == FS_ESPPART_TYPE_APP ? 0x10000u : 0x1000u;
        if (e->offset % align)
            return fs_fail(err, "%s: partition '%s' offset 0x%" PRIx32 " is not aligned to 0x%" PRIx32 "%s", at, e->name,
                           e->offset, align, e->type == FS_ESPPART_TYPE_APP ? " (app partitions start on 64 KiB)" : "");
        if (e->type == FS_ESPPART_TYPE_APP && e->size % 0x1000u)
            return fs_fail(err, "%s: app partition '%s' size 0x%" PRIx32 " is not a multiple of 0x1000", at, e->name,
                           e->size);
        if (e->offset < FS_ESPPART_TABLE_OFFSET + FS_ESPPART_TABLE_SIZE)
            return fs_fail(err, "%s: partition '%s' offset 0x%" PRIx32 " is below 0x%x, the end of the partition table", at,
                           e->name, e->offset, FS_ESPPART_TABLE_OFFSET + FS_ESPPART_TABLE_SIZE);
        if (flash_size && (uint64_t)e->offset + e->size > flash_size)
            return fs_fail(err, "%s: partition '%s' 0x%" PRIx32 "-0x%" PRIx64 " ends past the %" PRIu64 "-byte flash", at,
                           e->name, e->offset, (uint64_t)e->offset + e->size, flash_size);
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->entries[j].name, e->name) == 0) {
                where(t, &t->entries[j], at2, sizeof at2);
                return fs_fail(err, "%s: partition name '%s' used twice (first at %s)", at, e->name, at2);
            }
        if (e->type == FS_ESPPART_TYPE_DATA && e->subtype == 0x00) {
            if (otadata) {
                where(t, otadata, at2, sizeof at2);
                return fs_fail(err, "%s: a second otadata partition '%s' (the first: '%s' at %s)", at, e->name,
                               otadata->name, at2);
            }
            if (e->size != 0x2000)
                return fs_fail(err, "%s: otadata partition '%s' is 0x%" PRIx32 " bytes; it must be 0x2000", at, e->name,
                               e->size);
            otadata = e;
        }
        any_app = any_app || fs_esppart_is_app_slot(e);
    }
    const fs_esppart_entry **sorted = malloc(t->nentries * sizeof *sorted);
    if (!sorted)
        return fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->nentries; i++)
        sorted[i] = &t->entries[i];
    qsort(sorted, t->nentries, sizeof *sorted, cmp_offset);
    for (size_t i = 1; i < t->nentries; i++) {
        const fs_esppart_entry *a = sorted[i - 1], *b = sorted[i];
        if ((uint64_t)b->offset < (uint64_t)a->offset + a->size) {
            where(t, b, at, sizeof at);
            where(t, a, at2, sizeof at2);
            free(sorted);
            return fs_fail(err, "%s: partition '%s' at 0x%" PRIx32 " overlaps '%s' 0x%" PRIx32 "-0x%" PRIx64 " (%s)", at,
                           b->name, b->offset, a->name, a->offset, (uint64_t)a->offset + a->size - 1, at2);
        }
    }
    free(sorted);
    if (!any_app)
        return fs_fail(err, "%s: no app partition (factory or ota_N) to hold the application", t->path);
    return 0;
}

int fs_esppart_parse(const char *name, const uint8_t *data, size_t len, uint64_t flash_size, fs_esppart *out,
                     fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(out->path = strdup(name)))
        return fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
    out->binary = len >= 2 && ((data[0] == 0xAA && data[1] == 0x50) || (data[0] == 0xEB && data[1] == 0xEB));
    int rc = out->binary ? parse_binary(out, data, len, err) : parse_csv(out, data, len, err);
    if (rc == 0)
        rc = verify(out, flash_size, err);
    if (rc < 0)
        fs_esppart_free(out);
    return rc;
}

int fs_esppart_load(const char *path, uint64_t flash_size, fs_esppart *out, fs_error *err)
{
    unsigned char *data;
    size_t len;
    memset(out, 0, sizeof *out);
    if (fs_read_file(path, FS_ESPPART_MAX_CSV_BYTES, "partition table", &data, &len, err) < 0)
        return -1;
    int rc = fs_esppart_parse(path, data, len, flash_size, out, err);
    free(data);
    return rc;
}
