/*
 * cli.c - helpers shared by the subcommands (messages, numbers, output).
 *
 * Every report goes out the same way: cli_write_output opens the output
 * (a temporary file beside the named one, or stdout), runs the
 * subcommand's writer and renames the file into place only if the writer
 * succeeded; JSON documents are written by cli_write_json in one piece.
 */
#include "cli.h"
#include "ldscript.h"
#include "model.h"

#include "jsonw.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("flashsize: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The exit status of each kind of error: every failure is "bad input, usage
 * or a database error" to a script (docs: the Exit status line of every
 * command's --help); the kind is for the message's reader and the server. */
static const int cli_exit_of_kind[FS_ERR_KINDS] = {
    [FS_ERR_INPUT] = FS_EXIT_INPUT,    [FS_ERR_LIMIT] = FS_EXIT_INPUT, [FS_ERR_NOMEM] = FS_EXIT_INPUT,
    [FS_ERR_BUSY] = FS_EXIT_INPUT,     [FS_ERR_READONLY] = FS_EXIT_INPUT, [FS_ERR_IO] = FS_EXIT_INPUT,
    [FS_ERR_NOTFOUND] = FS_EXIT_INPUT, [FS_ERR_AUTH] = FS_EXIT_INPUT, [FS_ERR_INTERNAL] = FS_EXIT_INPUT,
    [FS_ERR_UNAVAILABLE] = FS_EXIT_INPUT,
};

int cli_exit_status(fs_error_kind kind)
{
    return kind < FS_ERR_KINDS ? cli_exit_of_kind[kind] : FS_EXIT_INPUT;
}

int cli_fail(const fs_error *err)
{
    cli_error("%s", err->msg);
    return cli_exit_status(err->kind);
}

int cli_parse_defsym(char *text, fs_ldsym *v, size_t *n, size_t max)
{
    char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        cli_error("--defsym: expected NAME=EXPR, got '%s'", text);
        return -1;
    }
    if (*n == max) {
        cli_error("--defsym: more than %zu given", max);
        return -1;
    }
    char why[256];
    uint64_t value;
    if (fs_expr_eval(eq + 1, NULL, NULL, &value, why, sizeof why) < 0) {
        cli_error("--defsym %s: %s", text, why);
        return -1;
    }
    *eq = '\0';
    v[(*n)++] = (fs_ldsym){text, value};
    return 0;
}

int cli_parse_double(const char *opt, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max)) {
        cli_error("%s: '%s' is not a number from %g to %g", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_push_arg(const char *opt, const char *arg, const char **v, size_t *n, size_t max)
{
    if (*n == max) {
        cli_error("%s: more than %zu given", opt, max);
        return -1;
    }
    v[(*n)++] = arg;
    return 0;
}

int cli_parse_size(const char *opt, const char *text, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v > SIZE_MAX / 2) {
        cli_error("%s: '%s' is not a whole number", opt, text);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

FILE *cli_open_output(const char *path, char **tmp_path)
{
    *tmp_path = NULL;
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    /* A device or a FIFO (-o /dev/null, -o /dev/stdout) is written to,
     * never replaced by a renamed temporary file. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        FILE *f = fopen(path, "w");
        if (!f)
            cli_error("%s: cannot open: %s", path, strerror(errno));
        return f;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return NULL;
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("%s: cannot create: %s", path, strerror(errno));
        free(tmp);
        return NULL;
    }
    /* mkstemp creates the file 0600; give it the mode a plain fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    *tmp_path = tmp;
    return f;
}

int cli_output_failed(int e)
{
    static int said;
    if (!said++)
        cli_error("write error on standard output: %s",
                  e == EPIPE ? "the reader closed the pipe" : e ? strerror(e) : "output error");
    return FS_EXIT_INPUT;
}

int cli_close_output(FILE *f, const char *path, char *tmp_path, int ok)
{
    if (!tmp_path && f != stdout) {
        int e = errno, bad = ferror(f);
        if (fclose(f) != 0)
            bad = 1, e = errno;
        if (bad)
            cli_error("%s: write error: %s", path, strerror(e));
        return bad || !ok ? -1 : 0;
    }
    if (!tmp_path) {
        int e = errno;
        if (fflush(f) != 0 || ferror(f)) {
            cli_output_failed(errno ? errno : e);
            return -1;
        }
        return 0;
    }
    int rc = 0;
    if (fclose(f) != 0) {
        cli_error("%s: write error: %s", path, strerror(errno));
        ok = 0;
        rc = -1;
    }
    if (ok && rename(tmp_path, path) != 0) {
        cli_error("%s: cannot replace: %s", path, strerror(errno));
        rc = -1;
    }
    if (!ok || rc)
        unlink(tmp_path);
    free(tmp_path);
    return rc;
}

int cli_write_output(const char *path, cli_writer writer, const void *ctx)
{
    char *tmp;
    FILE *out = cli_open_output(path, &tmp);
    if (!out)
        return -1;
    int rc = writer(out, ctx);
    return cli_close_output(out, path, tmp, rc == 0) < 0 || rc < 0 ? -1 : 0;
}

int cli_write_json_with(FILE *out, json_t *doc, int precision)
{
    fs_jsonw *w = malloc(sizeof *w);
    if (!w) {
        json_decref(doc);
        return -1;
    }
    fs_jsonw_init(w, out, precision);
    fs_jsonw_value(w, doc, 0);
    fs_jsonw_lit(w, "\n");
    int rc = fs_jsonw_finish(w);
    free(w);
    json_decref(doc);
    return rc;
}

int cli_write_json(FILE *out, json_t *doc)
{
    return cli_write_json_with(out, doc, 0);
}

int cli_exec_full(int argc, char **argv)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        cli_error("%s: cannot find the running program: %s", argv[0], strerror(errno));
        return FS_EXIT_INPUT;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        slash[1] = '\0';
    char path[4200];
    snprintf(path, sizeof path, "%s%s", slash ? self : "", FS_FULL_BINARY);
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        cli_error("out of memory");
        return FS_EXIT_INPUT;
    }
    args[0] = path;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(NULL);
    execv(path, args);
    cli_error("%s needs %s, which belongs next to flashsize: %s: %s", argv[0], FS_FULL_BINARY, path, strerror(errno));
    free(args);
    return FS_EXIT_INPUT;
}
