/*
 * lit_pair_xtensa.S - two lx106 functions around hand-placed literal
 * pools (as gcc -mtext-section-literals places them: in the code section,
 * between functions): lit_a and lit_b both load .Lshared (the word goes to
 * lit_a, the first loader by address, as shared), each loads one of its
 * own, and .Lunused is loaded by no instruction.
 */
    .section .text.lit_pair, "ax"
    .align 4
.Lshared:
    .word 0x13572468
.Lown_a:
    .word 0x0badf00d
    .global lit_a
    .type lit_a, @function
    .align 4
lit_a:
    l32r a2, .Lshared
    l32r a3, .Lown_a
    add a2, a2, a3
    ret
    .size lit_a, . - lit_a
    .align 4
.Lown_b:
    .word 0xcafe0001
.Lunused:
    .word 0xdeadbeef
    .global lit_b
    .type lit_b, @function
    .align 4
lit_b:
    l32r a2, .Lshared
    l32r a3, .Lown_b
    sub a2, a2, a3
    ret
    .size lit_b, . - lit_b
