/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_flow_parse.c -- the flow syntax: good lines parse to the expected
 * flows and survive a format/parse round trip unchanged; bad lines fail
 * with a message that names the problem (exact texts for a few).
 */
#include "oko_flow.h"
#include "cu_main.h"

#include <stdio.h>
#include <string.h>

static struct oko_flow
parse_ok(const char *line, unsigned int flags)
{
    struct oko_flow f;
    char err[256];
    int r = oko_flow_parse(line, flags, &f, err, sizeof err);

    if (r) {
        printf("\nunexpected error for \"%s\": %s\n", line, err);
    }
    CU_ASSERT_EQUAL(r, 0);
    return f;
}

/* Formats f, parses the text, and checks that the result is identical and
 * that formatting it again gives the same text. */
static void
round_trip(const struct oko_flow *f, unsigned int flags)
{
    char text[1024], text2[1024], err[256];
    struct oko_flow g;
    int n, r;

    n = oko_flow_format(f, text, sizeof text);
    CU_ASSERT(n > 0 && (size_t) n < sizeof text);
    r = oko_flow_parse(text, flags, &g, err, sizeof err);
    if (r) {
        printf("\nround trip of \"%s\" failed: %s\n", text, err);
    }
    CU_ASSERT_EQUAL_FATAL(r, 0);
    if (memcmp(f, &g, sizeof g)) {
        printf("\nround trip changed the flow: \"%s\"\n", text);
    }
    CU_ASSERT(memcmp(f, &g, sizeof g) == 0);
    oko_flow_format(&g, text2, sizeof text2);
    CU_ASSERT_STRING_EQUAL(text, text2);
}

