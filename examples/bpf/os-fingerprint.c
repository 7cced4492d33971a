/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * os-fingerprint.c -- passive OS fingerprinting of TCP SYNs (p0f-like).
 *
 * What it does: on every IPv4 TCP SYN (SYN set, ACK clear) it reads what
 * the sender's stack chose freely -- the IP TTL, the DF bit, the window,
 * the MSS, the window scale and the order of the TCP options -- and
 * classifies the sender with a small table in the spirit of p0f:
 *
 *   class 1 Linux    TTL in 33..64, DF, options MSS,SACK,TS,NOP,WS,
 *                    window a multiple of the MSS
 *   class 2 Windows  TTL in 65..128, DF, options MSS,NOP,WS,NOP,NOP,SACK
 *   class 3 macOS    TTL in 33..64, DF, options
 *                    MSS,NOP,WS,NOP,NOP,TS,SACK,EOL, window 65535
 *   class 0 unknown  anything else: port scanners (nmap's SYN has only an
 *                    MSS option), crafted packets, stacks not in the table
 *
 * The option layout is one hex digit per option kind, in order, until
 * EOL or the end of the header (NOP = 1, MSS = 2, WS = 3, SACK permitted
 * = 4, timestamps = 8, kinds above 14 = f): Linux is 0x24813.  Option
 * parsing is a loop bounded by the 40 bytes of options a TCP header can
 * carry; each read is checked against the frame.  Malformed options
 * (length < 2 or running past the header) make the SYN unknown.
 *
 * The program counts SYNs per class, remembers each source's last
 * fingerprint, and matches the SYNs of the classes selected by the `config`
 * map: element 0 is a bit mask of classes (bit N = class N).  The map
 * starts empty (0), which selects the default mask DEFAULT_MATCH = unknown
 * only, i.e. "flag SYNs no known OS would send".  A controller writes e.g.
 * 0x4 to match Windows SYNs instead.
 *
 * Maps:
 *   os_counts  array, 4 x u64: SYNs seen per class (index = class).
 *   os_by_src  hash, key u32 IPv4 source (network order), value
 *              struct fingerprint (24 bytes, little-endian):
 *                u64 layout    option kinds, one hex digit each
 *                u32 os        class
 *                u16 window    host order
 *                u16 mss       host order, 0 if absent
 *                u8 ttl, u8 wscale (0xff if absent), u8 df, u8 pad[5]
 *              4096 entries.
 *   config     array, 1 x u32: bit mask of classes to match (0: default).
 *
 * Verdict: returns 1 (the flow matches; with actions=drop the SYN is
 * dropped, with actions=controller it is reported) for IPv4 TCP SYNs whose
 * class is in the mask; 0 for all other packets.
 */
#include "oko_helpers.h"
#include "oko_net.h"

enum os_class {
    OS_UNKNOWN = 0,
    OS_LINUX = 1,
    OS_WINDOWS = 2,
    OS_MACOS = 3,
    OS_NCLASSES = 4,
};

#define DEFAULT_MATCH (1u << OS_UNKNOWN)

/* Option layouts of the table above. */
#define LAYOUT_LINUX   0x24813ull
#define LAYOUT_WINDOWS 0x213114ull
#define LAYOUT_MACOS   0x2131184ull

struct fingerprint {
    oko_u64 layout;
    oko_u32 os;
    oko_u16 window;
    oko_u16 mss;
    oko_u8 ttl;
    oko_u8 wscale;
    oko_u8 df;
    oko_u8 pad[5];
};

OKO_MAP(os_counts, OKO_MAP_ARRAY, sizeof(oko_u32), sizeof(oko_u64),
        OS_NCLASSES, 0);
OKO_MAP(os_by_src, OKO_MAP_HASH, sizeof(oko_u32), sizeof(struct fingerprint),
        4096, 0);
OKO_MAP(config, OKO_MAP_ARRAY, sizeof(oko_u32), sizeof(oko_u32), 1, 0);

/* Options end at most at two VLAN tags + 60 bytes of IPv4 header + 60
 * bytes of TCP header. */
#define MAX_OPT_END (OKO_ETH_HLEN + 2 * OKO_VLAN_HLEN + 60 + 60)

/* Parses the TCP options in [off, optend) of the frame; fills fp->layout,
 * fp->mss and fp->wscale.  Returns 0, or -1 if the options are malformed
 * or cut short by the end of the frame.
 *
 * The loop body is written without branches except those that leave the
 * loop: every iteration then ends in the same abstract state whatever the
 * option was, and the verifier walks the 40 iterations once instead of
 * once per combination of option kinds.  So NOP's length (1) and the
 * others' (their length byte) come from one formula, and the loop only
 * remembers where the MSS and window scale options are; they are read
 * after it. */
