#!/bin/sh
# `make demo`: analyze every bundled sample firmware and show what flashsize
# says about each, then one full report.
#   sh scripts/demo.sh build/flashsize
set -u
fs=${1:-build/flashsize}
cd "$(dirname "$0")/.." || exit 2
export FLASHSIZE_RULES="$PWD/rules"
S=samples/build

echo "== flashsize on the bundled samples (built with xtensa-lx106-elf and arm-none-eabi gcc) =="
printf '%-26s %-6s %s\n' sample exit "verdict / findings"
while read -r name prefix ld board; do
  case "$name" in ''|\#*) continue ;; esac
  [ -f "$S/$name.elf" ] || continue
  args=""
  [ "$board" = "-" ] && [ "$ld" != "-" ] && args="--ld $ld"
  # shellcheck disable=SC2086
  "$fs" analyze $args --format json "$S/$name.elf" >/tmp/flashsize-demo.json 2>/dev/null
  st=$?
  ids=$(sed -n 's/^ *"id": "\(.*\)",$/\1/p' /tmp/flashsize-demo.json | tr '\n' ' ')
  verdict=$(sed -n 's/^ *"verdict": "\(.*\)"$/\1/p' /tmp/flashsize-demo.json)
  printf '%-26s %-6s %s %s\n' "$name" "$st" "$verdict" "$ids"
done <samples/samples.txt
rm -f /tmp/flashsize-demo.json

for s in esp8266-window esp8266-fits; do
  echo
  echo "== flashsize analyze $S/$s.elf =="
  "$fs" analyze --top 8 "$S/$s.elf"
done
echo
echo "== flashsize analyze --ld samples/ld/cortex_m4.ld $S/cortex-m4.elf (a Cortex-M image and its linker script) =="
"$fs" analyze --ld samples/ld/cortex_m4.ld --top 5 "$S/cortex-m4.elf"

# The dashboard: a database seeded with the samples, served on 127.0.0.1:8080
# until Ctrl-C (scripts/serve-demo.sh; FLASHSIZE_DEMO_SERVE=0 skips it).
if [ "${FLASHSIZE_DEMO_SERVE:-1}" != 0 ]; then
  echo
  exec sh scripts/serve-demo.sh "$fs"
fi
exit 0
