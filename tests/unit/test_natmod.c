/*
 * test_natmod.c - classification of a native module's names (own code,
 * library member, ROM, mp_fun_table) and its redundant-copy findings.
 *
 * Ground truth, all computed here from the same files by other tools:
 *   - what the project's packer emitted (samples/natmod/build/NAME.sidecar):
 *     the ROM words it wrote (address and name), the mp_fun_table kinds;
 *   - nm -S of the objects (symbol sizes), the Berkeley `size` of objects and
 *     archive members (bytes a member adds);
 *   - GNU ld's own archive closure: the "Archive member included to satisfy
 *     reference by file (symbol)" part of a -Map of the same link;
 *   - rules/rom/esp8266.ld read with awk (ROM addresses).
 * Objects for the closure and chain cases are compiled here by the real
 * xtensa toolchain into a temporary directory.
 */
#include "testutil.h"

#include "natmod.h"

#include <elf.h>

#define S   "samples/natmod/build/"
#define ROM "rules/rom/esp8266.ld"

static char *line(const char *cmd)
{
    char *s = tu_run(cmd);
    assert_non_null(s);
    s[strcspn(s, "\n")] = '\0';
    return s;
}

static uint64_t num(const char *cmd)
{
    char *s = line(cmd);
    assert_true(s[0] != '\0');
    uint64_t v = strtoull(s, NULL, 0);
    free(s);
    return v;
}

/* Address of name in the ROM table, read with awk. */
static uint64_t rom_addr(const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "awk '{ s = $0; gsub(/[ \\t();]|PROVIDE/, \"\", s); split(s, a, \"=\"); if (a[1] == \"%s\") print a[2] }' "
             "%s",
             name, ROM);
    return num(cmd);
}

/* Address of a "rom WORD ADDR NAME" line of a sidecar. */
static uint64_t sidecar_rom(const char *module, const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "awk '$1 == \"rom\" && $4 == \"%s\" { print $3 }' " S "%s.sidecar", name, module);
    return num(cmd);
}

/* Berkeley text+data of an object or of one member of an archive. */
static uint64_t berkeley(const char *path, const char *member)
{
    char cmd[1024];
    if (member)
        snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-size %s | awk '$6 == \"%s\" { print $1 + $2 }'", path, member);
    else
        snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-size %s | awk 'NR == 2 { print $1 + $2 }'", path);
    return num(cmd);
}

/* nm -S size of a defined symbol. */
static uint64_t nm_size(const char *path, const char *name)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-nm -S %s | awk 'NF == 4 && $4 == \"%s\" { print \"0x\" $2 }'", path,
             name);
    return num(cmd);
}

typedef struct fixture {
    fs_object objs[4];
    size_t nobjs;
    fs_archive libs[3];
    size_t nlibs;
    fs_romtable rom;
    fs_natmod_link link;
    fs_report rep;
} fixture;

static void fx_obj(fixture *f, const char *path)
{
    fs_error err = {{0}};
    if (fs_object_load(path, &f->objs[f->nobjs], &err) < 0)
        fail_msg("%s", err.msg);
    f->nobjs++;
}

static void fx_lib(fixture *f, const char *path)
{
    fs_error err = {{0}};
    if (fs_archive_load(path, &f->libs[f->nlibs], &err) < 0)
        fail_msg("%s", err.msg);
    f->nlibs++;
}

