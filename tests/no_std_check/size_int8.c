/* Links only the int8 digits CNN of the no_std library (the code-size figure). */
#include <stdint.h>
#include <stdio.h>
int32_t constnet_int8_digits(uint64_t seed);
int main(void) { printf("%d\n", constnet_int8_digits(1)); return 0; }
