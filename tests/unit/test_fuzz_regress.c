/*
 * test_fuzz_regress.c - replays every fuzzing input the repository keeps
 * through the fuzz harnesses, without libFuzzer, so the plain and the
 * ASan/UBSan suites both run them.
 *
 * Every harness file tests/fuzz/fuzz_NAME.c is included here with
 * FUZZ_REPLAY defined (no LLVMFuzzerTestOneInput), which leaves its
 * fuzz_NAME_run entry point: the very code the fuzzer runs.  For harness
 * NAME the test replays
 *   tests/fuzz/corpus/NAME/     seeds: each must be accepted by the parser,
 *                               except files named bad-*, which must be
 *                               refused with an error naming the input
 *                               (the harness aborts on an unnamed error);
 *   tests/fuzz/regress/NAME/    inputs that once crashed, hung or leaked
 *                               (docs/reliability.md): they must run to the
 *                               end, accepted or refused, with no sanitizer
 *                               report.
 * A harness without seeds, a corpus or regress directory that names no
 * harness, and a harness file missing from the table below all fail.
 */
#include "testutil.h"

#define FUZZ_REPLAY
#include "../fuzz/fuzz_analysis_json.c"
#include "../fuzz/fuzz_archive.c"
#include "../fuzz/fuzz_analyze.c"
#include "../fuzz/fuzz_board.c"
#include "../fuzz/fuzz_budget.c"
#include "../fuzz/fuzz_elf.c"
#include "../fuzz/fuzz_esp32img.c"
#include "../fuzz/fuzz_esppart.c"
#include "../fuzz/fuzz_frozen.c"
#include "../fuzz/fuzz_ldscript.c"
#include "../fuzz/fuzz_mapfile.c"
#include "../fuzz/fuzz_mpy.c"
#include "../fuzz/fuzz_natmod.c"
#include "../fuzz/fuzz_refgraph.c"
#include "../fuzz/fuzz_request.c"
#include "../fuzz/fuzz_romfs.c"
#include "../fuzz/fuzz_romsyms.c"

#include <dirent.h>
#include <time.h>

typedef struct harness {
    const char *name;
    int (*run)(const uint8_t *data, size_t size);
} harness;

static const harness harnesses[] = {
    {"analysis_json", fuzz_analysis_json_run},
    {"archive", fuzz_archive_run},
    {"analyze", fuzz_analyze_run},
    {"board", fuzz_board_run},
    {"budget", fuzz_budget_run},
    {"elf", fuzz_elf_run},
    {"esp32img", fuzz_esp32img_run},
    {"esppart", fuzz_esppart_run},
    {"frozen", fuzz_frozen_run},
    {"ldscript", fuzz_ldscript_run},
    {"mapfile", fuzz_mapfile_run},
    {"mpy", fuzz_mpy_run},
    {"natmod", fuzz_natmod_run},
    {"refgraph", fuzz_refgraph_run},
    {"request", fuzz_request_run},
    {"romfs", fuzz_romfs_run},
    {"romsyms", fuzz_romsyms_run},
};
#define NHARNESSES (sizeof harnesses / sizeof harnesses[0])

static const harness *harness_find(const char *name)
{
    for (size_t i = 0; i < NHARNESSES; i++)
        if (strcmp(harnesses[i].name, name) == 0)
            return &harnesses[i];
    return NULL;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, sorted, with their count; NULL if no dir. */
static char **dir_files(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (*n + 1) * sizeof *names);
        assert_non_null(names);
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof *names, name_cmp);
    return names;
}

static void free_files(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Replay every file of dir through h; with expect, seeds named bad-* must
 * be refused and the others accepted.  Returns the number of files. */
static size_t replay_dir(const harness *h, const char *dir, bool expect)
{
    size_t n;
    char **names = dir_files(dir, &n);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unsigned char *data;
        size_t len;
        fs_error err = {{0}};
        if (fs_read_file(path, 64u << 20, "fuzz input", &data, &len, &err) < 0)
            fail_msg("%s", err.msg);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = h->run(data, len);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        free(data);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        print_message("# %s: %s (%.3f s)\n", path, rc == FUZZ_ACCEPTED ? "accepted" : "refused", secs);
        if (expect) {
            int want = strncmp(names[i], "bad-", 4) == 0 ? FUZZ_REFUSED : FUZZ_ACCEPTED;
            if (rc != want)
                fail_msg("%s: %s, expected %s", path, rc == FUZZ_ACCEPTED ? "accepted" : "refused",
                         want == FUZZ_ACCEPTED ? "accepted" : "refused");
        }
    }
    free_files(names, n);
    return n;
}

static void test_harness(void **state)
{
    const harness *h = *state;
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", h->name);
    size_t seeds = replay_dir(h, dir, true);
    if (seeds == 0)
        fail_msg("%s: no seeds", dir);
    snprintf(dir, sizeof dir, "tests/fuzz/regress/%s", h->name);
    replay_dir(h, dir, false);
}

/* Every directory under corpus/ and regress/ is a harness of the table. */
static void test_dirs_name_harnesses(void **state)
{
    (void)state;
    const char *tops[] = {"tests/fuzz/corpus", "tests/fuzz/regress"};
    for (size_t t = 0; t < 2; t++) {
        size_t n;
        char **names = dir_files(tops[t], &n);
        if (t == 0)
            assert_int_equal(n, NHARNESSES);
        for (size_t i = 0; i < n; i++)
            if (!harness_find(names[i]))
                fail_msg("%s/%s: no harness of that name in the replay table", tops[t], names[i]);
        free_files(names, n);
    }
}

/* Every tests/fuzz/fuzz_NAME.c is in the table. */
static void test_table_has_every_harness(void **state)
{
    (void)state;
    size_t n, found = 0;
    char **names = dir_files("tests/fuzz", &n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (strncmp(names[i], "fuzz_", 5) != 0 || len < 8 || strcmp(names[i] + len - 2, ".c") != 0)
            continue;
        names[i][len - 2] = '\0';
        if (!harness_find(names[i] + 5))
            fail_msg("tests/fuzz/%s.c is not replayed by this test", names[i]);
        found++;
    }
    free_files(names, n);
    assert_int_equal(found, NHARNESSES);
}

int main(void)
{
    struct CMUnitTest tests[NHARNESSES + 2];
    char labels[NHARNESSES][64];
    for (size_t i = 0; i < NHARNESSES; i++) {
        snprintf(labels[i], sizeof labels[i], "replay %s", harnesses[i].name);
        tests[i] = (struct CMUnitTest){labels[i], test_harness, NULL, NULL, (void *)&harnesses[i]};
    }
    tests[NHARNESSES] = (struct CMUnitTest)cmocka_unit_test(test_dirs_name_harnesses);
    tests[NHARNESSES + 1] = (struct CMUnitTest)cmocka_unit_test(test_table_has_every_harness);
    return _cmocka_run_group_tests("fuzz_regress", tests, NHARNESSES + 2, NULL, NULL);
}
