/*
 * lit_pair_thumb.S - two Thumb functions whose literal pool lies outside
 * their .size (as assembler code often leaves it): lit_a and lit_b both
 * load .Lshared (given to lit_a, the first loader by address, as shared),
 * lit_b loads a doubleword with ldrd, and .Lunused is loaded by nothing.
 */
    .syntax unified
    .thumb
    .section .text.lit_pair, "ax", %progbits
    .global lit_a
    .type lit_a, %function
    .thumb_func
lit_a:
    ldr r0, .Lshared
    ldr r1, .Lown_a
    adds r0, r0, r1
    bx lr
    .size lit_a, . - lit_a
    .align 3
.Lshared:
    .word 0x13572468
.Lown_a:
    .word 0x0badf00d
.Ldouble:
    .word 1, 2
.Lunused:
    .word 0xdeadbeef
    .global lit_b
    .type lit_b, %function
    .thumb_func
lit_b:
    ldr.w r0, .Lshared
    ldrd r2, r3, .Ldouble
    adds r0, r0, r2
    bx lr
    .size lit_b, . - lit_b
