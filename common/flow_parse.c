/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * flow_parse.c -- the flow syntax of oko-tool and flow files, text to
 * struct oko_flow.
 *
 *     [table=N,][priority=N,][cookie=V[/M],][idle_timeout=N,]
 *     [hard_timeout=N,][filter_prog=N,]MATCH...,actions=ACTION[,ACTION...]
 *
 * The syntax is ovs-ofctl's (ovs-fields(7), ovs-actions(7)) for the fields
 * and actions oko supports.  Match fields come from one table (flow_fields,
 * shared with the formatter); a field may be given once, or again with
 * the same value (so "ip,tcp" is fine and "tcp,udp" is a conflict).
 * Prerequisites are checked after the whole line is read, so the order of
 * fields does not matter, as in ovs-ofctl.
 */
#include "oko_flow.h"
#include "flow_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KOFS(F) offsetof(struct oko_flow_key, F)
#define KSZ(F) sizeof(((struct oko_flow_key *) 0)->F)
#define FLD(NAME, KIND, PR, MASKABLE, F, MAX)                           \
    { NAME, KIND, PR, MASKABLE, KSZ(F), KOFS(F), MAX }

/* Aliases are separate entries, so that a prerequisite error names the
 * field as the user wrote it.  The formatter uses the first name of each
 * field (see flow_format.c). */
const struct fld flow_fields[] = {
    FLD("in_port", FK_PORT, PR_NONE, 0, in_port, OKO_PORT_MAX),
    FLD("dl_src", FK_MAC, PR_NONE, 1, eth_src, 0),
    FLD("eth_src", FK_MAC, PR_NONE, 1, eth_src, 0),
    FLD("dl_dst", FK_MAC, PR_NONE, 1, eth_dst, 0),
    FLD("eth_dst", FK_MAC, PR_NONE, 1, eth_dst, 0),
    FLD("dl_type", FK_INT, PR_NONE, 0, eth_type, 0xffff),
    FLD("eth_type", FK_INT, PR_NONE, 0, eth_type, 0xffff),
    FLD("dl_vlan", FK_DL_VLAN, PR_NONE, 0, vlan_tci, 0),
    FLD("vlan_vid", FK_VLAN_VID, PR_NONE, 1, vlan_tci, 0x1fff),
    FLD("dl_vlan_pcp", FK_VLAN_PCP, PR_NONE, 0, vlan_tci, 7),
    FLD("vlan_pcp", FK_VLAN_PCP, PR_NONE, 0, vlan_tci, 7),
    FLD("vlan_tci", FK_INT, PR_NONE, 1, vlan_tci, 0xffff),
    FLD("nw_src", FK_IPV4, PR_IPV4_ARP, 1, ipv4_src, 0),
    FLD("nw_dst", FK_IPV4, PR_IPV4_ARP, 1, ipv4_dst, 0),
    FLD("ip_src", FK_IPV4, PR_IPV4, 1, ipv4_src, 0),
    FLD("ip_dst", FK_IPV4, PR_IPV4, 1, ipv4_dst, 0),
    FLD("ipv4_src", FK_IPV4, PR_IPV4, 1, ipv4_src, 0),
    FLD("ipv4_dst", FK_IPV4, PR_IPV4, 1, ipv4_dst, 0),
    FLD("arp_spa", FK_IPV4, PR_ARP, 1, ipv4_src, 0),
    FLD("arp_tpa", FK_IPV4, PR_ARP, 1, ipv4_dst, 0),
    FLD("ipv6_src", FK_IPV6, PR_IPV6, 1, ipv6_src, 0),
    FLD("ipv6_dst", FK_IPV6, PR_IPV6, 1, ipv6_dst, 0),
    FLD("nw_proto", FK_INT, PR_IP_ANY, 0, ip_proto, 0xff),
    FLD("ip_proto", FK_INT, PR_IP_ANY, 0, ip_proto, 0xff),
    FLD("nw_tos", FK_TOS, PR_IP_ANY, 0, ip_tos, 0xff),
    FLD("ip_dscp", FK_DSCP, PR_IP_ANY, 0, ip_tos, 63),
    FLD("nw_ecn", FK_ECN, PR_IP_ANY, 0, ip_tos, 3),
    FLD("ip_ecn", FK_ECN, PR_IP_ANY, 0, ip_tos, 3),
    FLD("nw_ttl", FK_INT, PR_IP_ANY, 0, ip_ttl, 0xff),
    FLD("ip_frag", FK_FRAG, PR_IP_ANY, 0, ip_frag, 0),
    FLD("tp_src", FK_INT, PR_L4, 1, tp_src, 0xffff),
    FLD("tp_dst", FK_INT, PR_L4, 1, tp_dst, 0xffff),
    FLD("tcp_src", FK_INT, PR_TCP, 1, tp_src, 0xffff),
    FLD("tcp_dst", FK_INT, PR_TCP, 1, tp_dst, 0xffff),
    FLD("udp_src", FK_INT, PR_UDP, 1, tp_src, 0xffff),
    FLD("udp_dst", FK_INT, PR_UDP, 1, tp_dst, 0xffff),
    FLD("sctp_src", FK_INT, PR_SCTP, 1, tp_src, 0xffff),
    FLD("sctp_dst", FK_INT, PR_SCTP, 1, tp_dst, 0xffff),
    FLD("tcp_flags", FK_INT, PR_TCP, 1, tcp_flags, TCP_FLAGS_MASK),
    FLD("icmp_type", FK_INT, PR_ICMP_ANY, 0, icmp_type, 0xff),
    FLD("icmp_code", FK_INT, PR_ICMP_ANY, 0, icmp_code, 0xff),
    FLD("icmpv4_type", FK_INT, PR_ICMP4, 0, icmp_type, 0xff),
    FLD("icmpv4_code", FK_INT, PR_ICMP4, 0, icmp_code, 0xff),
    FLD("icmpv6_type", FK_INT, PR_ICMP6, 0, icmp_type, 0xff),
    FLD("icmpv6_code", FK_INT, PR_ICMP6, 0, icmp_code, 0xff),
    FLD("arp_op", FK_INT, PR_ARP, 0, arp_op, 0xffff),
    FLD("arp_sha", FK_MAC, PR_ARP, 1, arp_sha, 0),
    FLD("arp_tha", FK_MAC, PR_ARP, 1, arp_tha, 0),
};
const size_t flow_n_fields = sizeof flow_fields / sizeof flow_fields[0];

