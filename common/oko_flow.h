/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * oko_flow.h -- the one public header of the flow library (common/):
 * flow keys and the packet parser that fills them, the flow syntax
 * (parser and formatter), the priority wildcard classifier with Oko's
 * filter-chain semantics, and the exact-match cache.
 *
 * Nothing here depends on DPDK: the classifier process wires these pieces
 * to its rings.  See common/README.md for the design.
 *
 * Conventions: functions return 0 (or a count) or a negative errno;
 * constructors return NULL and set errno; human-readable diagnostics go
 * into a caller-supplied buffer (char *err, size_t errlen), which may be
 * NULL.  Integers in keys, masks and actions are in host byte order; MAC
 * and IPv6 addresses are byte arrays in wire order.
 */
#ifndef OKO_FLOW_H
#define OKO_FLOW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Flow key
 * ------------------------------------------------------------------- */

/* The classification key of a packet, and (the same struct) the mask of a
 * flow.  The layout is fixed, has no implicit padding and is a whole
 * number of 64-bit words, so that keys are hashed and compared under a
 * mask one word at a time.  The packet parser zeroes every field it does
 * not fill, so two packets with the same headers have identical keys.
 *
 * ARP reuses fields, as OpenFlow 1.0 did: the sender and target protocol
 * addresses (SPA, TPA) are ipv4_src and ipv4_dst.  ICMP and ICMPv6 type and
 * code have their own fields; tp_src and tp_dst are TCP, UDP or SCTP ports
 * only (zero in non-first fragments). */
struct oko_flow_key {
    uint32_t in_port;           /* OpenFlow port number the frame came in on */
    uint16_t eth_type;          /* innermost EtherType; OKO_FLOW_ETH_TYPE_NONE
                                 * for 802.3 frames with a length field */
    uint16_t vlan_tci;          /* outer tag: PCP<<13 | OKO_FLOW_VLAN_PRESENT |
                                 * VID, 0 when untagged */
    uint8_t eth_src[6];
    uint8_t eth_dst[6];
    uint8_t ip_proto;           /* IPv4 protocol / IPv6 last next-header */
    uint8_t ip_tos;             /* DSCP << 2 | ECN (IPv6 traffic class) */
    uint8_t ip_ttl;             /* IPv4 TTL / IPv6 hop limit */
    uint8_t ip_frag;            /* OKO_FLOW_FRAG_* bits */
    uint32_t ipv4_src;          /* IPv4 source, or ARP SPA */
    uint32_t ipv4_dst;          /* IPv4 destination, or ARP TPA */
    uint16_t tp_src;            /* TCP, UDP or SCTP source port */
    uint16_t tp_dst;            /* TCP, UDP or SCTP destination port */
    uint16_t tcp_flags;         /* the 12 flag bits of TCP */
    uint8_t icmp_type;          /* ICMP or ICMPv6 type */
    uint8_t icmp_code;          /* ICMP or ICMPv6 code */
    uint16_t arp_op;
    uint8_t arp_sha[6];
    uint8_t arp_tha[6];
    uint16_t vlan_inner_tci;    /* inner tag of a double-tagged frame, same
                                 * encoding as vlan_tci (no syntax field) */
    uint8_t ipv6_src[16];
    uint8_t ipv6_dst[16];
} __attribute__((aligned(8)));

#define OKO_FLOW_KEY_WORDS (sizeof(struct oko_flow_key) / 8)

/* vlan_tci: the CFI/DEI bit position means "a tag is present", as in OVS;
 * the frame's own DEI bit is not kept. */
#define OKO_FLOW_VLAN_PRESENT  0x1000
#define OKO_FLOW_VLAN_VID_MASK 0x0fff
#define OKO_FLOW_VLAN_PCP_SHIFT 13
#define OKO_FLOW_VLAN_PCP_MASK 0xe000

/* ip_frag bits. */
#define OKO_FLOW_FRAG_ANY   0x01  /* the packet is a fragment */
#define OKO_FLOW_FRAG_LATER 0x02  /* ... and not the first one */

