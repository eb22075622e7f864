/* common.c - tentative definitions that become COMMON (built with -fcommon). */
int common_buffer[64];
char common_flag;
