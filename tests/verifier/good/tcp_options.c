/* Safe: a loop over TCP options, bounded by a counter and by len. */
#include <oko_helpers.h>

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;
    oko_u64 off, end, i;
    oko_u32 mss = 0;

    if (len < 54) {
        return 0;
    }
    off = 14 + ((p[14] & 0xf) << 2);
    if (off + 20 > len) {
        return 0;
    }
    end = off + ((p[off + 12] >> 4) << 2);
    off += 20;
#pragma clang loop unroll(disable)
    for (i = 0; i < 40 && off + 2 <= len && off < end; i++) {
        oko_u8 kind = p[off];

        if (kind == 0) {
            break;
        }
        if (kind == 1) {
            off++;
            continue;
        }
        if (kind == 2 && off + 4 <= len) {
            mss = (p[off + 2] << 8) | p[off + 3];
        }
        if (p[off + 1] < 2) {
            break;
        }
        off += p[off + 1];
    }
    return mss > 0 && mss < 536;
}
