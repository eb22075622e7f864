/*
 * lit4.S - a few 4-byte literals in .lit4 (IRAM, part of the boot image).
 * Only esp8266-boot-overflow links this, so that one sample has a
 * non-empty .lit4 section.
 */
	.section .lit4, "ax"
	.align	4
	.global	fw_lit4_table
	.type	fw_lit4_table, @object
fw_lit4_table:
	.word	0x3ffe8000, 0x40100000, 0x40209000, 0x60000200
	.word	0x60000600, 0x60000e00, 0x60001000, 0x00000000
	.size	fw_lit4_table, . - fw_lit4_table
