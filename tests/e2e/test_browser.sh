#!/bin/sh
# The dashboard in a real browser: seed a database with the samples
# (scripts/seed-demo.sh), serve it on loopback, drive Debian's chromium
# headless through tests/browser/dashboard.test.js (node, DevTools protocol
# over a pipe) and save screenshots in build/screenshots/.  Prints TAP.
# Chromium or node missing is a failure, not a skip: install-deps installs them.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ] || ! command -v node >/dev/null 2>&1; then
  notok "chromium and node are installed (sh scripts/install-deps.sh)" "chromium: '${CHROMIUM}', node: '$(command -v node)'"
  finish
  exit 1
fi
PID=""
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT

DB="$TMP/demo.db"
check "seed the database from the samples" sh scripts/seed-demo.sh "$DB" "$FLASHSIZE"
"$FLASHSIZE" serve --db "$DB" --listen 127.0.0.1:0 --web web --rules-dir rules --log "$TMP/access.log" 2>"$TMP/err" &
PID=$!
PORT=""
i=0
while [ $i -lt 100 ] && [ -z "$PORT" ]; do
  PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$TMP/err")
  [ -n "$PORT" ] || sleep 0.05
  i=$((i + 1))
done
check "server started" test -n "$PORT"

# Ground truth from the toolchain and the generators, for the page's numbers.
irom() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" {print $2}'; }
irom_end=$(xtensa-lx106-elf-size -A -x $S/esp8266-window.elf | awk '$1 == ".irom0.text" {print $2 " " $3}')
window_used=$(( $(echo "$irom_end" | awk '{print $1}') + $(echo "$irom_end" | awk '{print $2}') - 0x40200000 ))
big=$(xtensa-lx106-elf-nm -S --size-sort $S/esp8266-fits.elf | tail -n 1 | awk '{print $2}')
frozen=$(awk '$1 == "module" || $1 == "str" {printf "%s\"%s\": %s", sep, $2, $3; sep = ", "}' samples/frozen/build/esp8266-frozen.sizes)
# The boot image of the boot-overflow sample (the failing PR 43): the ROM
# loader's image of .text+.lit4 and .data+.rodata: an 8-byte header, 8 bytes
# per segment, a checksum byte, padded to 16 bytes.
boot_secs=$(xtensa-lx106-elf-size -A $S/esp8266-boot-overflow.elf | awk '$1 == ".text" || $1 == ".lit4" || $1 == ".data" || $1 == ".rodata" {s += $2} END {print s}')
boot_size=$(( (8 + 16 + boot_secs + 1 + 15) / 16 * 16 ))
# The ROMFS board's newest main build (romfs-overlap): its flash map from nm and size -A.
nmv() { xtensa-lx106-elf-nm "$1" | awk -v n="$2" '$3 == n {print $1}'; }
RO=$S/esp8266-romfs-overlap.elf
cat >"$TMP/expect.json" <<EOF
{
  "romfs_map": {"build": $(sqlite3 "$DB" "SELECT id FROM builds WHERE commit_sha = '6666666ffff'"),
    "irom0": $(irom $RO), "irom0_start": $(( $(xtensa-lx106-elf-size -A $RO | awk '$1 == ".irom0.text" {print $3}') - 0x40200000 )),
    "romfs_size": $((0x$(nmv $RO _micropy_hw_romfs_part0_size))),
    "romfs_start": $((0x$(nmv $RO _micropy_hw_romfs_part0_start) - 0x40200000)),
    "firmware_size": $((0x$(nmv $RO _firmware_size)))},
  "boot": {"size": $boot_size, "limit": 36860, "irom0": $(irom $S/esp8266-boot-overflow.elf),
           "build": $(sqlite3 "$DB" "SELECT id FROM builds WHERE commit_sha = 'abcdef01234'"),
           "main": $(sqlite3 "$DB" "SELECT id FROM builds WHERE commit_sha = '3333333cccc'")},
  "irom0": {"fits": $(irom $S/esp8266-fits.elf), "nearfull": $(irom $S/esp8266-nearfull.elf), "window": $(irom $S/esp8266-window.elf)},
  "window_used": $window_used,
  "budget_main": $((1048576 - 36 * 1024 - 32 * 1024)),
  "frozen": {$frozen},
  "xss_build": $(sqlite3 "$DB" "SELECT id FROM builds WHERE commit_sha = '9999999cccc'"),
  "xss_size": $(printf '%d' "0x$big"),
  "retained_fits": $("$FLASHSIZE" top $S/esp8266-fits.elf --retained --board esp8266-2m --rules-dir rules --format json | jq -c '.symbols[0] | {name, retained}')
}
EOF
check "ground truth computed" jq -e . "$TMP/expect.json"

BASE_URL="http://127.0.0.1:$PORT" CHROMIUM="$CHROMIUM" SHOTS=build/screenshots EXPECT="$TMP/expect.json" \
  timeout 180 node tests/browser/dashboard.test.js >"$TMP/tap" 2>"$TMP/node.err"
st=$?
# Renumber the browser's TAP lines after ours.
while IFS= read -r line; do
  case "$line" in
    "ok "*) ok "browser: ${line#* - }" ;;
    "not ok "*) notok "browser: ${line#* - }" ;;
    "#"*) echo "$line" ;;
  esac
done <"$TMP/tap"
expect_eq "browser test exit status" "$st" 0
[ "$st" -eq 0 ] || echo "# node stderr: $(head -c 2000 "$TMP/node.err")"
kill "$PID" 2>/dev/null
finish