static const char *const good_lines[] = {
    "priority=10,in_port=1,tcp,tp_dst=80,filter_prog=1,actions=drop",
    "priority=1,in_port=1,actions=output:2",
    "in_port=1,filter_prog=1,actions=drop",
    "actions=drop",
    "actions=",
    "table=3,priority=0,actions=CONTROLLER:128",
    "cookie=0x1234,priority=5,ip,nw_src=10.0.0.0/8,actions=normal",
    "idle_timeout=30,hard_timeout=300,ip,nw_dst=192.168.1.1,actions=2",
    "dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff,actions=flood",
    "eth_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,actions=all",
    "eth_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop",
    "dl_type=0x0800,nw_proto=17,tp_src=53,actions=output:3",
    "eth_type=0x88cc,actions=controller",
    "dl_vlan=100,actions=strip_vlan,output:1",
    "dl_vlan=0xffff,actions=mod_vlan_vid:10,output:2",
    "vlan_vid=0x1000/0x1000,actions=drop",
    "vlan_vid=5,vlan_pcp=3,actions=drop",
    "dl_vlan_pcp=7,actions=mod_vlan_pcp:1,output:1",
    "vlan_tci=0x0005/0x0fff,actions=drop",
    "ip,nw_src=10.1.2.3,nw_dst=10.0.0.0/255.255.0.0,actions=drop",
    "ip,ip_src=1.2.3.4/32,ip_dst=0.0.0.0/0,actions=drop",
    "ip,ipv4_src=10.0.0.0/255.0.255.0,actions=drop",
    "arp,nw_src=10.0.0.1,actions=drop",
    "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,actions=drop",
    "arp,arp_sha=00:11:22:33:44:55,arp_tha=00:00:00:00:00:00,actions=drop",
    "rarp,actions=drop",
    "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,actions=drop",
    "ipv6,ipv6_src=2001:db8::1/ffff::ffff,actions=drop",
    "ipv6,nw_proto=89,actions=drop",
    "tcp6,tp_dst=22,actions=drop",
    "udp6,udp_src=546,udp_dst=547,actions=drop",
    "sctp6,sctp_dst=9,actions=drop",
    "icmp6,icmpv6_type=135,icmpv6_code=0,actions=drop",
    "icmp6,icmp_type=128,actions=drop",
    "icmp,icmp_type=8,icmp_code=0,actions=drop",
    "icmp,icmpv4_type=3,actions=drop",
    "tcp,tcp_flags=0x002/0x012,actions=drop",
    "tcp,tcp_flags=2,actions=drop",
    "tcp,tcp_src=1024/0xfc00,tcp_dst=80,actions=drop",
    "udp,tp_src=0x35,actions=drop",
    "sctp,tp_dst=2905,actions=drop",
    "ip,nw_tos=184,actions=drop",
    "ip,ip_dscp=46,ip_ecn=1,actions=drop",
    "ipv6,nw_ecn=3,actions=drop",
    "ip,nw_ttl=1,actions=drop",
    "ip,ip_frag=no,actions=drop",
    "ip,ip_frag=first,actions=drop",
    "ip,ip_frag=later,actions=drop",
    "ipv6,ip_frag=yes,actions=drop",
    "ip,ip_frag=not_later,actions=drop",
    "ip,nw_proto=6,actions=drop",
    "ip tcp tp_dst=443 actions=output:1",
    "  priority=7 , in_port=2 ,actions=output:1, output:3 ",
    "tcp,tp_dst=80,actions=mod_tp_dst:8080,output:2",
    "udp,actions=mod_tp_src:1,mod_nw_src:10.0.0.1,mod_nw_dst:10.0.0.2,"
    "output:2",
    "ip,actions=mod_nw_tos:184,mod_nw_ecn:2,mod_nw_ttl:9,dec_ttl,"
    "output:1",
    "actions=mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,"
    "in_port",
    "ipv6,actions=set_field:2001:db8::9->ipv6_dst,output:1",
    "actions=set_field:00:11:22:33:44:55->eth_dst,set_field:7->vlan_vid,local",
    "actions=set_field:0x1007->vlan_vid,set_field:3->vlan_pcp,output:1",
    "udp,actions=set_field:53->udp_dst,output:1",
    "sctp6,actions=set_field:1->tp_src,output:1",
    "ip,actions=set_field:10->ip_dscp,set_field:1->ip_ecn,output:4",
    "filter_prog=3,actions=send_maps",
    "filter_prog=3,actions=send_maps:2,output:1",
    "table=0,actions=goto_table:1",
    "table=1,priority=1,actions=output:1,goto_table:5",
    "actions=controller(max_len=64)",
    "actions=controller:0",
    "actions=output:controller",
    "actions=output:in_port,output:LOCAL,NORMAL",
    "priority=65535,in_port=4294967040,actions=output:4294967040",
    "priority=0,cookie=0xffffffffffffffff,actions=drop",
    "filter_prog=4294967295,actions=drop",
    "in_port=1,tcp,tp_dst=80,ip,actions=drop",
    "tcp,dl_type=0x0800,actions=drop",
    "in_port=LOCAL,actions=output:1",
    "in_port=local,actions=in_port",
};

static void
test_good_lines(void)
{
    size_t i;

    for (i = 0; i < sizeof good_lines / sizeof good_lines[0]; i++) {
        struct oko_flow f = parse_ok(good_lines[i], 0);

        round_trip(&f, 0);
    }
}

