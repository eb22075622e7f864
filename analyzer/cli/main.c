/*
 * main.c - the flashsize command: a table of subcommands.
 *
 * Adding a subcommand touches this table and one new cmd_NAME.c file,
 * whose options are a cli_option table (parseopt.h): parsed and turned
 * into the command's --help by parseopt.c.
 *
 * Built twice: as `flashsize-full` with every command, and (FS_CORE_ONLY) as
 * the light `flashsize`, which links only libelf, jansson and inih so that
 * `flashsize analyze` starts as fast as binutils' size; it hands the
 * commands marked FULL to flashsize-full (cli_exec_full).
 */
#include "cli.h"
#include "model.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef FS_CORE_ONLY
#define FULL(fn) NULL
#else
#define FULL(fn) fn
#endif

static const struct {
    const char *name;
    int (*run)(int argc, char **argv); /* NULL: run by flashsize-full */
    const char *summary;
} commands[] = {
    {"analyze", cmd_analyze, "regions, sections, symbols and findings of a firmware ELF"},
    {"boards", cmd_boards, "list the board layouts in the rules directory"},
    {"map", cmd_map, "what fills each region, from a GNU ld map file (also of a failed link)"},
    {"romfs", cmd_romfs, "files, overhead and free space of a ROMFS (vfs.VfsRom) image"},
    {"natmod", cmd_natmod, "sizes, relocations and ROM references of a native module (.mpy)"},
    {"frozen", cmd_frozen, "bytes per frozen module, shared parts and findings of a firmware ELF"},
    {"rom", cmd_rom, "ROM functions a firmware uses and the ROM functions it carries copies of"},
    {"why", FULL(cmd_why), "the chains of references from the roots that keep a symbol linked"},
    {"top", FULL(cmd_top), "symbols by retained size (everything only they keep in the image)"},
    {"cut", FULL(cmd_cut), "symbols to remove, by retained size, to bring a region under its limit"},
    {"diff", FULL(cmd_diff), "what changed between two builds (ELF, JSON or stored): text, JSON, PR Markdown"},
    {"check", FULL(cmd_check), "size budgets (rules/budgets/*.ini) as a CI gate: exit 1 on a violation"},
    {"record", FULL(cmd_record), "store a build (ELF or analysis JSON) in the size database"},
    {"history", FULL(cmd_history), "a board's last builds from the size database, with deltas"},
    {"bot", FULL(cmd_bot), "post or update the PR size-report comment and the commit status on GitHub"},
    {"forecast", FULL(cmd_forecast), "each region's trend over a board's last builds and when it runs out"},
    {"import", FULL(cmd_import), "load a folder of ELFs or JSON analyses (with a CSV of commits) into the database"},
    {"serve", FULL(cmd_serve), "the size-budget service: JSON API, uploads with tokens, web dashboard"},
    {"project", FULL(cmd_project), "show or set a project's default branch in the size database"},
    {"token", FULL(cmd_token), "create, revoke and list the upload tokens of `flashsize serve`"},
    {"db", FULL(cmd_db), "copy a size database (SQLite file or PostgreSQL URI) to another, verified"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: flashsize <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`flashsize <command> --help` describes a command's options.\n"
                 "Exit status: 0 clean, 1 error findings, 2 bad input or usage.\n");
}

/* Input ELF files are memory-mapped (fs_map_file): one that shrinks while
 * being read raises SIGBUS, which is bad input, not a crash. */
static void on_sigbus(int sig)
{
    (void)sig;
    static const char msg[] = "flashsize: an input file shrank while it was being read (rewritten by another "
                              "program?); try again once it is complete\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(FS_EXIT_INPUT);
}

/* Whatever a command returned, output that could not be written (a closed
 * pipe, a full disk) makes the run a failure: exit 2 with a message, as
 * the output was cut short.  A command that saw the error itself and
 * already said so returned 2; this adds the message once for the others. */
static int finish_output(int rc)
{
    int e = errno;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    return cli_output_failed(errno ? errno : e);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    /* A reader that leaves early (`flashsize analyze -f json | head -c10`)
     * is a write error, not a signal: EPIPE, seen by the output's ferror
     * check, and exit 2 with one line on stderr (finish_output): the output
 * was cut short, so the run did not do its job. */
    signal(SIGPIPE, SIG_IGN);
#ifdef FS_CORE_ONLY
    /* The light binary's commands run once and exit: large blocks come
     * from the heap and stay there when freed (glibc would map each one
     * afresh and give it back), so the analysis's arrays are faulted in
     * once.  12% less CPU time for `analyze --format json` on real
     * ESP8266_GENERIC (244 page faults instead of 302). */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    if (argc < 2) {
        usage(stderr);
        return FS_EXIT_INPUT;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return FS_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("flashsize %s\n", FS_VERSION);
        return FS_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(name, commands[i].name) == 0)
            return finish_output(commands[i].run ? commands[i].run(argc - 1, argv + 1)
                                                 : cli_exec_full(argc - 1, argv + 1));
    cli_error("unknown command '%s'", name);
    usage(stderr);
    return FS_EXIT_INPUT;
}
