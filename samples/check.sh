#!/bin/sh
# check.sh - verify that every built sample is in the condition README.md
# promises, using only binutils (size, readelf).  Prints one line per
# sample and exits 1 if any check fails.
#   sh check.sh [BUILD_DIR]        (run `make` first; `make check` does both)
set -u
cd "$(dirname "$0")" || exit 2
B=${1:-build}
XT=xtensa-lx106-elf-
fail=0

ok() { printf 'ok   %-24s %s\n' "$1" "$2"; }
bad() { printf 'FAIL %-24s %s\n' "$1" "$2"; fail=1; }

# sec ELF NAME -> "ADDR SIZE" (decimal) of section NAME, or "0 0".
sec() {
    ${XT}size -A "$1" | awk -v n="$2" '$1 == n { a = $3; s = $2 } END { print (a == "" ? 0 : a), (s == "" ? 0 : s) }'
}

# Size of the boot image esptool would write for the IRAM/DRAM sections:
# 8-byte header, 8 bytes per non-empty segment plus its data padded to 4,
# then the checksum byte padded to a 16-byte boundary.
boot_size() {
    total=8
    for s in .text .lit4 .data .rodata; do
        set -- $(sec "$elf" $s)
        [ "$2" -gt 0 ] && total=$((total + 8 + ($2 + 3) / 4 * 4))
    done
    echo $(((total + 16) / 16 * 16))
}

esp() {
    name=$1
    elf=$B/$name.elf
    if [ ! -s "$elf" ]; then bad "$name" "missing $elf"; return 1; fi
    set -- $(sec "$elf" .irom0.text)
    irom_start=$1 irom_size=$2
    irom_end=$((irom_start + irom_size))
    boot=$(boot_size)
    set -- $(sec "$elf" .text); text=$2
    set -- $(sec "$elf" .lit4); lit4=$2
    set -- $(sec "$elf" .data); data=$2
    set -- $(sec "$elf" .rodata); rodata=$2
    set -- $(sec "$elf" .bss); bss=$2
    info=$(printf 'irom0 0x%08x+0x%x=0x%08x text=0x%x lit4=0x%x data=0x%x rodata=0x%x bss=0x%x boot=0x%x' \
        "$irom_start" "$irom_size" "$irom_end" "$text" "$lit4" "$data" "$rodata" "$bss" "$boot")
    [ "$text" -gt 0 ] && [ $((text + lit4)) -le $((32 * 1024)) ] && [ $((data + rodata + bss)) -le $((80 * 1024)) ] \
        || { bad "$name" "IRAM/DRAM region overflow: $info"; return 1; }
    return 0
}

expect() { # NAME CONDITION-TEXT SHELL-TEST
    if eval "$3"; then ok "$1" "$2; $info"; else bad "$1" "expected $2; $info"; fi
}
clean_log() { [ ! -s "$B/$1.ldlog" ]; }

KiB=1024
MAPPED_END=$((0x40300000))
ROMFS=$((0x402b0000))

if esp esp8266-fits; then
    expect esp8266-fits "~600 KiB irom0 in 2MiB layout, boot image < 0x8000" \
        '[ $irom_size -ge $((560*KiB)) ] && [ $irom_size -le $((640*KiB)) ] && [ $irom_end -le $MAPPED_END ] && [ $boot -lt $((0x8000)) ] && clean_log esp8266-fits'
fi
if esp esp8266-nearfull; then
    expect esp8266-nearfull "irom0 95-96% of 0xF7000" \
        '[ $((irom_size * 1000 / 0xf7000)) -ge 950 ] && [ $((irom_size * 1000 / 0xf7000)) -lt 960 ] && [ $irom_end -le $MAPPED_END ] && clean_log esp8266-nearfull'
fi
if esp esp8266-irom0-overflow; then
    over=$(sed -n "s/.*region \`irom0_0_seg' overflowed by \([0-9]*\) bytes.*/\1/p" "$B/esp8266-irom0-overflow.ldlog")
    info="$info ld-overflow=${over:-none}"
    expect esp8266-irom0-overflow "irom0 > 0x8F000 and ld reporting the overflow" \
        '[ $irom_size -gt $((0x8f000)) ] && [ "${over:-0}" -eq $((irom_size - 0x8f000)) ]'
fi
if esp esp8266-window; then
    expect esp8266-window ".irom0.text ending past 0x40300000 (inside the edited 1M region)" \
        '[ $irom_end -gt $MAPPED_END ] && [ $irom_end -le $((0x40309000)) ] && clean_log esp8266-window'
fi
if esp esp8266-boot-overflow; then
    expect esp8266-boot-overflow "boot image > 0x8FFC, regions fitting" \
        '[ $boot -gt $((0x8ffc)) ] && [ $irom_size -lt $((200*KiB)) ] && clean_log esp8266-boot-overflow'
fi
if esp esp8266-romfs; then
    expect esp8266-romfs "~500 KiB irom0 ending before ROMFS at 0x402B0000" \
        '[ $irom_end -le $ROMFS ] && [ $irom_size -ge $((450*KiB)) ] && clean_log esp8266-romfs'
fi
if esp esp8266-romfs-overlap; then
    expect esp8266-romfs-overlap "irom0 ending inside the ROMFS partition" \
        '[ $irom_end -gt $ROMFS ] && [ $irom_end -le $((0x402c9000)) ] && clean_log esp8266-romfs-overlap'
fi
if esp esp8266-512k; then
    expect esp8266-512k "irom0 fitting 0x72000" \
        '[ $irom_end -le $((0x40209000 + 0x72000)) ] && clean_log esp8266-512k'
fi

# Header checks for the rest: NAME CLASS DATA MACHINE
hdr() {
    elf=$B/$1.elf
    if [ ! -s "$elf" ]; then bad "$1" "missing $elf"; return; fi
    h=$(readelf -hW "$elf" | awk -F: '/Class:|Data:|Machine:/ { sub(/^ +/, "", $2); printf "%s|", $2 }')
    case "$h" in
        *"$2"*"$3"*"$4"*) ok "$1" "$h" ;;
        *) bad "$1" "header $h" ;;
    esac
}
hdr esp8266-fits-stripped ELF32 "little endian" Xtensa
if readelf -SW "$B/esp8266-fits-stripped.elf" 2>/dev/null | grep -q '\.symtab'; then
    bad esp8266-fits-stripped "still has .symtab"
fi
hdr cortex-m4 ELF32 "little endian" ARM
# .data must be stored in FLASH (LMA) but run from RAM (VMA).
readelf -lW "$B/cortex-m4.elf" 2>/dev/null | awk '$1 == "LOAD" && $3 ~ /^0x2000/ && $4 ~ /^0x080/ { f = 1 } END { exit !f }' \
    || bad cortex-m4 "no RAM segment loaded from FLASH"
hdr riscv32 ELF32 "little endian" RISC-V
hdr x86_64 ELF64 "little endian" X86-64
hdr arm-be ELF32 "big endian" ARM
hdr esp32-app ELF32 "little endian" Xtensa
# the flash-mapped sections at the ESP32's DROM and IROM addresses
readelf -SW "$B/esp32-app.elf" 2>/dev/null | sed 's/^ *\[ *[0-9]*\] *//' | \
    awk '$1 == ".flash.rodata" && $3 == "3f400120" { d = 1 } $1 == ".flash.text" && $3 == "400d0020" { i = 1 } END { exit !(d && i) }' \
    || bad esp32-app "no .flash.rodata at 0x3f400120 and .flash.text at 0x400d0020"

exit $fail
