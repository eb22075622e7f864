/*
 * cmd_import.c - `flashsize import --db F DIR [--csv META]`: load many
 * existing builds into the size database at once (docs/bot.md, "Import").
 *
 * DIR holds firmware ELFs and/or analysis JSON files.  Without a CSV every
 * *.elf and *.json in DIR is a build whose commit is the file's name
 * without its extension, dated by the file's modification time; with one,
 * the CSV lists the builds (file, commit, branch, date, board, project,
 * parent, pr) and nothing else is read.  The whole CSV is checked before
 * anything is stored, so a typo never leaves half an import.
 *
 * Each build is its own transaction (fs_store_record); a build already in
 * the store (same project, board and commit) is skipped, a build that cannot
 * be read or stored is reported and the others still go in.  A progress bar
 * is drawn on stderr only when it is a terminal.
 */
#include "board.h"
#include "cli.h"
#include "parseopt.h"
#include "diff.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IMPORT_MAX_CSV   (64u << 20)
#define IMPORT_MAX_ROWS  1000000u
#define IMPORT_MAX_COLS  16

typedef struct import_args {
    const char *dir, *csv, *db, *rules_dir, *project, *board, *branch;
    bool replace, quiet;
} import_args;

/* One build to import; strings owned. */
typedef struct import_row {
    char *path, *file, *commit, *branch, *board, *project, *parent;
    int64_t timestamp, pr;
    size_t line;         /* CSV line, 0 without a CSV */
} import_row;

typedef struct import_list {
    import_row *rows;
    size_t n, cap;
} import_list;

static void import_list_free(import_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        import_row *r = &l->rows[i];
        free(r->path), free(r->file), free(r->commit), free(r->branch);
        free(r->board), free(r->project), free(r->parent);
    }
    free(l->rows);
}

static import_row *import_add(import_list *l, fs_error *err)
{
    if (l->n == IMPORT_MAX_ROWS)
        return fs_fail(err, "more than %u builds", IMPORT_MAX_ROWS), NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        import_row *g = realloc(l->rows, cap * sizeof *g);
        if (!g)
            return fs_fail(err, "out of memory"), NULL;
        l->rows = g;
        l->cap = cap;
    }
    import_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static char *import_join(const char *dir, const char *file)
{
    if (file[0] == '/')
        return strdup(file);
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

static char *import_dup(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* ---- dates -------------------------------------------------------------------- */

/* "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS](Z|+HH:MM|-HH:MM)?" or digits. */
static bool import_date(const char *s, int64_t *out)
{
    char *end;
    if (*s && strspn(s, "0123456789") == strlen(s)) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        *out = v;
        return errno == 0 && v > 0;
    }
    int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return false;
    const char *p = s + n;
    if (*p == 'T' || *p == ' ') {
        int k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &k) != 2 || k != 5)
            return false;
        p += 1 + k;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &se, &k) != 1 || k != 2)
                return false;
            p += 1 + k;
        }
    }
    long off = 0;
    if (*p == 'Z')
        p++;
    else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59)
            return false;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 1 + k;
    }
    if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)   /* 2024-02-30 */
        return false;
    *out = (int64_t)t - off;
    return *out > 0;
}

/* ---- the CSV ------------------------------------------------------------------ */

enum { COL_FILE, COL_COMMIT, COL_BRANCH, COL_DATE, COL_BOARD, COL_PROJECT, COL_PARENT, COL_PR, NCOLS };
static const char *const col_names[NCOLS] = {"file", "commit", "branch", "date", "board", "project", "parent", "pr"};

/* Split one line into fields (in place): commas, "quoted" fields with ""
 * for a quote, spaces around unquoted fields dropped.  -1 on bad quoting. */
static int import_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -2;
        while (*p == ' ' || *p == '\t')
            p++;
        char *w = p;
        f[n++] = w;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"')
                    *w++ = '"', p += 2;
                else if (*p == '"')
                    break;
                else
                    *w++ = *p++;
            }
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',')
                return -1;
            char *next = *p ? p + 1 : NULL;
            *w = '\0';
            if (!next)
                return n;
            p = next;
        } else {
            char *comma = strchr(p, ',');
            char *e = comma ? comma : p + strlen(p);
            while (e > w && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *e = '\0';
            if (!comma)
                return n;
            p = comma + 1;
        }
    }
}

