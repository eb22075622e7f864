/*
 * mpyshape_xtensa.S - entry of the MicroPython-shaped Xtensa sample
 * (mpyshape.c): as on ESP8266, a start stub without a size that sets the
 * vector base and calls the SDK-style start code (mpyshape_sdk.c).
 */
    .section .vectors.text, "ax"
    .global _start
    .type _start, @function
    .align 4
_start:
    j call_user_start
    .size _start, . - _start

    .align 4
    .global call_user_start
    .type call_user_start, @function
call_user_start:
    movi a2, _start
    wsr.vecbase a2
    call0 sdk_start
1:  j 1b
