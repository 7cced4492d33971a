/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * tcp-firewall.c -- stateful TCP firewall: only tracked connections pass.
 *
 * What it does: follows the three-way handshake and the close of every
 * IPv4 TCP connection in a connection table, and matches the TCP packets
 * that do not belong to a connection it has seen open: a mid-stream ACK or
 * data with no SYN seen, a SYN-ACK that answers no SYN, data from a client
 * whose handshake has not completed, a stray RST, a SYN inside an
 * established connection.  A connection is keyed by its 5-tuple in a
 * normalised direction (numerically lower address, or lower port if the
 * addresses are equal, first), so both directions find the same entry;
 * the entry records which side opened it.
 *
 * States (value.state):
 *   1 SYN_SENT     the initiator's SYN was seen
 *   2 SYN_RECV     the responder's SYN-ACK was seen
 *   3 ESTABLISHED  the initiator's ACK completed the handshake
 *   4 FIN_WAIT     one side sent FIN
 *   5 CLOSED       both sides sent FIN (kept as TIME_WAIT: late ACKs and
 *                  retransmitted FINs still pass; a new SYN reopens)
 * An RST from a tracked connection passes and deletes the entry.
 *
 * Not handled (pass, never match): non-TCP traffic, IPv6, and IPv4
 * fragments other than the first (they carry no TCP header).  Sequence
 * numbers are not checked (no window tracking); entries are removed by RST
 * or by the controller, not by timeout.
 *
 * Maps:
 *   conns  hash, key struct conn_key (16 bytes):
 *            u32 addr_lo, u32 addr_hi   IPv4 addresses, network order
 *            u16 port_lo, u16 port_hi   ports, network order, same sides
 *            u8 proto (6), u8 pad[3] (zero)
 *          value struct conn (16 bytes, little-endian):
 *            u8 state (above), u8 initiator (0: lo side opened, 1: hi),
 *            u8 fin_mask (bit 0: lo side sent FIN, bit 1: hi side),
 *            u8 pad, u32 packets (seen in the connection), u64 last_ns
 *          65536 entries.
 *   stats  array, 2 x u64: [0] TCP packets matched (dropped),
 *          [1] connections opened.
 *
 * Verdict: returns 1 (the flow matches; with actions=drop the packet is
 * dropped) for IPv4 TCP packets outside a tracked connection; 0 for valid
 * handshakes, their traffic, and everything that is not IPv4 TCP.
 */
#include "oko_helpers.h"
#include "oko_net.h"

enum conn_state {
    ST_NONE = 0,
    ST_SYN_SENT = 1,
    ST_SYN_RECV = 2,
    ST_ESTABLISHED = 3,
    ST_FIN_WAIT = 4,
    ST_CLOSED = 5,
};

struct conn_key {
    oko_u32 addr_lo;
    oko_u32 addr_hi;
    oko_u16 port_lo;
    oko_u16 port_hi;
    oko_u8 proto;
    oko_u8 pad[3];
};

struct conn {
    oko_u8 state;
    oko_u8 initiator;
    oko_u8 fin_mask;
    oko_u8 pad;
    oko_u32 packets;
    oko_u64 last_ns;
};

OKO_MAP(conns, OKO_MAP_HASH, sizeof(struct conn_key), sizeof(struct conn),
        65536, 0);
OKO_MAP(stats, OKO_MAP_ARRAY, sizeof(oko_u32), sizeof(oko_u64), 2, 0);

enum {
    STAT_MATCHED = 0,
    STAT_OPENED = 1,
};

OKO_INLINE void
count_stat(oko_u32 idx)
{
    oko_u64 *v = oko_map_lookup(&stats, &idx);

    if (v) {
        __sync_fetch_and_add(v, 1);
    }
}

/* The packet is not part of a tracked connection. */
OKO_INLINE oko_u64
reject(void)
{
    count_stat(STAT_MATCHED);
    return 1;
}