/* eth_type of frames that carry an 802.3 length instead of a type. */
#define OKO_FLOW_ETH_TYPE_NONE 0x05ff

/* Where the parser found the headers of a frame (byte offsets from the
 * start of the frame, 0 when absent), for actions that rewrite them. */
struct oko_pkt_layout {
    uint16_t l3_ofs;            /* IPv4, IPv6 or ARP header */
    uint16_t l4_ofs;            /* TCP, UDP, SCTP, ICMP or ICMPv6 header */
    uint8_t n_vlans;            /* 0, 1 or 2 tags parsed */
    uint8_t truncated;          /* 1 if a header was cut short by len */
    uint16_t pad;
};

/* Parses the frame of len bytes that came in on in_port into key (every
 * field written) and, if layout is not NULL, its header offsets.  Handles
 * Ethernet II and 802.3, up to two VLAN tags (802.1Q, 802.1ad, 0x9100),
 * IPv4 with options and fragments, IPv6 with hop-by-hop, routing,
 * fragment, destination-options and AH extension headers, ARP, TCP, UDP,
 * SCTP, ICMP and ICMPv6.  Never reads at or past frame + len: a header cut
 * short leaves its fields zero.  No allocation; safe to call from any
 * thread.  Returns 0 when every header was parsed, 1 when the frame was
 * truncated inside a header the key needed. */
int oko_pkt_parse(const uint8_t *frame, uint32_t len, uint32_t in_port,
                  struct oko_flow_key *key, struct oko_pkt_layout *layout);

/* Returns a 32-bit hash of every word of key, seeded with basis. */
uint32_t oko_flow_key_hash(const struct oko_flow_key *key, uint32_t basis);

/* Returns a 32-bit hash of key & mask, seeded with basis: equal for two
 * keys that are equal under mask. */
uint32_t oko_flow_key_hash_masked(const struct oko_flow_key *key,
                                  const struct oko_flow_key *mask,
                                  uint32_t basis);

/* Returns true if key, under mask, equals match (which must already be
 * masked). */
bool oko_flow_key_match(const struct oko_flow_key *key,
                        const struct oko_flow_key *match,
                        const struct oko_flow_key *mask);

/* Formats key as a flow match (every field that is relevant for its
 * protocol, no actions) into buf like snprintf: returns the length the
 * full text needs; the text is truncated if that is >= size. */
int oko_flow_key_format(const struct oko_flow_key *key, char *buf,
                        size_t size);

/* ---------------------------------------------------------------------
 * Flows and actions
 * ------------------------------------------------------------------- */

/* OpenFlow reserved port numbers (OpenFlow 1.3 ofp_port_no). */
#define OKO_PORT_MAX        0xffffff00u /* the largest physical port */
#define OKO_PORT_IN_PORT    0xfffffff8u
#define OKO_PORT_TABLE      0xfffffff9u
#define OKO_PORT_NORMAL     0xfffffffau
#define OKO_PORT_FLOOD      0xfffffffbu
#define OKO_PORT_ALL        0xfffffffcu
#define OKO_PORT_CONTROLLER 0xfffffffdu
#define OKO_PORT_LOCAL      0xfffffffeu
#define OKO_PORT_ANY        0xffffffffu

/* OFPCML_NO_BUFFER: send the whole packet to the controller. */
#define OKO_CONTROLLER_MAX_LEN 0xffff

/* send_maps with this map id reports every map of the flow's program. */
#define OKO_SEND_MAPS_ALL 0xffffffffu

/* OpenFlow table ids are 0..254; 255 means "all tables" in a delete or
 * modify request. */
#define OKO_TABLE_MAX 254
#define OKO_TABLE_ALL 255

#define OKO_FLOW_DEFAULT_PRIORITY 32768
#define OKO_FLOW_MAX_ACTIONS 16

