/* edge.c - the arm-edge sample (samples/README.md): code and constants that
 * samples/ld/arm_edge.ld pads to exactly fill FLASH, one word of .data in RAM
 * and .edge, a table placed at exactly RAM's end, outside every region. */
const char table[100] = {1};
int counter = 5;
__attribute__((section(".edge"), used)) const int edge_word[4] = {1, 2, 3, 4};
int main(void);
void _start(void);
int main(void) { return table[counter]; }
void _start(void) { main(); }
