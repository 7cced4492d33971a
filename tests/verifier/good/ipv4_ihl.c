/* Safe: IPv4 header length from the packet, checked against len, then a
 * TCP header field read at the variable offset. */
#include <oko_helpers.h>

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;
    oko_u64 off;

    if (len < 34) {
        return 0;
    }
    if (*(const oko_u16 *) (p + 12) != oko_htons(0x0800) || p[23] != 6) {
        return 0;
    }
    off = 14 + ((p[14] & 0xf) << 2);
    if (off + 20 > len) {
        return 0;
    }
    /* SYN without ACK. */
    return (p[off + 13] & 0x12) == 0x02;
}