/* Shorthands: an EtherType and, for some, an IP protocol. */
struct shorthand {
    const char *name;
    uint16_t eth_type;
    int16_t ip_proto;           /* -1: none */
};

static const struct shorthand shorthands[] = {
    { "ip", ETH_TYPE_IPV4, -1 },
    { "ipv4", ETH_TYPE_IPV4, -1 },
    { "ipv6", ETH_TYPE_IPV6, -1 },
    { "arp", ETH_TYPE_ARP, -1 },
    { "rarp", ETH_TYPE_RARP, -1 },
    { "tcp", ETH_TYPE_IPV4, IPPROTO_TCP_ },
    { "udp", ETH_TYPE_IPV4, IPPROTO_UDP_ },
    { "sctp", ETH_TYPE_IPV4, IPPROTO_SCTP_ },
    { "icmp", ETH_TYPE_IPV4, IPPROTO_ICMP_ },
    { "tcp6", ETH_TYPE_IPV6, IPPROTO_TCP_ },
    { "udp6", ETH_TYPE_IPV6, IPPROTO_UDP_ },
    { "sctp6", ETH_TYPE_IPV6, IPPROTO_SCTP_ },
    { "icmp6", ETH_TYPE_IPV6, IPPROTO_ICMPV6_ },
};

/* Prerequisites.  eth_type and ip_proto must be matched exactly. */
static bool
eth_is(const struct oko_flow *f, uint16_t type)
{
    return f->mask.eth_type == 0xffff && f->key.eth_type == type;
}

static bool
proto_is(const struct oko_flow *f, uint8_t proto)
{
    return (eth_is(f, ETH_TYPE_IPV4) || eth_is(f, ETH_TYPE_IPV6))
           && f->mask.ip_proto == 0xff && f->key.ip_proto == proto;
}

/* Returns true if the match of flow (key and mask) satisfies prereq.
 * Declared and documented in flow_priv.h. */
bool
flow_prereq_ok(const struct oko_flow *f, enum fld_prereq prereq)
{
    switch (prereq) {
    case PR_NONE:
        return true;
    case PR_IPV4:
        return eth_is(f, ETH_TYPE_IPV4);
    case PR_IP_ANY:
        return eth_is(f, ETH_TYPE_IPV4) || eth_is(f, ETH_TYPE_IPV6);
    case PR_IPV4_ARP:
        return eth_is(f, ETH_TYPE_IPV4) || eth_is(f, ETH_TYPE_ARP)
               || eth_is(f, ETH_TYPE_RARP);
    case PR_IPV6:
        return eth_is(f, ETH_TYPE_IPV6);
    case PR_ARP:
        return eth_is(f, ETH_TYPE_ARP) || eth_is(f, ETH_TYPE_RARP);
    case PR_L4:
        return proto_is(f, IPPROTO_TCP_) || proto_is(f, IPPROTO_UDP_)
               || proto_is(f, IPPROTO_SCTP_);
    case PR_TCP:
        return proto_is(f, IPPROTO_TCP_);
    case PR_UDP:
        return proto_is(f, IPPROTO_UDP_);
    case PR_SCTP:
        return proto_is(f, IPPROTO_SCTP_);
    case PR_ICMP_ANY:
        return (eth_is(f, ETH_TYPE_IPV4) && proto_is(f, IPPROTO_ICMP_))
               || (eth_is(f, ETH_TYPE_IPV6) && proto_is(f, IPPROTO_ICMPV6_));
    case PR_ICMP4:
        return eth_is(f, ETH_TYPE_IPV4) && proto_is(f, IPPROTO_ICMP_);
    case PR_ICMP6:
        return eth_is(f, ETH_TYPE_IPV6) && proto_is(f, IPPROTO_ICMPV6_);
    }
    return false;
}

/* Returns the phrase that follows "FIELD requires " for prereq.  Declared
 * and documented in flow_priv.h. */
const char *
flow_prereq_text(enum fld_prereq prereq)
{
    switch (prereq) {
    case PR_NONE:
        return "nothing";
    case PR_IPV4:
        return "ip";
    case PR_IP_ANY:
        return "ip or ipv6";
    case PR_IPV4_ARP:
        return "ip or arp";
    case PR_IPV6:
        return "ipv6";
    case PR_ARP:
        return "arp";
    case PR_L4:
        return "a protocol (tcp, udp or sctp)";
    case PR_TCP:
        return "tcp";
    case PR_UDP:
        return "udp";
    case PR_SCTP:
        return "sctp";
    case PR_ICMP_ANY:
        return "icmp or icmp6";
    case PR_ICMP4:
        return "icmp";
    case PR_ICMP6:
        return "icmp6";
    }
    return "?";
}

/* ---------------------------------------------------------------------
 * Parser state and errors
 * ------------------------------------------------------------------- */

/* Metadata keywords, as bits of pctx.meta_seen. */
enum {
    META_TABLE = 1 << 0,
    META_PRIORITY = 1 << 1,
    META_COOKIE = 1 << 2,
    META_IDLE = 1 << 3,
    META_HARD = 1 << 4,
    META_FILTER = 1 << 5,
};

#define MAX_SEEN 64

struct pctx {
    const char *line;           /* the copy being tokenised */
    char *err;
    size_t errlen;
    unsigned int flags;
    struct oko_flow *flow;
    /* The token being parsed, for error messages. */
    const char *what;           /* "token" or "action" */
    unsigned int tok_no;
    const char *tok;            /* in the original line */
    size_t tok_len;
    size_t col;
    unsigned int meta_seen;
    /* Match fields given, in order, for the prerequisite check. */
    uint8_t seen[MAX_SEEN];
    unsigned int n_seen;
};

