#!/bin/sh
# Literal pools given to the functions that load them (analyze --literals,
# text and JSON): on samples/literals' lx106 (-mtext-section-
# literals) and Thumb firmwares.  Ground truth, read at test time: objdump's
# disassembly (the l32r / ldr [pc] / ldr.w / ldrd / vldr targets and the
# instructions' addresses) and readelf's symbol table (sized FUNC ranges,
# and every sized symbol's bytes).  The rule the awk below applies is the
# documented one: a loaded word outside every sized symbol goes to the
# loader with the lowest address, shared when another function loads it.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
L=samples/literals/build

# truth ELF OBJDUMP READELF ARM: "name bytes shared" per function with
# literal bytes, then "TOTAL loaded shared in_symbols"
truth() {
  { "$3" -sW "$1" | awk -v arm="$4" '
      function hexval(h,    i, v) { v = 0; h = tolower(h); sub(/^0x/, "", h)
        for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
        return v }
      $1 ~ /^[0-9]+:$/ && NF >= 8 && $7 != "UND" && $7 != "ABS" {
        size = $3 ~ /^0x/ ? hexval($3) : $3 + 0; if (size == 0) next
        a = hexval($2); if (arm && $4 == "FUNC" && a % 2) a -= 1
        print ($4 == "FUNC" ? "F" : "S"), a, size, $8 }'
    "$2" -d "$1" | awk -F'\t' '
      function hexval(h,    i, v) { v = 0; h = tolower(h); sub(/^0x/, "", h)
        for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
        return v }
      NF >= 4 && $1 ~ /^ *[0-9a-f]+:$/ {
        pc = $1; gsub(/[ :]/, "", pc); m = $3; gsub(/ /, "", m)
        if (m == "l32r") { t = $4; sub(/^[^,]*, */, "", t); sub(/ .*/, "", t); w = 4 }
        else if ((m == "ldr" || m == "ldr.w" || m == "ldrd" || m == "vldr") && $4 ~ /\[pc/ && NF >= 5) {
          t = $5; sub(/^@ *\(?/, "", t); sub(/[ )].*/, "", t)
          w = (m == "ldrd" || (m == "vldr" && $4 ~ /^d/)) ? 8 : 4 }
        else next
        print "L", hexval(pc), hexval(t), w }'
  } | awk '
    $1 == "F" { nf++; fa[nf] = $2; fs[nf] = $3; fn[nf] = $4 }
    $1 == "F" || $1 == "S" { ns++; sa[ns] = $2; se[ns] = $2 + $3 }
    $1 == "L" { nl++; lp[nl] = $2; lt[nl] = $3; lw[nl] = $4 }
    END {
      for (i = 1; i <= nl; i++) {
        f = 0
        for (j = 1; j <= nf; j++) if (lp[i] >= fa[j] && lp[i] < fa[j] + fs[j]) { f = j; break }
        if (!f) continue
        for (k = 0; k < lw[i]; k += 4) {
          w = lt[i] + k; words[w] = 1
          if (!(w in own) || fa[f] < fa[own[w]]) { if (w in own && fa[own[w]] != fa[f]) sh[w] = 1; own[w] = f }
          else if (fa[own[w]] != fa[f]) sh[w] = 1
        }
      }
      for (w in words) {
        inside = 0
        for (j = 1; j <= ns; j++) if (w >= sa[j] && w < se[j]) inside = 1
        if (inside) { ins += 4; continue }
        b[fn[own[w]]] += 4; loaded += 4
        if (w in sh) { s[fn[own[w]]] += 4; shared += 4 }
      }
      for (n in b) print n, b[n], s[n] + 0
      print "TOTAL", loaded + 0, shared + 0, ins + 0 }' | sort
}

for arch in xtensa thumb; do
  if [ $arch = xtensa ]; then P=xtensa-lx106-elf-; arm=0; else P=arm-none-eabi-; arm=1; fi
  elf=$L/$arch.elf
  expected=$(truth $elf ${P}objdump ${P}readelf $arm)
  run 0 "$arch: JSON analysis without --literals" analyze --format json $elf
  check "$arch: JSON without --literals makes no attribution" jq -e '.literals == null and ([.symbols[] | has("literal_bytes")] | any | not)' "$OUT"
  run 0 "$arch: JSON analysis" analyze --literals --format json $elf
  got=$( { jq -r '.literals.functions[] | "\(.name) \(.literal_bytes) \(.literal_shared)"' "$OUT"
           jq -r '.literals | "TOTAL \(.loaded) \(.shared) \(.in_symbols)"' "$OUT"; } | sort)
  expect_eq "$arch: literal bytes per function, shared, inside symbols = objdump's loads" "$got" "$expected"
  # the sample has what the test is about: a shared word, and unshared ones
  check "$arch: a word two functions load (counted once, shared)" \
    sh -c "printf '%s\n' \"$expected\" | awk '\$1 == \"TOTAL\" && \$3 > 0 && \$2 > \$3' | grep -q ."
  expect_eq "$arch: the symbols' literal_bytes = the functions table" \
    "$(jq -r '[.symbols[] | select(.literal_bytes > 0) | "\(.name) \(.literal_bytes)"] | sort | join(",")' "$OUT")" \
    "$(jq -r '[.literals.functions[] | "\(.name) \(.literal_bytes)"] | sort | join(",")' "$OUT")"
  for m in no yes; do
    if [ $m = yes ]; then set -- --map ${elf%.elf}.map; else set --; fi
    run 0 "$arch: JSON analysis (map: $m)" analyze --literals --format json "$@" $elf
    check "$arch (map: $m): sections still sum to their size; loaded <= literal pools; Σ loaded = total" jq -e '
      (.accounting | all(.symbols + .literal_pools + .string_literals + .object_data + .padding + .unattributed == .size
                         and .literal_loaded <= .literal_pools and .literal_shared <= .literal_loaded))
      and ([.accounting[].literal_loaded] | add) == .literals.loaded
      and ([.accounting[].literal_shared] | add) == .literals.shared
      and ([.accounting[] | .literal_pools - .literal_loaded] | add) == .literals.unloaded' "$OUT"
  done
  run 0 "$arch: text without --literals" analyze $elf
  check "$arch: plain text makes no attribution" sh -c "! grep -q 'Literal pools by the function' '$OUT'"
  run 0 "$arch: text with --literals" analyze --literals $elf
  n=$(printf '%s\n' "$expected" | grep -vc '^TOTAL')
  loaded=$(printf '%s\n' "$expected" | awk '$1 == "TOTAL" { print $2 }')
  expect_out "$arch: text says how many functions got how many bytes" "given to $n functions: $loaded bytes"
  expect_out "$arch: the symbol table shows size with literals" "with lit."
done

# the Thumb pair: lit_b's ldrd doubleword and ldr.w (negative offset) are its own
expect_eq "thumb: lit_b owns the ldrd doubleword (8 bytes), lit_a the shared word" \
  "$(truth $L/thumb.elf arm-none-eabi-objdump arm-none-eabi-readelf 1 | awk '$1 == "lit_a" || $1 == "lit_b"' | paste -sd, -)" \
  "lit_a 8 4,lit_b 8 0"
echo "1..$TESTS_RUN"
