/* A libbpf-style program with a map type oko does not have (LPM trie):
 * the loader must refuse it, naming the map and the kernel type. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct lpm_key {
    __u32 prefixlen;
    __u32 addr;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, __u32);
    __uint(max_entries, 128);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} prefixes SEC(".maps");

SEC("xdp")
int xdp_lpm(struct xdp_md *ctx)
{
    struct lpm_key key = { 32, ctx->rx_queue_index };

    return bpf_map_lookup_elem(&prefixes, &key) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