static int
verr(struct pctx *c, bool with_pos, const char *fmt, va_list ap)
{
    int n;

    if (!c->err || !c->errlen) {
        return -EINVAL;
    }
    n = vsnprintf(c->err, c->errlen, fmt, ap);
    if (with_pos && n >= 0 && (size_t) n < c->errlen) {
        snprintf(c->err + n, c->errlen - (size_t) n,
                 " (%s %u \"%.*s\" at column %zu)", c->what, c->tok_no,
                 (int) (c->tok_len > 60 ? 60 : c->tok_len), c->tok, c->col);
    }
    return -EINVAL;
}

/* Reports an error in the current token: message, then the token, its
 * number and its column.  Returns -EINVAL. */
static int __attribute__((format(printf, 2, 3)))
perr(struct pctx *c, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = verr(c, true, fmt, ap);
    va_end(ap);
    return r;
}

/* Reports an error about the flow as a whole (no token).  Returns
 * -EINVAL. */
static int __attribute__((format(printf, 2, 3)))
ferr(struct pctx *c, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = verr(c, false, fmt, ap);
    va_end(ap);
    return r;
}

/* ---------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------- */

/* Parses a decimal or 0x-prefixed hexadecimal unsigned number that is the
 * whole of s.  Returns 0, -EINVAL (not a number) or -ERANGE (more than 64
 * bits). */
static int
parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    unsigned int base = 10, d;
    const char *p = s;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p) {
        return -EINVAL;
    }
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            d = (unsigned int) (*p - '0');
        } else if (base == 16 && *p >= 'a' && *p <= 'f') {
            d = (unsigned int) (*p - 'a' + 10);
        } else if (base == 16 && *p >= 'A' && *p <= 'F') {
            d = (unsigned int) (*p - 'A' + 10);
        } else {
            return -EINVAL;
        }
        if (x > (UINT64_MAX - d) / base) {
            return -ERANGE;
        }
        x = x * base + d;
    }
    *v = x;
    return 0;
}

/* Parses a number for name, at most max.  Reports errors. */
static int
parse_num(struct pctx *c, const char *name, const char *s, uint64_t max,
          uint64_t *v)
{
    int r = parse_u64(s, v);

    if (r == -EINVAL) {
        return perr(c, "bad value \"%s\" for %s (expected a number)", s,
                    name);
    }
    if (r == -ERANGE || *v > max) {
        return perr(c, "value %s out of range for %s (0 to %" PRIu64 ")",
                    s, name, max);
    }
    return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char tail;
    int i;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &tail) != 6) {
        return -EINVAL;
    }
    /* sscanf's %x accepts a sign and leading blanks: refuse them. */
    for (const char *p = s; *p; p++) {
        if (!(*p == ':' || (*p >= '0' && *p <= '9')
              || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))) {
            return -EINVAL;
        }
    }
    for (i = 0; i < 6; i++) {
        mac[i] = (uint8_t) b[i];
    }
    return 0;
}

static int
parse_ipv4(const char *s, uint32_t *addr)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1) {
        return -EINVAL;
    }
    *addr = ntohl(a.s_addr);
    return 0;
}

/* Parses "ADDR" or "ADDR/LEN" or "ADDR/MASK" of an IPv4 field. */
static int
parse_ipv4_masked(struct pctx *c, const char *name, char *s, char *m,
                  uint32_t *addr, uint32_t *mask)
{
    uint64_t len;

    if (parse_ipv4(s, addr)) {
        return perr(c, "bad value \"%s\" for %s (expected an IPv4 address)",
                    s, name);
    }
    *mask = UINT32_MAX;
    if (!m) {
        return 0;
    }
    if (strchr(m, '.')) {
        if (parse_ipv4(m, mask)) {
            return perr(c, "bad mask \"%s\" for %s", m, name);
        }
        return 0;
    }
    if (parse_u64(m, &len) || len > 32) {
        return perr(c, "bad prefix length \"%s\" for %s (0 to 32)", m,
                    name);
    }
    *mask = len ? UINT32_MAX << (32 - len) : 0;
    return 0;
}

static int
parse_ipv6_masked(struct pctx *c, const char *name, char *s, char *m,
                  uint8_t addr[16], uint8_t mask[16])
{
    uint64_t len;
    int i;

    if (inet_pton(AF_INET6, s, addr) != 1) {
        return perr(c, "bad value \"%s\" for %s (expected an IPv6 address)",
                    s, name);
    }
    memset(mask, 0xff, 16);
    if (!m) {
        return 0;
    }
    if (strchr(m, ':')) {
        if (inet_pton(AF_INET6, m, mask) != 1) {
            return perr(c, "bad mask \"%s\" for %s", m, name);
        }
        return 0;
    }
    if (parse_u64(m, &len) || len > 128) {
        return perr(c, "bad prefix length \"%s\" for %s (0 to 128)", m,
                    name);
    }
    for (i = 0; i < 16; i++) {
        unsigned int bits = len >= 8 ? 8 : (unsigned int) len;

        mask[i] = (uint8_t) (bits ? 0xff << (8 - bits) : 0);
        len -= bits;
    }
    return 0;
}

/* Stores value/mask (size bytes, in the key's representation) at ofs of
 * the flow's key and mask.  Returns -EEXIST if bits already matched get a
 * different value. */
static int
put_bits(struct oko_flow *f, size_t ofs, size_t size, const void *value,
         const void *mask)
{
    uint8_t *k = (uint8_t *) &f->key + ofs;
    uint8_t *m = (uint8_t *) &f->mask + ofs;
    const uint8_t *v = value, *vm = mask;
    size_t i;

    for (i = 0; i < size; i++) {
        if ((k[i] ^ v[i]) & m[i] & vm[i]) {
            return -EEXIST;
        }
    }
    for (i = 0; i < size; i++) {
        k[i] = (uint8_t) ((k[i] & ~vm[i]) | (v[i] & vm[i]));
        m[i] |= vm[i];
    }
    return 0;
}