OKO_INLINE int
parse_options(const oko_u8 *pkt, const oko_u8 *end, oko_u64 off,
              oko_u64 optend, struct fingerprint *fp)
{
    oko_u64 mss_off = 0, ws_off = 0;
    oko_u64 layout = 0;
    const oko_u8 *p;
    int ret = 0;
    oko_u64 i;

    /* 64-bit variables: clang spills them with 8-byte stores, whose
     * bounds the verifier keeps (it forgets those of 4-byte spills). */
    for (i = 0; i < OKO_TCP_MAX_OPTLEN; i++) {
        oko_u64 kind, not_nop, olen, nibble, m;

        if (off >= optend) {
            break;
        }
        p = pkt + off;
        if (p + 2 > end) {
            /* The last byte of the frame: only EOL or NOP fit there. */
            if (p + 1 > end) {
                ret = -1;
                break;
            }
            if (p[0] == OKO_TCPOPT_NOP) {
                layout = (layout << 4) | OKO_TCPOPT_NOP;
            } else if (p[0] != OKO_TCPOPT_EOL) {
                ret = -1;
            }
            break;
        }
        kind = p[0];
        if (kind == OKO_TCPOPT_EOL) {
            break;
        }
        /* kind, or 15 for kinds above 14. */
        nibble = (kind & 15) | ((((kind + 1) >> 4) + 15) >> 4) * 15;
        layout = (layout << 4) | (nibble & 15);
        /* 1 iff kind >= 2 (kind is 1..255 here). */
        not_nop = (kind + 254) >> 8;
        olen = (1 - not_nop) + not_nop * p[1];
        if (olen <= not_nop) {
            ret = -1;
            break;
        }
        m = 0 - (oko_same(kind, OKO_TCPOPT_MSS) & oko_same(olen, 4));
        mss_off = (mss_off & ~m) | (off & m);
        m = 0 - (oko_same(kind, OKO_TCPOPT_WSCALE) & oko_same(olen, 3));
        ws_off = (ws_off & ~m) | (off & m);
        off += olen;
        if (off > optend) {
            ret = -1;
            break;
        }
    }

    /* What was parsed is recorded even if the options are malformed. */
    fp->layout = layout;
    if (ret < 0) {
        return ret;
    }
    /* The offsets are below optend; say so in a way the verifier sees
     * whatever registers or stack slots the compiler kept them in. */
    if (mss_off > MAX_OPT_END || ws_off > MAX_OPT_END) {
        return -1;
    }
    if (mss_off) {
        p = pkt + mss_off;
        if (p + 4 > end) {
            return -1;
        }
        fp->mss = ((oko_u16) p[2] << 8) | p[3];
    }
    if (ws_off) {
        p = pkt + ws_off;
        if (p + 3 > end) {
            return -1;
        }
        fp->wscale = p[2];
    }
    return 0;
}

OKO_INLINE oko_u32
classify(const struct fingerprint *fp)
{
    if (!fp->df || fp->ttl <= 32) {
        return OS_UNKNOWN;
    }
    if (fp->ttl <= 64) {
        if (fp->layout == LAYOUT_LINUX && fp->mss
            && fp->window % fp->mss == 0) {
            return OS_LINUX;
        }
        if (fp->layout == LAYOUT_MACOS && fp->window == 65535) {
            return OS_MACOS;
        }
    } else if (fp->ttl <= 128) {
        if (fp->layout == LAYOUT_WINDOWS) {
            return OS_WINDOWS;
        }
    }
    return OS_UNKNOWN;
}

/* The program: pkt is the Ethernet frame, len its length in bytes.
 * Fingerprints IPv4 TCP SYNs; returns 1 if the sender's class is selected
 * by `config`. */
oko_u64
entry(void *pkt, oko_u64 len)
{
    const oko_u8 *end = (const oko_u8 *) pkt + len;
    struct oko_ipv4_info info;
    const struct oko_tcphdr *th;
    struct fingerprint fp;
    oko_u32 doff, os, mask, key;
    oko_u64 *count;
    oko_u32 *cfg;
    oko_u32 saddr;

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
    if ((th->flags & (OKO_TCP_SYN | OKO_TCP_ACK)) != OKO_TCP_SYN) {
        return 0;
    }

    __builtin_memset(&fp, 0, sizeof fp);
    fp.ttl = info.ip->ttl;
    fp.df = (oko_ntohs(info.ip->frag_off) & OKO_IP_DF) != 0;
    fp.window = oko_ntohs(th->window);
    fp.wscale = 0xff;
    doff = (oko_u32) (th->doff_res >> 4) << 2;
    if (doff < sizeof(struct oko_tcphdr)
        || parse_options(pkt, end, info.l4off + sizeof(struct oko_tcphdr),
                         info.l4off + doff, &fp) < 0) {
        os = OS_UNKNOWN;
    } else {
        os = classify(&fp);
    }
    fp.os = os;

    key = os;
    count = oko_map_lookup(&os_counts, &key);
    if (count) {
        __sync_fetch_and_add(count, 1);
    }
    saddr = info.ip->saddr;
    oko_map_update(&os_by_src, &saddr, &fp);

    key = 0;
    cfg = oko_map_lookup(&config, &key);
    mask = cfg && *cfg ? *cfg : DEFAULT_MATCH;
    return (mask >> os) & 1;
}