static int import_header(char **f, int nf, int *col, const char *csv, fs_error *err)
{
    for (int c = 0; c < NCOLS; c++)
        col[c] = -1;
    for (int i = 0; i < nf; i++) {
        int c = 0;
        while (c < NCOLS && strcmp(f[i], col_names[c]) != 0)
            c++;
        if (c == NCOLS)
            return fs_fail(err, "%s:1: unknown column '%s' (known: file, commit, branch, date, board, project, parent, pr)",
                           csv, f[i]);
        if (col[c] >= 0)
            return fs_fail(err, "%s:1: column '%s' appears twice", csv, f[i]);
        col[c] = i;
    }
    if (col[COL_FILE] < 0 || col[COL_COMMIT] < 0)
        return fs_fail(err, "%s:1: the header needs the columns file and commit", csv);
    return 0;
}

static const char *import_field(char **f, const int *col, int c)
{
    return col[c] >= 0 && f[col[c]][0] ? f[col[c]] : NULL;
}

/* Check one data row and add it to l. */
static int import_csv_row(const import_args *a, char **f, const int *col, size_t line, import_list *l, fs_error *err)
{
    const char *file = import_field(f, col, COL_FILE), *commit = import_field(f, col, COL_COMMIT);
    const char *date = import_field(f, col, COL_DATE), *pr = import_field(f, col, COL_PR);
    const char *board = import_field(f, col, COL_BOARD), *project = import_field(f, col, COL_PROJECT);
    const char *branch = import_field(f, col, COL_BRANCH);
    if (!file || !commit)
        return fs_fail(err, "%s:%zu: %s is empty", a->csv, line, !file ? "file" : "commit");
    if (!(board = board ? board : a->board) || !(project = project ? project : a->project))
        return fs_fail(err, "%s:%zu: no %s (no column value and no --%s)", a->csv, line, !board ? "board" : "project",
                       !board ? "board" : "project");
    import_row *r = import_add(l, err);
    if (!r)
        return -1;
    r->line = line;
    if (date && !import_date(date, &r->timestamp))
        return fs_fail(err, "%s:%zu: date '%s': expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[Z|+HH:MM] or seconds since 1970",
                       a->csv, line, date);
    if (pr) {
        char *end;
        errno = 0;
        long long v = strtoll(pr, &end, 10);
        if (errno || *end || v < 0)
            return fs_fail(err, "%s:%zu: pr '%s': not a pull request number", a->csv, line, pr);
        r->pr = v;
    }
    r->file = strdup(file);
    r->path = import_join(a->dir, file);
    r->commit = strdup(commit);
    r->board = strdup(board);
    r->project = strdup(project);
    r->branch = import_dup(branch ? branch : a->branch);
    r->parent = import_dup(import_field(f, col, COL_PARENT));
    if (!r->file || !r->path || !r->commit || !r->board || !r->project)
        return fs_fail(err, "out of memory");
    struct stat st;
    if (stat(r->path, &st) != 0 || !S_ISREG(st.st_mode))
        return fs_fail(err, "%s:%zu: file '%s': %s", a->csv, line, r->path,
                       stat(r->path, &st) != 0 ? strerror(errno) : "not a regular file");
    return 0;
}