/* Stores an integer field (1, 2 or 4 bytes in host order). */
static int
put_int(struct oko_flow *f, size_t ofs, size_t size, uint32_t v, uint32_t m)
{
    uint8_t v8 = (uint8_t) v, m8 = (uint8_t) m;
    uint16_t v16 = (uint16_t) v, m16 = (uint16_t) m;

    switch (size) {
    case 1:
        return put_bits(f, ofs, 1, &v8, &m8);
    case 2:
        return put_bits(f, ofs, 2, &v16, &m16);
    default:
        return put_bits(f, ofs, 4, &v, &m);
    }
}

static int
conflict(struct pctx *c, int r)
{
    if (r == -EEXIST) {
        return perr(c, "conflicts with an earlier field of the match");
    }
    return r;
}

/* ---------------------------------------------------------------------
 * Match fields
 * ------------------------------------------------------------------- */

static int
parse_frag(struct pctx *c, const char *name, const char *s, uint32_t *v,
           uint32_t *m)
{
    static const struct {
        const char *name;
        uint8_t value, mask;
    } kw[] = {
        { "no", 0, OKO_FLOW_FRAG_ANY },
        { "yes", OKO_FLOW_FRAG_ANY, OKO_FLOW_FRAG_ANY },
        { "first", OKO_FLOW_FRAG_ANY,
          OKO_FLOW_FRAG_ANY | OKO_FLOW_FRAG_LATER },
        { "later", OKO_FLOW_FRAG_ANY | OKO_FLOW_FRAG_LATER,
          OKO_FLOW_FRAG_ANY | OKO_FLOW_FRAG_LATER },
        { "not_later", 0, OKO_FLOW_FRAG_LATER },
    };
    size_t i;

    for (i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        if (!strcmp(s, kw[i].name)) {
            *v = kw[i].value;
            *m = kw[i].mask;
            return 0;
        }
    }
    return perr(c, "bad value \"%s\" for %s (no, yes, first, later or "
                "not_later)", s, name);
}

static int
parse_field(struct pctx *c, const struct fld *fd, char *value)
{
    struct oko_flow *f = c->flow;
    char *mstr = strchr(value, '/');
    uint64_t v = 0, m = 0;
    uint32_t v32, m32;
    int r;

    if (mstr) {
        *mstr++ = '\0';
        if (!fd->maskable) {
            return perr(c, "%s does not take a mask", fd->name);
        }
    }
    if (!*value) {
        return perr(c, "missing value for %s", fd->name);
    }
    switch ((enum fld_kind) fd->kind) {
    case FK_INT:
        r = parse_num(c, fd->name, value, fd->max, &v);
        if (!r && mstr) {
            r = parse_num(c, fd->name, mstr, fd->max, &m);
        } else {
            m = fd->size == 4 ? UINT32_MAX : (1u << (8 * fd->size)) - 1;
        }
        if (r) {
            return r;
        }
        return conflict(c, put_int(f, fd->ofs, fd->size, (uint32_t) v,
                                   (uint32_t) m));
    case FK_PORT:
        if (!strcasecmp(value, "local")) {
            v = OKO_PORT_LOCAL;
        } else {
            r = parse_num(c, fd->name, value, fd->max, &v);
            if (r) {
                return r;
            }
        }
        return conflict(c, put_int(f, fd->ofs, fd->size, (uint32_t) v,
                                   UINT32_MAX));
    case FK_MAC: {
        uint8_t mac[6], mmask[6];

        if (parse_mac(value, mac)) {
            return perr(c, "bad value \"%s\" for %s (expected a MAC "
                        "address)", value, fd->name);
        }
        memset(mmask, 0xff, 6);
        if (mstr && parse_mac(mstr, mmask)) {
            return perr(c, "bad mask \"%s\" for %s", mstr, fd->name);
        }
        return conflict(c, put_bits(f, fd->ofs, 6, mac, mmask));
    }
    case FK_IPV4:
        r = parse_ipv4_masked(c, fd->name, value, mstr, &v32, &m32);
        if (r) {
            return r;
        }
        return conflict(c, put_bits(f, fd->ofs, 4, &v32, &m32));
    case FK_IPV6: {
        uint8_t a[16], am[16];

        r = parse_ipv6_masked(c, fd->name, value, mstr, a, am);
        if (r) {
            return r;
        }
        return conflict(c, put_bits(f, fd->ofs, 16, a, am));
    }
    case FK_DL_VLAN:
        r = parse_num(c, fd->name, value, 0xffff, &v);
        if (r) {
            return r;
        }
        if (v == 0xffff) {
            /* No tag at all. */
            return conflict(c, put_int(f, fd->ofs, 2, 0, 0xffff));
        }
        if (v > OKO_FLOW_VLAN_VID_MASK) {
            return perr(c, "value %s out of range for %s (0 to 4095, or "
                        "0xffff for no VLAN tag)", value, fd->name);
        }
        return conflict(c, put_int(f, fd->ofs, 2,
                                   (uint32_t) v | OKO_FLOW_VLAN_PRESENT,
                                   OKO_FLOW_VLAN_PRESENT
                                   | OKO_FLOW_VLAN_VID_MASK));
    case FK_VLAN_VID:
        r = parse_num(c, fd->name, value, fd->max, &v);
        if (!r && mstr) {
            r = parse_num(c, fd->name, mstr, fd->max, &m);
        } else if (!r) {
            /* OpenFlow 1.3: 0 is "no tag", 0x1000|VID a tag; a bare VID is
             * accepted as ovs-ofctl does. */
            m = fd->max;
            if (v) {
                v |= OKO_FLOW_VLAN_PRESENT;
            }
        }
        if (r) {
            return r;
        }
        return conflict(c, put_int(f, fd->ofs, 2, (uint32_t) v,
                                   (uint32_t) m));
    case FK_VLAN_PCP:
        r = parse_num(c, fd->name, value, fd->max, &v);
        if (r) {
            return r;
        }
        return conflict(c, put_int(f, fd->ofs, 2,
                                   (uint32_t) (v << OKO_FLOW_VLAN_PCP_SHIFT)
                                   | OKO_FLOW_VLAN_PRESENT,
                                   OKO_FLOW_VLAN_PCP_MASK
                                   | OKO_FLOW_VLAN_PRESENT));
    case FK_TOS:
        r = parse_num(c, fd->name, value, fd->max, &v);
        if (r) {
            return r;
        }
        if (v & 3) {
            return perr(c, "bad value \"%s\" for %s (the two ECN bits must "
                        "be 0; use ip_ecn)", value, fd->name);
        }
        return conflict(c, put_int(f, fd->ofs, 1, (uint32_t) v, 0xfc));
    case FK_DSCP:
        r = parse_num(c, fd->name, value, fd->max, &v);
        if (r) {
            return r;
        }
        return conflict(c, put_int(f, fd->ofs, 1, (uint32_t) v << 2, 0xfc));
    case FK_ECN:
        r = parse_num(c, fd->name, value, fd->max, &v);
        if (r) {
            return r;
        }
        return conflict(c, put_int(f, fd->ofs, 1, (uint32_t) v, 0x03));
    case FK_FRAG:
        r = parse_frag(c, fd->name, value, &v32, &m32);
        if (r) {
            return r;
        }
        return conflict(c, put_int(f, fd->ofs, 1, v32, m32));
    }
    return perr(c, "internal error: field kind %u", fd->kind);
}

