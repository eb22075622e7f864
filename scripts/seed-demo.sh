#!/bin/sh
# Seed a size database with a history of the bundled sample firmwares, for
# `make demo` / `make serve-demo` and the browser test (tests/browser/).
#   sh scripts/seed-demo.sh DB [FLASHSIZE]
# Every build is recorded with `flashsize record` (the board's layout from
# rules/boards), one day apart, so the dashboard has something to draw:
#   project micropython
#     esp8266-2m        fits -> nearfull -> window (window-exhausted), main;
#                       plus PR 42 on branch pr-42: a symbol named like HTML,
#                       and PR 43 on branch pr-43 (parent 3333333cccc, the newest
#                       build of all): the boot-overflow sample, failing
#                       (boot-segments-overflow); the board's state stays main's
#     esp8266-1m        irom0-overflow
#     esp8266-2m-romfs  romfs -> romfs-overlap
#     esp8266-frozen    a firmware with frozen modules (samples/frozen)
#     cortex-m4         the Cortex-M sample (regions from its own ELF: limits unknown)
#     cortex-m4-ld      the same with samples/ld/cortex_m4.ld's regions and lengths
# The HTML-named symbol: the largest symbol of esp8266-fits renamed by
# objcopy to <img src=x onerror=alert(1)> (must show as text, never run).
set -eu
db=$1
fs=${2:-build/flashsize}
cd "$(dirname "$0")/.." || exit 2
export FLASHSIZE_RULES="$PWD/rules"
S=samples/build
F=samples/frozen/build
t0=1767225600   # 2026-01-01 00:00 UTC
day=86400
rm -f "$db" "$db-wal" "$db-shm"
# The project's default branch (main is also the default when unset).
"$fs" project micropython --default-branch main --db "$db" >/dev/null

rec() { # rec ELF BOARD COMMIT DAY [BRANCH [PR [PARENT]]]
  "$fs" record "$1" --db "$db" --project micropython --board "$2" --commit "$3" \
    --timestamp $((t0 + $4 * day)) --branch "${5:-main}" ${6:+--pr "$6"} ${7:+--parent "$7"} >/dev/null
}

rec $S/esp8266-fits.elf esp8266-2m 1111111aaaa 0
rec $S/esp8266-nearfull.elf esp8266-2m 2222222bbbb 1
rec $S/esp8266-window.elf esp8266-2m 3333333cccc 2
rec $S/esp8266-irom0-overflow.elf esp8266-1m 4444444dddd 1
rec $S/esp8266-romfs.elf esp8266-2m-romfs 5555555eeee 0
rec $S/esp8266-romfs-overlap.elf esp8266-2m-romfs 6666666ffff 2
rec $F/esp8266-frozen.elf esp8266-frozen 7777777aaaa 1
rec $S/cortex-m4.elf cortex-m4 8888888bbbb 1
# The same image with its linker script's regions (FLASH, RAM with lengths).
"$fs" analyze --ld samples/ld/cortex_m4.ld --format json $S/cortex-m4.elf >"$db.cortex.json" 2>/dev/null || true
rec "$db.cortex.json" cortex-m4-ld 8888888cccc 1
rm -f "$db.cortex.json"

# The PR build with an HTML-named symbol (after the main builds: not the board's latest).
tmp=$(mktemp -d)
big=$(xtensa-lx106-elf-nm -S --size-sort $S/esp8266-fits.elf | tail -n 1 | awk '{print $4}')
xtensa-lx106-elf-objcopy --redefine-sym "$big=<img src=x onerror=alert(1)>" $S/esp8266-fits.elf "$tmp/xss.elf"
rec "$tmp/xss.elf" esp8266-2m 9999999cccc 1 pr-42 42
rm -rf "$tmp"
# A failing pull request, newer than every main build.
rec $S/esp8266-boot-overflow.elf esp8266-2m abcdef01234 3 pr-43 43 3333333cccc
