/*
 * vectors.S - exception vector stubs for the ESP8266 samples.
 *
 * The linker script puts .vectors.text first in IRAM, aligned to 16.  Each
 * stub is 16-byte aligned like a vector table slot; none of them is ever
 * executed by anything, they only give .text a realistic start.
 */
	.section .vectors.text, "ax"

	.align	16
	.global	fw_vector_base
	.type	fw_vector_base, @function
fw_vector_base:
fw_vector_debug:
	rfe
	.size	fw_vector_base, . - fw_vector_base

	.align	16
	.global	fw_vector_nmi
	.type	fw_vector_nmi, @function
fw_vector_nmi:
	rfe
	.size	fw_vector_nmi, . - fw_vector_nmi

	.align	16
	.global	fw_vector_kernel
	.type	fw_vector_kernel, @function
fw_vector_kernel:
	rfe
	.size	fw_vector_kernel, . - fw_vector_kernel

	.align	16
	.global	fw_vector_user
	.type	fw_vector_user, @function
fw_vector_user:
	j	fw_vector_user
	.size	fw_vector_user, . - fw_vector_user

	.align	16
	.global	fw_vector_double
	.type	fw_vector_double, @function
fw_vector_double:
	j	fw_vector_double
	.size	fw_vector_double, . - fw_vector_double
