/*
 * docparse.h - the server's reader of uploaded analysis documents: one
 * streaming pass (yajl's event parser) that builds jansson values for the
 * document except its "symbols" array, which it decodes straight into a
 * symbol table (symtab.h), checking each symbol as fs_analysis_validate
 * would.
 *
 * Why: jansson's own reader spends ~4.9 ms on a typical 115 KB upload (a
 * MicroPython ESP8266 build, ~1,000 symbols), most of it in the symbols'
 * 6,000 small values; this pass takes a fraction of that (docs/server.md,
 * "Performance").  The result is what json_loadb with
 * JSON_REJECT_DUPLICATES would give, minus the symbols: the same values,
 * objects in the document's key order, the same refusals (invalid UTF-8,
 * "\u0000" in a string, duplicate keys, integers beyond int64, reals that
 * overflow, trailing text), with two exceptions: a lone UTF-16 surrogate
 * escape becomes '?' (yajl) where jansson refuses it, and a symbol's keys
 * other than the six it has are skipped unread, so a duplicate among them
 * goes unnoticed (they are not kept either way).  fuzz_analysis_json
 * compares the two readers on every input.
 *
 * The symbols are taken from doc["symbols"] (symbols_in NULL) or from
 * doc[symbols_in]["symbols"] (an upload body: "analysis").  Any other array
 * is left in the JSON.  Errors say where: "NAME: invalid JSON at line L
 * column C: WHY" for the text, "NAME: symbols[I].KEY: ..." (the validator's
 * words, with the document's name) for a symbol.
 */
#ifndef FS_DOCPARSE_H
#define FS_DOCPARSE_H

#include "model.h"
#include "symtab.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct fs_docparse_opts {
    const char *name;        /* in messages, e.g. "body" */
    const char *doc_name;    /* in symbol messages, e.g. "analysis" */
    const char *symbols_in;  /* NULL: top-level "symbols" */
    size_t max_depth;        /* deepest nesting of arrays/objects allowed */
} fs_docparse_opts;

/* 0 with *out (a new reference) and *syms filled (*had_symbols says whether
 * the array was there; without it syms is empty); -1 with err, nothing
 * kept.  FS_DOCPARSE_TOO_DEEP (-3) when nested deeper than max_depth. */
#define FS_DOCPARSE_TOO_DEEP (-3)
int fs_docparse(const unsigned char *text, size_t len, const fs_docparse_opts *o, json_t **out, fs_symtab *syms,
                bool *had_symbols, fs_error *err);

#endif