/* Starts tracking a connection opened by side `from` (0 lo, 1 hi). */
OKO_INLINE oko_u64
open_conn(const struct conn_key *key, oko_u8 from)
{
    struct conn c;

    __builtin_memset(&c, 0, sizeof c);
    c.state = ST_SYN_SENT;
    c.initiator = from;
    c.packets = 1;
    c.last_ns = oko_time_get_ns();
    if (oko_map_update(&conns, key, &c) < 0) {
        /* Table full: fail closed, as a firewall should. */
        return reject();
    }
    count_stat(STAT_OPENED);
    return 0;
}

/* The program: pkt is the Ethernet frame, len its length in bytes.
 * Tracks the frame's TCP connection; returns 1 if the frame is IPv4 TCP
 * outside a tracked connection. */
oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *end = (const oko_u8 *) pkt + len;
    struct oko_ipv4_info info;
    const struct oko_tcphdr *th;
    struct conn_key key;
    struct conn *c;
    oko_u32 saddr, daddr;
    oko_u16 sport, dport;
    oko_u8 flags, from, syn, ack;

    if (!oko_parse_ipv4(pkt, len, &info)) {
        return 0;
    }
    if (info.proto != OKO_IPPROTO_TCP || info.frag != 0) {
        return 0;
    }
    th = (const struct oko_tcphdr *) ((const oko_u8 *) pkt + info.l4off);
    if ((const oko_u8 *) (th + 1) > end) {
        /* A first fragment or frame too short for a TCP header cannot be
         * checked: fail closed. */
        return reject();
    }

    saddr = info.ip->saddr;
    daddr = info.ip->daddr;
    sport = th->source;
    dport = th->dest;
    flags = th->flags;

    /* Normalise the direction; `from` is the sender's side. */
    __builtin_memset(&key, 0, sizeof key);
    key.proto = OKO_IPPROTO_TCP;
    if (oko_ntohl(saddr) < oko_ntohl(daddr)
        || (saddr == daddr && oko_ntohs(sport) <= oko_ntohs(dport))) {
        key.addr_lo = saddr;
        key.addr_hi = daddr;
        key.port_lo = sport;
        key.port_hi = dport;
        from = 0;
    } else {
        key.addr_lo = daddr;
        key.addr_hi = saddr;
        key.port_lo = dport;
        key.port_hi = sport;
        from = 1;
    }

    syn = (flags & OKO_TCP_SYN) != 0;
    ack = (flags & OKO_TCP_ACK) != 0;

    c = oko_map_lookup(&conns, &key);
    if (!c) {
        /* Only a bare SYN may open a connection. */
        if (syn && !ack && !(flags & (OKO_TCP_RST | OKO_TCP_FIN))) {
            return open_conn(&key, from);
        }
        return reject();
    }

    if (flags & OKO_TCP_RST) {
        oko_map_delete(&conns, &key);
        return 0;
    }

    switch (c->state) {
    case ST_SYN_SENT:
        if (from == c->initiator) {
            /* SYN retransmission. */
            if (!(syn && !ack)) {
                return reject();
            }
        } else {
            if (!(syn && ack)) {
                return reject();
            }
            c->state = ST_SYN_RECV;
        }
        break;
    case ST_SYN_RECV:
        if (from == c->initiator) {
            if (syn || !ack) {
                return reject();
            }
            c->state = ST_ESTABLISHED;
        } else if (!(syn && ack)) {
            /* Only the SYN-ACK may be retransmitted before the ACK. */
            return reject();
        }
        break;
    case ST_ESTABLISHED:
    case ST_FIN_WAIT:
        if (syn) {
            return reject();
        }
        if (flags & OKO_TCP_FIN) {
            c->fin_mask |= from ? 2 : 1;
            c->state = c->fin_mask == 3 ? ST_CLOSED : ST_FIN_WAIT;
        }
        break;
    case ST_CLOSED:
        if (syn) {
            /* The port pair is reused by a new connection. */
            if (ack || (flags & OKO_TCP_FIN)) {
                return reject();
            }
            return open_conn(&key, from);
        }
        break;
    default:
        return reject();
    }
    __sync_fetch_and_add(&c->packets, 1);
    c->last_ns = oko_time_get_ns();
    return 0;
}
