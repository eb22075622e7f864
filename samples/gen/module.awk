# module.awk - write one C source file of generated firmware-like code.
#
#   awk -v path=py/objlist -v prefix=mp_obj_list -v nfunc=30 [-v flash=1] \
#       [-v rodata=BYTES] [-v data=BYTES] [-v bss=BYTES] -f module.awk
#
# The output has NFUNC functions of varying size named PREFIX_<word> (some of
# them static helpers), a method table PREFIX_locals_table and a module
# descriptor PREFIX_module that references every public function, plus
# constant tables (.rodata), initialised data (.data) and buffers (.bss).
# With flash=1 every function gets FLASH_FN(), i.e. an .irom0.text.NAME
# section on the ESP8266.  rodata/data/bss override the automatically chosen
# sizes (approximately, in bytes).
#
# Everything is derived from a pseudo-random sequence seeded with a hash of
# PATH, so the same arguments always give the same file.  The generator uses
# only POSIX awk and keeps every intermediate value below 2^53 (exact in the
# doubles awk computes with).

function rnd() { seed = (seed * 16807) % 2147483647; return seed }
function pick(n) { return rnd() % n }
function frac() { return rnd() / 2147483647 }
function hex16() { return sprintf("0x%04x", pick(65536)) }
function hex32() { return sprintf("0x%04x%04xu", pick(65536), pick(65536)) }

function emit_u16_table(name, n, storage,    i, line) {
    printf "%sconst uint16_t %s[%d] = {\n", storage, name, n
    line = ""
    for (i = 0; i < n; i++) {
        line = line " " hex16() ","
        if (i % 10 == 9 || i == n - 1) { print "   " line; line = "" }
    }
    print "};"
}

function emit_u32_table(name, n, storage,    i, line) {
    printf "%sconst uint32_t %s[%d] = {\n", storage, name, n
    line = ""
    for (i = 0; i < n; i++) {
        line = line " " hex32() ","
        if (i % 6 == 5 || i == n - 1) { print "   " line; line = "" }
    }
    print "};"
}

# One statement of a function body working on the locals h and g.
function stmt(fi,    k, c, s, callee) {
    k = pick(12)
    c = pick(65536)
    s = 1 + pick(30)
    if (k == 0) return sprintf("h = h * %du + g;", 2 * (c % 32768) + 1)
    if (k == 1) return sprintf("g ^= (h >> %d) + %du;", s, c)
    if (k == 2) return sprintf("if (h & 0x%xu) { g += %s[(h >> %d) & %du]; } else { h -= %du; }", \
                               c, lut, s % 16, lutn - 1, pick(65536))
    if (k == 3) return sprintf("%s[%d] += h ^ %du;", state, pick(8), c)
    if (k == 4 && fi > 0) {
        callee = fname[pick(fi)]
        return sprintf("h += (uint32_t)(uintptr_t)%s((mp_obj_t)(uintptr_t)g, (mp_obj_t)(uintptr_t)(h + %du));", callee, c)
    }
    if (k == 5) return sprintf("h = (h << %d) | (h >> %d);", s, 32 - s)
    if (k == 6) return sprintf("h = fw_core_hash(h, g + %du);", c)
    if (k == 7) return sprintf("if (h > 0x%x%04xu) { fw_core_raise(\"%s: %s\", h); }", \
                               1 + pick(0x7fff), pick(65536), modname, msg[1 + pick(nmsg)])
    if (k == 8) return sprintf("for (uint32_t i = 0; i < (g & 7u); i++) { h = h * 33u + %s[(i + %du) & %du]; }", \
                               lut, c, lutn - 1)
    if (k == 9) return sprintf("%s[%d] = (%s[%d] ^ h) + %du;", cfg, c % cfgn, cfg, c % cfgn, pick(65536))
    if (k == 10) return sprintf("h += %s[fw_core_check(h >> %d, %du)];", tab, s, tabn)
    return sprintf("g = fw_core_alloc((h & 0xffu) + %du, g & 1u) ^ h;", c % 64)
}