static int
parse_meta(struct pctx *c, const char *name, char *value, bool *handled)
{
    static const struct {
        const char *name;
        unsigned int bit;
    } meta[] = {
        { "table", META_TABLE },
        { "priority", META_PRIORITY },
        { "cookie", META_COOKIE },
        { "idle_timeout", META_IDLE },
        { "hard_timeout", META_HARD },
        { "filter_prog", META_FILTER },
    };
    struct oko_flow *f = c->flow;
    unsigned int bit = 0;
    uint64_t v;
    char *mstr;
    size_t i;
    int r;

    for (i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        if (!strcmp(name, meta[i].name)) {
            bit = meta[i].bit;
        }
    }
    *handled = bit != 0;
    if (!bit) {
        return 0;
    }
    if (c->meta_seen & bit) {
        return perr(c, "%s given twice", name);
    }
    c->meta_seen |= bit;
    if (!value || !*value) {
        return perr(c, "missing value for %s", name);
    }
    switch (bit) {
    case META_TABLE:
        if ((c->flags & OKO_FLOW_PARSE_MATCH_ONLY) && !strcmp(value, "all")) {
            f->table = OKO_TABLE_ALL;
            return 0;
        }
        r = parse_num(c, name, value,
                      (c->flags & OKO_FLOW_PARSE_MATCH_ONLY) ? OKO_TABLE_ALL
                      : OKO_TABLE_MAX, &v);
        f->table = (uint8_t) v;
        return r;
    case META_PRIORITY:
        r = parse_num(c, name, value, UINT16_MAX, &v);
        f->priority = (uint16_t) v;
        return r;
    case META_COOKIE:
        mstr = strchr(value, '/');
        if (mstr) {
            *mstr++ = '\0';
            if (!(c->flags & OKO_FLOW_PARSE_MATCH_ONLY)) {
                return perr(c, "a cookie mask is only allowed when "
                            "selecting flows (delete, modify, dump)");
            }
        }
        r = parse_num(c, name, value, UINT64_MAX, &f->cookie);
        if (!r) {
            f->cookie_mask = (c->flags & OKO_FLOW_PARSE_MATCH_ONLY)
                             ? UINT64_MAX : 0;
        }
        if (!r && mstr) {
            r = parse_num(c, name, mstr, UINT64_MAX, &f->cookie_mask);
            f->cookie &= f->cookie_mask;
        }
        return r;
    case META_IDLE:
        r = parse_num(c, name, value, UINT16_MAX, &v);
        f->idle_timeout = (uint16_t) v;
        return r;
    case META_HARD:
        r = parse_num(c, name, value, UINT16_MAX, &v);
        f->hard_timeout = (uint16_t) v;
        return r;
    case META_FILTER:
        r = parse_num(c, name, value, UINT32_MAX, &v);
        f->filter_prog = (uint32_t) v;
        return r;
    }
    return 0;
}

static int
parse_token(struct pctx *c, char *tok)
{
    char *value = strchr(tok, '=');
    bool handled;
    size_t i;
    int r;

    if (value) {
        *value++ = '\0';
    }
    r = parse_meta(c, tok, value, &handled);
    if (handled) {
        return r;
    }
    for (i = 0; i < sizeof shorthands / sizeof shorthands[0]; i++) {
        const struct shorthand *s = &shorthands[i];

        if (strcmp(tok, s->name)) {
            continue;
        }
        if (value) {
            return perr(c, "%s takes no value", tok);
        }
        r = put_int(c->flow, KOFS(eth_type), 2, s->eth_type, 0xffff);
        if (!r && s->ip_proto >= 0) {
            r = put_int(c->flow, KOFS(ip_proto), 1, (uint32_t) s->ip_proto,
                        0xff);
        }
        return conflict(c, r);
    }
    for (i = 0; i < flow_n_fields; i++) {
        if (strcmp(tok, flow_fields[i].name)) {
            continue;
        }
        if (!value) {
            return perr(c, "%s needs a value (%s=VALUE)", tok, tok);
        }
        if (c->n_seen < MAX_SEEN) {
            c->seen[c->n_seen++] = (uint8_t) i;
        }
        return parse_field(c, &flow_fields[i], value);
    }
    if (!strcmp(tok, "actions")) {
        return perr(c, "expected actions=ACTION[,ACTION...]");
    }
    return perr(c, "unknown field \"%s\"", tok);
}

/* ---------------------------------------------------------------------
 * Actions
 * ------------------------------------------------------------------- */

/* Set-field targets: set_field:V->NAME and the mod_* shorthands. */
struct sf {
    const char *name;
    uint8_t field;              /* enum oko_field */
    uint8_t kind;               /* FK_INT, FK_MAC, FK_IPV4, FK_IPV6 */
    uint8_t prereq;
    uint32_t max;
};

