/* drv.h - the driver archive of the map-file test link. */
void uart_init(int baud);
int spi_xfer(int byte);
int unused_driver(int x);