static void fx_link(fixture *f, bool rom)
{
    fs_error err = {{0}};
    if (rom)
        assert_int_equal(fs_romtable_load(ROM, &f->rom, &err), 0);
    if (fs_natmod_link_run(f->objs, f->nobjs, f->libs, f->nlibs, rom ? &f->rom : NULL, EM_XTENSA, &f->link, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fs_natmod_link_findings(&f->link, &f->rep), 0);
}

static void fx_free(fixture *f)
{
    fs_report_free(&f->rep);
    fs_natmod_link_free(&f->link);
    fs_romtable_free(&f->rom);
    for (size_t i = 0; i < f->nobjs; i++)
        fs_object_free(&f->objs[i]);
    for (size_t i = 0; i < f->nlibs; i++)
        fs_archive_free(&f->libs[i]);
}

static const fs_natmod_need *need(const fixture *f, const char *name)
{
    for (size_t i = 0; i < f->link.nneeds; i++)
        if (strcmp(f->link.needs[i].name, name) == 0)
            return &f->link.needs[i];
    fail_msg("no need '%s'", name);
    return NULL;
}

static const fs_finding *finding(const fixture *f, const char *id, const char *subject)
{
    for (size_t i = 0; i < f->rep.nfindings; i++)
        if (strcmp(f->rep.findings[i].id, id) == 0 && strcmp(f->rep.findings[i].subject, subject) == 0)
            return &f->rep.findings[i];
    return NULL;
}

static uint64_t finding_num(const fs_finding *f, const char *key)
{
    for (size_t i = 0; i < f->nnums; i++)
        if (strcmp(f->nums[i].key, key) == 0)
            return f->nums[i].value;
    fail_msg("finding %s has no number %s", f->id, key);
    return 0;
}

/* The ROM addresses the classification sends GOT words to, as a sorted
 * "0x... 0x..." string, against the packer's un-relocated ROM words. */
static void check_rom_words(const fixture *f, const char *module)
{
    uint64_t addrs[64];
    size_t n = 0;
    for (size_t i = 0; i < f->link.nneeds && n < 64; i++)
        if (f->link.needs[i].rom)
            addrs[n++] = f->link.needs[i].rom->addr;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && addrs[k - 1] > addrs[k]; k--) {
            uint64_t t = addrs[k];
            addrs[k] = addrs[k - 1];
            addrs[k - 1] = t;
        }
    char mine[1024] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(mine + strlen(mine), sizeof mine - strlen(mine), "0x%08llx\n", (unsigned long long)addrs[i]);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "awk '$1 == \"rom\" { print $3 }' " S "%s.sidecar | sort", module);
    char *want = tu_run(cmd);
    assert_non_null(want);
    assert_string_equal(mine, want);
    free(want);
}

/* xtensa-ownmem: its own memcpy is a redundant copy of the ROM's. */
static void test_ownmem(void **state)
{
    (void)state;
    fixture f = {0};
    fx_obj(&f, S "xtensa/entry.o");
    fx_obj(&f, S "xtensa/ownmem.o");
    fx_link(&f, true);

    const fs_natmod_need *mc = need(&f, "memcpy");
    assert_int_equal(mc->kind, FS_NEED_OWN);
    assert_string_equal(f.link.objs[mc->obj].img.path, S "xtensa/ownmem.o");
    assert_int_equal(mc->type, STT_FUNC);
    assert_true(mc->redundant);
    uint64_t size = nm_size(S "xtensa/ownmem.o", "memcpy");
    assert_int_equal(size, 22);
    assert_int_equal(mc->size, size);
    assert_int_equal(mc->bytes, size);
    assert_int_equal(mc->wasted, size);
    assert_int_equal(mc->rom->addr, rom_addr("memcpy"));
    assert_int_equal(mc->rom->addr, sidecar_rom("xtensa-ownmem", "memcpy"));

    const fs_natmod_need *sl = need(&f, "strlen");
    assert_int_equal(sl->kind, FS_NEED_ROM);
    assert_true(sl->referenced);
    assert_false(sl->redundant);
    assert_int_equal(sl->rom->addr, sidecar_rom("xtensa-ownmem", "strlen"));
    assert_int_equal(sl->rom->addr, 0x4000bf4c);

    const fs_natmod_need *mi = need(&f, "mpy_init");
    assert_int_equal(mi->kind, FS_NEED_OWN);
    assert_true(mi->referenced); /* by entry.o */
    assert_int_equal(mi->size, nm_size(S "xtensa/ownmem.o", "mpy_init"));
    const fs_natmod_need *ft = need(&f, "mp_fun_table");
    assert_int_equal(ft->kind, FS_NEED_RUNTIME);
    assert_int_equal(ft->fun_index, -1);

    assert_int_equal(f.link.nmembers, 0);
    assert_int_equal(f.link.own_bytes, berkeley(S "xtensa/entry.o", NULL) + berkeley(S "xtensa/ownmem.o", NULL));
    assert_int_equal(f.link.own_bss, 64);
    assert_int_equal(f.link.wasted, size);
    check_rom_words(&f, "xtensa-ownmem");

    assert_int_equal(f.rep.nfindings, 1);
    const fs_finding *fd = finding(&f, "natmod-redundant-copy", "memcpy");
    assert_non_null(fd);
    assert_int_equal(fd->severity, FS_SEV_WARNING);
    assert_int_equal(finding_num(fd, "wasted"), size);
    assert_int_equal(finding_num(fd, "rom_address"), 0x4000df48);
    assert_non_null(strstr(fd->message, S "xtensa/ownmem.o defines a copy"));
    assert_int_equal(fs_report_worst(&f.rep), FS_SEV_WARNING);
    fx_free(&f);
}

