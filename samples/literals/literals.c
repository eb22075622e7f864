/*
 * literals.c - C half of the literal-attribution samples (built for lx106
 * with -mlongcalls -mtext-section-literals, as MicroPython's ESP8266 port
 * builds, and for Cortex-M4 Thumb): functions whose constants and callees
 * the compiler loads from literal pools, plus the assembler pair of
 * lit_pair_*.S.  Expected figures come from objdump at test time.
 */
extern unsigned lit_a(void);
extern unsigned lit_b(void);

unsigned big_constant(void);
unsigned mix(unsigned x);
void _start(void);
void Reset_Handler(void);

volatile unsigned sink;

unsigned big_constant(void)
{
    return 0x12345678u;
}

unsigned mix(unsigned x)
{
    return x * 0x9e3779b9u + 0x7f4a7c15u;
}

void _start(void)
{
    sink = big_constant() + mix(sink) + lit_a() + lit_b();
    for (;;)
        sink++;
}

void Reset_Handler(void)
{
    _start();
}
