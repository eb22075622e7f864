#!/bin/sh
# frozen.sh - size a sample's frozen scripts so irom0 reaches its target.
#   sh frozen.sh NM PROBE_ELF TARGET_BYTES > frozen_content.c
# PROBE_ELF is the sample linked with an empty frozen table; the frozen
# scripts get TARGET_BYTES minus the irom0 size measured there
# (_irom0_text_end - _irom0_text_start), so that the final irom0 comes out
# at TARGET_BYTES give or take alignment.  TARGET_BYTES 0 means "none".
set -eu
nm=$1 elf=$2 target=$3
vars=$("$nm" "$elf" | awk '$3 == "_irom0_text_start" { print "start=0x" $1 }
                           $3 == "_irom0_text_end" { print "end=0x" $1 }')
eval "$vars"
have=$((end - start))
want=0
[ "$target" -gt 0 ] && want=$((target - have))
if [ "$target" -gt 0 ] && [ "$want" -le 0 ]; then
    echo "frozen.sh: $elf: irom0 already has $have bytes, target $target" >&2
    exit 1
fi
exec awk -v bytes="$want" -f "$(dirname "$0")/frozen.awk"
