/* drv_spi.c - archive member pulled in by main(). */
#include "drv.h"
int spi_last = 5;
int spi_xfer(int byte)
{
    int r = spi_last;
    spi_last = byte;
    return r ^ byte;
}