static int import_read_csv(const import_args *a, import_list *l, fs_error *err)
{
    unsigned char *data;
    size_t len;
    if (fs_read_file(a->csv, IMPORT_MAX_CSV, "CSV file", &data, &len, err) < 0)
        return -1;
    if (memchr(data, '\0', len)) {
        free(data);
        return fs_fail(err, "%s: not a text file (NUL byte)", a->csv);
    }
    int col[NCOLS], rc = 0;
    bool header = false;
    size_t line = 0;
    char *save = NULL, *text = (char *)data;
    for (char *p = text; rc == 0 && p && *p; p = save) {
        char *nl = strchr(p, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        line++;
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r')
            p[--n] = '\0';
        if (strspn(p, " \t") == n || p[0] == '#')
            continue;
        char *f[IMPORT_MAX_COLS];
        int nf = import_split(p, f, IMPORT_MAX_COLS);
        if (nf < 0)
            rc = fs_fail(err, "%s:%zu: %s", a->csv, line, nf == -1 ? "bad quoting" : "too many fields");
        else if (!header) {
            rc = import_header(f, nf, col, a->csv, err);
            header = true;
            if (rc == 0 && nf > IMPORT_MAX_COLS)
                rc = -1;
        } else {
            int want = 0;
            for (int c = 0; c < NCOLS; c++)
                want += col[c] >= 0;
            if (nf != want)
                rc = fs_fail(err, "%s:%zu: %d field%s, the header has %d", a->csv, line, nf, nf == 1 ? "" : "s", want);
            else
                rc = import_csv_row(a, f, col, line, l, err);
        }
        if (!save)
            break;
    }
    free(data);
    if (rc == 0 && !header)
        rc = fs_fail(err, "%s: empty (no header row)", a->csv);
    return rc;
}

/* ---- a plain folder ------------------------------------------------------------- */

static int import_cmp(const void *x, const void *y)
{
    return strcmp(((const import_row *)x)->file, ((const import_row *)y)->file);
}

static int import_read_dir(const import_args *a, import_list *l, fs_error *err)
{
    if (!a->board || !a->project)
        return fs_fail(err, "import: without --csv, --project and --board are required");
    DIR *d = opendir(a->dir);
    if (!d)
        return fs_fail(err, "%s: cannot open: %s", a->dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || dot == e->d_name || (strcmp(dot, ".elf") && strcmp(dot, ".json")))
            continue;
        import_row *r = import_add(l, err);
        struct stat st;
        if (!r) {
            rc = -1;
            break;
        }
        r->file = strdup(e->d_name);
        r->path = import_join(a->dir, e->d_name);
        r->commit = strndup(e->d_name, (size_t)(dot - e->d_name));
        r->board = strdup(a->board);
        r->project = strdup(a->project);
        r->branch = import_dup(a->branch);
        if (!r->file || !r->path || !r->commit || !r->board || !r->project)
            rc = fs_fail(err, "out of memory");
        else if (stat(r->path, &st) == 0 && S_ISREG(st.st_mode))
            r->timestamp = (int64_t)st.st_mtime;
        else
            l->n--, free(r->file), free(r->path), free(r->commit), free(r->board), free(r->project), free(r->branch);
    }
    closedir(d);
    if (rc == 0 && l->n == 0)
        rc = fs_fail(err, "%s: no *.elf or *.json files", a->dir);
    if (rc == 0)
        qsort(l->rows, l->n, sizeof *l->rows, import_cmp);
    return rc;
}

/* ---- importing ------------------------------------------------------------------ */

/* Is exactly this project + board + commit stored already? */
static bool import_present(fs_store *s, const import_row *r)
{
    int64_t id;
    fs_error e = {{0}};
    fs_build_info info = {0};
    json_t *doc = NULL;
    if (strlen(r->commit) < 4 || fs_store_find(s, r->commit, r->board, r->project, &id, &e) < 0)
        return false;
    bool same = fs_store_load(s, id, &doc, &info, &e) == 0 && info.commit && strcmp(info.commit, r->commit) == 0;
    json_decref(doc);
    fs_build_info_free(&info);
    return same;
}

static int import_one(const import_args *a, fs_store *s, const import_row *r, fs_error *err)
{
    char *layout = fs_board_layout_path(a->rules_dir, r->board), *label = NULL;
    fs_input_opts io = {a->db, layout, a->rules_dir};
    json_t *doc = NULL;
    fs_build_meta m = {r->project, r->board, r->commit, r->branch, r->parent, r->pr, r->timestamp};
    int64_t id;
    int rc = fs_input_load(r->path, &io, &doc, &label, err) == 0 && fs_store_record(s, doc, &m, &id, err) == 0 ? 0 : -1;
    json_decref(doc);
    free(label);
    free(layout);
    return rc;
}

static void import_bar(size_t done, size_t total, const char *name)
{
    enum { WIDTH = 30 };
    size_t fill = total ? done * WIDTH / total : WIDTH;
    char bar[WIDTH + 1];
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu %-30.30s", bar, done, total, name);
    fflush(stderr);
}

