/* XDP program written the libbpf way: counts packets per IPv4 source in a
 * BTF-defined hash map keyed by a struct, and per protocol in an array;
 * drops (= the flow matches) sources seen more than 100 times. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct src_key {
    __u32 saddr;
    __u8 proto;
    __u8 pad[3];
};

struct src_stats {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct src_key);
    __type(value, struct src_stats);
    __uint(max_entries, 1024);
} src_count SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u64));
    __uint(max_entries, 256);
} proto_count SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct src_key key = {};
    struct src_stats *st, init = { 1, 0 };
    __u32 proto;
    __u64 *pc;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    key.saddr = ip->saddr;
    key.proto = ip->protocol;
    proto = ip->protocol;
    pc = bpf_map_lookup_elem(&proto_count, &proto);
    if (pc)
        __sync_fetch_and_add(pc, 1);
    st = bpf_map_lookup_elem(&src_count, &key);
    if (!st) {
        init.bytes = data_end - data;
        bpf_map_update_elem(&src_count, &key, &init, BPF_ANY);
        return XDP_PASS;
    }
    __sync_fetch_and_add(&st->packets, 1);
    return st->packets > 100 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