enum oko_action_type {
    OKO_ACT_OUTPUT = 1,         /* port = a port or OKO_PORT_*; max_len for
                                 * OKO_PORT_CONTROLLER */
    OKO_ACT_SET_FIELD,          /* field, value */
    OKO_ACT_STRIP_VLAN,         /* pop the outer VLAN tag */
    OKO_ACT_DEC_TTL,            /* decrement IPv4 TTL / IPv6 hop limit */
    OKO_ACT_SEND_MAPS,          /* arg = map id or OKO_SEND_MAPS_ALL */
    OKO_ACT_GOTO_TABLE,         /* arg = table id; always the last action */
};

/* Fields an OKO_ACT_SET_FIELD action rewrites. */
enum oko_field {
    OKO_FIELD_ETH_SRC = 1,      /* value.mac */
    OKO_FIELD_ETH_DST,          /* value.mac */
    OKO_FIELD_VLAN_VID,         /* value.u16, 0..4095 */
    OKO_FIELD_VLAN_PCP,         /* value.u8, 0..7 */
    OKO_FIELD_IPV4_SRC,         /* value.u32 */
    OKO_FIELD_IPV4_DST,         /* value.u32 */
    OKO_FIELD_IPV6_SRC,         /* value.ipv6 */
    OKO_FIELD_IPV6_DST,         /* value.ipv6 */
    OKO_FIELD_IP_DSCP,          /* value.u8, 0..63 */
    OKO_FIELD_IP_ECN,           /* value.u8, 0..3 */
    OKO_FIELD_IP_TTL,           /* value.u8 */
    OKO_FIELD_TP_SRC,           /* value.u16: TCP, UDP or SCTP port, by the
                                 * flow's ip_proto */
    OKO_FIELD_TP_DST,           /* value.u16 */
};

/* One action of a flow. */
struct oko_action {
    uint16_t type;              /* enum oko_action_type */
    uint16_t field;             /* enum oko_field, for OKO_ACT_SET_FIELD */
    uint32_t arg;               /* output port, map id or table id */
    uint32_t max_len;           /* bytes to the controller (OUTPUT) */
    uint32_t pad;
    union {
        uint8_t mac[6];
        uint8_t ipv6[16];
        uint32_t u32;
        uint16_t u16;
        uint8_t u8;
    } value;
};

/* A flow: match, metadata and actions.  key holds the match values
 * already ANDed with mask (the parser and the classifier keep it so).
 * filter_prog != 0 makes the flow conditional: it matches a packet only
 * if its other fields match and program filter_prog returns 1.  An empty
 * action list means drop. */
struct oko_flow {
    struct oko_flow_key key;
    struct oko_flow_key mask;
    uint64_t cookie;
    uint64_t cookie_mask;       /* delete/modify requests: bits of cookie
                                 * that must match (0: any cookie) */
    uint32_t filter_prog;       /* 0: unconditional */
    uint16_t priority;
    uint8_t table;              /* 0..254; OKO_TABLE_ALL in requests */
    uint8_t n_actions;
    uint16_t idle_timeout;      /* seconds, 0 = none */
    uint16_t hard_timeout;      /* seconds, 0 = none */
    uint32_t pad;
    struct oko_action actions[OKO_FLOW_MAX_ACTIONS];
};

/* oko_flow_parse() flags. */
#define OKO_FLOW_PARSE_MATCH_ONLY 0x1  /* a delete/modify/dump selector: no
                                        * actions= allowed, table defaults
                                        * to OKO_TABLE_ALL, table=all ok */
#define OKO_FLOW_PARSE_NO_ACTIONS_OK 0x2 /* actions= may be omitted (drop) */

/* Parses one flow in the ovs-ofctl-like syntax of oko-tool and flow files,
 * e.g. "priority=10,in_port=1,tcp,tp_dst=80,filter_prog=1,actions=drop",
 * into flow (fully overwritten).  Fields are separated by commas or white
 * space; actions= must come last and takes the rest of the line.  Checks
 * values, ranges and OpenFlow prerequisites (tp_dst needs tcp, udp or
 * sctp, ...).  Returns 0, or -EINVAL with a message in err that names the
 * offending token and its position (1-based token number and column). */
