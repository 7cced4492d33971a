/* Unsafe: a map value used without a NULL check. */
#include <oko_helpers.h>

OKO_MAP(counts, OKO_MAP_HASH, 4, 8, 1024, 0);

oko_u64
entry(void *pkt, oko_u64 len)
{
    oko_u32 key = (oko_u32) len;
    oko_u64 *v = oko_map_lookup(&counts, &key);

    return *v > 10;
}