BEGIN {
    if (path == "" || prefix == "" || nfunc == "") {
        print "module.awk: path, prefix and nfunc are required" > "/dev/stderr"
        exit 2
    }
    if (rodata == "") rodata = -1
    if (data == "") data = -1
    if (bss == "") bss = -1

    chars = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
    seed = 7
    for (i = 1; i <= length(path); i++)
        seed = (seed * 131 + index(chars, substr(path, i, 1))) % 2147483647
    if (seed == 0) seed = 1
    for (i = 0; i < 5; i++) rnd()

    modname = path
    sub(/.*\//, "", modname)

    nw = split("make_new print attr call unary_op binary_op subscr getiter iternext init " \
               "deinit read write readinto readline ioctl flush close open seek tell get setitem " \
               "append extend insert pop remove clear copy index count find replace split " \
               "join strip format encode decode hash equal len alloc free realloc collect " \
               "sweep mark lookup store load delete update keys values items sort reverse " \
               "min max irq value on off toggle mode pull freq duty scan start stop readfrom " \
               "writeto send recv sendto recvfrom connect accept bind listen settimeout " \
               "setblocking poll register unregister config status active disconnect reset " \
               "convert parse emit compile execute dispatch resume yield raise check verify " \
               "commit fetch", word, " ")
    nmsg = split("invalid argument|buffer too small|object not iterable|operation timed out|" \
                 "not supported|index out of range|wrong number of arguments|" \
                 "overflow converting integer|unknown mode|bad file descriptor|" \
                 "peripheral busy|value must be positive", msg, "|")

    lut = prefix "_lut"
    lutn = 2 ^ (5 + pick(5))
    tab = prefix "_table"
    if (rodata >= 0) {
        tabn = int((rodata - 2 * lutn) / 4)
        if (tabn < 4) tabn = 4
    } else {
        tabn = 4 + pick(60)
    }
    cfg = prefix "_config"
    cfgn = (data >= 0) ? int(data / 4) : 2 + pick(14)
    if (cfgn < 2) cfgn = 2
    state = prefix "_state"
    bufn = (bss >= 0) ? bss : 16 * pick(32)

    printf "/* Generated by samples/gen/module.awk for %s; do not edit. */\n", path
    print "#include \"fw.h\""
    print ""
    emit_u16_table(lut, lutn, (pick(2) ? "static " : ""))
    emit_u32_table(tab, tabn, "")
    printf "uint32_t %s[%d] = {", cfg, cfgn
    for (i = 0; i < cfgn; i++) printf "%s%s", (i ? ", " : " "), hex32()
    print " };"
    printf "static uint32_t %s[8];\n", state
    if (bufn > 0) printf "uint8_t %s_buffer[%d];\n", prefix, bufn

    # Functions: names, which are static helpers, body sizes.  Names of the
    # module's own tables are taken already.
    used[lut] = used[tab] = used[cfg] = used[state] = 1
    used[prefix "_buffer"] = used[prefix "_locals_table"] = used[prefix "_module"] = 1
    npub = 0
    for (fi = 0; fi < nfunc; fi++) {
        w = word[1 + pick(nw)]
        name = prefix "_" w
        if (name in used) name = name "_" word[1 + pick(nw)]
        if (name in used) name = name "_" fi
        used[name] = 1
        fname[fi] = name
        helper = (fi > 0 && fi < nfunc - 1 && pick(100) < 15)
        if (!helper) pub[npub++] = fi
        n = 1 + int(40 * frac() * frac()) + pick(4)
        if (pick(100) < 5) n += 30 + pick(60)

        print ""
        if (helper) printf "static FW_NOINLINE "
        if (flash) printf "FLASH_FN(%s) ", name
        printf "mp_obj_t %s(mp_obj_t self_in, mp_obj_t arg_in)\n{\n", name
        print "    uint32_t h = (uint32_t)(uintptr_t)self_in;"
        print "    uint32_t g = (uint32_t)(uintptr_t)arg_in;"
        # A public function calls every helper not yet called, so none is unused.
        if (!helper) {
            for (hi = 0; hi < npend; hi++)
                printf "    h ^= (uint32_t)(uintptr_t)%s((mp_obj_t)(uintptr_t)h, (mp_obj_t)(uintptr_t)g);\n", fname[pend[hi]]
            npend = 0
        } else {
            pend[npend++] = fi
        }
        for (j = 0; j < n; j++) print "    " stmt(fi)
        print "    return (mp_obj_t)(uintptr_t)(h ^ g);"
        print "}"
    }

    print ""
    printf "const fw_method_t %s_locals_table[%d] = {\n", prefix, npub
    for (i = 0; i < npub; i++) {
        name = fname[pub[i]]
        printf "    { \"%s\", %s },\n", substr(name, length(prefix) + 2), name
    }
    print "};"
    printf "const fw_module_t %s_module = { \"%s\", %s_locals_table, %d };\n", prefix, modname, prefix, npub
}