static void
test_values(void)
{
    struct oko_flow f;

    f = parse_ok("priority=10,in_port=1,tcp,tp_dst=80,filter_prog=1,"
                 "actions=drop", 0);
    CU_ASSERT_EQUAL(f.priority, 10);
    CU_ASSERT_EQUAL(f.table, 0);
    CU_ASSERT_EQUAL(f.key.in_port, 1);
    CU_ASSERT_EQUAL(f.mask.in_port, 0xffffffffu);
    CU_ASSERT_EQUAL(f.key.eth_type, 0x0800);
    CU_ASSERT_EQUAL(f.key.ip_proto, 6);
    CU_ASSERT_EQUAL(f.mask.ip_proto, 0xff);
    CU_ASSERT_EQUAL(f.key.tp_dst, 80);
    CU_ASSERT_EQUAL(f.mask.tp_dst, 0xffff);
    CU_ASSERT_EQUAL(f.mask.tp_src, 0);
    CU_ASSERT_EQUAL(f.filter_prog, 1);
    CU_ASSERT_EQUAL(f.n_actions, 0);

    f = parse_ok("ip,nw_src=10.1.2.3/8,actions=output:2,CONTROLLER:64", 0);
    CU_ASSERT_EQUAL(f.priority, OKO_FLOW_DEFAULT_PRIORITY);
    CU_ASSERT_EQUAL(f.key.ipv4_src, 0x0a000000);
    CU_ASSERT_EQUAL(f.mask.ipv4_src, 0xff000000);
    CU_ASSERT_EQUAL(f.n_actions, 2);
    CU_ASSERT_EQUAL(f.actions[0].type, OKO_ACT_OUTPUT);
    CU_ASSERT_EQUAL(f.actions[0].arg, 2);
    CU_ASSERT_EQUAL(f.actions[1].arg, OKO_PORT_CONTROLLER);
    CU_ASSERT_EQUAL(f.actions[1].max_len, 64);

    f = parse_ok("dl_vlan=100,dl_vlan_pcp=5,actions=drop", 0);
    CU_ASSERT_EQUAL(f.key.vlan_tci, (5 << 13) | 0x1000 | 100);
    CU_ASSERT_EQUAL(f.mask.vlan_tci, 0xffff);

    f = parse_ok("dl_vlan=0xffff,actions=drop", 0);
    CU_ASSERT_EQUAL(f.key.vlan_tci, 0);
    CU_ASSERT_EQUAL(f.mask.vlan_tci, 0xffff);

    f = parse_ok("ipv6,ipv6_dst=2001:db8::/33,actions=drop", 0);
    CU_ASSERT_EQUAL(f.mask.ipv6_dst[3], 0xff);
    CU_ASSERT_EQUAL(f.mask.ipv6_dst[4], 0x80);
    CU_ASSERT_EQUAL(f.mask.ipv6_dst[5], 0);

    f = parse_ok("tcp,ip_dscp=46,actions=mod_nw_tos:184,mod_dl_dst:"
                 "0a:0b:0c:0d:0e:0f,mod_tp_dst:1", 0);
    CU_ASSERT_EQUAL(f.key.ip_tos, 184);
    CU_ASSERT_EQUAL(f.mask.ip_tos, 0xfc);
    CU_ASSERT_EQUAL(f.actions[0].type, OKO_ACT_SET_FIELD);
    CU_ASSERT_EQUAL(f.actions[0].field, OKO_FIELD_IP_DSCP);
    CU_ASSERT_EQUAL(f.actions[0].value.u8, 46);
    CU_ASSERT_EQUAL(f.actions[1].field, OKO_FIELD_ETH_DST);
    CU_ASSERT_EQUAL(f.actions[1].value.mac[5], 0x0f);

    f = parse_ok("filter_prog=2,tcp,actions=set_field:8080->tcp_dst,dec_ttl,"
                 "strip_vlan,send_maps:0,goto_table:2", 0);
    CU_ASSERT_EQUAL(f.n_actions, 5);
    CU_ASSERT_EQUAL(f.actions[0].field, OKO_FIELD_TP_DST);
    CU_ASSERT_EQUAL(f.actions[0].value.u16, 8080);
    CU_ASSERT_EQUAL(f.actions[1].type, OKO_ACT_DEC_TTL);
    CU_ASSERT_EQUAL(f.actions[2].type, OKO_ACT_STRIP_VLAN);
    CU_ASSERT_EQUAL(f.actions[3].type, OKO_ACT_SEND_MAPS);
    CU_ASSERT_EQUAL(f.actions[3].arg, 0);
    CU_ASSERT_EQUAL(f.actions[4].type, OKO_ACT_GOTO_TABLE);
    CU_ASSERT_EQUAL(f.actions[4].arg, 2);
}

