/* entry_arm.S - the jump to mpy_init a loader enters a natmod by (Thumb-2). */
    .syntax unified
    .thumb
    .section .mpy_entry, "ax"
    .global natmod_entry
natmod_entry:
    b.w mpy_init
