# gen.awk - write a frozen_content.c laid out as MicroPython's freezer
# (tools/makemanifest.py + tools/mpy-tool.py) lays it out, from the module
# description in modules.txt, and a sidecar listing the exact bytes it
# emitted per module and per shared part.
#
#   LC_ALL=C awk -v naming=proto|rawcode -v hashbytes=0|1|2 -v arch=xtensa|arm \
#       -v sidecar=OUT.sizes -f gen.awk modules.txt > frozen_content.c
#
# naming=proto: current MicroPython (v1.23+): a leaf bytecode raw code has
#   no struct (its parent points straight at fun_data_S); raw codes with
#   children (and native ones) get proto_fun_S + children_S.
# naming=rawcode: v1.19-v1.22: every raw code gets a raw_code_S struct.
# The C types come from mpstub.h, a 32-bit stand-in for MicroPython's.
#
# Byte accounting written to the sidecar (32-bit target, sizes of the C
# objects emitted, padding between objects not included):
#   symbols PATH N  the sizes of the ELF symbols named after the module (what
#                   attribution by symbol names alone can find)
#   code PATH N     the bytes of its fun_data objects (bytecode and machine
#                   code: `code` in flashsize's split)
#   iram PATH N     of those, the native ones placed in .text (IRAM)
#   module PATH N   every object reached from frozen_module_M, the qstrs only
#                   this module uses (pool pointer + hash + length + string
#                   and its NUL), its mp_frozen_names entry and its
#                   mp_frozen_mpy_content pointer
#   str PATH N      source bytes + NUL, its sizes word, its names entry
#   shared NAME N   what is left of each shared table
#   total N         the sum of the module, str and shared lines

function die(msg) { print "gen.awk: " FILENAME ":" FNR ": " msg > "/dev/stderr"; failed = 1; exit 1 }

