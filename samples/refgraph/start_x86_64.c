/*
 * start_x86_64.c - entry point of the x86-64 sample (no C library).
 */
int fw_main(void);

void _start(void)
{
    fw_main();
}
