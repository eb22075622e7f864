/*
 * cmd_analyze.c - `flashsize analyze ELF [options]`.
 */
#include "analysis.h"
#include "cli.h"
#include "parseopt.h"
#include "ldscript.h"
#include "mapfile.h"
#include "output.h"
#include "owners.h"

/* The light `flashsize` binary (FS_CORE_ONLY) links neither SQLite nor
 * Capstone: recording (--db) and retained sizes (--retained) are done by
 * the full binary, to which it hands the command over (cli_exec_full). */
#ifndef FS_CORE_ONLY
#include "refgraph.h"
#include "store.h"
#endif

#include <stdlib.h>
#include <string.h>

#define MAX_LIST_OPTS CLI_MAX_LIST_OPTS

typedef struct analyze_args {
    const char *elf, *format, *board, *ld, *rules_dir, *output, *map, *romfs, *rom;
    const char *db, *project, *commit, *branch, *parent;
    int64_t pr, timestamp;
    bool retained, recording;
    const char *search_dirs[MAX_LIST_OPTS];
    size_t nsearch_dirs;
    fs_ldsym defsyms[MAX_LIST_OPTS];
    size_t ndefsyms;
    double headroom;
    size_t top;
} analyze_args;

static int analyze_parse(int argc, char **argv, analyze_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_FORMAT(&a->format, NULL, "text", "json", "csv"),
        CLI_OPT_BOARD(&a->board, "board layout from the rules directory (or a path to a .ini)"),
        CLI_OPT_LD(&a->ld),
        CLI_OPT_SEARCH_DIRS(a->search_dirs, &a->nsearch_dirs, MAX_LIST_OPTS),
        CLI_OPT_DEFSYM(a->defsyms, &a->ndefsyms, MAX_LIST_OPTS),
        CLI_OPT_DOUBLE(0, "headroom", &a->headroom, "PCT", 1, 100, "warn when a region is at least PCT% full (default 90)"),
        CLI_OPT_TOP(&a->top, "symbols to list (text: 20; json/csv: all)"),
        CLI_OPT_STRING(0, "map", &a->map, "FILE", "the link's GNU ld map: bytes per archive/object/section, IRAM objects,\n"
                       "who fills each region (default: firmware.map beside a non-ESP8266 ELF)"),
        CLI_OPT_STRING(0, "romfs", &a->romfs, "IMAGE", "a ROMFS image: its occupancy of the firmware's ROMFS partition"),
        CLI_OPT_STRING(0, "rom", &a->rom, "FILE",
                       "ROM symbol table (default for ESP8266: rules/rom/esp8266.ld): ROM\n"
                       "functions used, and copies the firmware carries of ROM functions"),
        CLI_OPT_FLAG(0, "retained", &a->retained,
                     "add the largest retained sizes (reference graph: what each\n"
                     "symbol alone keeps linked; also done whenever --db records)"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_OUTPUT(&a->output, "write the report to FILE instead of standard output"),
        CLI_OPT_GROUP("Record the build in the size history as well (see `flashsize history`):"),
        CLI_OPT_DB(&a->db, "store: file or postgresql:// URI (default $FLASHSIZE_DB, else ./flashsize.db)"),
        CLI_OPT_STRING(0, "project", &a->project, "P", "project name (required with --db)"),
        CLI_OPT_STRING(0, "commit", &a->commit, "SHA", "commit (required with --db); --board names the board"),
        CLI_OPT_BRANCH(&a->branch, "branch of the build"),
        CLI_OPT_STRING(0, "parent", &a->parent, "SHA", "parent commit of the build"),
        CLI_OPT_INT64(0, "pr", &a->pr, "N", "pull request of the build"),
        CLI_OPT_INT64(0, "timestamp", &a->timestamp, "SECONDS", "time of the build, in seconds since 1970"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "analyze",
        .synopsis = "flashsize analyze FIRMWARE.elf [options]\n"
                    "       flashsize analyze --map FIRMWARE.map [options]   (a failed link: no ELF)",
        .about = "Report how full each memory region is, every allocated section, the largest\n"
                 "symbols and findings (for ESP8266: irom0, the 1 MiB flash window, the boot image,\n"
                 "ROMFS), frozen modules when the firmware has them. Regions come from --ld, else\n"
                 "--board, else the link's map (--map, or firmware.map beside a non-ESP8266 ELF),\n"
                 "else the ELF's own linker symbols.\n",
        .options = opts,
        .epilogue = "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n",
    };
    a->format = "text";
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    bool recording = a->db || a->project || a->commit || a->branch || a->parent || a->pr || a->timestamp;
    if (recording && !(a->project && a->commit && a->board)) {
        cli_error("analyze: recording a build needs --project, --commit and --board");
        return -1;
    }
    a->recording = recording;
#ifndef FS_CORE_ONLY
    if (recording && !a->db)
        a->db = fs_store_path(NULL);
#endif
    if (first == argc && a->map) {
        if (recording) {
            cli_error("analyze: a map without an ELF cannot be recorded");
            return -1;
        }
        if (a->romfs || a->ld || a->board || a->rom) {
            cli_error("analyze: without a firmware ELF only --map, --format, --top and -o apply");
            return -1;
        }
        return 0; /* a failed link: the map alone */
    }
    if (!(a->elf = cli_operand_of(&cmd, argv, first, argc, "firmware ELF")))
        return -1;
    return 0;
}

typedef struct map_only_job {
    const analyze_args *a;
    const fs_mapfile *m;
    const fs_report *rep;
    const fs_owners *owners;
} map_only_job;

static int analyze_write_map_only(FILE *out, const void *ctx)
{
    const map_only_job *j = ctx;
    if (strcmp(j->a->format, "json") == 0) {
        json_t *doc = fs_mapfile_json(j->m, j->a->top);
        json_t *owners = doc && j->owners ? fs_owners_json(j->owners) : NULL;
        if (owners)
            json_object_set_new(doc, "owners", owners); /* who fills each region, as analyze's "owners" */
        return cli_write_json(out, doc);
    }
    int rc = fs_mapfile_print(out, j->m, j->a->top ? j->a->top : 20);
    if (rc == 0 && j->owners) {
        fputc('\n', out);
        rc = fs_owners_print(out, j->owners);
    }
    for (size_t i = 0; rc == 0 && i < j->rep->nfindings; i++) {
        fprintf(out, "%s %s: %s\n", j->rep->findings[i].severity == FS_SEV_ERROR ? "ERROR" : "warning",
                j->rep->findings[i].id, j->rep->findings[i].message);
        if (j->rep->findings[i].remedy)
            fprintf(out, "  fix: %s\n", j->rep->findings[i].remedy);
    }
    return rc;
}

/* A failed link leaves no usable ELF, but ld still wrote the map: report
 * its regions, the overflow as ld computed it and the largest contributors. */
static int analyze_map_only(const analyze_args *a)
{
    fs_error err;
    fs_mapfile m;
    if (fs_mapfile_load(a->map, &m, &err) < 0) {
        return cli_fail(&err);
    }
    fs_report rep = {0};
    int status = FS_EXIT_INPUT;
    if (fs_mapfile_report(&m, &rep, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    /* who fills each region, and the frozen content's share in the remedy */
    fs_owner_rules rules = {0};
    fs_owners owners = {0};
    char *rules_dir = a->rules_dir ? strdup(a->rules_dir) : fs_rules_dir();
    int orc = fs_owner_rules_load(rules_dir, &rules, &err);
    free(rules_dir);
    if (orc < 0 || fs_owners_build(&rules, &m, NULL, &owners, &err) < 0 ||
        fs_owners_amend_findings(&owners, NULL, &rep) < 0) {
        cli_error("%s", err.msg[0] ? err.msg : "out of memory");
        fs_owner_rules_free(&rules);
        fs_owners_free(&owners);
        goto done;
    }
    fs_owner_rules_free(&rules);
    map_only_job job = {a, &m, &rep, &owners};
    if (cli_write_output(a->output, analyze_write_map_only, &job) < 0)
        goto done;
    status = fs_report_worst(&rep) == FS_SEV_ERROR ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    fs_owners_free(&owners);
done:
    fs_report_free(&rep);
    fs_mapfile_free(&m);
    return status;
}

#ifndef FS_CORE_ONLY
/* Record the analysis in the store: one transaction, all or nothing. */
static int analyze_record(const analyze_args *a, const fs_analysis *an, fs_error *err)
{
    const char *board = an->has_board ? an->board.name : a->board;
    fs_build_meta meta = {a->project, board, a->commit, a->branch, a->parent, a->pr, a->timestamp};
    json_t *doc = fs_analysis_json(an);
    if (!doc)
        return fs_fail(err, "out of memory");
    fs_store *s = NULL;
    int64_t id;
    int rc = fs_store_open(a->db, NULL, &s, err) == 0 && fs_store_record(s, doc, &meta, &id, err) == 0 ? 0 : -1;
    if (rc == 0)
        fprintf(stderr, "flashsize: recorded build %lld (project %s, board %s, commit %s) in %s\n", (long long)id,
                a->project, board, a->commit, fs_store_name(s));
    fs_store_close(s);
    json_decref(doc);
    return rc;
}
#endif

typedef struct analysis_job {
    const char *format;
    const fs_report *rep;
    fs_output_opts oo;
} analysis_job;

static int analyze_write(FILE *out, const void *ctx)
{
    const analysis_job *j = ctx;
    return strcmp(j->format, "json") == 0  ? fs_output_json(out, j->rep, &j->oo)
           : strcmp(j->format, "csv") == 0 ? fs_output_csv(out, j->rep, &j->oo)
                                           : fs_output_text(out, j->rep, &j->oo);
}

int cmd_analyze(int argc, char **argv)
{
    analyze_args a = {0};
    int parsed = analyze_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    if (!a.elf)
        return analyze_map_only(&a);
#ifdef FS_CORE_ONLY
    if (a.recording || a.retained)
        return cli_exec_full(argc, argv);
#endif

    int status = FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_analysis an;
    fs_analysis_opts ao = {.elf = a.elf,
                           .rules_dir = a.rules_dir,
                           .board = a.board,
                           .ld = a.ld,
                           .search_dirs = a.search_dirs,
                           .nsearch_dirs = a.nsearch_dirs,
                           .defsyms = a.defsyms,
                           .ndefsyms = a.ndefsyms,
                           .map = a.map,
                           .romfs = a.romfs,
                           .rom = a.rom,
                           .headroom_pct = a.headroom};
#ifndef FS_CORE_ONLY
    if (a.retained || a.db)
        ao.retained = fs_retained_for_analysis; /* the dashboard shows it for recorded builds */
#endif
    if (fs_analysis_run(&ao, &an, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
#ifndef FS_CORE_ONLY
    if (a.db && analyze_record(&a, &an, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
#endif
    analysis_job job = {a.format, &an.rep, fs_analysis_output_opts(&an, a.top)};
    if (cli_write_output(a.output, analyze_write, &job) < 0)
        goto done;
    status = fs_report_worst(&an.rep) == FS_SEV_ERROR ? FS_EXIT_FINDINGS : FS_EXIT_OK;
done:
    fs_analysis_free(&an);
    return status;
}
