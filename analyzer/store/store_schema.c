/*
 * store_schema.c - the store's schema at FS_STORE_SCHEMA_VERSION as one
 * description (tables with abstract column types, indexes, the generation
 * counter's triggers), written out as SQL for SQLite or PostgreSQL.  A new
 * PostgreSQL database is created from it; SQLite files keep their
 * migrations (store_db_sqlite.c), and tests/unit/test_store.c checks that
 * a new SQLite file's tables, columns and indexes are the ones described
 * here.  docs/store.md has the tables.
 */
#include "store_db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Abstract column types. */
typedef enum { C_ID, C_INT, C_TEXT, C_BLOB } col_type;

typedef struct col {
    const char *name;
    col_type type;
    const char *extra;     /* constraints, the same text in both dialects */
} col;

typedef struct table {
    const char *name;
    col cols[20];          /* ends at a NULL name */
    const char *constraint; /* a table constraint, or NULL */
    bool child;            /* keyed by (build_id, seq): WITHOUT ROWID in SQLite */
} table;

#define BUILD_REF "NOT NULL REFERENCES builds(id) ON DELETE CASCADE"

static const table tables[] = {
    {"projects", {{"id", C_ID, ""}, {"name", C_TEXT, "NOT NULL UNIQUE"}, {"default_branch", C_TEXT, "NOT NULL DEFAULT 'main'"}},
     NULL, false},
    {"boards", {{"id", C_ID, ""}, {"name", C_TEXT, "NOT NULL UNIQUE"}}, NULL, false},
    {"strings", {{"id", C_ID, ""}, {"s", C_TEXT, "NOT NULL UNIQUE"}}, NULL, false},
    {"symsets",
     {{"id", C_ID, ""},
      {"hash", C_INT, "NOT NULL"},
      {"count", C_INT, "NOT NULL"},
      {"data", C_BLOB, "NOT NULL"},
      {"base_id", C_INT, "REFERENCES symsets(id)"},
      {"depth", C_INT, "NOT NULL DEFAULT 0"}},
     NULL, false},
    {"builds",
     {{"id", C_ID, ""},
      {"project_id", C_INT, "NOT NULL REFERENCES projects(id)"},
      {"board_id", C_INT, "NOT NULL REFERENCES boards(id)"},
      {"commit_sha", C_TEXT, "NOT NULL"},
      {"branch", C_TEXT, ""},
      {"parent_sha", C_TEXT, ""},
      {"pr", C_INT, "NOT NULL DEFAULT 0"},
      {"timestamp", C_INT, "NOT NULL"},
      {"tool_version", C_TEXT, ""},
      {"chip", C_TEXT, ""},
      {"main_region", C_TEXT, ""},
      {"main_used", C_INT, ""},
      {"main_length", C_INT, ""},
      {"symset_id", C_INT, "NOT NULL REFERENCES symsets(id)"},
      {"errors_json", C_TEXT, ""},
      {"regions_json", C_TEXT, ""},
      {"doc", C_TEXT, "NOT NULL"}},
     "UNIQUE(project_id, board_id, commit_sha)", false},
    {"regions",
     {{"build_id", C_INT, BUILD_REF},
      {"seq", C_INT, "NOT NULL"},
      {"name", C_TEXT, "NOT NULL"},
      {"origin", C_INT, ""},
      {"length", C_INT, ""},
      {"used", C_INT, ""},
      {"attrs", C_TEXT, ""}},
     "PRIMARY KEY(build_id, seq)", true},
    {"sections",
     {{"build_id", C_INT, BUILD_REF},
      {"seq", C_INT, "NOT NULL"},
      {"name", C_TEXT, "NOT NULL"},
      {"type", C_TEXT, ""},
      {"flags", C_TEXT, ""},
      {"address", C_INT, ""},
      {"lma", C_INT, ""},
      {"size", C_INT, ""},
      {"region", C_TEXT, ""},
      {"load_region", C_TEXT, ""}},
     "PRIMARY KEY(build_id, seq)", true},
    {"frozen",
     {{"build_id", C_INT, BUILD_REF},
      {"seq", C_INT, "NOT NULL"},
      {"name", C_TEXT, "NOT NULL"},
      {"size", C_INT, ""},
      {"detail", C_TEXT, ""}},
     "PRIMARY KEY(build_id, seq)", true},
    {"findings",
     {{"build_id", C_INT, BUILD_REF},
      {"seq", C_INT, "NOT NULL"},
      {"fid", C_TEXT, "NOT NULL"},
      {"severity", C_TEXT, "NOT NULL"},
      {"subject", C_TEXT, ""},
      {"message", C_TEXT, ""},
      {"numbers", C_TEXT, ""}},
     "PRIMARY KEY(build_id, seq)", true},
    {"store_generation", {{"id", C_INT, "PRIMARY KEY CHECK (id = 1)"}, {"gen", C_INT, "NOT NULL"}}, NULL, false},
};