/* xtensa-libs: __modsi3 from libgcc.a, memcpy from libmini.a (redundant),
 * __udivsi3 from the ROM, mp_type_type from mp_fun_table. */
static void test_libs(void **state)
{
    (void)state;
    char *libgcc = line("xtensa-lx106-elf-gcc -print-libgcc-file-name");
    fixture f = {0};
    fx_obj(&f, S "xtensa/entry.o");
    fx_obj(&f, S "xtensa/libs.o");
    fx_lib(&f, S "xtensa/libmini.a");
    fx_lib(&f, libgcc);
    fx_link(&f, true);

    const fs_natmod_need *mod = need(&f, "__modsi3");
    assert_int_equal(mod->kind, FS_NEED_LIBRARY);
    assert_string_equal(fs_natmod_member_archive(&f.link, (size_t)mod->member), libgcc);
    assert_string_equal(fs_natmod_member_object(&f.link, (size_t)mod->member)->name, "_modsi3.o");
    assert_int_equal(mod->bytes, berkeley(libgcc, "_modsi3.o"));
    assert_int_equal(mod->bytes, 73);
    assert_null(mod->rom);
    assert_false(mod->redundant);
    assert_true(f.link.members[mod->member].live);

    const fs_natmod_need *mc = need(&f, "memcpy");
    assert_int_equal(mc->kind, FS_NEED_LIBRARY);
    assert_string_equal(fs_natmod_member_archive(&f.link, (size_t)mc->member), S "xtensa/libmini.a");
    assert_string_equal(fs_natmod_member_object(&f.link, (size_t)mc->member)->name, "memcpy.o");
    assert_true(mc->redundant);
    uint64_t member = berkeley(S "xtensa/libmini.a", "memcpy.o");
    assert_int_equal(member, 22);
    assert_int_equal(mc->bytes, member);
    assert_int_equal(mc->wasted, member); /* pulled only for memcpy */
    assert_false(f.link.members[mc->member].live);
    assert_int_equal(mc->rom->addr, sidecar_rom("xtensa-libs", "memcpy"));

    const fs_natmod_need *ud = need(&f, "__udivsi3");
    assert_int_equal(ud->kind, FS_NEED_ROM);
    assert_int_equal(ud->rom->addr, sidecar_rom("xtensa-libs", "__udivsi3"));
    assert_int_equal(ud->rom->addr, rom_addr("__udivsi3"));

    const fs_natmod_need *tt = need(&f, "mp_type_type");
    assert_int_equal(tt->kind, FS_NEED_RUNTIME);
    /* the packer relocated it as kind 9 + index */
    assert_int_equal((uint64_t)tt->fun_index + 9,
                     num("awk '$1 == \"reloc\" && $5 >= 9 { print $5 }' " S "xtensa-libs.sidecar"));

    /* the members GNU ld pulls for the same link, in the same order, for the same names */
    char *ld = tu_run(
        "t=$(mktemp -d); xtensa-lx106-elf-ld --no-relax -q -T samples/natmod/natmod.ld --unresolved-symbols=ignore-all "
        "-o $t/x.elf -Map $t/x.map " S "xtensa/entry.o " S "xtensa/libs.o " S
        "xtensa/libmini.a $(xtensa-lx106-elf-gcc -print-libgcc-file-name) 2>/dev/null; "
        "awk '/^Archive member included/ { f = 1; next } /^(Discarded|Memory|Allocating)/ { f = 0 } "
        "f && NF == 1 { m = $1 } f && NF == 2 { print m, $2 }' $t/x.map; rm -rf $t");
    assert_non_null(ld);
    char mine[2048] = "";
    for (size_t m = 0; m < f.link.nmembers; m++)
        snprintf(mine + strlen(mine), sizeof mine - strlen(mine), "%s (%s)\n",
                 fs_natmod_member_object(&f.link, m)->img.path, f.link.members[m].pulled_for);
    /* ld lists members in the order it pulled them, which follows the archive order on the command line */
    char *sorted_ld = NULL, *sorted_mine = NULL;
    {
        char *p1 = tu_tmpfile(ld, strlen(ld)), *p2 = tu_tmpfile(mine, strlen(mine));
        char cmd[256];
        snprintf(cmd, sizeof cmd, "sort %s", p1);
        sorted_ld = tu_run(cmd);
        snprintf(cmd, sizeof cmd, "sort %s", p2);
        sorted_mine = tu_run(cmd);
        unlink(p1);
        unlink(p2);
        free(p1);
        free(p2);
    }
    assert_string_equal(sorted_mine, sorted_ld);
    assert_int_equal(f.link.nmembers, 2);
    free(sorted_ld);
    free(sorted_mine);
    free(ld);

    assert_int_equal(f.link.lib_bytes, 73 + 22);
    assert_int_equal(f.link.own_bytes, berkeley(S "xtensa/entry.o", NULL) + berkeley(S "xtensa/libs.o", NULL));
    assert_int_equal(f.link.wasted, 22);
    check_rom_words(&f, "xtensa-libs");

    assert_int_equal(f.rep.nfindings, 1);
    const fs_finding *fd = finding(&f, "natmod-redundant-copy", "memcpy");
    assert_non_null(fd);
    assert_int_equal(finding_num(fd, "wasted"), 22);
    assert_non_null(strstr(fd->message, "libmini.a(memcpy.o) was linked in for it"));
    fx_free(&f);
    free(libgcc);
}