/* Selectors for delete/modify/dump. */
static void
test_selectors(void)
{
    struct oko_flow f;
    char err[256];

    f = parse_ok("cookie=0x10/0xf0,tcp", OKO_FLOW_PARSE_MATCH_ONLY);
    CU_ASSERT_EQUAL(f.table, OKO_TABLE_ALL);
    CU_ASSERT_EQUAL(f.cookie, 0x10);
    CU_ASSERT_EQUAL(f.cookie_mask, 0xf0);

    f = parse_ok("table=all,cookie=5", OKO_FLOW_PARSE_MATCH_ONLY);
    CU_ASSERT_EQUAL(f.table, OKO_TABLE_ALL);
    CU_ASSERT_EQUAL(f.cookie_mask, UINT64_MAX);

    f = parse_ok("table=2", OKO_FLOW_PARSE_MATCH_ONLY);
    CU_ASSERT_EQUAL(f.table, 2);

    f = parse_ok("", OKO_FLOW_PARSE_MATCH_ONLY);
    CU_ASSERT_EQUAL(f.mask.in_port, 0);

    CU_ASSERT_EQUAL(oko_flow_parse("tcp,actions=drop",
                                   OKO_FLOW_PARSE_MATCH_ONLY, &f, err,
                                   sizeof err), -EINVAL);
    CU_ASSERT(strstr(err, "actions are not allowed here") != NULL);

    f = parse_ok("in_port=3", OKO_FLOW_PARSE_NO_ACTIONS_OK);
    CU_ASSERT_EQUAL(f.n_actions, 0);
    CU_ASSERT_EQUAL(f.table, 0);
}

struct bad {
    const char *line;
    const char *error;          /* exact text, or a part of it if partial */
    bool exact;
};

