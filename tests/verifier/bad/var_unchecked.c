/* Unsafe: a variable offset never compared with len. */
#include <oko_helpers.h>

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;
    oko_u64 off;

    if (len < 34) {
        return 0;
    }
    off = 14 + ((p[14] & 0xf) << 2);
    return p[off + 13] == 2;
}
