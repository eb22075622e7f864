/*
 * document.h - the analysis document (schema "flashsize-analysis",
 * docs/json-schema.md): the JSON contract between the CLI, the store, the
 * server, the web page and the bot.
 *
 * This module owns what every reader of the document shares: its limits,
 * its validation, the rule for numbers (one way to write an unsigned 64-bit
 * value, one way to read it back) and the choice of the main region.  It
 * depends on nothing but jansson and model.h; the store, diff, budget,
 * forecast, bot, symtab and docparse build on it.
 *
 * Errors follow model.h: 0/-1 and a message naming the document.
 */
#ifndef FS_DOCUMENT_H
#define FS_DOCUMENT_H

#include "model.h"

#include <jansson.h>

/* Limits of an analysis document (larger ones are refused, nothing stored). */
#define FS_ANALYSIS_MAX_FILE_BYTES (256u << 20)
#define FS_ANALYSIS_MAX_REGIONS    1024u
#define FS_ANALYSIS_MAX_SECTIONS   100000u
#define FS_ANALYSIS_MAX_SYMBOLS    2000000u
#define FS_ANALYSIS_MAX_FINDINGS   10000u
#define FS_ANALYSIS_MAX_FROZEN     100000u
#define FS_ANALYSIS_MAX_STRING     4096u   /* bytes of any one name */
#define FS_ANALYSIS_MAX_DOC_BYTES  (16u << 20) /* the document without its symbols */

/* Check an analysis document (name is used in messages): schema, version,
 * the type of every field the store, diff and check read, and the limits
 * above.  Unknown extra keys are allowed. */
int fs_analysis_validate(const json_t *doc, const char *name, fs_error *err);
/* The same for a document read by fs_docparse: with symbols_decoded its
 * symbols were checked while decoding and are not in doc. */
int fs_analysis_validate_parsed(const json_t *doc, bool symbols_decoded, const char *name, fs_error *err);

/* Parse a JSON analysis file, then validate it.  *doc is owned by the caller. */
int fs_analysis_load_file(const char *path, json_t **doc, fs_error *err);

/* Numbers: every unsigned 64-bit value of a flashsize document is a JSON
 * integer when it fits in int64_t (every size and address of a real
 * firmware does), else a "0x..." hex string; fs_json_u64 reads both forms.
 * fs_json_from_u64 returns a new reference (NULL when out of memory). */
json_t *fs_json_from_u64(uint64_t v);
/* An unsigned integer field (JSON integer >= 0, or a "0x..." string). */
bool fs_json_u64(const json_t *v, uint64_t *out);

/* The region that matters most for size: irom0_0_seg when present (ESP8266),
 * else the largest executable or flash-named region, else the largest one.
 * Returns the region object (borrowed) or NULL if there is none. */
const json_t *fs_analysis_main_region(const json_t *doc);

/* The frozen modules array (frozen.modules: name, bytes, ...), or NULL when
 * the analysis has no frozen content. */
const json_t *fs_analysis_frozen_modules(const json_t *doc);

#endif