int oko_flow_parse(const char *str, unsigned int flags, struct oko_flow *flow,
                   char *err, size_t errlen);

/* Formats flow in the syntax oko_flow_parse() reads (so that parsing the
 * text gives back an equal flow) into buf like snprintf: returns the
 * length the full text needs; the text is truncated if that is >= size.
 * Shorthands (tcp, udp6, ...) are used where they apply, zero-valued
 * metadata (table, cookie, timeouts) is left out, and an empty action list
 * prints as "drop". */
int oko_flow_format(const struct oko_flow *flow, char *buf, size_t size);

/* Formats only the actions of flow ("drop", "output:2,CONTROLLER:65535",
 * ...) into buf like snprintf. */
int oko_flow_format_actions(const struct oko_flow *flow, char *buf,
                            size_t size);

/* Returns true if a and b have the same match: table, priority, mask,
 * masked key and filter_prog (the identity of a flow in OpenFlow's add and
 * strict delete). */
bool oko_flow_same_match(const struct oko_flow *a, const struct oko_flow *b);

/* Returns true if flow falls under the non-strict selector sel (as an
 * OpenFlow non-strict delete or modify): sel's table is flow's or
 * OKO_TABLE_ALL, flow's mask covers sel's mask, flow's key equals sel's
 * key under sel's mask, the cookies are equal under sel->cookie_mask, and
 * sel->filter_prog is 0 or equal to flow's. */
bool oko_flow_covered_by(const struct oko_flow *flow,
                         const struct oko_flow *sel);

/* Returns true if flow (a complete flow) matches the packet key, ignoring
 * its filter program. */
bool oko_flow_matches_key(const struct oko_flow *flow,
                          const struct oko_flow_key *key);

/* ---------------------------------------------------------------------
 * Classifier
 * ------------------------------------------------------------------- */

/* Memory for snapshots, so that the classifier can place them in hugepage
 * memory: alloc returns zeroed memory of at least size bytes aligned to
 * align (a power of two, at most 64) or NULL.  A NULL allocator means
 * aligned_alloc/free. */
struct cls_allocator {
    void *(*alloc)(void *ctx, size_t size, size_t align);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
};

/* The longest filter chain a lookup returns, in rules: the conditional
 * flows and, unless the chain ends in a miss, the unconditional flow. */
#define CLS_CHAIN_MAX 15

/* The result of a lookup: the packet's filter chain.  rules[] are indexes
 * of rules in the snapshot that produced the chain, in the order the
 * packet must try them: conditional flows first, then (unless miss) the
 * unconditional flow whose actions apply when no filter matches.  Exactly
 * one cache line. */
struct cls_chain {
    uint8_t n_rules;            /* entries used in rules[] */
    uint8_t miss;               /* 1: no unconditional flow ends the chain
                                 * (table miss after the filters) */
    uint16_t pad;
    uint32_t rules[CLS_CHAIN_MAX];
};

/* A flow as stored in a snapshot. */
struct cls_rule {
    struct oko_flow flow;
    uint64_t id;                /* the flow's insertion number: stable while
                                 * the flow exists, never reused */
    uint64_t rank;              /* lookup order: higher first (priority,
                                 * then earlier insertion) */
};

/* The writer side: the master flow table of every OpenFlow table,
 * process-local.  One thread at a time. */
struct cls;

/* An immutable, position-independent (no pointers inside) lookup
 * structure built from a struct cls: one block of memory. */
struct cls_snapshot;

/* Creates an empty classifier whose snapshots come from alloc (copied; NULL
 * for malloc).  Returns NULL and sets errno on failure. */
struct cls *cls_create(const struct cls_allocator *alloc);

/* Frees cls and its flows (not the snapshots built from it). */
void cls_destroy(struct cls *cls);