# --- names (facts 1.4) ---------------------------------------------------
function qescape(s,    out, i, c) {
    out = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c ~ /[A-Za-z0-9_]/) out = out c
        else if (c == "<") out = out "_lt_"
        else if (c == ">") out = out "_gt_"
        else if (c == ".") out = out "_dot_"
        else if (c == "/") out = out "_slash_"
        else if (c == "-") out = out "_hyphen_"
        else die("no escape for '" c "'")
    }
    return out
}
function module_cname(path,    s) {
    if (naming == "rawcode") {            # v1.19..v1.28 rule
        s = path
        gsub(/\//, "_", s)
        return substr(s, 1, length(s) - 3)
    }
    s = path                              # master rule: drop the extension
    sub(/\.[^.]*$/, "", s)
    gsub(/\./, "_", s)
    gsub(/[^A-Za-z0-9_]/, "_", s)
    return s
}
function unique_scope(s,    n) {
    if (!(s in scope_used)) { scope_used[s] = 1; return s }
    for (n = 2; (s n) in scope_used; n++) ;
    scope_used[s n] = 1
    return s n
}

# --- qstrs -------------------------------------------------------------
function static_qstr_id(name) { return (name in static_id) ? static_id[name] : -1 }
function use_qstr(m, name) {
    if (static_qstr_id(name) >= 0) { if (!((m, name) in mq_seen)) { mq_seen[m, name] = 1; mq[m, ++nmq[m]] = name }; return }
    if (!(name in pool_has)) { pool_has[name] = 1; pool[++npool] = name }
    if (!((m, name) in users)) { users[m, name] = 1; nusers[name]++; owner[name] = m }
}
function table_qstr(m, name) {          # goes in const_qstr_table_data_M too
    use_qstr(m, name)
    if (!((m, name) in mq_seen)) { mq_seen[m, name] = 1; mq[m, ++nmq[m]] = name }
}
function anon_string(s) { anon[++nanon] = s }

# --- deterministic filler ----------------------------------------------
function rnd() { seed = (seed * 16807) % 2147483647; return seed }
function bytes_init(n, first,    out, i) {
    out = sprintf("0x%02x", first)
    for (i = 1; i < n; i++) out = out sprintf(", 0x%02x", rnd() % 256)
    return out
}

BEGIN {
    seed = 4242
    if (naming != "proto" && naming != "rawcode") { print "gen.awk: naming must be proto or rawcode" > "/dev/stderr"; failed = 1; exit 1 }
    hashbytes = int(hashbytes)
    ptr = 4
    nstatic = split("__init__ __name__ self print len append __class__ __module__ __qualname__", sn, " ")
    for (i = 1; i <= nstatic; i++) static_id[sn[i]] = 16 + 3 * i
    nmod = 0; nstr = 0; npool = 0; nanon = 0
}

/^#/ || NF == 0 { next }
$1 == "str" {
    if (NF != 3) die("str PATH BYTES")
    strpath[++nstr] = $2; strsize[nstr] = int($3)
    next
}
$1 == "mod" {
    if (NF != 2) die("mod PATH")
    m = ++nmod; path[m] = $2; cname[m] = module_cname($2); nsc[m] = 0; nobj[m] = 0; nmq[m] = 0
    table_qstr(m, $2)                     # entry 0: the source file
    anon_string($2)                        # (pool string added below, once)
    next
}
$1 == "code" {
    if (!nmod) die("code before mod")
    if (NF < 3) die("code SCOPE BYTES [native]")
    k = ++nsc[m]; sc[m, k] = $2; scbytes[m, k] = int($3); scnative[m, k] = ($4 == "native")
    scidx[m, $2] = k
    n = split($2, part, ".")
    simple = part[n]
    if ($2 != "<module>") table_qstr(m, simple)
    next
}
$1 == "qstr" {
    for (i = 2; i <= NF; i++) table_qstr(m, $i)
    next
}
$1 == "const" {
    if (NF != 3) die("const KIND VALUE")
    o = ++nobj[m]; objkind[m, o] = $2; objval[m, o] = $3
    if ($2 == "qstr") use_qstr(m, $3)
    if ($2 == "tuple") tuple_qstrs(m, $3)
    next
}
{ die("unknown line kind '" $1 "'") }

function tuple_qstrs(m, v,    n, it, i, kv) {
    n = split(v, it, /[;,]/)
    for (i = 1; i <= n; i++) if (it[i] ~ /^(tuple:)?qstr:/) { kv = it[i]; sub(/^(tuple:)?qstr:/, "", kv); use_qstr(m, kv) }
}

# --- emission ------------------------------------------------------------
function cstr(s) { gsub(/~/, " ", s); return s }

# Emit one raw code and, first, its children.  Returns the expression a
# parent stores for it.
function emit_scope(m, k,    S, pre, kids, nk, j, c, first, nat, expr, sect, bytes) {
    S = scname[m, k]
    nk = 0
    for (j = 1; j <= nsc[m]; j++) if (parent[m, j] == k) { nk++; kids[nk] = j }
    for (j = 1; j <= nk; j++) kidexpr[m, kids[j]] = emit_scope(m, kids[j])
    nat = scnative[m, k]
    sect = ""
    if (nat) sect = (arch == "arm") ? " __attribute__((section(\".text,\\\"ax\\\",%progbits @ \"), aligned(2)))" \
                                     : " __attribute__((section(\".text,\\\"ax\\\",@progbits # \"), aligned(4)))"
    first = 1 + rnd() % 255
    printf "static const byte fun_data_%s[%d]%s = {\n    %s,\n};\n", S, scbytes[m, k], sect, bytes_init(scbytes[m, k], first)
    modbytes[m] += scbytes[m, k]
    symbytes[m] += scbytes[m, k]
    codebytes[m] += scbytes[m, k]
    if (nat) irambytes[m] += scbytes[m, k]
    if (naming == "proto" && nk == 0 && !nat)
        return "(const void *)fun_data_" S
    if (nk > 0 || nat) {
        printf "static const void *const children_%s[] = {\n", S
        for (j = 1; j <= nk; j++) printf "    %s,\n", kidexpr[m, kids[j]]
        if (nat) printf "    (const void *)(fun_data_%s + %d), /* prelude */\n", S, int(scbytes[m, k] / 2)
        print "};"
        modbytes[m] += ptr * (nk + nat)
        symbytes[m] += ptr * (nk + nat)
    }
    if (naming == "proto") {
        printf "static const mp_raw_code_truncated_t proto_fun_%s = {\n", S
        printf "    .proto_fun_indicator[0] = 0, .proto_fun_indicator[1] = 0,\n"
        printf "    .kind = %d, .is_generator = 0,\n    .fun_data = fun_data_%s,\n", nat ? 3 : 2, S
        printf "    .children = %s,\n};\n", (nk + nat) ? "children_" S : "NULL"
        modbytes[m] += 12
        symbytes[m] += 12
        return "(const void *)&proto_fun_" S
    }
    printf "static const mp_raw_code_t raw_code_%s = {\n", S
    printf "    .kind = %d, .scope_flags = 0, .is_generator = 0,\n    .fun_data = fun_data_%s,\n", nat ? 3 : 2, S
    printf "    .children = %s,\n};\n", (nk + nat) ? "children_" S : "NULL"
    modbytes[m] += 12
    symbytes[m] += 12
    return "(const void *)&raw_code_" S
}

function qid(name) { return static_qstr_id(name) >= 0 ? static_qstr_id(name) : "MP_QSTR_" qescape(name) }

# One constant object or tuple member; returns its mp_rom_obj_t expression.
function emit_obj(m, sym, kind, v, depth,    n, it, i, e, d, nd, items, s, k2, v2) {
    if (kind == "int") {
        if (v + 0 < -8192 || v + 0 > 8191) die("int constants must be small ints: " v)
        return "MP_ROM_INT(" v ")"
    }
    if (kind == "qstr") return "MP_ROM_QSTR(" qid(v) ")"
    if (kind == "str" || kind == "bytes") {
        s = cstr(v)
        if (kind == "str" && length(s) < 25) die("str constants shorter than 25 chars are interned; use qstr")
        anon_string(s)
        printf "static const mp_obj_str_t %s = {{&mp_type_%s}, %d, %d, (const byte *)\"%s\"};\n", sym, kind, 1 + rnd() % 65535, length(s), s
        modbytes[m] += 16 + length(s) + 1
        symbytes[m] += 16
        return "MP_ROM_PTR(&" sym ")"
    }
    if (kind == "bigint") {
        nd = split(v, d, ".")
        items = ""
        for (i = 1; i <= nd; i++) items = items (i > 1 ? ", " : "") "0x" d[i]
        printf "static const mp_obj_int_t %s = {{&mp_type_int}, {.neg = 0, .fixed_dig = 1, .alloc = %d, .len = %d, .dig = (uint16_t *)(const uint16_t[]){%s}}};\n", sym, nd, nd, items
        modbytes[m] += 16 + 2 * nd
        symbytes[m] += 16
        return "MP_ROM_PTR(&" sym ")"
    }
    if (kind == "tuple") {
        n = split(v, it, depth ? "," : ";")
        for (i = 1; i <= n; i++) {
            k2 = it[i]; sub(/:.*/, "", k2)
            v2 = it[i]; sub(/^[^:]*:/, "", v2)
            e[i] = emit_obj(m, sym "_" (i - 1), k2, v2, depth + 1)
        }
        printf "static const mp_rom_obj_tuple_t %s = {{&mp_type_tuple}, %d, {", sym, n
        for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? ", " : ""), e[i]
        print "}};"
        modbytes[m] += 8 + 4 * n
        symbytes[m] += 8 + 4 * n
        return "MP_ROM_PTR(&" sym ")"
    }
    die("unknown constant kind '" kind "'")
}

