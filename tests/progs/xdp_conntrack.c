/* XDP connection tracker written the libbpf way: an LRU hash of TCP
 * connections keyed by the 5-tuple; drops TCP segments of connections
 * that were not opened by a SYN. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum ct_state { CT_NEW = 0, CT_ESTABLISHED = 1, CT_CLOSING = 2 };

struct ct_key {
    __be32 saddr;
    __be32 daddr;
    __be16 sport;
    __be16 dport;
    __u8 proto;
    __u8 pad[3];
};

struct ct_entry {
    __u64 last_seen;
    enum ct_state state;
    __u32 packets;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, struct ct_key);
    __type(value, struct ct_entry);
    __uint(max_entries, 4096);
} conntrack SEC(".maps");

SEC("xdp")
int xdp_ct(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct tcphdr *tcp;
    struct ct_key key = {};
    struct ct_entry *e, ne = {};

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP
        || ip->ihl != 5)
        return XDP_PASS;
    tcp = (void *)(ip + 1);
    if ((void *)(tcp + 1) > data_end)
        return XDP_PASS;
    key.saddr = ip->saddr;
    key.daddr = ip->daddr;
    key.sport = tcp->source;
    key.dport = tcp->dest;
    key.proto = IPPROTO_TCP;
    e = bpf_map_lookup_elem(&conntrack, &key);
    if (e) {
        e->last_seen = bpf_ktime_get_ns();
        e->packets++;
        if (tcp->fin || tcp->rst)
            e->state = CT_CLOSING;
        return XDP_PASS;
    }
    if (!tcp->syn)
        return XDP_DROP;
    ne.last_seen = bpf_ktime_get_ns();
    ne.state = CT_NEW;
    ne.packets = 1;
    bpf_map_update_elem(&conntrack, &key, &ne, BPF_NOEXIST);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