typedef struct import_failure {
    char *file;
    char msg[sizeof(fs_error)];
} import_failure;

static int import_run(const import_args *a, import_list *l, fs_store *s)
{
    bool bar = !a->quiet && isatty(STDERR_FILENO);
    import_failure *fails = calloc(l->n + 1, sizeof *fails);
    if (!fails) {
        cli_error("out of memory");
        return FS_EXIT_INPUT;
    }
    size_t imported = 0, skipped = 0, failed = 0;
    for (size_t i = 0; i < l->n; i++) {
        const import_row *r = &l->rows[i];
        if (bar)
            import_bar(i, l->n, r->file);
        fs_error err = {{0}};
        if (!a->replace && import_present(s, r))
            skipped++;
        else if (import_one(a, s, r, &err) == 0)
            imported++;
        else {
            fails[failed].file = r->file;
            snprintf(fails[failed].msg, sizeof fails[failed].msg, "%s", err.msg);
            failed++;
        }
    }
    if (bar) {
        import_bar(l->n, l->n, "done");
        fputc('\n', stderr);
    }
    printf("imported %zu, skipped %zu (already present), failed %zu, of %zu build%s into %s\n", imported, skipped,
           failed, l->n, l->n == 1 ? "" : "s", fs_store_name(s));
    for (size_t i = 0; i < failed; i++)
        printf("  failed %s: %s\n", fails[i].file, fails[i].msg);
    free(fails);
    if (fflush(stdout) != 0)
        return FS_EXIT_INPUT;
    return failed ? FS_EXIT_FINDINGS : FS_EXIT_OK;
}

static int import_parse(int argc, char **argv, import_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_STRING(0, "csv", &a->csv, "FILE", "the builds and their metadata"),
        CLI_OPT_PROJECT(&a->project, "project (for rows or files without one)"),
        CLI_OPT_STRING('b', "board", &a->board, "B", "board (for rows or files without one)"),
        CLI_OPT_BRANCH(&a->branch, "branch (for rows or files without one)"),
        CLI_OPT_FLAG(0, "replace", &a->replace, "re-record builds already in the database"),
        CLI_OPT_DB(&a->db, "file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_FLAG('q', "quiet", &a->quiet, "no progress bar"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "import",
        .synopsis = "flashsize import DIR [--csv META.csv] [options]",
        .about = "Load many builds into the size database: the firmware ELFs and analysis JSON files\n"
                 "in DIR. With --csv, the CSV lists the builds (header row; columns file, commit,\n"
                 "branch, date, board, project, parent, pr; file and commit required); without it,\n"
                 "every *.elf and *.json in DIR is imported, its commit being the file name without\n"
                 "the extension and its date the file's modification time.\n",
        .options = opts,
        .epilogue = "Dates: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS with Z or +HH:MM (git log --format=%cI),\n"
                    "or seconds since 1970.\n"
                    "\n"
                    "Exit status: 0 every build imported or already there, 1 some builds failed (the\n"
                    "others are imported), 2 bad usage, a bad CSV (nothing imported) or no database.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!(a->dir = cli_operand_of(&cmd, argv, first, argc, "folder")))
        return -1;
    return 0;
}

int cmd_import(int argc, char **argv)
{
    import_args a = {0};
    int parsed = import_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    import_list l = {0};
    fs_error err = {{0}};
    fs_store *s = NULL;
    int status = FS_EXIT_INPUT;
    struct stat st;
    if (stat(a.dir, &st) != 0 || !S_ISDIR(st.st_mode))
        fs_fail(&err, "%s: %s", a.dir, stat(a.dir, &st) != 0 ? strerror(errno) : "not a folder");
    else if ((a.csv ? import_read_csv(&a, &l, &err) : import_read_dir(&a, &l, &err)) == 0 &&
             fs_store_open(fs_store_path(a.db), NULL, &s, &err) == 0)
        status = import_run(&a, &l, s);
    if (status == FS_EXIT_INPUT && err.msg[0])
        cli_error("%s", err.msg);
    fs_store_close(s);
    import_list_free(&l);
    return status;
}