static const struct bad bad_lines[] = {
    { "tp_dst=80,actions=drop",
      "tp_dst requires a protocol (tcp, udp or sctp)", true },
    { "priority=10,in_port=1,tcp,tp_dstt=80,actions=drop",
      "unknown field \"tp_dstt\" (token 4 \"tp_dstt=80\" at column 27)",
      true },
    { "udp,tp_dst=70000,actions=drop",
      "value 70000 out of range for tp_dst (0 to 65535) "
      "(token 2 \"tp_dst=70000\" at column 5)", true },
    { "in_port=1", "missing actions= (use actions=drop to drop)", true },
    { "in_port=1,actions=output:x",
      "bad port \"x\" (a number or in_port, flood, all, normal, controller, "
      "local) (action 1 \"output:x\" at column 19)", true },
    { "nw_src=1.2.3.4,actions=drop", "nw_src requires ip or arp", true },
    { "ip,ipv6_src=::1,actions=drop", "ipv6_src requires ipv6", true },
    { "udp,tcp_dst=1,actions=drop", "tcp_dst requires tcp", true },
    { "tcp,udp_src=1,actions=drop", "udp_src requires udp", true },
    { "udp,sctp_src=1,actions=drop", "sctp_src requires sctp", true },
    { "tcp6,icmp_type=1,actions=drop", "icmp_type requires icmp or icmp6",
      true },
    { "icmp,icmpv6_type=1,actions=drop", "icmpv6_type requires icmp6", true },
    { "icmp6,icmpv4_code=1,actions=drop", "icmpv4_code requires icmp", true },
    { "ip,arp_op=1,actions=drop", "arp_op requires arp", true },
    { "arp,ip_src=1.1.1.1,actions=drop", "ip_src requires ip", true },
    { "nw_proto=6,actions=drop", "nw_proto requires ip or ipv6", true },
    { "udp,tcp_flags=2,actions=drop", "tcp_flags requires tcp", true },
    { "ip_frag=no,actions=drop", "ip_frag requires ip or ipv6", true },
    { "dl_type=0x86dd,tp_src=1,actions=drop",
      "tp_src requires a protocol (tcp, udp or sctp)", true },
    { "foo,actions=drop", "unknown field \"foo\"", false },
    { "in_port=1,actions", "expected actions=ACTION[,ACTION...] (token 2 "
      "\"actions\" at column 11)", true },
    { "priority=65536,actions=drop", "out of range for priority", false },
    { "priority=-1,actions=drop", "bad value \"-1\" for priority", false },
    { "priority=,actions=drop", "missing value for priority", false },
    { "priority=1,priority=2,actions=drop", "priority given twice", false },
    { "table=255,actions=drop", "out of range for table (0 to 254)", false },
    { "table=all,actions=drop", "bad value \"all\" for table", false },
    { "in_port=0xffffff01,actions=drop", "out of range for in_port", false },
    { "in_port=1/1,actions=drop", "in_port does not take a mask", false },
    { "in_port=flood,actions=drop", "bad value \"flood\" for in_port", false },
    { "in_port,actions=drop", "in_port needs a value", false },
    { "tcp=1,actions=drop", "tcp takes no value", false },
    { "tcp,udp,actions=drop", "conflicts with an earlier field", false },
    { "ip,ipv6,actions=drop", "conflicts with an earlier field", false },
    { "tcp,nw_proto=17,actions=drop", "conflicts with an earlier field",
      false },
    { "dl_src=00:11:22:33:44,actions=drop",
      "bad value \"00:11:22:33:44\" for dl_src", false },
    { "dl_src=00:11:22:33:44:5g,actions=drop", "bad value", false },
    { "dl_src=00:11:22:33:44:55/zz,actions=drop", "bad mask \"zz\"", false },
    { "ip,nw_src=10.0.0.256,actions=drop", "expected an IPv4 address",
      false },
    { "ip,nw_src=10.0.0.0/33,actions=drop", "bad prefix length \"33\"",
      false },
    { "ip,nw_src=10.0.0.0/255.0.0.x,actions=drop", "bad mask", false },
    { "ipv6,ipv6_src=2001:db8::g,actions=drop", "expected an IPv6 address",
      false },
    { "ipv6,ipv6_src=::/129,actions=drop", "bad prefix length \"129\"",
      false },
    { "dl_vlan=4096,actions=drop", "out of range for dl_vlan", false },
    { "vlan_pcp=8,actions=drop", "out of range for vlan_pcp", false },
    { "ip,nw_tos=1,actions=drop", "the two ECN bits must be 0", false },
    { "ip,ip_dscp=64,actions=drop", "out of range for ip_dscp", false },
    { "ip,ip_ecn=4,actions=drop", "out of range for ip_ecn", false },
    { "ip,ip_frag=maybe,actions=drop", "bad value \"maybe\" for ip_frag",
      false },
    { "tcp,tcp_flags=0x1000,actions=drop", "out of range for tcp_flags",
      false },
    { "cookie=1/1,actions=drop", "a cookie mask is only allowed", false },
    { "cookie=0x10000000000000000,actions=drop", "out of range for cookie",
      false },
    { "idle_timeout=65536,actions=drop", "out of range for idle_timeout",
      false },
    { "filter_prog=4294967296,actions=drop", "out of range for filter_prog",
      false },
    { "filter_prog=x,actions=drop", "bad value \"x\" for filter_prog", false },
    { "actions=drop,output:1", "drop must be the only action", false },
    { "actions=output:1,drop", "drop must be the only action", false },
    { "actions=output:1,,output:2", "empty action (action 2", false },
    { "actions=frobnicate", "unknown action \"frobnicate\"", false },
    { "actions=output", "output needs a port", false },
    { "actions=output:", "missing argument for output", false },
    { "actions=output:4294967041", "port 4294967041 out of range", false },
    { "actions=controller:70000", "out of range for controller max_len",
      false },
    { "actions=controller(max_len=1", "missing ')'", false },
    { "actions=goto_table:1,output:1", "goto_table must be the last action",
      false },
    { "table=2,actions=goto_table:2", "goto_table must name a later table",
      false },
    { "actions=goto_table:255", "out of range for goto_table", false },
    { "actions=send_maps", "send_maps requires filter_prog", false },
    { "actions=mod_tp_dst:80",
      "mod_tp_dst requires a protocol (tcp, udp or sctp) (action 1", false },
    { "actions=mod_nw_src:1.2.3.4", "requires ip", false },
    { "ip,actions=set_field:::1->ipv6_src", "requires ipv6", false },
    { "actions=set_field:1->in_port", "set_field cannot set \"in_port\"",
      false },
    { "actions=set_field:1", "expected set_field:VALUE->FIELD", false },
    { "actions=set_field:x->eth_src", "bad value \"x\" for eth_src", false },
    { "actions=mod_vlan_vid:4096", "out of range for mod_vlan_vid", false },
    { "actions=mod_vlan_pcp:8", "out of range for mod_vlan_pcp", false },
    { "ip,actions=mod_nw_tos:3", "the two ECN bits must be 0", false },
    { "actions=strip_vlan:1", "strip_vlan takes no argument", false },
    { "actions=flood:1", "flood takes no argument", false },
    { "actions=output:1,output:2,output:3,output:4,output:5,output:6,"
      "output:7,output:8,output:9,output:10,output:11,output:12,output:13,"
      "output:14,output:15,output:16,output:17",
      "too many actions (at most 16) (action 17", false },
};

