#!/bin/sh
# `flashsize import` (a folder of ELFs and JSON analyses with a CSV of
# commits) and `flashsize forecast` over what it imported: counts, dates,
# skipping what is already there, one bad ELF among good ones (exit 1, the
# others imported), bad CSVs (exit 2 with file:line, nothing imported), no
# control characters when stderr is not a terminal, a bar when it is.
# Ground truth: `xtensa-lx106-elf-size -A` of the samples, the dates written
# in the CSV, and `flashsize analyze` for the region's length.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
S=samples/build
DB="$TMP/sizes.db"
export FLASHSIZE_DB_BUSY_MS=200
irom0() { xtensa-lx106-elf-size -A "$1" | awk '$1 == ".irom0.text" { print $2 }'; }
A=$(irom0 $S/esp8266-fits.elf)
B=$(irom0 $S/esp8266-nearfull.elf)
builds() { sqlite3 "$DB" 'SELECT count(*) FROM builds'; }

D="$TMP/builds"
mkdir -p "$D"
cp $S/esp8266-fits.elf "$D/fits.elf"
cp $S/esp8266-nearfull.elf "$D/near.elf"
"$FLASHSIZE" analyze --board esp8266-2m --format json $S/esp8266-nearfull.elf >"$D/near.json" 2>/dev/null
L=$(jq '.regions[] | select(.name == "irom0_0_seg") | .length' "$D/near.json")
cat >"$TMP/meta.csv" <<'EOF'
file,commit,branch,date,board,project
fits.elf,aaaa0001,main,2024-01-02,esp8266-2m,mpy
# a comment line, and a quoted field with a comma in it
near.elf,aaaa0002,"main",2024-01-03T12:00:00+01:00,esp8266-2m,mpy

near.json,aaaa0003,main,1704326400,esp8266-2m,mpy
EOF

# --- a CSV import, not on a terminal -----------------------------------------------
run 0 "import three builds" import --db "$DB" --csv "$TMP/meta.csv" "$D"
expect_out "summary" "imported 3, skipped 0 (already present), failed 0, of 3 builds"
expect_eq "no control characters on a non-terminal stderr" "$(tr -d '\n' <"$ERR" | tr -d '[:print:]' | wc -c | tr -d ' ')" 0
expect_eq "three builds stored" "$(builds)" 3
run 0 "history of the imported builds" history --db "$DB" --board esp8266-2m --format json
expect_eq "dates from the CSV (UTC, +01:00, seconds)" "$(jq -c '[.builds[].timestamp]' "$OUT")" "[1704326400,1704279600,1704153600]"
expect_eq "used bytes = size -A" "$(jq -c '[.builds[].used]' "$OUT")" "[$B,$B,$A]"
expect_eq "branch and project" "$(jq -r '.builds[2] | .branch + " " + .project + " " + .commit' "$OUT")" "main mpy aaaa0001"

run 0 "importing again skips every build" import --db "$DB" --csv "$TMP/meta.csv" "$D"
expect_out "all skipped" "imported 0, skipped 3 (already present), failed 0, of 3 builds"
run 0 "--replace records them again" import --db "$DB" --csv "$TMP/meta.csv" --replace "$D"
expect_out "all imported" "imported 3, skipped 0 (already present), failed 0"
expect_eq "still three builds" "$(builds)" 3

# --- forecast over the imported history -------------------------------------------
# used A, B, B at build positions 0, 1, 2: least squares (B - A) / 2 per build
SLOPE=$(( (B - A) / 2 ))
LEFT=$(( (L - B + SLOPE - 1) / SLOPE ))
run 0 "forecast json" forecast --db "$DB" --board esp8266-2m --format json
check "forecast json schema" jq -e '.schema == "flashsize-forecast" and .schema_version == 1 and .builds == 3' "$OUT"
expect_eq "irom0 bytes per build = (B - A) / 2" \
  "$(jq '.regions[] | select(.name == "irom0_0_seg") | .bytes_per_build' "$OUT")" "$SLOPE"
expect_eq "irom0 builds left = ceil((length - B) / slope)" \
  "$(jq '.regions[] | select(.name == "irom0_0_seg") | .builds_left' "$OUT")" "$LEFT"
expect_eq "irom0 is near" "$(jq '.regions[] | select(.name == "irom0_0_seg") | .near' "$OUT")" "true"
run 0 "forecast text" forecast --db "$DB" --board esp8266-2m
expect_out "text names the window" "esp8266-2m: trend over the last 3 builds (2024-01-02 to 2024-01-04)"
run 0 "forecast markdown" forecast --db "$DB" --board esp8266-2m --format markdown
expect_out "markdown line for irom0" "- forecast esp8266-2m: irom0_0_seg"
run 0 "the bot's comment carries the forecast" bot --pr 1 --repo o/r --sha abcdef0 --dry-run --forecast --db "$DB" \
  --board esp8266-2m $S/esp8266-fits.elf $S/esp8266-nearfull.elf
expect_out "forecast heading in the comment" "#### Forecast"
expect_out "forecast line in the comment" "- forecast esp8266-2m: irom0_0_seg"
run 2 "forecast of an unknown board" forecast --db "$DB" --board nope
expect_err "says there are no builds" "no builds of board 'nope'"
run 2 "forecast without --board" forecast --db "$DB"
run 2 "forecast --builds 1" forecast --db "$DB" --board esp8266-2m --builds 1
run 2 "forecast of a missing database" forecast --db "$TMP/none.db" --board x
expect_err "names the database" "$TMP/none.db"

