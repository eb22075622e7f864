/*
 * parseopt.c - parse argv from a command's option table and print its
 * usage from the same table (parseopt.h).
 *
 * The table becomes getopt_long's short-option string and long-option
 * array, so unknown options, missing arguments and abbreviations behave
 * and read as they did when every command had its own getopt_long loop;
 * each value is then stored and checked by its kind, with the messages
 * cli.c's number parsers give ("--top: 'x' is not a whole number").
 */
#include "parseopt.h"
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Most options in one table, -h/--help included. */
#define CLI_MAX_OPTIONS 48

static size_t opt_count(const cli_option *opts)
{
    size_t n = 0;
    while (opts[n].kind != CLI_END)
        n++;
    return n;
}

/* The option's name in messages: --long, else -s. */
static const char *opt_name(const cli_option *o, char *buf, size_t size)
{
    if (o->long_name)
        snprintf(buf, size, "--%s", o->long_name);
    else
        snprintf(buf, size, "-%c", o->short_name);
    return buf;
}

static int opt_store(const cli_option *o, char *arg)
{
    char name[64];
    opt_name(o, name, sizeof name);
    switch (o->kind) {
    case CLI_FLAG: *(bool *)o->value = true; break;
    case CLI_STRING:
    case CLI_ENUM: *(const char **)o->value = arg; break;
    case CLI_SIZE: {
        size_t v;
        if (cli_parse_size(name, arg, &v) < 0)
            return -1;
        if (o->max > 0 && !((double)v >= o->min && (double)v <= o->max)) {
            cli_error("%s: '%s' is not from %g to %g", name, arg, o->min, o->max);
            return -1;
        }
        *(size_t *)o->value = v;
        break;
    }
    case CLI_INT64: {
        size_t v;
        if (cli_parse_size(name, arg, &v) < 0)
            return -1;
        *(int64_t *)o->value = (int64_t)v;
        break;
    }
    case CLI_DOUBLE:
        if (cli_parse_double(name, arg, o->min, o->max, o->value) < 0)
            return -1;
        break;
    case CLI_LIST:
        if (cli_push_arg(name, arg, o->value, o->count, o->max_count) < 0)
            return -1;
        break;
    case CLI_CALLBACK:
        if (o->fn(o, arg) < 0)
            return -1;
        break;
    default: return -1;
    }
    if (o->given)
        *o->given = true;
    return 0;
}

/* An enum's value among its choices; else "--format: unknown format 'F'
 * (text, json or csv)". */
static int opt_check_enum(const cli_option *o)
{
    const char *v = *(const char *const *)o->value;
    if (!v)
        return 0;
    size_t n = 0;
    for (; o->choices[n]; n++)
        if (strcmp(v, o->choices[n]) == 0)
            return 0;
    char list[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s",
                                i == 0 ? "" : i + 1 == n ? " or " : ", ", o->choices[i]);
    char name[64];
    cli_error("%s: unknown %s '%s' (%s)", opt_name(o, name, sizeof name),
              o->long_name && strcmp(o->long_name, "format") == 0 ? "format" : "value", v, list);
    return -1;
}

int cli_parse(const cli_command *cmd, int argc, char **argv)
{
    const cli_option *opts = cmd->options;
    size_t n = opt_count(opts);
    if (n + 2 > CLI_MAX_OPTIONS) {
        cli_error("%s: too many options in its table", cmd->name);
        return -1;
    }
    struct option longopts[CLI_MAX_OPTIONS];
    char shorts[3 * CLI_MAX_OPTIONS + 1];
    size_t nl = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        const cli_option *o = &opts[i];
        if (o->kind == CLI_GROUP || o->kind == CLI_DOC)
            continue;
        int has_arg = o->kind == CLI_FLAG ? no_argument : required_argument;
        if (o->long_name)
            longopts[nl++] = (struct option){o->long_name, has_arg, NULL, 256 + (int)i};
        if (o->short_name) {
            shorts[ns++] = (char)o->short_name;
            if (has_arg == required_argument)
                shorts[ns++] = ':';
        }
    }
    longopts[nl++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[nl] = (struct option){NULL, 0, NULL, 0};
    shorts[ns++] = 'h';
    shorts[ns] = '\0';

    optind = 1;
    opterr = !cmd->plain_errors;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        if (c == 'h') {
            cli_usage(cmd, stdout);
            return 0;
        }
        const cli_option *o = NULL;
        if (c >= 256 && (size_t)(c - 256) < n)
            o = &opts[c - 256];
        for (size_t i = 0; !o && c > 0 && c < 256 && i < n; i++)
            if (opts[i].short_name == c && opts[i].kind != CLI_GROUP && opts[i].kind != CLI_DOC)
                o = &opts[i];
        if (!o && cmd->plain_errors) {
            cli_error("%s: unknown argument '%s'", cmd->name, argv[optind - 1]);
            opterr = 1;
            return -1;
        }
        if (!o) { /* getopt_long said what was wrong */
            cli_usage(cmd, stderr);
            return -1;
        }
        if (opt_store(o, optarg) < 0)
            return -1;
    }
    opterr = 1;
    for (size_t i = 0; i < n; i++)
        if (opts[i].kind == CLI_ENUM && opt_check_enum(&opts[i]) < 0)
            return -1;
    return optind;
}