/* Adds flow (flow->table 0..254).  A flow with the same match (see
 * oko_flow_same_match()) is replaced in place: it keeps its id and its
 * position among equal-priority flows, and takes the new actions, cookie
 * and timeouts.  Returns 0 when added, 1 when replaced, or (with a
 * message) -EINVAL for a bad table, -ENOSPC beyond 2^21 flows, -ENOMEM. */
int cls_add(struct cls *cls, const struct oko_flow *flow, char *err,
            size_t errlen);

/* Deletes the flows sel selects: with strict, the one flow with the same
 * match as sel (table, priority, match, filter_prog) whose cookie matches
 * under sel->cookie_mask; otherwise every flow covered by sel (see
 * oko_flow_covered_by()).  Returns the number of flows deleted. */
int cls_delete(struct cls *cls, const struct oko_flow *sel, bool strict);

/* Replaces the actions of the flows sel selects (same selection as
 * cls_delete()) with sel's actions.  Returns the number of flows
 * modified. */
int cls_modify(struct cls *cls, const struct oko_flow *sel, bool strict);

/* Returns the number of flows in cls. */
size_t cls_count(const struct cls *cls);

/* Returns the flow at position *pos (0 to start) of cls in insertion
 * order and advances *pos, or NULL at the end.  Any change to cls
 * invalidates the iteration. */
const struct oko_flow *cls_next(const struct cls *cls, size_t *pos);

/* Returns the generation of cls: it increases on every change, and the
 * next snapshot carries it. */
uint64_t cls_generation(const struct cls *cls);

/* Builds a snapshot of the current flows of cls into one block from cls's
 * allocator.  Returns it, or NULL with errno set (ENOMEM, or E2BIG beyond
 * 2^21 flows).  The snapshot is independent of cls afterwards. */
struct cls_snapshot *cls_snapshot_build(const struct cls *cls);

/* Frees a snapshot made by cls_snapshot_build() with the same
 * allocator. */
void cls_snapshot_free(struct cls_snapshot *snap,
                       const struct cls_allocator *alloc);

/* Returns the generation of cls the snapshot was built from. */
uint64_t cls_snapshot_generation(const struct cls_snapshot *snap);

/* Returns the size in bytes of the snapshot's block. */
size_t cls_snapshot_size(const struct cls_snapshot *snap);

/* Returns the number of rules in snap: rules are indexed 0..n-1, ordered
 * by table, then lookup order (priority descending, then insertion). */
uint32_t cls_snapshot_n_rules(const struct cls_snapshot *snap);

/* Returns the number of subtables (distinct masks per table) of snap. */
uint32_t cls_snapshot_n_subtables(const struct cls_snapshot *snap);

/* Returns rule idx of snap (idx < cls_snapshot_n_rules()). */
const struct cls_rule *cls_snapshot_rule(const struct cls_snapshot *snap,
                                         uint32_t idx);

/* Maps the rules of snapshot from to those of snapshot to by flow id, so
 * that per-rule state (counters, last-used times) survives a new
 * generation: map[i] (an array of cls_snapshot_n_rules(from) entries) is
 * set to the index in to of from's rule i, or UINT32_MAX if that flow is
 * gone.  Returns 0 or -ENOMEM. */
int cls_snapshot_map_rules(const struct cls_snapshot *from,
                           const struct cls_snapshot *to, uint32_t *map);

/* Looks the packet key up in table of snap and writes its filter chain
 * (see struct cls_chain): every conditional flow whose other fields match
 * and that comes before the first matching unconditional flow in lookup
 * order (priority descending; equal priorities in insertion order), then
 * that unconditional flow, if any.  Returns the number of rules in the
 * chain (0 = miss with no filter), or -E2BIG if the chain would exceed
 * CLS_CHAIN_MAX rules (chain is then unusable).  Read-only: any number of
 * threads may look up one snapshot. */
int cls_lookup(const struct cls_snapshot *snap, uint8_t table,
               const struct oko_flow_key *key, struct cls_chain *chain);

