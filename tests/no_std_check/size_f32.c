/* Links only the f32 digits CNN of the no_std library (the code-size figure). */
#include <stdint.h>
#include <stdio.h>
float constnet_f32_digits(uint64_t seed);
int main(void) { printf("%f\n", constnet_f32_digits(1)); return 0; }
