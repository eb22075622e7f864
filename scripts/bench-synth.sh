#!/bin/sh
# Make an ESP8266 firmware ELF with N sized symbols, for `make bench`'s
# growth measurement (how analyze's time grows with the symbol count).
#   sh scripts/bench-synth.sh N OUT.elf
# The image is linked with the real toolchain against samples/ld/
# esp8266_2MiB.ld: 9N/16 functions of 4 bytes and N/4 constant objects of
# 8 bytes in .irom0.text (where MicroPython's rodata is), N/16 functions in
# IRAM (.text) and N/8 variables in .bss, all global.
set -eu
n=$1
out=$2
cd "$(dirname "$0")/.." || exit 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v n="$n" 'BEGIN {
  # One section of each kind: the assembler slows down with many sections.
  print ".section .irom0.text,\"ax\""
  for (i = 0; i < n * 9 / 16; i++)
    printf ".global f%d\n.type f%d,@function\n.align 4\nf%d:\n ret.n\n nop.n\n.size f%d,4\n", i, i, i, i
  for (i = 0; i < n / 4; i++)
    printf ".global c%d\n.type c%d,@object\n.align 4\nc%d:\n .word %d, f%d\n.size c%d,8\n", i, i, i, i, i, i
  print ".section .text,\"ax\""
  for (i = 0; i < n / 16; i++)
    printf ".global i%d\n.type i%d,@function\n.align 4\ni%d:\n ret.n\n nop.n\n.size i%d,4\n", i, i, i, i
  print ".section .bss,\"aw\",@nobits"
  for (i = 0; i < n / 8; i++)
    printf ".global b%d\n.type b%d,@object\n.align 4\nb%d:\n .zero 4\n.size b%d,4\n", i, i, i, i
  print ".section .text.firmware_start,\"ax\"\n.global firmware_start\n.type firmware_start,@function\n.align 4\nfirmware_start:\n ret.n\n.size firmware_start,2"
}' >"$dir/synth.S"
xtensa-lx106-elf-gcc -c -o "$dir/synth.o" "$dir/synth.S"
xtensa-lx106-elf-gcc -nostdlib -Lsamples/ld -T samples/ld/esp8266_2MiB.ld -o "$out" "$dir/synth.o"
