/*
 * test_frozen.c - frozen-module attribution against what the generator
 * knows it emitted.
 *
 * Ground truth:
 *   - samples/frozen/build/NAME.sizes, written by samples/frozen/gen.awk
 *     while it wrote the frozen_content.c: bytes per module, per str
 *     module, per shared part, and the total;
 *   - the size of the native function that lands in IRAM and of
 *     .irom0.text: the toolchain's `nm -S` and `readelf -SW`.
 * The names fallback is forced by pointing mp_frozen_mpy_content[0] at
 * nothing in a copy of the file; hostile inputs are random corruptions of
 * the frozen content, which must never crash or break the invariant.
 */
#include "testutil.h"

#include "elfread.h"
#include "frozen.h"

#define FDIR "samples/frozen/build/"

#define SIDECAR_MAX 64

typedef struct sidecar {
    char kind[SIDECAR_MAX][16], name[SIDECAR_MAX][64];
    uint64_t bytes[SIDECAR_MAX];
    size_t n;
    uint64_t total;
} sidecar;

static void read_sidecar(const char *sample, sidecar *sc)
{
    char path[256];
    snprintf(path, sizeof path, FDIR "%s.sizes", sample);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    memset(sc, 0, sizeof *sc);
    char k[16], n[64];
    unsigned long long b;
    while (fscanf(f, "%15s %63s %llu", k, n, &b) == 3) {
        assert_true(sc->n < SIDECAR_MAX);
        strcpy(sc->kind[sc->n], k);
        strcpy(sc->name[sc->n], n);
        sc->bytes[sc->n++] = b;
    }
    rewind(f);
    char line[256];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "total %llu", &b) == 1)
            sc->total = b;
    fclose(f);
    assert_true(sc->n > 8 && sc->total > 0);
}

static uint64_t sidecar_get(const sidecar *sc, const char *kind, const char *name)
{
    for (size_t i = 0; i < sc->n; i++)
        if (!strcmp(sc->kind[i], kind) && !strcmp(sc->name[i], name))
            return sc->bytes[i];
    fail_msg("sidecar has no %s %s", kind, name);
    return 0;
}

static const fs_frozen_module *find_module(const fs_frozen *fz, const char *name)
{
    for (size_t k = 0; k < fz->nmodules; k++)
        if (!strcmp(fz->modules[k].name, name))
            return &fz->modules[k];
    fail_msg("no module %s", name);
    return NULL;
}

static void check_invariant(const fs_frozen *fz)
{
    uint64_t m = 0, s = 0;
    for (size_t k = 0; k < fz->nmodules; k++)
        m += fz->modules[k].bytes;
    for (size_t i = 0; i < fz->nshared; i++)
        s += fz->shared[i].bytes;
    assert_int_equal(m, fz->modules_bytes);
    assert_int_equal(s, fz->shared_bytes);
    assert_int_equal(m + s + fz->unattributed, fz->total);
}

/* Walk results equal the generator's sidecar, module by module: the bytes,
 * and of them the code (fun_data objects) and the native code in IRAM.
 * Frees the image and the result. */
