/* Unsafe: the loop reads one byte more than the length check covers. */
#include <oko_helpers.h>

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;
    oko_u32 sum = 0;

    if (len < 16) {
        return 0;
    }
#pragma clang loop unroll(disable)
    for (int i = 0; i <= 16; i++) {
        sum += p[i];
    }
    return sum > 100;
}
