/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * tcp-diag.c -- per-connection TCP diagnosis collector (Dapper-like).
 *
 * What it does: keeps statistics for every IPv4 TCP connection it sees,
 * both directions in one entry: packets, payload bytes, retransmissions,
 * the TCP flags seen, the largest advertised window of each side, and the
 * handshake round-trip time measured at the switch (SYN to SYN-ACK).  A
 * segment that carries sequence space (payload, SYN or FIN) and does not
 * advance past the highest sequence number already seen from its sender is
 * counted as a retransmission.
 *
 * It is a collector, not a filter: it matches only the packets of
 * connections in trouble -- those with DIAG_RETRANS_ALERT or more
 * retransmissions -- so that a flow such as
 *     filter_prog=N,actions=send_maps:0,output:2
 * forwards everything and sends the controller the `conns` map when a
 * connection goes bad.  Attached to a flow with actions=drop it would drop
 * the traffic of troubled connections: do not do that.
 *
 * Maps:
 *   conns  hash, key struct conn_key (16 bytes): u32 addr_lo, u32 addr_hi
 *          (network order, numerically lower address first), u16 port_lo,
 *          u16 port_hi (network order, same sides), u8 proto (6),
 *          u8 pad[3] (zero).  Side 0 is (addr_lo, port_lo).
 *          value struct conn_stats (48 bytes, little-endian, host order):
 *            u32 packets        both directions
 *            u32 bytes          TCP payload bytes, both directions
 *            u32 retrans        retransmitted segments
 *            u8  flags          OR of the TCP flags seen
 *            u8  seen           bit N: side N has sent sequence space
 *            u8  syn_side       side that sent the SYN, 0xff if none seen
 *            u8  pad
 *            u32 next_seq[2]    per side: highest sequence number + 1
 *            u32 max_window[2]  per side: largest window field (unscaled)
 *            u64 syn_ns         oko_time_get_ns() at the SYN
 *            u64 rtt_ns         SYN to SYN-ACK time, 0 until measured
 *          65536 entries.
 *
 * Verdict: returns 1 (the flow matches) for packets of connections with at
 * least DIAG_RETRANS_ALERT retransmissions; 0 for everything else.
 */
#include "oko_helpers.h"
#include "oko_net.h"

#define DIAG_RETRANS_ALERT 3

struct conn_key {
    oko_u32 addr_lo;
    oko_u32 addr_hi;
    oko_u16 port_lo;
    oko_u16 port_hi;
    oko_u8 proto;
    oko_u8 pad[3];
};

struct conn_stats {
    oko_u32 packets;
    oko_u32 bytes;
    oko_u32 retrans;
    oko_u8 flags;
    oko_u8 seen;
    oko_u8 syn_side;
    oko_u8 pad;
    oko_u32 next_seq[2];
    oko_u32 max_window[2];
    oko_u64 syn_ns;
    oko_u64 rtt_ns;
};

OKO_MAP(conns, OKO_MAP_HASH, sizeof(struct conn_key),
        sizeof(struct conn_stats), 65536, 0);

/* The program: pkt is the Ethernet frame, len its length in bytes.
 * Updates the frame's connection statistics; returns 1 if the connection
 * has had DIAG_RETRANS_ALERT retransmissions or more. */
oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *end = (const oko_u8 *) pkt + len;
    struct oko_ipv4_info info;
    const struct oko_tcphdr *th;
    struct conn_stats *cs;
    struct conn_key key;
    oko_u32 saddr, daddr, seq, seglen, payload, doff, win;
    oko_u16 sport, dport;
    oko_u8 flags, side, bit;

    if (!oko_parse_ipv4(pkt, len, &info)) {
        return 0;
    }
    if (info.proto != OKO_IPPROTO_TCP || info.frag != 0) {
        return 0;
    }
    th = (const struct oko_tcphdr *) ((const oko_u8 *) pkt + info.l4off);
    if ((const oko_u8 *) (th + 1) > end) {
        return 0;
    }

    saddr = info.ip->saddr;
    daddr = info.ip->daddr;
    sport = th->source;
    dport = th->dest;
    flags = th->flags;
    seq = oko_ntohl(th->seq);
    win = oko_ntohs(th->window);

    /* Payload from the IP total length, not the frame length: short
     * frames are padded to 60 bytes on the wire. */
    doff = (oko_u32) (th->doff_res >> 4) << 2;
    payload = 0;
    if (doff >= sizeof(struct oko_tcphdr)
        && info.tot_len >= info.hlen + doff) {
        payload = info.tot_len - info.hlen - doff;
    }
    seglen = payload + ((flags & OKO_TCP_SYN) != 0)
             + ((flags & OKO_TCP_FIN) != 0);

    __builtin_memset(&key, 0, sizeof key);
    key.proto = OKO_IPPROTO_TCP;
    if (oko_ntohl(saddr) < oko_ntohl(daddr)
        || (saddr == daddr && oko_ntohs(sport) <= oko_ntohs(dport))) {
        key.addr_lo = saddr;
        key.addr_hi = daddr;
        key.port_lo = sport;
        key.port_hi = dport;
        side = 0;
    } else {
        key.addr_lo = daddr;
        key.addr_hi = saddr;
        key.port_lo = dport;
        key.port_hi = sport;
        side = 1;
    }
    bit = side ? 2 : 1;

    cs = oko_map_lookup(&conns, &key);
    if (!cs) {
        struct conn_stats init;

        __builtin_memset(&init, 0, sizeof init);
        init.syn_side = 0xff;
        if (oko_map_update(&conns, &key, &init) < 0) {
            return 0;
        }
        cs = oko_map_lookup(&conns, &key);
        if (!cs) {
            return 0;
        }
    }

    __sync_fetch_and_add(&cs->packets, 1);
    __sync_fetch_and_add(&cs->bytes, payload);
    cs->flags |= flags;
    if (win > cs->max_window[side]) {
        cs->max_window[side] = win;
    }

    /* Handshake RTT: SYN from one side, then SYN-ACK from the other. */
    if ((flags & (OKO_TCP_SYN | OKO_TCP_ACK)) == OKO_TCP_SYN) {
        if (cs->syn_side == 0xff) {
            cs->syn_side = side;
            cs->syn_ns = oko_time_get_ns();
        }
    } else if ((flags & (OKO_TCP_SYN | OKO_TCP_ACK))
               == (OKO_TCP_SYN | OKO_TCP_ACK)) {
        if (cs->syn_side == (side ^ 1) && cs->rtt_ns == 0) {
            oko_u64 rtt = oko_time_get_ns() - cs->syn_ns;

            cs->rtt_ns = rtt ? rtt : 1;
        }
    }

    /* Retransmission: sequence space that does not move forward. */
    if (seglen) {
        oko_u32 seg_end = seq + seglen;

        if (!(cs->seen & bit)) {
            cs->next_seq[side] = seg_end;
            cs->seen |= bit;
        } else if ((oko_s32) (seg_end - cs->next_seq[side]) <= 0) {
            __sync_fetch_and_add(&cs->retrans, 1);
        } else {
            cs->next_seq[side] = seg_end;
        }
    }

    return cs->retrans >= DIAG_RETRANS_ALERT;
}
