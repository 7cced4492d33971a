/* A libbpf-style program with a CO-RE relocation (field existence check):
 * the loader must refuse it with a message naming the instruction. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("xdp")
int xdp_core(struct xdp_md *ctx)
{
    return bpf_core_field_exists(ctx->rx_queue_index) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
