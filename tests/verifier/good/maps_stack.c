/* Safe: map lookups keyed from the packet and the stack, counters
 * updated atomically, a hash over a stack buffer, a local function. */
#include <oko_helpers.h>

OKO_MAP(counts, OKO_MAP_HASH, 4, 8, 1024, 0);
OKO_MAP(totals, OKO_MAP_ARRAY, 4, 8, 4, 0);

static __attribute__((noinline)) oko_u64
bump(oko_u32 idx)
{
    oko_u64 *v = oko_map_lookup(&totals, &idx);

    if (!v) {
        return 0;
    }
    __sync_fetch_and_add(v, 1);
    return *v;
}

oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *p = pkt;
    oko_u32 key;
    oko_u64 *v, one = 1;
    oko_u8 buf[16];
    int i;

    if (len < 30) {
        return bump(0) > 100;
    }
    __builtin_memcpy(&key, p + 26, 4);
    v = oko_map_lookup(&counts, &key);
    if (v) {
        __sync_fetch_and_add(v, 1);
    } else {
        oko_map_update(&counts, &key, &one);
    }
    for (i = 0; i < 16; i++) {
        buf[i] = p[i] ^ 0x5a;
    }
    return (oko_hash(buf, sizeof buf) & 1) + bump(1) > 1000;
}
