/*
 * parseopt.h - the declarative option tables of the flashsize commands.
 *
 * Each command describes its options once, in a table of cli_option
 * (short and long name, kind of argument, where the value goes, one line of
 * help); cli_parse reads argv into the command's struct from it (with
 * getopt_long underneath, whose messages for unknown options and missing
 * arguments stay as they were) and cli_usage prints the usage and --help
 * text from the same table.  Options several commands share are the
 * CLI_OPT_* macros below, defined here and nowhere else.  The model is
 * git's parse-options; this one is ours and needs only the C library.
 */
#ifndef FS_PARSEOPT_H
#define FS_PARSEOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_opt_kind {
    CLI_END,      /* the end of the table */
    CLI_GROUP,    /* no option: help is a heading printed before the ones that follow */
    CLI_FLAG,     /* no argument: value is a bool, set true */
    CLI_STRING,   /* value is a const char *, the argument itself */
    CLI_SIZE,     /* value is a size_t: a whole number, from min to max when max > 0 */
    CLI_INT64,    /* value is an int64_t: a whole number (not negative) */
    CLI_DOUBLE,   /* value is a double: a number from min to max */
    CLI_LIST,     /* repeatable: value is a const char *[max], count the size_t used */
    CLI_ENUM,     /* value is a const char *, one of choices (checked after all options) */
    CLI_CALLBACK, /* fn(option, argument) stores it; 0, or -1 with the error printed */
    CLI_DOC,      /* in the help only: the command reads it from argv itself */
} cli_opt_kind;

typedef struct cli_option cli_option;
struct cli_option {
    cli_opt_kind kind;
    int short_name;        /* 0: none */
    const char *long_name; /* NULL: none */
    void *value;
    const char *arg;  /* the argument's name in the help ("FILE") */
    const char *help; /* its meaning; '\n' starts another help line */
    double min, max;  /* CLI_DOUBLE, CLI_SIZE */
    size_t *count;    /* CLI_LIST, CLI_CALLBACK */
    size_t max_count; /* CLI_LIST, CLI_CALLBACK */
    const char *const *choices;                 /* CLI_ENUM, ending with NULL */
    int (*fn)(const cli_option *o, char *arg);  /* CLI_CALLBACK */
    bool *given;      /* when not NULL: set true when the option is given */
};

/* A command: its synopsis lines (after "usage: "; more lines start with
 * spaces), what it does, its options and the text after them (operands,
 * environment, exit status). */
typedef struct cli_command {
    const char *name;
    const char *synopsis;
    const char *about;
    const cli_option *options;
    const char *epilogue;
    /* A bad option is "NAME: unknown argument 'ARG'" without the usage
     * (`flashsize boards`, which always said so), not getopt's message. */
    bool plain_errors;
} cli_command;

/* The kinds of option, as table entries. */
#define CLI_OPT_GROUP(h) {.kind = CLI_GROUP, .help = (h)}
#define CLI_OPT_FLAG(s, l, v, h) {.kind = CLI_FLAG, .short_name = (s), .long_name = (l), .value = (v), .help = (h)}
#define CLI_OPT_STRING(s, l, v, a, h) \
    {.kind = CLI_STRING, .short_name = (s), .long_name = (l), .value = (v), .arg = (a), .help = (h)}
#define CLI_OPT_SIZE(s, l, v, a, h) \
    {.kind = CLI_SIZE, .short_name = (s), .long_name = (l), .value = (v), .arg = (a), .help = (h)}
#define CLI_OPT_SIZE_RANGE(s, l, v, a, lo, hi, h)                                                             \
    {.kind = CLI_SIZE, .short_name = (s), .long_name = (l), .value = (v), .arg = (a), .help = (h), .min = (lo), \
     .max = (hi)}
#define CLI_OPT_INT64(s, l, v, a, h) \
    {.kind = CLI_INT64, .short_name = (s), .long_name = (l), .value = (v), .arg = (a), .help = (h)}
#define CLI_OPT_DOUBLE(s, l, v, a, lo, hi, h)                                                                    \
    {.kind = CLI_DOUBLE, .short_name = (s), .long_name = (l), .value = (v), .arg = (a), .help = (h), .min = (lo), \
     .max = (hi)}
