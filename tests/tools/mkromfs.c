/*
 * mkromfs.c - write a ROMFS image from a spec (format in romfs_writer.h) and
 * print what was written, for the CLI tests.
 *
 *   mkromfs [--no-even] [--trail N BYTE] SPEC OUT.img > MANIFEST
 *
 * SPEC "-" reads standard input.  --trail appends N copies of BYTE after the
 * image (like erased flash or a write's zero padding).  The manifest lists
 * image/header/payload/data/overhead/padding/skipped/vuint_pad/files/dirs
 * totals, then "dir PATH OFFSET RECORD_SIZE OVERHEAD" and
 * "file PATH OFFSET RECORD_SIZE OVERHEAD SIZE DATA_OFFSET" lines.
 */
#include "romfs_writer.h"

static char *mk_read(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *g = realloc(buf, cap *= 2);
            if (!g) {
                free(buf);
                buf = NULL;
            }
            buf = g;
        }
    }
    if (f != stdin)
        fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    rw_fs fs = {0};
    unsigned long trail = 0, trail_byte = 0xff;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--no-even") == 0)
            fs.no_even = true;
        else if (strcmp(argv[i], "--trail") == 0 && i + 2 < argc) {
            trail = strtoul(argv[i + 1], NULL, 0);
            trail_byte = strtoul(argv[i + 2], NULL, 0);
            i += 2;
        } else
            break;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: mkromfs [--no-even] [--trail N BYTE] SPEC OUT.img\n");
        return 2;
    }
    char *spec = mk_read(argv[i]);
    if (!spec) {
        fprintf(stderr, "mkromfs: cannot read %s\n", argv[i]);
        return 2;
    }
    int rc = rw_parse_spec(&fs, spec) < 0 || rw_build(&fs) < 0;
    free(spec);
    if (rc) {
        fprintf(stderr, "mkromfs: %s\n", fs.err);
        rw_free(&fs);
        return 2;
    }
    FILE *out = fopen(argv[i + 1], "wb");
    if (!out || fwrite(fs.img, 1, fs.img_len, out) != fs.img_len) {
        fprintf(stderr, "mkromfs: cannot write %s\n", argv[i + 1]);
        rw_free(&fs);
        return 2;
    }
    for (unsigned long k = 0; k < trail; k++)
        fputc((int)trail_byte, out);
    fclose(out);
    rw_manifest(&fs, stdout);
    rw_free(&fs);
    return 0;
}
