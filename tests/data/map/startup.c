/* startup.c - vector table and reset handler of the map-file test link. */
int main(void);
void Reset_Handler(void);
extern unsigned _estack;
__attribute__((section(".isr_vector"), used)) void (*const vectors[4])(void) = {
    (void (*)(void))&_estack, Reset_Handler, Reset_Handler, Reset_Handler};
void Reset_Handler(void)
{
    main();
    for (;;) {
    }
}