static const struct sf set_fields[] = {
    { "eth_src", OKO_FIELD_ETH_SRC, FK_MAC, PR_NONE, 0 },
    { "dl_src", OKO_FIELD_ETH_SRC, FK_MAC, PR_NONE, 0 },
    { "eth_dst", OKO_FIELD_ETH_DST, FK_MAC, PR_NONE, 0 },
    { "dl_dst", OKO_FIELD_ETH_DST, FK_MAC, PR_NONE, 0 },
    { "vlan_vid", OKO_FIELD_VLAN_VID, FK_INT, PR_NONE, 0x1fff },
    { "dl_vlan", OKO_FIELD_VLAN_VID, FK_INT, PR_NONE, 0xfff },
    { "vlan_pcp", OKO_FIELD_VLAN_PCP, FK_INT, PR_NONE, 7 },
    { "dl_vlan_pcp", OKO_FIELD_VLAN_PCP, FK_INT, PR_NONE, 7 },
    { "ipv4_src", OKO_FIELD_IPV4_SRC, FK_IPV4, PR_IPV4, 0 },
    { "ip_src", OKO_FIELD_IPV4_SRC, FK_IPV4, PR_IPV4, 0 },
    { "nw_src", OKO_FIELD_IPV4_SRC, FK_IPV4, PR_IPV4, 0 },
    { "ipv4_dst", OKO_FIELD_IPV4_DST, FK_IPV4, PR_IPV4, 0 },
    { "ip_dst", OKO_FIELD_IPV4_DST, FK_IPV4, PR_IPV4, 0 },
    { "nw_dst", OKO_FIELD_IPV4_DST, FK_IPV4, PR_IPV4, 0 },
    { "ipv6_src", OKO_FIELD_IPV6_SRC, FK_IPV6, PR_IPV6, 0 },
    { "ipv6_dst", OKO_FIELD_IPV6_DST, FK_IPV6, PR_IPV6, 0 },
    { "ip_dscp", OKO_FIELD_IP_DSCP, FK_INT, PR_IP_ANY, 63 },
    { "ip_ecn", OKO_FIELD_IP_ECN, FK_INT, PR_IP_ANY, 3 },
    { "nw_ecn", OKO_FIELD_IP_ECN, FK_INT, PR_IP_ANY, 3 },
    { "nw_ttl", OKO_FIELD_IP_TTL, FK_INT, PR_IP_ANY, 255 },
    { "ip_ttl", OKO_FIELD_IP_TTL, FK_INT, PR_IP_ANY, 255 },
    { "tp_src", OKO_FIELD_TP_SRC, FK_INT, PR_L4, 0xffff },
    { "tp_dst", OKO_FIELD_TP_DST, FK_INT, PR_L4, 0xffff },
    { "tcp_src", OKO_FIELD_TP_SRC, FK_INT, PR_TCP, 0xffff },
    { "tcp_dst", OKO_FIELD_TP_DST, FK_INT, PR_TCP, 0xffff },
    { "udp_src", OKO_FIELD_TP_SRC, FK_INT, PR_UDP, 0xffff },
    { "udp_dst", OKO_FIELD_TP_DST, FK_INT, PR_UDP, 0xffff },
    { "sctp_src", OKO_FIELD_TP_SRC, FK_INT, PR_SCTP, 0xffff },
    { "sctp_dst", OKO_FIELD_TP_DST, FK_INT, PR_SCTP, 0xffff },
};

/* mod_* actions of OpenFlow 1.0, as set_field on a named target. */
static const struct {
    const char *action;
    const char *target;
} mod_actions[] = {
    { "mod_dl_src", "eth_src" },
    { "mod_dl_dst", "eth_dst" },
    { "mod_vlan_vid", "dl_vlan" },
    { "mod_vlan_pcp", "vlan_pcp" },
    { "mod_nw_src", "ipv4_src" },
    { "mod_nw_dst", "ipv4_dst" },
    { "mod_nw_tos", NULL },     /* the TOS byte: DSCP << 2 */
    { "mod_nw_ecn", "ip_ecn" },
    { "mod_nw_ttl", "nw_ttl" },
    { "mod_tp_src", "tp_src" },
    { "mod_tp_dst", "tp_dst" },
};

static int
set_field_value(struct pctx *c, const struct sf *sf, const char *label,
                const char *value, struct oko_action *a)
{
    uint64_t v;
    int r;

    a->type = OKO_ACT_SET_FIELD;
    a->field = sf->field;
    switch (sf->kind) {
    case FK_MAC:
        if (parse_mac(value, a->value.mac)) {
            return perr(c, "bad value \"%s\" for %s (expected a MAC "
                        "address)", value, label);
        }
        return 0;
    case FK_IPV4:
        if (parse_ipv4(value, &a->value.u32)) {
            return perr(c, "bad value \"%s\" for %s (expected an IPv4 "
                        "address)", value, label);
        }
        return 0;
    case FK_IPV6:
        if (inet_pton(AF_INET6, value, a->value.ipv6) != 1) {
            return perr(c, "bad value \"%s\" for %s (expected an IPv6 "
                        "address)", value, label);
        }
        return 0;
    default:
        r = parse_num(c, label, value, sf->max, &v);
        if (r) {
            return r;
        }
        if (sf->field == OKO_FIELD_VLAN_VID) {
            /* OpenFlow 1.3 writes the VID with OFPVID_PRESENT. */
            v &= OKO_FLOW_VLAN_VID_MASK;
        }
        switch (sf->field) {
        case OKO_FIELD_VLAN_VID:
        case OKO_FIELD_TP_SRC:
        case OKO_FIELD_TP_DST:
            a->value.u16 = (uint16_t) v;
            break;
        default:
            a->value.u8 = (uint8_t) v;
            break;
        }
        return 0;
    }
}

static const struct sf *
find_set_field(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof set_fields / sizeof set_fields[0]; i++) {
        if (!strcmp(name, set_fields[i].name)) {
            return &set_fields[i];
        }
    }
    return NULL;
}

