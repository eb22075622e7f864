#!/bin/sh
# How v1.db was made (kept for the record; the test suite only reads the
# committed files).  v1.db is a schema-version-1 size database written by
# flashsize before the symbol deltas (commit ab3573e, FS_STORE_SCHEMA_VERSION
# 1); test_symdelta opens a copy, which migrates it to the current schema,
# and checks that every build still reads back equal to v1-N.json.
#   sh tests/data/store/make-v1.sh OLD_FLASHSIZE
# Build 1: 40 symbols; build 2: symbol 7 grown by 4 bytes, so every later
# symbol moves; build 3: the symbols of build 2 again (a shared symbol set)
# with another region size.
set -eu
fs=$1
dir=$(cd "$(dirname "$0")" && pwd)
gen() { # gen BUILD USED
  awk -v build="$1" -v used="$2" 'BEGIN {
    printf "{\"schema\":\"flashsize-analysis\",\"schema_version\":1,"
    printf "\"tool\":{\"name\":\"flashsize\",\"version\":\"v1-fixture\"},\"board\":null,\"chip\":\"generic\","
    printf "\"regions\":[{\"name\":\"FLASH\",\"origin\":1073741824,\"length\":65536,\"used\":%d,\"attrs\":\"rx\"}],", used
    printf "\"sections\":[],\"symbols\":["
    addr = 1073741824
    for (j = 0; j < 40; j++) {
      size = 8 + (j * 37) % 90 + (build >= 2 && j == 7 ? 4 : 0)
      printf "%s{\"name\":\"sym_%02d\",\"address\":%d,\"size\":%d,\"type\":\"%s\",\"bind\":\"%s\",\"section\":\"%s\"}",
        j ? "," : "", j, addr, size, j % 5 ? "FUNC" : "OBJECT", j % 3 ? "GLOBAL" : "LOCAL", j % 5 ? ".text" : ".rodata"
      addr += size
    }
    printf "],\"findings\":[]}\n"
  }' | jq -c '.symbols |= sort_by(-.size, .name, .address)'
}
rm -f "$dir/v1.db" "$dir/v1.db-wal" "$dir/v1.db-shm"
gen 1 2000 >"$dir/v1-1.json"
gen 2 2004 >"$dir/v1-2.json"
gen 3 2100 >"$dir/v1-3.json"
for i in 1 2 3; do
  "$fs" record --db "$dir/v1.db" -p fixture -b board -c "0000000$i" --timestamp $((1700000000 + i * 86400)) "$dir/v1-$i.json"
done
sqlite3 "$dir/v1.db" 'PRAGMA journal_mode = DELETE; VACUUM;' >/dev/null