/* Without a ROM table and libraries, the ROM and libgcc names are
 * unresolved: mpy_ld would refuse the link, an error finding. */
static void test_unresolved(void **state)
{
    (void)state;
    fixture f = {0};
    fx_obj(&f, S "xtensa/entry.o");
    fx_obj(&f, S "xtensa/libs.o");
    fx_lib(&f, S "xtensa/libmini.a");
    fx_link(&f, false);
    assert_int_equal(need(&f, "__modsi3")->kind, FS_NEED_UNRESOLVED);
    assert_int_equal(need(&f, "__udivsi3")->kind, FS_NEED_UNRESOLVED);
    assert_int_equal(need(&f, "memcpy")->kind, FS_NEED_LIBRARY);
    assert_false(need(&f, "memcpy")->redundant);
    assert_int_equal(f.link.wasted, 0);
    assert_int_equal(f.rep.nfindings, 2);
    const fs_finding *fd = finding(&f, "natmod-unresolved", "__modsi3");
    assert_non_null(fd);
    assert_int_equal(fd->severity, FS_SEV_ERROR);
    assert_non_null(strstr(fd->message, "referenced by " S "xtensa/libs.o"));
    assert_int_equal(fs_report_worst(&f.rep), FS_SEV_ERROR);
    fx_free(&f);

    /* with no libraries memcpy falls back to mp_fun_table's memmove slot */
    fixture g = {0};
    fx_obj(&g, S "xtensa/libs.o");
    fx_link(&g, false);
    assert_int_equal(need(&g, "memcpy")->kind, FS_NEED_RUNTIME);
    assert_int_equal(need(&g, "memcpy")->fun_index, 51);
    fx_free(&g);
}

