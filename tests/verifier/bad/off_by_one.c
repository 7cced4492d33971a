/* Unsafe: proves one byte at off, reads two. */
#include <oko_helpers.h>

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;
    oko_u64 off;

    if (len < 15) {
        return 0;
    }
    off = 14 + (p[14] & 0x3f);
    if (off + 1 > len) {
        return 0;
    }
    return *(const oko_u16 *) (p + off) == 7;
}