# --- one bad ELF among good ones: reported, the others imported, exit 1 -------------
head -c 3000 $S/esp8266-fits.elf >"$D/broken.elf"
cp $S/esp8266-512k.elf "$D/small.elf"
printf 'file,commit,date\nbroken.elf,bbbb0001,2024-02-01\nsmall.elf,bbbb0002,2024-02-02\n' >"$TMP/mixed.csv"
run 1 "a broken ELF: exit 1" import --db "$DB" --csv "$TMP/mixed.csv" --project mpy --board esp8266-512k "$D"
expect_out "summary counts it" "imported 1, skipped 0 (already present), failed 1, of 2 builds"
expect_out "names the file and why" "failed broken.elf: $D/broken.elf:"
expect_eq "the good one is stored" "$(sqlite3 "$DB" "SELECT count(*) FROM builds WHERE commit_sha = 'bbbb0002'")" 1

# --- bad CSVs: exit 2, file:line, nothing imported ----------------------------------
n=$(builds)
printf 'file,sha\nfits.elf,cccc0001\n' >"$TMP/bad1.csv"
run 2 "unknown column" import --db "$DB" --csv "$TMP/bad1.csv" -p mpy -b esp8266-2m "$D"
expect_err "names file:1 and the column" "$TMP/bad1.csv:1: unknown column 'sha'"
printf 'file,commit,date\nfits.elf,cccc0001,2024-01-05\nnear.elf,cccc0002,2024-02-30\n' >"$TMP/bad2.csv"
run 2 "bad date" import --db "$DB" --csv "$TMP/bad2.csv" -p mpy -b esp8266-2m "$D"
expect_err "names file:3 and the date" "$TMP/bad2.csv:3: date '2024-02-30'"
printf 'file,commit\nfits.elf,cccc0001\nnone.elf,cccc0002\n' >"$TMP/bad3.csv"
run 2 "missing file" import --db "$DB" --csv "$TMP/bad3.csv" -p mpy -b esp8266-2m "$D"
expect_err "names file:3 and the missing file" "$TMP/bad3.csv:3: file '$D/none.elf': No such file or directory"
printf 'file,commit\nfits.elf,cccc0001,extra\n' >"$TMP/bad4.csv"
run 2 "too many fields" import --db "$DB" --csv "$TMP/bad4.csv" -p mpy -b esp8266-2m "$D"
expect_err "names file:2" "$TMP/bad4.csv:2: 3 fields, the header has 2"
printf 'file,commit\n"fits.elf,cccc0001\n' >"$TMP/bad5.csv"
run 2 "bad quoting" import --db "$DB" --csv "$TMP/bad5.csv" -p mpy -b esp8266-2m "$D"
expect_err "names file:2" "$TMP/bad5.csv:2: bad quoting"
printf 'file,commit\nfits.elf,cccc0001\n' >"$TMP/noboard.csv"
run 2 "no board anywhere" import --db "$DB" --csv "$TMP/noboard.csv" "$D"
expect_err "names file:2" "$TMP/noboard.csv:2: no board"
run 2 "missing CSV" import --db "$DB" --csv "$TMP/none.csv" -p mpy -b x "$D"
expect_err "names the CSV" "$TMP/none.csv: cannot open"
expect_eq "no bad CSV imported anything" "$(builds)" "$n"

# --- a plain folder: commit = file name, date = modification time -------------------
P="$TMP/plain"
mkdir -p "$P"
cp $S/esp8266-fits.elf "$P/dddd0001.elf"
cp "$D/near.json" "$P/dddd0002.json"
printf 'not firmware\n' >"$P/README.txt"
touch -d @1710000000 "$P/dddd0001.elf"
run 0 "import a folder" import --db "$DB" -p mpy -b esp8266-2m --branch dev "$P"
expect_out "two files, the text file ignored" "imported 2, skipped 0 (already present), failed 0, of 2 builds"
expect_eq "commit from the name, date from mtime" \
  "$(sqlite3 "$DB" "SELECT timestamp || ' ' || branch FROM builds WHERE commit_sha = 'dddd0001'")" "1710000000 dev"
run 2 "a folder without --board" import --db "$DB" -p mpy "$P"
expect_err "says what is needed" "--project and --board are required"
run 2 "not a folder" import --db "$DB" -p mpy -b x "$TMP/meta.csv"
expect_err "names it" "$TMP/meta.csv: not a folder"
run 2 "no folder" import --db "$DB"
mkdir -p "$TMP/empty"
run 2 "an empty folder" import --db "$DB" -p mpy -b x "$TMP/empty"
expect_err "says there is nothing" "no *.elf or *.json files"

# --- a progress bar on a terminal (script(1) gives stderr a pty) ---------------------
if command -v script >/dev/null 2>&1; then
  script -qec "'$FLASHSIZE' import --db '$TMP/tty.db' --csv '$TMP/meta.csv' '$D'" /dev/null >"$TMP/tty.out" 2>&1
  check "on a terminal: a bar redrawn with carriage returns" grep -q "$(printf '\r')\[###" "$TMP/tty.out"
  check "on a terminal: the bar ends full" grep -qF "[##############################] 3/3" "$TMP/tty.out"
else
  skip_capability "on a terminal" "script(1) missing (util-linux)"
fi
finish