typedef struct sindex {
    const char *name, *table, *cols;
    const char *pg_cols;   /* PostgreSQL's columns when they differ, or NULL */
} sindex;

/* builds_history covers every column a history row shows in SQLite; a
 * PostgreSQL index entry is limited to about 2.7 KB, which the JSON
 * columns could pass, so there it keys the rows only. */
static const sindex indexes[] = {
    {"symsets_hash", "symsets", "hash", NULL},
    {"symsets_base", "symsets", "base_id", NULL},
    {"builds_commit", "builds", "commit_sha", NULL},
    {"builds_symset", "builds", "symset_id", NULL},
    {"builds_branch_time", "builds", "project_id, board_id, branch, timestamp, id, main_region, main_used", NULL},
    {"builds_history", "builds",
     "board_id, timestamp, id, project_id, branch, commit_sha, parent_sha, pr, main_region, main_used, main_length,"
     " errors_json, regions_json",
     "board_id, timestamp, id, project_id, branch"},
};

/* The generation counter: one more after every row written to builds,
 * and after a project's row changes (its default branch). */
static const struct {
    const char *name, *event, *table;
} triggers[] = {
    {"builds_gen_insert", "INSERT", "builds"},
    {"builds_gen_update", "UPDATE", "builds"},
    {"builds_gen_delete", "DELETE", "builds"},
    {"projects_gen_update", "UPDATE", "projects"},
};

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        if (b->oom)
            return;
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static const char *type_sql(fs_db_kind kind, col_type t)
{
    bool pg = kind == FS_DB_PG;
    switch (t) {
    case C_ID: return pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY";
    case C_INT: return pg ? "BIGINT" : "INTEGER";
    case C_TEXT: return pg ? "TEXT COLLATE \"C\"" : "TEXT"; /* byte order, as SQLite compares */
    case C_BLOB: return pg ? "BYTEA" : "BLOB";
    }
    return "";
}

char *fs_store_schema_sql(fs_db_kind kind)
{
    sbuf b = {0};
    bool pg = kind == FS_DB_PG;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        const table *tb = &tables[t];
        put(&b, "CREATE TABLE %s(", tb->name);
        for (size_t c = 0; tb->cols[c].name; c++)
            put(&b, "%s%s %s%s%s", c ? ", " : "", tb->cols[c].name, type_sql(kind, tb->cols[c].type),
                *tb->cols[c].extra ? " " : "", tb->cols[c].extra);
        if (tb->constraint)
            put(&b, ", %s", tb->constraint);
        put(&b, ")%s;\n", tb->child && !pg ? " WITHOUT ROWID" : "");
    }
    for (size_t i = 0; i < sizeof indexes / sizeof *indexes; i++)
        put(&b, "CREATE INDEX %s ON %s(%s);\n", indexes[i].name, indexes[i].table,
            pg && indexes[i].pg_cols ? indexes[i].pg_cols : indexes[i].cols);
    put(&b, "INSERT INTO store_generation(id, gen) VALUES (1, 0);\n");
    if (pg)
        put(&b, "CREATE FUNCTION store_gen_bump() RETURNS trigger LANGUAGE plpgsql AS"
                " $$BEGIN UPDATE store_generation SET gen = gen + 1; RETURN NULL; END$$;\n");
    for (size_t i = 0; i < sizeof triggers / sizeof *triggers; i++) {
        if (pg)
            put(&b, "CREATE TRIGGER %s AFTER %s ON %s FOR EACH ROW EXECUTE FUNCTION store_gen_bump();\n",
                triggers[i].name, triggers[i].event, triggers[i].table);
        else
            put(&b, "CREATE TRIGGER %s AFTER %s ON %s BEGIN UPDATE store_generation SET gen = gen + 1; END;\n",
                triggers[i].name, triggers[i].event, triggers[i].table);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