static void
test_bad_lines(void)
{
    size_t i;

    for (i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        const struct bad *b = &bad_lines[i];
        struct oko_flow f;
        char err[512];
        int r;

        err[0] = '\0';
        r = oko_flow_parse(b->line, 0, &f, err, sizeof err);
        CU_ASSERT_EQUAL(r, -EINVAL);
        if (b->exact ? strcmp(err, b->error) != 0
            : strstr(err, b->error) == NULL) {
            printf("\n\"%s\":\n  got      \"%s\"\n  expected \"%s\"\n",
                   b->line, err, b->error);
            CU_FAIL("wrong error message");
        }
    }
}

static void
test_error_buffer(void)
{
    struct oko_flow f;
    char small[8];

    /* A NULL or short buffer is fine; the message is truncated. */
    CU_ASSERT_EQUAL(oko_flow_parse("foo", 0, &f, NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(oko_flow_parse("foo", 0, &f, small, sizeof small),
                    -EINVAL);
    CU_ASSERT_EQUAL(strlen(small), sizeof small - 1);
}

static void
test_format(void)
{
    struct oko_flow f;
    char buf[512];
    int n;

    f = parse_ok("in_port=1,priority=10,filter_prog=1,tp_dst=80,tcp,"
                 "actions=drop", 0);
    oko_flow_format(&f, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "priority=10,tcp,in_port=1,tp_dst=80,"
                           "filter_prog=1,actions=drop");

    f = parse_ok("table=1,cookie=0xab,arp,arp_spa=10.0.0.0/24,arp_op=2,"
                 "actions=normal,controller:100,local", 0);
    oko_flow_format(&f, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "table=1,priority=32768,cookie=0xab,arp,"
                           "arp_spa=10.0.0.0/24,arp_op=2,"
                           "actions=NORMAL,CONTROLLER:100,LOCAL");

    f = parse_ok("udp6,ipv6_src=2001:db8::/48,actions=mod_tp_dst:53,"
                 "output:1", 0);
    oko_flow_format(&f, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "priority=32768,udp6,ipv6_src=2001:db8::/48,"
                           "actions=set_field:53->udp_dst,output:1");

    oko_flow_format_actions(&f, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "set_field:53->udp_dst,output:1");

    /* snprintf semantics: the needed length, truncated text. */
    n = oko_flow_format(&f, buf, 10);
    CU_ASSERT(n > 10);
    CU_ASSERT_EQUAL(strlen(buf), 9);
    CU_ASSERT_EQUAL(oko_flow_format(&f, NULL, 0), n);
}

static void
test_key_format(void)
{
    struct oko_flow_key k;
    char buf[512];

    memset(&k, 0, sizeof k);
    k.in_port = 3;
    k.eth_type = 0x0800;
    k.ip_proto = 17;
    k.ip_ttl = 64;
    k.ipv4_src = 0x0a000001;
    k.ipv4_dst = 0x0a000002;
    k.tp_src = 5;
    k.tp_dst = 53;
    oko_flow_key_format(&k, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "udp,ip_dscp=0,ip_ecn=0,ip_frag=no,"
                           "in_port=3,dl_src=00:00:00:00:00:00,"
                           "dl_dst=00:00:00:00:00:00,nw_src=10.0.0.1,"
                           "nw_dst=10.0.0.2,nw_ttl=64,tp_src=5,tp_dst=53");
}

static const struct cu_test tests[] = {
    { "good lines parse and round-trip", test_good_lines },
    { "parsed values", test_values },
    { "delete/modify selectors", test_selectors },
    { "bad lines and their errors", test_bad_lines },
    { "error buffer", test_error_buffer },
    { "formatter output", test_format },
    { "key formatter", test_key_format },
    { NULL, NULL }
};
CU_MAIN("flow_parse", tests)