static void expect_sidecar(const char *sample, fs_image *img, const char *naming, size_t nmodules)
{
    fs_frozen fz;
    fs_error err;
    if (fs_frozen_analyze_file(img, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    sidecar sc;
    read_sidecar(sample, &sc);
    assert_true(fz.present);
    assert_int_equal(fz.method, FS_FROZEN_WALK);
    assert_string_equal(fz.naming, naming);
    assert_int_equal(fz.nmodules, nmodules);
    size_t seen = 0, shared = 0, code = 0;
    for (size_t i = 0; i < sc.n; i++) {
        if (!strcmp(sc.kind[i], "code")) {
            assert_int_equal(find_module(&fz, sc.name[i])->code, sc.bytes[i]);
            /* IRAM is an ESP8266 notion: elsewhere .text is just flash */
            assert_int_equal(find_module(&fz, sc.name[i])->iram, fz.esp8266 ? sidecar_get(&sc, "iram", sc.name[i]) : 0);
            code++;
        } else if (!strcmp(sc.kind[i], "module") || !strcmp(sc.kind[i], "str")) {
            const fs_frozen_module *m = find_module(&fz, sc.name[i]);
            assert_int_equal(m->is_str, !strcmp(sc.kind[i], "str"));
            assert_int_equal(m->bytes, sc.bytes[i]);
            seen++;
        } else if (!strcmp(sc.kind[i], "data")) {
            /* the str/bytes constants' data the generator emitted */
            assert_int_equal(find_module(&fz, sc.name[i])->data, sc.bytes[i]);
        } else if (!strcmp(sc.kind[i], "shared")) {
            bool found = false;
            for (size_t j = 0; j < fz.nshared; j++)
                if (!strcmp(fz.shared[j].name, sc.name[i])) {
                    assert_int_equal(fz.shared[j].bytes, sc.bytes[i]);
                    found = true;
                }
            assert_true(found);
            shared++;
        }
    }
    assert_int_equal(seen, nmodules);
    assert_true(code > 0);
    assert_true(shared >= 6);
    assert_int_equal(fz.total, sc.total);
    assert_int_equal(fz.unattributed, 0);
    check_invariant(&fz);
    fs_frozen_free(&fz);
    fs_image_free(img);
}

static void check_walk_n(const char *sample, const char *naming, size_t nmodules)
{
    char path[256];
    snprintf(path, sizeof path, FDIR "%s.elf", sample);
    fs_image img = {0};
    fs_error err;
    if (fs_elf_load(path, &img, &err) != 0)
        fail_msg("%s", err.msg);
    expect_sidecar(sample, &img, naming, nmodules);
}

static void check_walk(const char *sample, const char *naming)
{
    check_walk_n(sample, naming, 6);
}

static void test_walk_esp8266(void **state)
{
    (void)state;
    check_walk("esp8266-frozen", "proto_fun");
}

static void test_walk_v122(void **state)
{
    (void)state;
    check_walk("esp8266-frozen-v122", "raw_code");
}

static void test_walk_cortex_m4(void **state)
{
    (void)state;
    check_walk("cortex-m4-frozen", "proto_fun");
}

static uint64_t tool_number(const char *cmd)
{
    char *out = tu_run(cmd);
    assert_non_null(out);
    uint64_t v = strtoull(out, NULL, 16);
    free(out);
    return v;
}

/* The native function in .text is the only frozen code in IRAM. */
static void test_iram_and_percent(void **state)
{
    (void)state;
    fs_image img = {0};
    fs_frozen fz;
    fs_error err;
    if (fs_elf_load(FDIR "esp8266-frozen.elf", &img, &err) != 0 || fs_frozen_analyze_file(&img, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    uint64_t native = tool_number("xtensa-lx106-elf-nm -S " FDIR "esp8266-frozen.elf | "
                                  "awk '$4 == \"fun_data_pkg_sensor_util_read\" { print $2 }'");
    uint64_t irom0 = tool_number("xtensa-lx106-elf-readelf -SW " FDIR "esp8266-frozen.elf | "
                                 "awk '{ for (i = 1; i < NF; i++) if ($i == \".irom0.text\") print $(i + 4) }'");
    assert_int_equal(native, 40);
    assert_int_equal(fz.iram, native);
    assert_int_equal(find_module(&fz, "pkg/sensor_util.py")->iram, native);
    assert_int_equal(find_module(&fz, "main.py")->iram, 0);
    assert_int_equal(fz.irom0_size, irom0);
    const fs_frozen_module *m = find_module(&fz, "net/wifi.py");
    assert_true(fs_frozen_percent(&fz, m->bytes) == 100.0 * (double)m->bytes / (double)irom0);
    fs_frozen_free(&fz);
    fs_image_free(&img);

    /* no IRAM on a Cortex-M, no irom0 percentage */
    if (fs_elf_load(FDIR "cortex-m4-frozen.elf", &img, &err) != 0 || fs_frozen_analyze_file(&img, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fz.iram, 0);
    assert_int_equal(fz.irom0_size, 0);
    fs_frozen_free(&fz);
    fs_image_free(&img);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

/* File offset of symbol name's bytes. */
static size_t sym_offset(const fs_image *img, const char *name)
{
    const fs_symbol *s = fs_image_symbol(img, name);
    assert_non_null(s);
    const fs_section *sec = &img->sections[s->section];
    return (size_t)(sec->offset + (s->value - sec->addr));
}

/* A broken module pointer: the names fallback, with the generator's
 * symbol-only bytes per module plus each module's names entry. */
static void test_names_fallback(void **state)
{
    (void)state;
    fs_image img = {0};
    fs_frozen fz;
    fs_error err;
    size_t len;
    if (fs_elf_load(FDIR "esp8266-frozen.elf", &img, &err) != 0)
        fail_msg("%s", err.msg);
    uint8_t *buf = slurp(FDIR "esp8266-frozen.elf", &len);
    memset(buf + sym_offset(&img, "mp_frozen_mpy_content"), 0xf0, 4);
    if (fs_frozen_analyze(&img, buf, len, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fz.method, FS_FROZEN_NAMES);
    assert_non_null(strstr(fz.note, "mp_frozen_mpy_content[0]"));
    sidecar sc;
    read_sidecar("esp8266-frozen", &sc);
    const char *mods[] = {"main.py", "net/wifi.py", "pkg/__init__.py", "pkg/sensor_util.py"};
    for (size_t i = 0; i < 4; i++) {
        const fs_frozen_module *m = find_module(&fz, mods[i]);
        assert_int_equal(m->bytes, sidecar_get(&sc, "symbols", mods[i]) + strlen(mods[i]) + 1);
    }
    assert_int_equal(find_module(&fz, "boot.py")->bytes, sidecar_get(&sc, "str", "boot.py"));
    assert_int_equal(fz.ambiguous, 0);
    check_invariant(&fz);
    fs_frozen_free(&fz);

    /* names unreadable too: module names come from frozen_module_* */
    memset(buf + sym_offset(&img, "mp_frozen_names"), 'x', 8);
    const fs_symbol *names = fs_image_symbol(&img, "mp_frozen_names");
    memset(buf + sym_offset(&img, "mp_frozen_names"), 'x', names->size);
    if (fs_frozen_analyze(&img, buf, len, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fz.method, FS_FROZEN_NAMES);
    assert_int_equal(find_module(&fz, "pkg_sensor_util")->bytes, sidecar_get(&sc, "symbols", "pkg/sensor_util.py"));
    check_invariant(&fz);
    fs_frozen_free(&fz);
    free(buf);
    fs_image_free(&img);
}

/* Overlapping C names (net, net_wifi) and native code in module 0's IRAM
 * (samples/frozen/modules-overlap.txt): the walk equals the sidecar; the
 * names fallback gives each symbol to the longest matching module name, so
 * each module gets the generator's symbol bytes (plus its names entry). */
static void test_overlapping_names(void **state)
{
    (void)state;
    check_walk_n("esp8266-frozen-overlap", "proto_fun", 2);
    fs_image img = {0};
    fs_frozen fz;
    fs_error err;
    size_t len;
    if (fs_elf_load(FDIR "esp8266-frozen-overlap.elf", &img, &err) != 0)
        fail_msg("%s", err.msg);
    uint8_t *buf = slurp(FDIR "esp8266-frozen-overlap.elf", &len);
    memset(buf + sym_offset(&img, "mp_frozen_mpy_content"), 0xf0, 4);
    if (fs_frozen_analyze(&img, buf, len, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fz.method, FS_FROZEN_NAMES);
    sidecar sc;
    read_sidecar("esp8266-frozen-overlap", &sc);
    const char *mods[] = {"net.py", "net/wifi.py"};
    for (size_t i = 0; i < 2; i++) {
        const fs_frozen_module *m = find_module(&fz, mods[i]);
        assert_int_equal(m->bytes, sidecar_get(&sc, "symbols", mods[i]) + strlen(mods[i]) + 1);
        assert_int_equal(m->iram, sidecar_get(&sc, "iram", mods[i]));
    }
    assert_true(sidecar_get(&sc, "iram", "net.py") > 0);
    /* net/wifi.py's symbols match both names */
    assert_true(fz.ambiguous > 0);
    check_invariant(&fz);
    fs_frozen_free(&fz);
    free(buf);
    fs_image_free(&img);
}

/* Random corruption of the frozen content: no crash, invariant holds. */
static void test_hostile(void **state)
{
    (void)state;
    fs_image img = {0};
    fs_error err;
    size_t len;
    if (fs_elf_load(FDIR "esp8266-frozen.elf", &img, &err) != 0)
        fail_msg("%s", err.msg);
    uint8_t *orig = slurp(FDIR "esp8266-frozen.elf", &len);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    const fs_section *irom = fs_image_section(&img, ".irom0.text");
    assert_non_null(irom);
    uint32_t seed = 12345;
    size_t walks = 0, fallbacks = 0;
    for (int round = 0; round < 400; round++) {
        memcpy(buf, orig, len);
        for (int j = 0; j < 1 + round % 8; j++) {
            seed = seed * 1103515245u + 12345u;
            size_t off = (size_t)irom->offset + (seed >> 8) % (size_t)irom->size;
            seed = seed * 1103515245u + 12345u;
            buf[off] = (uint8_t)(seed >> 16);
        }
        fs_frozen fz;
        if (fs_frozen_analyze(&img, buf, len, &fz, &err) != 0)
            fail_msg("round %d: %s", round, err.msg);
        check_invariant(&fz);
        if (fz.method == FS_FROZEN_WALK)
            walks++;
        else
            fallbacks++;
        fs_frozen_free(&fz);
    }
    assert_true(walks > 0 && fallbacks > 0);
    /* the file cut short: sections past the end cannot be read */
    fs_frozen fz;
    if (fs_frozen_analyze(&img, orig, (size_t)irom->offset + 16, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fz.method, FS_FROZEN_NAMES);
    check_invariant(&fz);
    fs_frozen_free(&fz);
    free(buf);
    free(orig);
    fs_image_free(&img);
}

static void test_no_frozen_and_stripped(void **state)
{
    (void)state;
    fs_image img = {0};
    fs_frozen fz;
    fs_error err;
    if (fs_elf_load(FDIR "esp8266-rom.elf", &img, &err) != 0 || fs_frozen_analyze_file(&img, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    assert_false(fz.present);
    assert_int_equal(fz.nmodules, 0);
    assert_int_equal(fz.total, 0);
    fs_frozen_free(&fz);
    fs_image_free(&img);

    char *tmp = tu_tmpfile("", 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-strip -o %s " FDIR "esp8266-frozen.elf && echo ok", tmp);
    free(tu_run(cmd));
    if (fs_elf_load(tmp, &img, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fs_frozen_analyze_file(&img, &fz, &err), -1);
    assert_non_null(strstr(err.msg, tmp));
    assert_non_null(strstr(err.msg, "no symbol table"));
    fs_image_free(&img);
    unlink(tmp);
    free(tmp);
}

static void test_json(void **state)
{
    (void)state;
    fs_image img = {0};
    fs_frozen fz;
    fs_error err;
    if (fs_elf_load(FDIR "esp8266-frozen.elf", &img, &err) != 0 || fs_frozen_analyze_file(&img, &fz, &err) != 0)
        fail_msg("%s", err.msg);
    json_t *j = fs_frozen_json(&fz, "x.elf");
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "schema")), "flashsize-frozen");
    assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), FS_FROZEN_SCHEMA_VERSION);
    assert_int_equal(json_array_size(json_object_get(j, "modules")), fz.nmodules);
    json_t *f = json_array_get(json_object_get(j, "findings"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "id")), "frozen-in-iram");
    assert_int_equal(json_integer_value(json_object_get(f, "bytes")), 40);
    json_decref(j);
    fs_frozen_free(&fz);
    fs_image_free(&img);
}

/* A sized symbol 3.75 GiB above the rest (an image whose symbols lie more
 * than 2 GiB apart is indexed by the wide sort): the walk gives the
 * sidecar's numbers as without it. */
static void test_far_symbol(void **state)
{
    (void)state;
    fs_image img = {0};
    fs_error err;
    if (fs_elf_load(FDIR "esp8266-frozen.elf", &img, &err) != 0)
        fail_msg("%s", err.msg);
    fs_symbol *syms = realloc(img.symbols, (img.nsymbols + 1) * sizeof *syms);
    assert_non_null(syms);
    img.symbols = syms;
    free(img.first); /* the names' first bytes: none for the added one, so none at all */
    img.first = NULL;
    const fs_section *irom = fs_image_section(&img, ".irom0.text");
    assert_non_null(irom);
    img.symbols[img.nsymbols++] = (fs_symbol){.name = "far_away", .value = 0xf0000000u, .size = 64,
                                              .type = 1 /* STT_OBJECT */, .bind = 1 /* STB_GLOBAL */,
                                              .section = (int)(irom - img.sections)};
    expect_sidecar("esp8266-frozen", &img, "proto_fun", 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_esp8266),   cmocka_unit_test(test_walk_v122),
        cmocka_unit_test(test_walk_cortex_m4), cmocka_unit_test(test_iram_and_percent),
        cmocka_unit_test(test_names_fallback), cmocka_unit_test(test_overlapping_names),
        cmocka_unit_test(test_hostile),        cmocka_unit_test(test_far_symbol),
        cmocka_unit_test(test_no_frozen_and_stripped), cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
