/*
 * cli.h - what the subcommands of the flashsize tool share.
 *
 * Each subcommand lives in cmd_NAME.c, declares its options in a table
 * that parseopt.c parses and prints the help from, and calls the library;
 * main.c holds the table that maps names to them.
 */
#ifndef FS_CLI_H
#define FS_CLI_H

#include "jemit.h"
#include "model.h"

#include <stdio.h>

/* Exit codes of every subcommand. */
#define FS_EXIT_OK       0  /* clean */
#define FS_EXIT_FINDINGS 1  /* error findings (or a failed check) */
#define FS_EXIT_INPUT    2  /* bad input or usage */

/* Print "flashsize: message" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Say once that standard output could not be written ("write error on
 * standard output: the reader closed the pipe" for EPIPE, with SIGPIPE
 * ignored by main), from errno e (0: unknown).  Returns FS_EXIT_INPUT. */
int cli_output_failed(int e);
/* The exit status of an error of this kind (one table, cli.c). */
int cli_exit_status(fs_error_kind kind);
/* Print err's message like cli_error and return cli_exit_status(err->kind). */
int cli_fail(const fs_error *err);

/* Parse a non-negative number or percentage option; on error prints and returns -1. */
int cli_parse_double(const char *opt, const char *text, double min, double max, double *out);
int cli_parse_size(const char *opt, const char *text, size_t *out);
/* Most values a repeatable option takes (-L, --defsym). */
#define CLI_MAX_LIST_OPTS 64
/* Parse --defsym NAME=EXPR (text is cut at the '=') into v[*n] (of max);
 * 0, or -1 with the error printed. */
int cli_parse_defsym(char *text, fs_ldsym *v, size_t *n, size_t max);
/* Append arg to v (*n of max used) for a repeatable option; 0, or -1 with
 * the error printed when opt was given more than max times. */
int cli_push_arg(const char *opt, const char *arg, const char **v, size_t *n, size_t max);

/* Open the output: stdout for NULL or "-", else a temporary file beside
 * path that cli_close_output renames into place only on success, so a
 * failed run never leaves a half-written file. */
FILE *cli_open_output(const char *path, char **tmp_path);
int cli_close_output(FILE *f, const char *path, char *tmp_path, int ok);

/* Write a report to path (stdout for NULL or "-") with writer(out, ctx),
 * between cli_open_output and cli_close_output: a file is replaced only
 * when writer returned 0.  Returns 0, or -1 (open and close errors are
 * printed here, the writer prints its own). */
typedef int (*cli_writer)(FILE *out, const void *ctx);
int cli_write_output(const char *path, cli_writer writer, const void *ctx);

/* The full binary, installed next to `flashsize`: the light `flashsize`
 * carries the commands that need only libelf, jansson and inih, and hands
 * every other command (SQLite, Capstone, libcurl, libmicrohttpd) to it, as
 * git hands commands to git-NAME programs.  Only returns on failure (2). */
#define FS_FULL_BINARY "flashsize-full"
int cli_exec_full(int argc, char **argv);

int cmd_analyze(int argc, char **argv);
int cmd_boards(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_romfs(int argc, char **argv);
int cmd_natmod(int argc, char **argv);
int cmd_frozen(int argc, char **argv);
int cmd_rom(int argc, char **argv);
int cmd_why(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_cut(int argc, char **argv);

/* Shared by why, top and cut (cli_refgraph.c): load the ELF and build
 * its reference graph with the --root names and the board's roots file;
 * prints the error and returns FS_EXIT_INPUT on failure.  Then free both. */
struct fs_image;
struct fs_refgraph;
int cli_refgraph_open(const char *elf, const char *const *roots, size_t nroots, const char *board,
                      const char *rules_dir, struct fs_image *img, struct fs_refgraph *g);
/* Write a jansson document (and drop the reference); 0 or -1.  Indented
 * by 2, keys in insertion order, a newline after it; doc may be NULL (out
 * of memory: -1), in jansson's layout (jsonw.h).  cli_write_json_with
 * writes reals with precision significant digits (0: jansson's 17).
 * Defined in cli.c. */
struct json_t;
int cli_write_json(FILE *out, struct json_t *doc);
int cli_write_json_with(FILE *out, struct json_t *doc, int precision);
/* The JSON document fn tells as events (jemit.h), streamed to out as
 * cli_write_json_with would write its tree, and a newline; -1 on any
 * failure. */
int cli_write_emitted(FILE *out, int precision, void (*fn)(fs_jemit *e, const void *ctx), const void *ctx);
int cmd_diff(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_bot(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_project(int argc, char **argv);

#endif