function emit_module(m,    k, n, part, p, j, top, o, e) {
    # scope names and parents
    for (k = 1; k <= nsc[m]; k++) {
        if (sc[m, k] == "<module>") { top = k; parent[m, k] = 0; continue }
        n = split(sc[m, k], part, ".")
        p = ""
        for (j = 1; j < n; j++) p = p (j > 1 ? "." : "") part[j]
        if (p == "") parent[m, k] = scidx[m, "<module>"]
        else if ((m, p) in scidx) parent[m, k] = scidx[m, p]
        else die("scope " sc[m, k] " has no parent " p)
    }
    if (!top) die("module " path[m] " has no <module> scope")
    # escaped names in definition order of the tree (parents first)
    name_scope(m, top, cname[m] "__lt_module_gt_", cname[m])
    printf "\n// frozen module %s\n", path[m]
    e = emit_scope(m, top)
    printf "static const qstr_short_t const_qstr_table_data_%s[%d] = {\n", cname[m], nmq[m]
    for (j = 1; j <= nmq[m]; j++) printf "    %s,\n", qid(mq[m, j])
    print "};"
    modbytes[m] += 2 * nmq[m]
    symbytes[m] += 2 * nmq[m]
    for (o = 1; o <= nobj[m]; o++) oe[o] = emit_obj(m, "const_obj_" cname[m] "_" (o - 1), objkind[m, o], objval[m, o], 0)
    if (nobj[m]) {
        printf "static const mp_rom_obj_t const_obj_table_data_%s[%d] = {\n", cname[m], nobj[m]
        for (o = 1; o <= nobj[m]; o++) printf "    %s,\n", oe[o]
        print "};"
        modbytes[m] += 4 * nobj[m]
        symbytes[m] += 4 * nobj[m]
    }
    printf "static const mp_frozen_module_t frozen_module_%s = {\n", cname[m]
    printf "    .constants = { .qstr_table = const_qstr_table_data_%s, .obj_table = %s },\n", cname[m], nobj[m] ? "const_obj_table_data_" cname[m] : "NULL"
    printf "    .proto_fun = %s,\n};\n", e
    modbytes[m] += 12
    symbytes[m] += 12
}
function name_scope(m, k, S, base,    j, n, part) {
    scname[m, k] = unique_scope(S)
    for (j = 1; j <= nsc[m]; j++) if (parent[m, j] == k) {
        n = split(sc[m, j], part, ".")
        name_scope(m, j, (k == scidx[m, "<module>"] ? base : scname[m, k]) "_" qescape(part[n]), "")
    }
}