/* The same as cls_lookup() by a linear scan of every rule: the reference
 * the tests compare against, and a fallback for debugging. */
int cls_lookup_linear(const struct cls_snapshot *snap, uint8_t table,
                      const struct oko_flow_key *key,
                      struct cls_chain *chain);

/* Counters of the last lookups, for benchmarks and tests. */
struct cls_lookup_stats {
    uint64_t lookups;
    uint64_t subtables_probed;
};

/* Like cls_lookup(), and adds to stats how many subtables it probed. */
int cls_lookup_stats(const struct cls_snapshot *snap, uint8_t table,
                     const struct oko_flow_key *key, struct cls_chain *chain,
                     struct cls_lookup_stats *stats);

/* Reads the flow file at path (one flow per line in the syntax of
 * oko_flow_parse(); '#' starts a comment; blank lines are ignored) and adds
 * its flows to cls with cls_add(), in file order.  Every line is parsed
 * before any flow is added, so a file with an error changes nothing.
 * Returns the number of lines that held a flow, or a negative errno with
 * "PATH:LINE: message" in err. */
int oko_flow_file_load(const char *path, struct cls *cls, char *err,
                       size_t errlen);

/* ---------------------------------------------------------------------
 * Exact-match cache
 * ------------------------------------------------------------------- */

/* A per-process cache from a full packet key (and table) to its chain.
 * Entries carry the snapshot generation they were computed from; a lookup
 * with another generation misses, so publishing a new snapshot
 * invalidates the whole cache in O(1).  Fixed size, 2-way set
 * associative; not thread-safe (one per polling thread). */
struct cls_emc;

/* Creates a cache of n_entries (a power of two >= 2) entries.  Returns
 * NULL and sets errno (EINVAL, ENOMEM). */
struct cls_emc *cls_emc_create(uint32_t n_entries);

/* Frees emc. */
void cls_emc_destroy(struct cls_emc *emc);

/* Makes cls_emc_classify() cache a computed chain only once in about
 * inv_prob misses (1, the default, caches every one), as OVS's
 * emc-insert-inv-prob: with more active flows than entries, caching every
 * miss only churns the cache, while flows with many packets still get in
 * soon.  0 disables insertion. */
void cls_emc_set_insert_inv_prob(struct cls_emc *emc, uint32_t inv_prob);

/* Returns the cached chain of key (whose oko_flow_key_hash(key, 0) is
 * hash) in table for generation, or NULL on a miss.  The pointer is valid
 * until the next cls_emc_insert() or cls_emc_flush(). */
const struct cls_chain *cls_emc_lookup(struct cls_emc *emc,
                                       uint64_t generation, uint8_t table,
                                       const struct oko_flow_key *key,
                                       uint32_t hash);

/* Caches chain as the result of key (hash as above) in table for
 * generation, evicting an entry of an older generation or the least
 * recently inserted of the two candidates. */
void cls_emc_insert(struct cls_emc *emc, uint64_t generation, uint8_t table,
                    const struct oko_flow_key *key, uint32_t hash,
                    const struct cls_chain *chain);

/* Empties emc. */
void cls_emc_flush(struct cls_emc *emc);

/* Statistics of a cache: hits, misses and insertions since creation. */
struct cls_emc_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t inserts;
};

/* Returns emc's counters. */
void cls_emc_get_stats(const struct cls_emc *emc, struct cls_emc_stats *st);

/* Looks key up in emc and, on a miss, in snap (cls_lookup()), caching the
 * result.  hash is oko_flow_key_hash(key, 0).  Returns like cls_lookup();
 * *chain points to the cached or computed chain (chain storage given by
 * the caller in *scratch when the result could not be cached). */
int cls_emc_classify(struct cls_emc *emc, const struct cls_snapshot *snap,
                     uint8_t table, const struct oko_flow_key *key,
                     uint32_t hash, struct cls_chain *scratch,
                     const struct cls_chain **chain);

#ifdef __cplusplus
}
#endif

#endif /* OKO_FLOW_H */
