/* drv_unused.c - archive member nothing references: not linked. */
#include "drv.h"
int unused_driver(int x)
{
    return x + 1;
}
