/* entry_xtensa.S - the jump to mpy_init a loader enters a natmod by. */
    .section .mpy_entry, "ax"
    .global natmod_entry
natmod_entry:
    j mpy_init
    .align 4