/* "  -f, --format FMT" */
static size_t opt_left(const cli_option *o, char *buf, size_t size)
{
    int len = snprintf(buf, size, "  %c%c%s%s%s%s%s", o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
                       o->short_name && o->long_name ? ", " : "  ", o->long_name ? "--" : "",
                       o->long_name ? o->long_name : "", o->arg ? " " : "", o->arg ? o->arg : "");
    if (!o->long_name && o->short_name) /* "  -L DIR": no room kept for a long name */
        len = snprintf(buf, size, "  -%c%s%s", o->short_name, o->arg ? " " : "", o->arg ? o->arg : "");
    return len < 0 ? 0 : (size_t)len;
}

/* An enum without a help line: its choices, the current value the default. */
static void opt_choices(const cli_option *o, FILE *out)
{
    const char *def = *(const char *const *)o->value;
    size_t n = 0;
    while (o->choices[n])
        n++;
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", o->choices[i],
                def && strcmp(def, o->choices[i]) == 0 ? " (default)" : "");
}

void cli_usage(const cli_command *cmd, FILE *out)
{
    enum { MAX_COLUMN = 24 };
    static const cli_option help = {.kind = CLI_FLAG, .short_name = 'h', .long_name = "help",
                                    .help = "print this help and exit"};
    fprintf(out, "usage: %s\n", cmd->synopsis);
    if (cmd->about)
        fprintf(out, "\n%s", cmd->about);
    size_t n = opt_count(cmd->options), column = 0;
    char left[160];
    for (size_t i = 0; i <= n; i++) {
        const cli_option *o = i < n ? &cmd->options[i] : &help;
        size_t len = o->kind == CLI_GROUP ? 0 : opt_left(o, left, sizeof left);
        if (len + 2 <= MAX_COLUMN && len + 2 > column)
            column = len + 2;
    }
    fputc('\n', out);
    /* -h/--help closes the first block of options (before any heading). */
    size_t at = 0;
    while (at < n && cmd->options[at].kind != CLI_GROUP)
        at++;
    for (size_t j = 0; j <= n; j++) {
        const cli_option *o = j == at ? &help : &cmd->options[j < at ? j : j - 1];
        if (o->kind == CLI_GROUP) {
            fprintf(out, "\n%s\n", o->help);
            continue;
        }
        size_t len = opt_left(o, left, sizeof left);
        fputs(left, out);
        if (len + 2 > column)
            fprintf(out, "\n%*s", (int)column, "");
        else
            fprintf(out, "%*s", (int)(column - len), "");
        if (!o->help && o->kind == CLI_ENUM) {
            opt_choices(o, out);
            fputc('\n', out);
            continue;
        }
        for (const char *p = o->help ? o->help : ""; *p;) {
            const char *nl = strchr(p, '\n');
            size_t k = nl ? (size_t)(nl - p) : strlen(p);
            fprintf(out, "%.*s\n", (int)k, p);
            p += k;
            if (*p == '\n' && *++p)
                fprintf(out, "%*s", (int)column, "");
        }
        if (!o->help || !*o->help)
            fputc('\n', out);
    }
    if (cmd->epilogue)
        fprintf(out, "\n%s", cmd->epilogue);
}

const char *cli_operand_of(const cli_command *cmd, char **args, int first, int n, const char *what)
{
    if (first + 1 == n)
        return args[first];
    cli_error(first >= n ? "%s: no %s given" : "%s: more than one %s given", cmd->name, what);
    cli_usage(cmd, stderr);
    return NULL;
}

int cli_opt_defsym(const cli_option *o, char *arg)
{
    return cli_parse_defsym(arg, o->value, o->count, o->max_count);
}
