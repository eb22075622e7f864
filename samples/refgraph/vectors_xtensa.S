/*
 * vectors_xtensa.S - entry and a vector block for the Xtensa sample:
 * a j to the reset code and a call0 to the tick handler, so the decoder
 * has both instruction forms to follow.
 */
    .section .vectors.text, "ax"
    .global xt_vectors
    .type xt_vectors, @function
    .align 4
xt_vectors:
    j _start
    .align 4
xt_level1:
    call0 tick_handler
    ret
    .size xt_vectors, . - xt_vectors

    .text
    .global _start
    .type _start, @function
    .align 4
_start:
    call0 fw_main
1:  j 1b
    .size _start, . - _start
