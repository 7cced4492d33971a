/* Unsafe: checks 14 bytes, reads the 15th. */
#include <oko_helpers.h>

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;

    if (len < 14) {
        return 0;
    }
    return p[14] == 0x45;
}