/* Parses an output port: a number or a reserved port name. */
static int
parse_port(struct pctx *c, const char *s, uint32_t *port)
{
    static const struct {
        const char *name;
        uint32_t port;
    } names[] = {
        { "in_port", OKO_PORT_IN_PORT },
        { "flood", OKO_PORT_FLOOD },
        { "all", OKO_PORT_ALL },
        { "normal", OKO_PORT_NORMAL },
        { "controller", OKO_PORT_CONTROLLER },
        { "local", OKO_PORT_LOCAL },
    };
    uint64_t v;
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(s, names[i].name)) {
            *port = names[i].port;
            return 0;
        }
    }
    if (parse_u64(s, &v)) {
        return perr(c, "bad port \"%s\" (a number or in_port, flood, all, "
                    "normal, controller, local)", s);
    }
    if (v > OKO_PORT_MAX) {
        return perr(c, "port %s out of range (0 to %u)", s, OKO_PORT_MAX);
    }
    *port = (uint32_t) v;
    return 0;
}

/* Parses one action: NAME, NAME:ARG or NAME(ARG). */
static int
parse_action(struct pctx *c, char *s, struct oko_action *a, bool *is_drop)
{
    char *arg = NULL, *p;
    uint64_t v;
    size_t i;
    int r;

    memset(a, 0, sizeof *a);
    *is_drop = false;
    p = s + strcspn(s, ":(");
    if (*p == ':') {
        *p = '\0';
        arg = p + 1;
    } else if (*p == '(') {
        size_t n = strlen(p);

        if (p[n - 1] != ')') {
            return perr(c, "missing ')'");
        }
        p[n - 1] = '\0';
        *p = '\0';
        arg = p + 1;
    }
    if (arg && !*arg) {
        return perr(c, "missing argument for %s", s);
    }

    if (!strcasecmp(s, "drop")) {
        if (arg) {
            return perr(c, "drop takes no argument");
        }
        *is_drop = true;
        return 0;
    }
    if (!strcasecmp(s, "output")) {
        if (!arg) {
            return perr(c, "output needs a port (output:PORT)");
        }
        a->type = OKO_ACT_OUTPUT;
        r = parse_port(c, arg, &a->arg);
        if (!r && a->arg == OKO_PORT_CONTROLLER) {
            a->max_len = OKO_CONTROLLER_MAX_LEN;
        }
        return r;
    }
    if (!strcasecmp(s, "controller")) {
        a->type = OKO_ACT_OUTPUT;
        a->arg = OKO_PORT_CONTROLLER;
        a->max_len = OKO_CONTROLLER_MAX_LEN;
        if (arg) {
            if (!strncmp(arg, "max_len=", 8)) {
                arg += 8;
            }
            r = parse_num(c, "controller max_len", arg,
                          OKO_CONTROLLER_MAX_LEN, &v);
            a->max_len = (uint32_t) v;
            return r;
        }
        return 0;
    }
    if (!strcasecmp(s, "in_port") || !strcasecmp(s, "flood")
        || !strcasecmp(s, "all") || !strcasecmp(s, "normal")
        || !strcasecmp(s, "local")) {
        if (arg) {
            return perr(c, "%s takes no argument", s);
        }
        a->type = OKO_ACT_OUTPUT;
        return parse_port(c, s, &a->arg);
    }
    if (s[0] >= '0' && s[0] <= '9' && !arg) {
        a->type = OKO_ACT_OUTPUT;
        return parse_port(c, s, &a->arg);
    }
    if (!strcmp(s, "strip_vlan") || !strcmp(s, "pop_vlan")) {
        if (arg) {
            return perr(c, "%s takes no argument", s);
        }
        a->type = OKO_ACT_STRIP_VLAN;
        return 0;
    }
    if (!strcmp(s, "dec_ttl")) {
        if (arg) {
            return perr(c, "dec_ttl takes no argument");
        }
        a->type = OKO_ACT_DEC_TTL;
        return 0;
    }
    if (!strcmp(s, "send_maps")) {
        a->type = OKO_ACT_SEND_MAPS;
        a->arg = OKO_SEND_MAPS_ALL;
        if (arg) {
            r = parse_num(c, "send_maps", arg, UINT32_MAX, &v);
            a->arg = (uint32_t) v;
            return r;
        }
        return 0;
    }
    if (!strcmp(s, "goto_table")) {
        if (!arg) {
            return perr(c, "goto_table needs a table (goto_table:N)");
        }
        a->type = OKO_ACT_GOTO_TABLE;
        r = parse_num(c, "goto_table", arg, OKO_TABLE_MAX, &v);
        a->arg = (uint32_t) v;
        return r;
    }
    if (!strcmp(s, "set_field") || !strcmp(s, "load")) {
        char *target;
        const struct sf *sf;

        if (!arg || !(target = strstr(arg, "->"))) {
            return perr(c, "expected set_field:VALUE->FIELD");
        }
        *target = '\0';
        target += 2;
        sf = find_set_field(target);
        if (!sf) {
            return perr(c, "set_field cannot set \"%s\"", target);
        }
        return set_field_value(c, sf, target, arg, a);
    }
    for (i = 0; i < sizeof mod_actions / sizeof mod_actions[0]; i++) {
        if (strcmp(s, mod_actions[i].action)) {
            continue;
        }
        if (!arg) {
            return perr(c, "%s needs a value (%s:VALUE)", s, s);
        }
        if (!mod_actions[i].target) {
            /* mod_nw_tos takes the TOS byte. */
            r = parse_num(c, s, arg, 0xff, &v);
            if (r) {
                return r;
            }
            if (v & 3) {
                return perr(c, "bad value \"%s\" for %s (the two ECN bits "
                            "must be 0)", arg, s);
            }
            a->type = OKO_ACT_SET_FIELD;
            a->field = OKO_FIELD_IP_DSCP;
            a->value.u8 = (uint8_t) (v >> 2);
            return 0;
        }
        return set_field_value(c, find_set_field(mod_actions[i].target), s,
                               arg, a);
    }
    return perr(c, "unknown action \"%s\"", s);
}