/* Compile C source into dir/name.o with the xtensa toolchain. */
static void cc_xtensa(const char *dir, const char *name, const char *src)
{
    char path[512], cmd[1024];
    snprintf(path, sizeof path, "%s/%s.c", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(src, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd,
             "xtensa-lx106-elf-gcc -Os -mlongcalls -fpic -fno-builtin -nostdlib -c %s/%s.c -o %s/%s.o && echo ok", dir,
             name, dir, name);
    free(line(cmd));
}

/* The closure through libgcc (a pulled member pulls another; ROM names it
 * references stay in the ROM), checked against GNU ld's own choice. */
static void test_closure(void **state)
{
    (void)state;
    char dir[] = "/tmp/flashsize-nm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cc_xtensa(dir, "mod", "long long f(long long a, long long b) { return a % b; }\n");
    char *libgcc = line("xtensa-lx106-elf-gcc -print-libgcc-file-name");
    char path[512], cmd[2048];
    snprintf(path, sizeof path, "%s/mod.o", dir);
    fixture f = {0};
    fx_obj(&f, path);
    fx_lib(&f, libgcc);
    fx_link(&f, true);

    snprintf(cmd, sizeof cmd,
             "xtensa-lx106-elf-ld -T samples/natmod/natmod.ld --unresolved-symbols=ignore-all -o %s/x.elf "
             "-Map %s/x.map %s %s 2>/dev/null; awk '/^Archive member included/ { f = 1; next } "
             "/^(Discarded|Memory|Allocating)/ { f = 0 } f && NF == 1 { m = $1 } "
             "f && NF >= 2 { print m, $NF }' %s/x.map",
             dir, dir, path, libgcc, dir);
    char *ld = tu_run(cmd);
    assert_non_null(ld);
    char mine[2048] = "";
    for (size_t m = 0; m < f.link.nmembers; m++)
        snprintf(mine + strlen(mine), sizeof mine - strlen(mine), "%s (%s)\n",
                 fs_natmod_member_object(&f.link, m)->img.path, f.link.members[m].pulled_for);
    assert_string_equal(mine, ld); /* same members, same order, same symbols */
    free(ld);
    assert_int_equal(f.link.nmembers, 2);
    assert_int_equal(f.link.members[1].parent, 0); /* _modsi3.o pulled by _moddi3.o */
    assert_true(f.link.members[0].live && f.link.members[1].live);
    /* what _moddi3.o needs and the ROM has stays in the ROM */
    const char *romnames[] = {"__divsi3", "__udivsi3", "__umodsi3", "__umulsidi3"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(need(&f, romnames[i])->kind, FS_NEED_ROM);
        assert_int_equal(need(&f, romnames[i])->rom->addr, rom_addr(romnames[i]));
    }
    assert_int_equal(f.link.lib_bytes, berkeley(libgcc, "_moddi3.o") + berkeley(libgcc, "_modsi3.o"));
    assert_int_equal(f.rep.nfindings, 0);
    fx_free(&f);
    free(libgcc);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    free(tu_run(cmd));
}

/* A member pulled only for a ROM name wastes its bytes and those of the
 * member it pulled; a member needed for something else wastes only the
 * ROM function's size. */
static void test_dead_chain(void **state)
{
    (void)state;
    char dir[] = "/tmp/flashsize-nm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cc_xtensa(dir, "mod",
              "unsigned strlen(const char *s); int g(int x); int h(const char *s) { return (int)strlen(s) + g(1); }\n");
    cc_xtensa(dir, "a", "int helper(const char *s); unsigned strlen(const char *s) { return (unsigned)helper(s); }\n");
    cc_xtensa(dir, "b", "int helper(const char *s) { int n = 0; while (s[n]) n++; return n; }\n");
    cc_xtensa(dir, "c",
              "void *memset(void *d, int c, unsigned n) { char *p = d; while (n--) *p++ = (char)c; return d; }\n"
              "int g(int x) { return x * 3; }\n");
    char cmd[2048], lib[512];
    snprintf(cmd, sizeof cmd, "cd %s && xtensa-lx106-elf-ar rcs libx.a a.o b.o c.o && echo ok", dir);
    free(line(cmd));
    snprintf(lib, sizeof lib, "%s/libx.a", dir);
    char path[512];
    snprintf(path, sizeof path, "%s/mod.o", dir);
    fixture f = {0};
    fx_obj(&f, path);
    fx_lib(&f, lib);
    fx_link(&f, true);

    assert_int_equal(f.link.nmembers, 3);
    const fs_natmod_need *sl = need(&f, "strlen");
    assert_int_equal(sl->kind, FS_NEED_LIBRARY);
    assert_true(sl->redundant);
    uint64_t a = berkeley(lib, "a.o"), b = berkeley(lib, "b.o"), c = berkeley(lib, "c.o");
    assert_true(a > 0 && b > 0 && c > 0);
    assert_int_equal(sl->wasted, a + b); /* a.o and the b.o it pulled */
    const fs_natmod_need *hp = need(&f, "helper");
    assert_int_equal(hp->kind, FS_NEED_LIBRARY);
    assert_false(hp->redundant);
    assert_int_equal(hp->wasted, 0);
    /* memset: in c.o, which g() keeps live; only its own size is wasted */
    const fs_natmod_need *ms = need(&f, "memset");
    assert_int_equal(ms->kind, FS_NEED_LIBRARY);
    assert_false(ms->referenced);
    assert_true(ms->redundant);
    char objc[600];
    snprintf(objc, sizeof objc, "%s/c.o", dir);
    assert_int_equal(ms->wasted, nm_size(objc, "memset"));
    assert_int_equal(f.link.wasted, a + b + nm_size(objc, "memset"));
    assert_int_equal(f.rep.nfindings, 2);
    const fs_finding *fd = finding(&f, "natmod-redundant-copy", "strlen");
    assert_non_null(fd);
    assert_non_null(strstr(fd->message, "and the members it pulled"));
    assert_non_null(finding(&f, "natmod-redundant-copy", "memset"));
    fx_free(&f);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    free(tu_run(cmd));
}

