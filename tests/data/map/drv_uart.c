/* drv_uart.c - archive member pulled in by main(). */
#include "drv.h"
volatile int uart_baud;
static const char uart_banner[40] = "uart";
void uart_init(int baud)
{
    uart_baud = baud + uart_banner[0];
}
