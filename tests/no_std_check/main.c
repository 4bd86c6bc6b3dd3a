/* Calls the no_std static library from C (CI links and runs it): exit status 0 when every
   step of constnet_no_std_check agreed. */
#include <stdint.h>
#include <stdio.h>

uint32_t constnet_no_std_check(uint64_t seed);

int main(void) {
    uint32_t status = constnet_no_std_check(42);
    printf("constnet_no_std_check(42) = %u\n", status);
    return status == 0 ? 0 : 1;
}