/* The prerequisite of a set-field action on field. */
static enum fld_prereq
set_field_prereq(const struct oko_flow *f, uint16_t field)
{
    switch (field) {
    case OKO_FIELD_IPV4_SRC:
    case OKO_FIELD_IPV4_DST:
        return PR_IPV4;
    case OKO_FIELD_IPV6_SRC:
    case OKO_FIELD_IPV6_DST:
        return PR_IPV6;
    case OKO_FIELD_IP_DSCP:
    case OKO_FIELD_IP_ECN:
    case OKO_FIELD_IP_TTL:
        return PR_IP_ANY;
    case OKO_FIELD_TP_SRC:
    case OKO_FIELD_TP_DST:
        return PR_L4;
    default:
        return PR_NONE;
    }
}

static char *
trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'
                     || e[-1] == '\n')) {
        *--e = '\0';
    }
    return s;
}

static int
parse_actions(struct pctx *c, char *copy, char *s)
{
    struct oko_flow *f = c->flow;
    bool drop = false, is_drop;
    unsigned int n = 0;
    int r;

    c->what = "action";
    c->tok_no = 0;
    s = trim(s);
    while (*s) {
        char *start = s, *elem;
        int depth = 0;

        /* One action: up to a comma outside parentheses. */
        while (*s && (depth || *s != ',')) {
            depth += *s == '(';
            depth -= *s == ')' && depth > 0;
            s++;
        }
        if (*s) {
            *s++ = '\0';
        }
        elem = trim(start);
        c->tok_no++;
        c->tok = c->line + (elem - copy);
        c->tok_len = strlen(elem);
        c->col = (size_t) (elem - copy) + 1;
        if (!*elem) {
            return perr(c, "empty action");
        }
        if (n >= OKO_FLOW_MAX_ACTIONS) {
            return perr(c, "too many actions (at most %d)",
                        OKO_FLOW_MAX_ACTIONS);
        }
        r = parse_action(c, elem, &f->actions[n], &is_drop);
        if (r) {
            return r;
        }
        if (is_drop) {
            drop = true;
        } else {
            enum fld_prereq pr;

            if (drop) {
                return perr(c, "drop must be the only action");
            }
            if (n && f->actions[n - 1].type == OKO_ACT_GOTO_TABLE) {
                return perr(c, "goto_table must be the last action");
            }
            pr = f->actions[n].type == OKO_ACT_SET_FIELD
                 ? set_field_prereq(f, f->actions[n].field) : PR_NONE;
            if (!flow_prereq_ok(f, pr)) {
                return perr(c, "%s requires %s", elem,
                            flow_prereq_text(pr));
            }
            if (f->actions[n].type == OKO_ACT_GOTO_TABLE
                && f->actions[n].arg <= f->table) {
                return perr(c, "goto_table must name a later table than "
                            "%u", f->table);
            }
            if (f->actions[n].type == OKO_ACT_SEND_MAPS && !f->filter_prog) {
                return perr(c, "send_maps requires filter_prog");
            }
            n++;
        }
    }
    if (drop && n) {
        return perr(c, "drop must be the only action");
    }
    f->n_actions = (uint8_t) n;
    return 0;
}

/* ---------------------------------------------------------------------
 * The line
 * ------------------------------------------------------------------- */

/* Parses one flow in the ovs-ofctl-like syntax of oko-tool and flow files
 * into flow, checking values, ranges and prerequisites; errors name the
 * token and its position.  Declared and documented in oko_flow.h. */
int
oko_flow_parse(const char *str, unsigned int flags, struct oko_flow *flow,
               char *err, size_t errlen)
{
    struct pctx c;
    char *copy, *p, *actions = NULL;
    unsigned int i;
    int r = 0;

    memset(flow, 0, sizeof *flow);
    flow->priority = OKO_FLOW_DEFAULT_PRIORITY;
    flow->table = (flags & OKO_FLOW_PARSE_MATCH_ONLY) ? OKO_TABLE_ALL : 0;
    if (err && errlen) {
        err[0] = '\0';
    }
    memset(&c, 0, sizeof c);
    c.line = str;
    c.err = err;
    c.errlen = errlen;
    c.flags = flags;
    c.flow = flow;
    c.what = "token";

    copy = strdup(str);
    if (!copy) {
        ferr(&c, "out of memory");
        return -ENOMEM;
    }
    for (p = copy;;) {
        char *tok;

        p += strspn(p, ", \t\r\n");
        if (!*p) {
            break;
        }
        tok = p;
        c.tok_no++;
        c.tok = c.line + (tok - copy);
        c.col = (size_t) (tok - copy) + 1;
        if (!strncmp(tok, "actions=", 8)) {
            c.tok_len = strlen(tok);
            actions = tok + 8;
            break;
        }
        p += strcspn(p, ", \t\r\n");
        c.tok_len = (size_t) (p - tok);
        if (*p) {
            *p++ = '\0';
        }
        r = parse_token(&c, tok);
        if (r) {
            goto out;
        }
    }

    /* Prerequisites, in the order the fields were given. */
    for (i = 0; i < c.n_seen; i++) {
        const struct fld *fd = &flow_fields[c.seen[i]];

        if (!flow_prereq_ok(flow, fd->prereq)) {
            r = ferr(&c, "%s requires %s", fd->name,
                     flow_prereq_text(fd->prereq));
            goto out;
        }
    }

    if (actions) {
        if (flags & OKO_FLOW_PARSE_MATCH_ONLY) {
            r = perr(&c, "actions are not allowed here");
            goto out;
        }
        r = parse_actions(&c, copy, actions);
    } else if (!(flags & (OKO_FLOW_PARSE_MATCH_ONLY
                          | OKO_FLOW_PARSE_NO_ACTIONS_OK))) {
        r = ferr(&c, "missing actions= (use actions=drop to drop)");
    }
out:
    free(copy);
    return r;
}