function str_content(i, n,    s, line) {
    s = "# " strpath[i] " (frozen as str)\\n"
    line = 20 + 3 * i
    while (length(s) - gsub(/\\n/, "&", s) < n) s = s "x" (line++ % 10) "=1\\n"
    # trim to exactly n characters (each \n escape is one byte)
    while (length(s) - gsub(/\\n/, "&", s) > n) s = substr(s, 1, length(s) - 1)
    if (substr(s, length(s)) == "\\") s = substr(s, 1, length(s) - 1) "y"
    return s
}

function sorted_pool(    i, j, t) {
    for (i = 2; i <= npool; i++) { t = pool[i]; for (j = i - 1; j >= 1 && pool[j] > t; j--) pool[j + 1] = pool[j]; pool[j + 1] = t }
}
function check_suffixes(    i, j, a, b) {
    for (i = 1; i <= nanon; i++) for (j = 1; j <= nanon; j++) {
        if (i == j) continue
        a = anon[i]; b = anon[j]
        if (length(a) <= length(b) && substr(b, length(b) - length(a) + 1) == a) die("string '" a "' is a suffix of '" b "': the linker would merge them")
    }
}

END {
    if (failed) exit 1
    print "/* Generated by samples/frozen/gen.awk from modules.txt; do not edit. */"
    print "#include \"mpstub.h\""
    print ""
    # 1. str part
    printf "const uint32_t mp_frozen_str_sizes[%d] = {", nstr + 1
    for (i = 1; i <= nstr; i++) printf "%d, ", strsize[i]
    print "0};"
    print "const char mp_frozen_str_content[] = {"
    for (i = 1; i <= nstr; i++) printf "    \"%s\\0\"\n", str_content(i, strsize[i])
    print "    \"\\0\"};"
    # 3..6: the qstr pool (strings sorted by value)
    sorted_pool()
    for (i = 1; i <= npool; i++) { pidx[pool[i]] = i - 1; if (!(pool[i] in anon_seen)) anon_string(pool[i]) }
    # module paths were added to anon[] already; drop the duplicates
    nanon2 = 0
    for (i = 1; i <= nanon; i++) if (!(anon[i] in seen_anon)) { seen_anon[anon[i]] = 1; anon2[++nanon2] = anon[i] }
    nanon = nanon2; for (i = 1; i <= nanon; i++) anon[i] = anon2[i]
    print "\nenum {"
    for (i = 1; i <= npool; i++) printf "    MP_QSTR_%s%s,\n", qescape(pool[i]), i == 1 ? " = MP_QSTRnumber_of" : ""
    print "};"
    if (hashbytes) {
        printf "const qstr_hash_t mp_qstr_frozen_const_hashes[%d] = {", npool
        for (i = 1; i <= npool; i++) printf "%d, ", 1 + rnd() % (hashbytes == 1 ? 255 : 65535)
        print "};"
    }
    printf "const qstr_len_t mp_qstr_frozen_const_lengths[%d] = {", npool
    for (i = 1; i <= npool; i++) printf "%d, ", length(pool[i])
    print "};"
    print "const qstr_pool_t mp_qstr_frozen_const_pool = {"
    print "    &mp_qstr_const_pool, MP_QSTRnumber_of, true,"
    printf "    %d, %d,\n", npool < 10 ? npool : 10, npool
    if (hashbytes) print "    (qstr_hash_t *)mp_qstr_frozen_const_hashes,"
    print "    (qstr_len_t *)mp_qstr_frozen_const_lengths,"
    print "    {"
    for (i = 1; i <= npool; i++) printf "        \"%s\",\n", pool[i]
    print "    },\n};"
    # 7. the modules
    for (m = 1; m <= nmod; m++) emit_module(m)
    check_suffixes()
    if (failed) exit 1
    # 8. names, 9. content
    print "\nconst char mp_frozen_names[] = {"
    for (i = 1; i <= nstr; i++) printf "    \"%s\\0\"\n", strpath[i]
    for (m = 1; m <= nmod; m++) printf "    \"%s\\0\"\n", path[m]
    print "    \"\\0\"};"
    printf "const mp_frozen_module_t *const mp_frozen_mpy_content[%d] = {\n", nmod
    for (m = 1; m <= nmod; m++) printf "    &frozen_module_%s,\n", cname[m]
    print "};"

    # --- the sidecar ---
    qshare = ptr + hashbytes + 1
    shared_ptrs = 0; shared_hash = 0; shared_len = 0; shared_str = 0
    for (i = 1; i <= npool; i++) {
        q = pool[i]
        if (nusers[q] == 1) modbytes[owner[q]] += qshare + length(q) + 1
        else { shared_ptrs += ptr; shared_hash += hashbytes; shared_len += 1; shared_str += length(q) + 1 }
    }
    total = 0
    for (m = 1; m <= nmod; m++) {
        modbytes[m] += length(path[m]) + 1 + ptr
        printf "module %s %d\n", path[m], modbytes[m] > sidecar
        printf "symbols %s %d\n", path[m], symbytes[m] > sidecar
        printf "code %s %d\n", path[m], codebytes[m] > sidecar
        printf "iram %s %d\n", path[m], irambytes[m] > sidecar
        total += modbytes[m]
    }
    for (i = 1; i <= nstr; i++) {
        b = strsize[i] + 1 + 4 + length(strpath[i]) + 1
        printf "str %s %d\n", strpath[i], b > sidecar
        total += b
    }
    hdr = (hashbytes ? 6 : 5) * ptr
    printf "shared mp_qstr_frozen_const_pool %d\n", hdr + shared_ptrs > sidecar
    if (hashbytes) printf "shared mp_qstr_frozen_const_hashes %d\n", shared_hash > sidecar
    printf "shared mp_qstr_frozen_const_lengths %d\n", shared_len > sidecar
    printf "shared qstr-strings %d\n", shared_str > sidecar
    printf "shared mp_frozen_names 2\n" > sidecar
    printf "shared mp_frozen_str_sizes 4\n" > sidecar
    printf "shared mp_frozen_str_content 2\n" > sidecar
    total += hdr + shared_ptrs + shared_hash + shared_len + shared_str + 2 + 4 + 2
    printf "total %d\n", total > sidecar
}
