/* Safe: the data/data_end idiom with struct pointers. */
#include <oko_helpers.h>

struct eth {
    oko_u8 dst[6];
    oko_u8 src[6];
    oko_u16 type;
};

struct vlan {
    oko_u16 tci;
    oko_u16 type;
};

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *end = (const oko_u8 *) pkt + len;
    const struct eth *eth = pkt;
    const struct vlan *vlan;
    oko_u16 type;

    if ((const oko_u8 *) (eth + 1) > end) {
        return 0;
    }
    type = eth->type;
    if (type == oko_htons(0x8100)) {
        vlan = (const struct vlan *) (eth + 1);
        if ((const oko_u8 *) (vlan + 1) > end) {
            return 0;
        }
        type = vlan->type;
    }
    return type == oko_htons(0x86dd);
}
