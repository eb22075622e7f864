/* app.c - the application object of the map-file test link. */
#include "drv.h"

const unsigned char app_table[1200] = {1, 2, 3};
int app_counter = 7;
unsigned app_scratch[16];
const unsigned app_config[8] __attribute__((section(".persistent_config_area.app"))) = {0xC0FFEE};

int a_function_with_a_name_long_enough_to_wrap_the_map_line(int x)
{
    return x * 3 + app_table[x & 7];
}

int main(void)
{
    uart_init(115200);
    app_scratch[0] = (unsigned)spi_xfer(app_counter);
    return a_function_with_a_name_long_enough_to_wrap_the_map_line(app_counter) + (int)app_config[0];
}
