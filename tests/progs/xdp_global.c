/* A libbpf-style classifier (no maps: the flavour comes from the section
 * name) that uses a global variable: libbpf would make .data a map, oko
 * refuses it with a clear message. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 packets = 1;

SEC("classifier")
int cls_count(struct __sk_buff *skb)
{
    packets += skb->len;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