#define CLI_OPT_LIST(s, l, v, n, most, a, h)                                                                  \
    {.kind = CLI_LIST, .short_name = (s), .long_name = (l), .value = (v), .count = (n), .max_count = (most), \
     .arg = (a), .help = (h)}
#define CLI_OPT_ENUM(s, l, v, a, h, ...)                                                                         \
    {.kind = CLI_ENUM, .short_name = (s), .long_name = (l), .value = (v), .arg = (a), .help = (h),               \
     .choices = (const char *const[]){__VA_ARGS__, NULL}}
#define CLI_OPT_CALLBACK(s, l, v, f, a, h) \
    {.kind = CLI_CALLBACK, .short_name = (s), .long_name = (l), .value = (v), .fn = (f), .arg = (a), .help = (h)}
#define CLI_OPT_DOC(l, a, h) {.kind = CLI_DOC, .long_name = (l), .arg = (a), .help = (h)}
#define CLI_OPT_END {.kind = CLI_END}

/* The options several commands share. */
#define CLI_OPT_FORMAT(v, h, ...) CLI_OPT_ENUM('f', "format", v, "FMT", h, __VA_ARGS__)
#define CLI_OPT_OUTPUT(v, h) CLI_OPT_STRING('o', "output", v, "FILE", h)
#define CLI_OPT_BOARD(v, h) CLI_OPT_STRING('b', "board", v, "NAME", h)
#define CLI_OPT_TOP(v, h) CLI_OPT_SIZE(0, "top", v, "N", h)
#define CLI_OPT_PROJECT(v, h) CLI_OPT_STRING('p', "project", v, "P", h)
#define CLI_OPT_BRANCH(v, h) CLI_OPT_STRING(0, "branch", v, "NAME", h)
#define CLI_OPT_RULES_DIR(v) \
    CLI_OPT_STRING(0, "rules-dir", v, "DIR", "rules directory (default $FLASHSIZE_RULES or the installed one)")
#define CLI_OPT_DB(v, h) CLI_OPT_STRING(0, "db", v, "DB", h)
#define CLI_DB_HELP "size database (default $FLASHSIZE_DB, else ./flashsize.db)"
#define CLI_OPT_LD(v) CLI_OPT_STRING(0, "ld", v, "FILE", "GNU ld linker script to take MEMORY regions from")
#define CLI_OPT_SEARCH_DIRS(v, n, most) \
    CLI_OPT_LIST('L', NULL, v, n, most, "DIR", "extra directory for the script's INCLUDEs (repeatable)")
/* --root NAME of why, top and cut: into a const char *[most]. */
#define CLI_OPT_ROOT(v, n, h) CLI_OPT_LIST(0, "root", v, n, FS_REFGRAPH_MAX_ROOT_NAMES, "NAME", h)
/* --defsym NAME=EXPR into an fs_ldsym[most] (cli.c's cli_parse_defsym). */
int cli_opt_defsym(const cli_option *o, char *arg);
#define CLI_OPT_DEFSYM(v, n, most)                                                                            \
    {.kind = CLI_CALLBACK, .long_name = "defsym", .value = (v), .count = (n), .max_count = (most),           \
     .arg = "N=EXPR", .help = "define a linker-script symbol (repeatable)", .fn = cli_opt_defsym}

/* Parse argv (argv[0] the command's name) into the options' values.
 * Returns the index of the first operand (>= 1); 0 when -h/--help printed
 * the help to stdout (the command exits 0); -1 after an error was printed
 * (with the usage to stderr when the option was unknown or lacked its
 * argument): the command exits 2. */
int cli_parse(const cli_command *cmd, int argc, char **argv);

/* Print the usage and the options, as --help does. */
void cli_usage(const cli_command *cmd, FILE *out);

/* The one operand args[first] of args[first..n): NULL after printing "CMD: no WHAT
 * given" or "CMD: more than one WHAT given" and the usage to stderr. */
const char *cli_operand_of(const cli_command *cmd, char **args, int first, int n, const char *what);

#endif