static void test_link_errors(void **state)
{
    (void)state;
    fs_object o[2];
    fs_error err = {{0}};
    fs_natmod_link l;
    /* the same object twice: duplicate definitions */
    assert_int_equal(fs_object_load(S "xtensa/ownmem.o", &o[0], &err), 0);
    assert_int_equal(fs_object_load(S "xtensa/ownmem.o", &o[1], &err), 0);
    assert_int_equal(fs_natmod_link_run(o, 2, NULL, 0, NULL, EM_XTENSA, &l, &err), -1);
    assert_non_null(strstr(err.msg, "symbol 'memcpy' is also defined in " S "xtensa/ownmem.o"));
    /* an object for another machine */
    assert_int_equal(fs_natmod_link_run(o, 1, NULL, 0, NULL, EM_ARM, &l, &err), -1);
    assert_string_equal(err.msg, S "xtensa/ownmem.o: machine Xtensa, but the module is built for ARM");
    fs_object_free(&o[0]);
    fs_object_free(&o[1]);
    /* a pulled member for another machine */
    fs_archive ar;
    assert_int_equal(fs_object_load(S "armv7m/libs.o", &o[0], &err), 0);
    assert_int_equal(fs_archive_load(S "xtensa/libmini.a", &ar, &err), 0);
    assert_int_equal(fs_natmod_link_run(o, 1, &ar, 1, NULL, 0, &l, &err), -1);
    assert_string_equal(err.msg, S "xtensa/libmini.a(memcpy.o): machine Xtensa, but the module is built for ARM");
    fs_archive_free(&ar);
    fs_object_free(&o[0]);
    assert_int_equal(fs_natmod_arch_machine(9), EM_XTENSA);
    assert_int_equal(fs_natmod_arch_machine(5), EM_ARM);
    assert_int_equal(fs_natmod_arch_machine(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ownmem),  cmocka_unit_test(test_libs),       cmocka_unit_test(test_unresolved),
        cmocka_unit_test(test_closure), cmocka_unit_test(test_dead_chain), cmocka_unit_test(test_link_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
