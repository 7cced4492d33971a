#!/usr/bin/env python3
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# gen-pcaps.py -- writes the packet captures the example filter programs
# are tested on, and the mixed demo trace.
#
# Usage: gen-pcaps.py DIR
#
# Frames are built by hand (Python standard library only): Ethernet with
# optional 802.1Q/802.1ad tags, ARP, IPv4 (with options), IPv6, TCP (with
# options), UDP, ICMP, ICMPv6, all with correct checksums, padded to the
# 60-byte Ethernet minimum as on the wire.  Output is deterministic: fixed
# seeds and timestamps, so the same script always writes the same bytes.
#
# Files (classic pcap, microsecond timestamps, LINKTYPE_ETHERNET):
#   stateless-firewall.pcap  rate-limiter.pcap  tcp-firewall.pcap
#   os-fingerprint.pcap      tcp-diag.pcap      bloom-blocklist.pcap
#   heavy-hitter.pcap        demo.pcap
# The scenario of each, packet by packet, is described next to its
# generator below; tests/examples.sh asserts the verdicts it implies.

import os
import random
import struct
import sys

# ---------------------------------------------------------------------------
# pcap writer
# ---------------------------------------------------------------------------

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
SNAPLEN = 65535
BASE_TS = 1767225600  # 2026-01-01 00:00:00 UTC


class Pcap:
    """Collects (timestamp in microseconds, frame) records and writes them
    as a classic pcap file."""

    def __init__(self, start_us=0):
        self.records = []
        self.now_us = start_us

    def add(self, frame, gap_us=100, caplen=None):
        """Appends frame gap_us after the previous one.  caplen, if given,
        truncates the capture (the wire length stays the frame's length)."""
        self.now_us += gap_us
        self.records.append((self.now_us, frame, caplen))

    def add_at(self, ts_us, frame):
        self.records.append((ts_us, frame, None))

    def write(self, path):
        recs = sorted(self.records, key=lambda r: r[0])
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN,
                                LINKTYPE_ETHERNET))
            for ts, frame, caplen in recs:
                data = frame if caplen is None else frame[:caplen]
                sec = BASE_TS + ts // 1000000
                f.write(struct.pack("<IIII", sec, ts % 1000000, len(data),
                                    len(frame)))
                f.write(data)
        return len(recs)


# ---------------------------------------------------------------------------
# Frame builders
# ---------------------------------------------------------------------------

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ETH_P_IPV6 = 0x86DD

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ip6(s):
    """Parses an IPv6 address with at most one '::'."""
    if "::" in s:
        head, tail = s.split("::")
        h = [x for x in head.split(":") if x]
        t = [x for x in tail.split(":") if x]
        groups = h + ["0"] * (8 - len(h) - len(t)) + t
    else:
        groups = s.split(":")
    assert len(groups) == 8, s
    return b"".join(struct.pack("!H", int(g, 16)) for g in groups)


def mac_of(ip):
    """A stable, locally administered MAC for a host."""
    return bytes([0x02, 0x00]) + (ip4(ip) if "." in ip else ip6(ip)[-4:])


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, ethertype, payload, vlans=()):
    """Ethernet frame; vlans is a list of (tpid, vid) outermost first.
    Padded to 60 bytes (the minimum without FCS)."""
    hdr = dst + src
    for tpid, vid in vlans:
        hdr += struct.pack("!HH", tpid, vid & 0x0FFF)
    frame = hdr + struct.pack("!H", ethertype) + payload
    if len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    return frame


def ipv4(src, dst, proto, payload, ttl=64, df=True, ident=0, options=b"",
         version=4, tos=0):
    assert len(options) % 4 == 0
    ihl = 5 + len(options) // 4
    tot = ihl * 4 + len(payload)
    flags = 0x4000 if df else 0
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, tos, tot, ident,
                      flags, ttl, proto, 0, ip4(src), ip4(dst)) + options
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def l4_checksum(src, dst, proto, seg):
    if "." in src:
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", len(seg), proto)
    return checksum(pseudo + seg)


def tcp(src, dst, sport, dport, seq, ack, flags, win=64240, options=b"",
        payload=b"", doff=None):
    """TCP segment with a valid checksum.  doff overrides the data offset
    (in 32-bit words) to build malformed headers."""
    if len(options) % 4:
        options += b"\0" * (4 - len(options) % 4)
    if doff is None:
        doff = 5 + len(options) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, doff << 4, flags, win, 0, 0)
    seg += options + payload
    csum = l4_checksum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    csum = l4_checksum(src, dst, 17, seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", csum) + seg[8:]


def icmp_echo(ident, seq, payload=b"", reply=False):
    msg = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + payload
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def icmp6_echo(src, dst, ident, seq, payload=b"", reply=False):
    msg = struct.pack("!BBHHH", 129 if reply else 128, 0, 0, ident, seq)
    msg += payload
    csum = l4_checksum(src, dst, 58, msg)
    return msg[:2] + struct.pack("!H", csum) + msg[4:]


def ipv6(src, dst, nexthdr, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nexthdr, hlim,
                       ip6(src), ip6(dst)) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, sha, ip4(spa),
                       tha, ip4(tpa))


# Frame shortcuts -----------------------------------------------------------

def tcp4_frame(src, dst, sport, dport, seq, ack, flags, win=64240,
               options=b"", payload=b"", ttl=64, df=True, vlans=(), ident=0,
               doff=None, ip_options=b""):
    seg = tcp(src, dst, sport, dport, seq, ack, flags, win, options, payload,
              doff)
    return eth(mac_of(dst), mac_of(src), ETH_P_IP,
               ipv4(src, dst, 6, seg, ttl=ttl, df=df, ident=ident,
                    options=ip_options), vlans)


def udp4_frame(src, dst, sport, dport, payload, ttl=64, vlans=(), ident=0,
               ip_options=b"", version=4):
    return eth(mac_of(dst), mac_of(src), ETH_P_IP,
               ipv4(src, dst, 17, udp(src, dst, sport, dport, payload),
                    ttl=ttl, ident=ident, options=ip_options,
                    version=version), vlans)


def icmp4_frame(src, dst, ident, seq, reply=False, ttl=64, vlans=()):
    return eth(mac_of(dst), mac_of(src), ETH_P_IP,
               ipv4(src, dst, 1, icmp_echo(ident, seq, b"oko-ping" * 7,
                                           reply), ttl=ttl), vlans)


def arp_frame(op, src, dst):
    bcast = b"\xff" * 6
    if op == 1:
        return eth(bcast, mac_of(src), ETH_P_ARP,
                   arp(1, mac_of(src), src, b"\0" * 6, dst))
    return eth(mac_of(dst), mac_of(src), ETH_P_ARP,
               arp(2, mac_of(src), src, mac_of(dst), dst))


def udp6_frame(src, dst, sport, dport, payload, vlans=()):
    return eth(mac_of(dst), mac_of(src), ETH_P_IPV6,
               ipv6(src, dst, 17, udp(src, dst, sport, dport, payload)),
               vlans)


def tcp6_frame(src, dst, sport, dport, seq, ack, flags, win=64800,
               options=b""):
    return eth(mac_of(dst), mac_of(src), ETH_P_IPV6,
               ipv6(src, dst, 6, tcp(src, dst, sport, dport, seq, ack, flags,
                                     win, options)))


def icmp6_frame(src, dst, ident, seq, reply=False):
    return eth(mac_of(dst), mac_of(src), ETH_P_IPV6,
               ipv6(src, dst, 58, icmp6_echo(src, dst, ident, seq,
                                             b"oko-ping6" * 4, reply)))


# TCP options ---------------------------------------------------------------

def opt_mss(v):
    return struct.pack("!BBH", 2, 4, v)


def opt_ws(v):
    return struct.pack("!BBB", 3, 3, v)


OPT_SACKOK = b"\x04\x02"
OPT_NOP = b"\x01"
OPT_EOL = b"\x00"


def opt_ts(val, ecr=0):
    return struct.pack("!BBII", 8, 10, val, ecr)


def syn_opts_linux(tsval=1000, mss=1460):
    """Linux: MSS, SACK permitted, timestamps, NOP, window scale 7."""
    return opt_mss(mss) + OPT_SACKOK + opt_ts(tsval) + OPT_NOP + opt_ws(7)


def syn_opts_windows(mss=1460):
    """Windows 10/11: MSS, NOP, WS 8, NOP, NOP, SACK permitted."""
    return opt_mss(mss) + OPT_NOP + opt_ws(8) + OPT_NOP + OPT_NOP + OPT_SACKOK


def syn_opts_macos(tsval=7000, mss=1460):
    """macOS: MSS, NOP, WS 6, NOP, NOP, timestamps, SACK permitted, EOL."""
    return (opt_mss(mss) + OPT_NOP + opt_ws(6) + OPT_NOP + OPT_NOP
            + opt_ts(tsval) + OPT_SACKOK + OPT_EOL + OPT_EOL)


def dns_query(qid, name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + b"\0" \
        + struct.pack("!HH", 1, 1)


def dns_response(qid, name, addr):
    q = dns_query(qid, name)
    hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + ip4(addr)
    return hdr + q[12:] + answer


# ---------------------------------------------------------------------------
# Scenarios.  Packet numbers (1-based) below are what tests/examples.sh
# expects the filters to match; keep them in step.
# ---------------------------------------------------------------------------

def gen_stateless_firewall():
    """12 packets; the blacklist map is empty, so only the static rules
    (RFC 5737 destinations) block.  Matches: 2 3 6 7 10 12."""
    p = Pcap()
    a, b = "10.0.0.1", "10.0.0.2"
    p.add(tcp4_frame(a, b, 33000, 80, 1, 0, TCP_SYN,
                     options=syn_opts_linux()))                     # 1 no
    p.add(udp4_frame(a, "203.0.113.5", 33001, 53, b"x" * 20))       # 2 match
    p.add(icmp4_frame("10.0.0.3", "198.51.100.7", 7, 1))            # 3 match
    p.add(arp_frame(1, a, "203.0.113.5"))                           # 4 no
    p.add(udp6_frame("2001:db8::10", "2001:db8::1", 5000, 53,
                     b"v6" * 10))                                   # 5 no
    p.add(udp4_frame(a, "203.0.113.5", 33002, 53, b"y" * 20,
                     vlans=[(ETH_P_8021Q, 100)]))                   # 6 match
    p.add(tcp4_frame(a, "192.0.2.1", 33003, 443, 1, 0, TCP_SYN,
                     vlans=[(ETH_P_8021AD, 10), (ETH_P_8021Q, 20)]))  # 7 match
    p.add(tcp4_frame(a, "8.8.8.8", 33004, 443, 1, 0, TCP_SYN))      # 8 no
    # 9: a runt: Ethernet header and 6 bytes of an IPv4 header.
    p.add(udp4_frame(a, "203.0.113.5", 1, 2, b""), caplen=20)       # 9 no
    # 10: IPv4 with 4 bytes of options (router alert), IHL 6.
    p.add(udp4_frame(a, "203.0.113.9", 33005, 161, b"z" * 8,
                     ip_options=b"\x94\x04\x00\x00"))               # 10 match
    p.add(udp4_frame(a, "203.0.113.5", 33006, 53, b"w" * 8,
                     version=5))                                    # 11 no
    p.add(udp4_frame(a, "203.0.113.5", 33007, 53, b"v" * 20))       # 12 match
    return p


def gen_rate_limiter():
    """27 packets: source 10.1.0.1 sends a burst of 20 UDP packets, with a
    packet of 10.1.0.2 before every fourth one (5 in all), then an ARP and
    an IPv6 packet.  With burst 8 the 9th..20th packets of 10.1.0.1 match:
    packet numbers 12 13 14 15 17 18 19 20 22 23 24 25."""
    p = Pcap()
    a, b, dst = "10.1.0.1", "10.1.0.2", "10.1.0.100"
    for i in range(20):
        if i % 4 == 0:
            p.add(udp4_frame(b, dst, 40000 + i, 5001, b"b" * 64, ident=i),
                  gap_us=10)
        p.add(udp4_frame(a, dst, 40000, 5001, b"a" * 64, ident=i), gap_us=10)
    p.add(arp_frame(1, a, dst))
    p.add(udp6_frame("2001:db8::a", "2001:db8::b", 1000, 2000, b"q" * 16))
    return p


def gen_tcp_firewall():
    """20 packets.  Matches: 7 (mid-stream ACK, no SYN), 8 (SYN-ACK with no
    SYN), 14 (data before the handshake completed), 15 (stray RST), 19 (ACK
    after the connection was reset)."""
    p = Pcap()
    A, B, C, D, E, F = ("10.2.0.%d" % i for i in range(1, 7))
    cs, ss = 100000, 500000           # initial sequence numbers
    req = b"GET / HTTP/1.1\r\nHost: b\r\n\r\n" + b"x" * 73
    resp = b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * 481
    p.add(tcp4_frame(A, B, 40000, 80, cs, 0, TCP_SYN, 64240,
                     syn_opts_linux()))                             # 1
    p.add(tcp4_frame(B, A, 80, 40000, ss, cs + 1, TCP_SYN | TCP_ACK, 65160,
                     opt_mss(1460) + OPT_SACKOK + opt_ts(5, 1000)
                     + OPT_NOP + opt_ws(7)))                        # 2
    p.add(tcp4_frame(A, B, 40000, 80, cs + 1, ss + 1, TCP_ACK, 502))  # 3
    p.add(tcp4_frame(A, B, 40000, 80, cs + 1, ss + 1, TCP_PSH | TCP_ACK,
                     502, payload=req))                             # 4
    p.add(tcp4_frame(B, A, 80, 40000, ss + 1, cs + 1 + len(req),
                     TCP_PSH | TCP_ACK, 509, payload=resp))         # 5
    p.add(tcp4_frame(A, B, 40000, 80, cs + 1 + len(req),
                     ss + 1 + len(resp), TCP_ACK, 502))             # 6
    p.add(tcp4_frame(C, B, 5555, 80, 777, 888, TCP_PSH | TCP_ACK,
                     payload=b"sneaky"))                            # 7 match
    p.add(tcp4_frame(D, A, 80, 40001, 999, 1000,
                     TCP_SYN | TCP_ACK))                            # 8 match
    p.add(tcp4_frame(A, B, 40000, 80, cs + 1 + len(req),
                     ss + 1 + len(resp), TCP_FIN | TCP_ACK, 502))   # 9
    p.add(tcp4_frame(B, A, 80, 40000, ss + 1 + len(resp),
                     cs + 2 + len(req), TCP_FIN | TCP_ACK, 509))    # 10
    p.add(tcp4_frame(A, B, 40000, 80, cs + 2 + len(req),
                     ss + 2 + len(resp), TCP_ACK, 502))             # 11
    p.add(udp4_frame(A, B, 40000, 53, b"dns?" * 5))                 # 12
    p.add(tcp4_frame(E, B, 41000, 80, 4000, 0, TCP_SYN,
                     options=syn_opts_windows()))                   # 13
    p.add(tcp4_frame(E, B, 41000, 80, 4001, 1, TCP_PSH | TCP_ACK,
                     payload=b"too early"))                         # 14 match
    p.add(tcp4_frame(F, B, 1234, 80, 0, 0, TCP_RST))                # 15 match
    p.add(icmp4_frame(A, B, 1, 1))                                  # 16
    p.add(tcp4_frame(A, B, 40002, 22, 9000, 0, TCP_SYN,
                     options=syn_opts_linux()))                     # 17
    p.add(tcp4_frame(B, A, 22, 40002, 0, 9001,
                     TCP_RST | TCP_ACK, 0))                         # 18
    p.add(tcp4_frame(A, B, 40002, 22, 9001, 1, TCP_ACK))            # 19 match
    p.add(tcp4_frame(A, B, 40003, 80, 12000, 0, TCP_SYN,
                     options=syn_opts_linux(),
                     vlans=[(ETH_P_8021Q, 10)]))                    # 20
    return p


def gen_os_fingerprint():
    """12 packets.  SYN classes: 1 Linux, 2 Windows, 3 macOS, 4 unknown
    (nmap-like), 7 unknown (MSS option of length 0), 8 unknown (option runs
    past the header), 9 unknown (options cut by the capture), 10 Linux
    (VLAN).  Matches with the default mask (unknown): 4 7 8 9."""
    p = Pcap()
    srv = "10.3.0.9"
    p.add(tcp4_frame("10.3.0.1", srv, 50001, 80, 1, 0, TCP_SYN, 64240,
                     syn_opts_linux(), ttl=61))                     # 1
    p.add(tcp4_frame("10.3.0.2", srv, 50002, 80, 1, 0, TCP_SYN, 64240,
                     syn_opts_windows(), ttl=125))                  # 2
    p.add(tcp4_frame("10.3.0.3", srv, 50003, 80, 1, 0, TCP_SYN, 65535,
                     syn_opts_macos(), ttl=62))                     # 3
    p.add(tcp4_frame("10.3.0.4", srv, 61234, 80, 1, 0, TCP_SYN, 1024,
                     opt_mss(1460), ttl=47, df=False))              # 4 match
    p.add(tcp4_frame(srv, "10.3.0.1", 80, 50001, 7, 2, TCP_SYN | TCP_ACK,
                     65160, syn_opts_linux()))                      # 5
    p.add(tcp4_frame("10.3.0.1", srv, 50001, 80, 2, 8, TCP_ACK, 502,
                     payload=b"hello"))                             # 6
    p.add(tcp4_frame("10.3.0.5", srv, 50005, 80, 1, 0, TCP_SYN, 64240,
                     b"\x02\x00\x05\xb4", ttl=64))                  # 7 match
    p.add(tcp4_frame("10.3.0.6", srv, 50006, 80, 1, 0, TCP_SYN, 64240,
                     opt_mss(1460) + b"\x08\x0a\x00\x00", ttl=64))  # 8 match
    # 9: data offset 15 (40 bytes of options) but the capture stops after
    # 6 bytes of them.
    f = tcp4_frame("10.3.0.7", srv, 50007, 80, 1, 0, TCP_SYN, 64240,
                   syn_opts_linux() + b"\x01" * 20, ttl=64)
    p.add(f, caplen=14 + 20 + 20 + 6)                               # 9 match
    p.add(tcp4_frame("10.3.0.8", srv, 50008, 80, 1, 0, TCP_SYN, 29200,
                     syn_opts_linux(), ttl=63,
                     vlans=[(ETH_P_8021Q, 42)]))                    # 10
    p.add(udp4_frame("10.3.0.4", srv, 5353, 5353, b"mdns" * 4))     # 11
    p.add(tcp6_frame("2001:db8::4", "2001:db8::9", 50010, 80, 1, 0, TCP_SYN,
                     options=opt_mss(1440)))                        # 12
    return p


def gen_tcp_diag():
    """24 packets.  Connection 10.4.0.1:50000 -> 10.4.0.2:443 (packets
    1-15) has three retransmissions, at packets 7, 9 and 11; from the
    third on its packets match: 11 12 13 14 15.  Connection 10.4.0.3:50001
    -> 10.4.0.2:80 (packets 16-22) is clean, packet 23 is UDP, 24 ARP."""
    p = Pcap()
    A, B, C = "10.4.0.1", "10.4.0.2", "10.4.0.3"
    a, b = 1000, 5000
    d100 = b"d" * 100

    def ab(seq, ack, flags, payload=b"", win=502, opts=b""):
        p.add(tcp4_frame(A, B, 50000, 443, seq, ack, flags, win, opts,
                         payload))

    def ba(seq, ack, flags, payload=b"", win=509, opts=b""):
        p.add(tcp4_frame(B, A, 443, 50000, seq, ack, flags, win, opts,
                         payload))

    ab(a, 0, TCP_SYN, win=64240, opts=syn_opts_linux())             # 1
    ba(b, a + 1, TCP_SYN | TCP_ACK, win=65160,
       opts=opt_mss(1460) + OPT_SACKOK + opt_ts(9, 1000) + OPT_NOP
       + opt_ws(7))                                                 # 2
    ab(a + 1, b + 1, TCP_ACK)                                       # 3
    ab(a + 1, b + 1, TCP_PSH | TCP_ACK, d100)                       # 4
    ba(b + 1, a + 101, TCP_ACK)                                     # 5
    ab(a + 101, b + 1, TCP_PSH | TCP_ACK, d100)                     # 6
    ab(a + 101, b + 1, TCP_PSH | TCP_ACK, d100)                     # 7 rtx 1
    ba(b + 1, a + 201, TCP_PSH | TCP_ACK, b"r" * 200)               # 8
    ba(b + 1, a + 201, TCP_PSH | TCP_ACK, b"r" * 200)               # 9 rtx 2
    ab(a + 201, b + 201, TCP_PSH | TCP_ACK, b"e" * 50)              # 10
    ab(a + 201, b + 201, TCP_PSH | TCP_ACK, b"e" * 50)              # 11 rtx 3
    ba(b + 201, a + 251, TCP_ACK)                                   # 12
    ab(a + 251, b + 201, TCP_FIN | TCP_ACK)                         # 13
    ba(b + 201, a + 252, TCP_FIN | TCP_ACK)                         # 14
    ab(a + 252, b + 202, TCP_ACK)                                   # 15

    c, s = 70000, 90000
    p.add(tcp4_frame(C, B, 50001, 80, c, 0, TCP_SYN, 64240,
                     syn_opts_linux()))                             # 16
    p.add(tcp4_frame(B, C, 80, 50001, s, c + 1, TCP_SYN | TCP_ACK, 65160,
                     opt_mss(1460)))                                # 17
    p.add(tcp4_frame(C, B, 50001, 80, c + 1, s + 1, TCP_PSH | TCP_ACK, 502,
                     payload=b"q" * 10))                            # 18
    p.add(tcp4_frame(B, C, 80, 50001, s + 1, c + 11, TCP_PSH | TCP_ACK,
                     509, payload=b"R" * 20))                       # 19
    p.add(tcp4_frame(C, B, 50001, 80, c + 11, s + 21, TCP_FIN | TCP_ACK,
                     502))                                          # 20
    p.add(tcp4_frame(B, C, 80, 50001, s + 21, c + 12, TCP_FIN | TCP_ACK,
                     509))                                          # 21
    p.add(tcp4_frame(C, B, 50001, 80, c + 12, s + 22, TCP_ACK, 502))  # 22
    p.add(udp4_frame(A, B, 3000, 53, b"dnsq" * 8))                  # 23
    p.add(arp_frame(1, A, B))                                       # 24
    return p


def gen_bloom_blocklist():
    """39 packets.  A client (10.5.0.1) opens three connections (9 packets);
    then attackers 198.18.0.1 (15 SYNs) and 198.18.0.2 (12 SYNs) flood
    10.5.0.100:80, alternating, attacker 1 first; attacker 1 sends a UDP
    packet and attacker 2 an ICMP echo; the client opens a fourth
    connection (SYN).  Each attacker is blocked at its 10th SYN (packets 28
    and 29).  Matches: 28 to 38."""
    p = Pcap()
    cl, srv = "10.5.0.1", "10.5.0.100"
    x1, x2 = "198.18.0.1", "198.18.0.2"
    for i in range(3):
        sp = 45000 + i
        p.add(tcp4_frame(cl, srv, sp, 80, 100 * i, 0, TCP_SYN, 64240,
                         syn_opts_linux()))
        p.add(tcp4_frame(srv, cl, 80, sp, 7000 * i, 100 * i + 1,
                         TCP_SYN | TCP_ACK, 65160, opt_mss(1460)))
        p.add(tcp4_frame(cl, srv, sp, 80, 100 * i + 1, 7000 * i + 1, TCP_ACK,
                         502))
    rnd = random.Random(5)
    for i in range(15):
        p.add(tcp4_frame(x1, srv, rnd.randrange(1024, 65536), 80,
                         rnd.getrandbits(32), 0, TCP_SYN, 1024,
                         opt_mss(1460), ttl=50, df=False), gap_us=5)
        if i < 12:
            p.add(tcp4_frame(x2, srv, rnd.randrange(1024, 65536), 80,
                             rnd.getrandbits(32), 0, TCP_SYN, 1024,
                             opt_mss(1460), ttl=50, df=False), gap_us=5)
    p.add(udp4_frame(x1, srv, 9999, 53, b"flood" * 4))
    p.add(icmp4_frame(x2, srv, 99, 1))
    p.add(tcp4_frame(cl, srv, 45003, 80, 300, 0, TCP_SYN, 64240,
                     syn_opts_linux()))
    return p


def gen_heavy_hitter():
    """202 packets: 10.6.0.1 sends 150 UDP packets, three of every four
    packets; the other fourth comes from 10.6.1.1 .. 10.6.1.10 in turn
    (5 each); then two ARP packets.  The heavy hitter's 101st to 150th
    packets match (packet numbers 134 to 199 but for every fourth): 50."""
    p = Pcap()
    h, dst = "10.6.0.1", "10.6.0.200"
    for k in range(50):
        for j in range(3):
            p.add(udp4_frame(h, dst, 5004, 5004, b"V" * 200,
                             ident=3 * k + j), gap_us=20)
        o = "10.6.1.%d" % (k % 10 + 1)
        p.add(udp4_frame(o, dst, 6000 + k, 53, b"o" * 30), gap_us=20)
    p.add(arp_frame(1, h, dst))
    p.add(arp_frame(2, dst, h))
    return p


def gen_demo():
    """The mixed trace of the README demo: about 1000 packets over ~10 s of
    web connections, DNS, a SYN flood, a heavy UDP sender, a port scan,
    ping, ARP, IPv6 and VLAN-tagged traffic, in time order."""
    rnd = random.Random(20260101)
    p = Pcap()
    srv_web, srv_dns = "10.0.0.80", "10.0.0.53"

    def at(ms):
        return int(ms * 1000)

    # Web: 16 clients, each one HTTP connection (handshake, request, three
    # response segments, ACKs, FIN exchange).  OSes vary for os-fingerprint.
    oses = [(syn_opts_linux, 64, 64240), (syn_opts_windows, 128, 64240),
            (syn_opts_macos, 64, 65535)]
    for i in range(16):
        cl = "192.168.1.%d" % (10 + i)
        sp = 49152 + rnd.randrange(10000)
        t = rnd.uniform(0, 9000)
        opts, ttl, win = oses[i % 3]
        cseq, sseq = rnd.getrandbits(32), rnd.getrandbits(32)
        rtt = rnd.uniform(0.2, 3.0)
        req = b"GET /index.html HTTP/1.1\r\nHost: www\r\n\r\n"
        seq_c, seq_s = cseq + 1, sseq + 1
        pk = [
            (0, cl, srv_web, sp, 80, cseq, 0, TCP_SYN, win, opts(), b"", ttl),
            (rtt, srv_web, cl, 80, sp, sseq, seq_c, TCP_SYN | TCP_ACK, 65160,
             opt_mss(1460) + OPT_SACKOK + OPT_NOP + opt_ws(7), b"", 64),
            (2 * rtt, cl, srv_web, sp, 80, seq_c, seq_s, TCP_ACK, 502, b"",
             b"", ttl),
            (2 * rtt + 0.1, cl, srv_web, sp, 80, seq_c, seq_s,
             TCP_PSH | TCP_ACK, 502, b"", req, ttl),
        ]
        seq_c += len(req)
        tt = 3 * rtt + 0.2
        for _ in range(3):
            body = bytes(rnd.getrandbits(8) for _ in range(1200))
            pk.append((tt, srv_web, cl, 80, sp, seq_s, seq_c, TCP_ACK, 509,
                       b"", body, 64))
            seq_s += len(body)
            tt += 0.05
        pk.append((tt + rtt, cl, srv_web, sp, 80, seq_c, seq_s, TCP_ACK, 502,
                   b"", b"", ttl))
        pk.append((tt + rtt + 5, cl, srv_web, sp, 80, seq_c, seq_s,
                   TCP_FIN | TCP_ACK, 502, b"", b"", ttl))
        pk.append((tt + 2 * rtt + 5, srv_web, cl, 80, sp, seq_s, seq_c + 1,
                   TCP_FIN | TCP_ACK, 509, b"", b"", 64))
        pk.append((tt + 3 * rtt + 5, cl, srv_web, sp, 80, seq_c + 1,
                   seq_s + 1, TCP_ACK, 502, b"", b"", ttl))
        for (dt, s, d, spt, dpt, seq, ack, fl, w, o, pl, tl) in pk:
            p.add_at(at(t + dt), tcp4_frame(s, d, spt, dpt, seq, ack, fl, w,
                                            o, pl, ttl=tl))

    # DNS: 60 queries and their answers.
    names = ["www.example.com", "mail.example.org", "ntp.example.net",
             "cdn.example.com", "api.example.com"]
    for i in range(60):
        cl = "192.168.1.%d" % (10 + rnd.randrange(16))
        t = rnd.uniform(0, 9900)
        qid, sp, name = rnd.getrandbits(16), rnd.randrange(1024, 65536), \
            rnd.choice(names)
        p.add_at(at(t), udp4_frame(cl, srv_dns, sp, 53, dns_query(qid, name)))
        p.add_at(at(t + rnd.uniform(0.3, 2)),
                 udp4_frame(srv_dns, cl, 53, sp,
                            dns_response(qid, name, "10.0.1.%d"
                                         % rnd.randrange(1, 250))))

    # SYN flood: three sources, 100 SYNs each, spread over 3..5 s.
    for n in range(3):
        src = "198.18.0.%d" % (n + 1)
        for i in range(100):
            p.add_at(at(3000 + rnd.uniform(0, 2000)),
                     tcp4_frame(src, srv_web, rnd.randrange(1024, 65536), 80,
                                rnd.getrandbits(32), 0, TCP_SYN, 1024,
                                opt_mss(1460), ttl=rnd.randrange(40, 60),
                                df=False))

    # Heavy hitter: 240 RTP-like UDP packets from one host.
    for i in range(240):
        p.add_at(at(1000 + i * 30), udp4_frame("192.168.1.200", "10.0.0.99",
                                              5004, 5004,
                                              struct.pack("!HHI", 0x8060, i,
                                                          i * 160)
                                              + b"\x55" * 160, ident=i))

    # Port scan: 30 ports from 203.0.113.66, answered by RST or SYN-ACK.
    for i in range(30):
        t = 6000 + i * 10
        port = [21, 22, 23, 25, 53, 80, 110, 143, 443, 3306][i % 10] + i // 10
        seq = rnd.getrandbits(32)
        p.add_at(at(t), tcp4_frame("203.0.113.66", srv_web, 61000, port, seq,
                                   0, TCP_SYN, 1024, opt_mss(1460), ttl=45,
                                   df=False))
        if port == 80:
            p.add_at(at(t + 0.5), tcp4_frame(srv_web, "203.0.113.66", port,
                                             61000, 1, seq + 1,
                                             TCP_SYN | TCP_ACK, 65160,
                                             opt_mss(1460)))
        else:
            p.add_at(at(t + 0.5), tcp4_frame(srv_web, "203.0.113.66", port,
                                             61000, 0, seq + 1,
                                             TCP_RST | TCP_ACK, 0))

    # ACK scan (nmap -sA) from the same scanner: ACKs that belong to no
    # connection, answered by RSTs.
    for i in range(10):
        t = 6500 + i * 10
        port = 1000 + i * 111
        p.add_at(at(t), tcp4_frame("203.0.113.66", srv_web, 61001, port,
                                   0, rnd.getrandbits(32), TCP_ACK, 1024,
                                   ttl=45, df=False))
        p.add_at(at(t + 0.5), tcp4_frame(srv_web, "203.0.113.66", port,
                                         61001, 0, 0, TCP_RST, 0))

    # A lossy download: the server's second segment is lost and
    # retransmitted three times (RTO 200, 400, 800 ms) before it is ACKed.
    cl, sp = "192.168.1.30", 51515
    c0, s0 = 0x10000000, 0x20000000
    seg = bytes(rnd.getrandbits(8) for _ in range(1200))
    lossy = [
        (7000, cl, srv_web, sp, 80, c0, 0, TCP_SYN, 64240,
         syn_opts_linux(), b""),
        (7001, srv_web, cl, 80, sp, s0, c0 + 1, TCP_SYN | TCP_ACK, 65160,
         opt_mss(1460), b""),
        (7002, cl, srv_web, sp, 80, c0 + 1, s0 + 1, TCP_PSH | TCP_ACK, 502,
         b"", b"GET /big HTTP/1.1\r\n\r\n"),
    ]
    c1 = c0 + 1 + 21
    lossy.append((7003, srv_web, cl, 80, sp, s0 + 1, c1, TCP_ACK, 509, b"",
                  seg))
    lossy.append((7004, cl, srv_web, sp, 80, c1, s0 + 1201, TCP_ACK, 502,
                  b"", b""))
    for t in (7005, 7205, 7605, 8405):
        # The first copy (7005) is the original, the others retransmissions.
        lossy.append((t, srv_web, cl, 80, sp, s0 + 1201, c1, TCP_ACK, 509,
                      b"", seg))
    lossy.append((8406, cl, srv_web, sp, 80, c1, s0 + 2401, TCP_ACK, 502,
                  b"", b""))
    lossy.append((8500, cl, srv_web, sp, 80, c1, s0 + 2401,
                  TCP_FIN | TCP_ACK, 502, b"", b""))
    lossy.append((8501, srv_web, cl, 80, sp, s0 + 2401, c1 + 1,
                  TCP_FIN | TCP_ACK, 509, b"", b""))
    lossy.append((8502, cl, srv_web, sp, 80, c1 + 1, s0 + 2402, TCP_ACK, 502,
                  b"", b""))
    for (t, s, d, spt, dpt, seq, ack, fl, w, o, pl) in lossy:
        p.add_at(at(t), tcp4_frame(s, d, spt, dpt, seq, ack, fl, w, o, pl))

    # Ping: 10 echo requests and replies.
    for i in range(10):
        t = 500 + i * 1000
        p.add_at(at(t), icmp4_frame("192.168.1.10", "10.0.0.1", 0x1234, i))
        p.add_at(at(t + 0.4), icmp4_frame("10.0.0.1", "192.168.1.10", 0x1234,
                                          i, reply=True))

    # ARP: 12 request/reply pairs.
    for i in range(12):
        t = rnd.uniform(0, 9900)
        a, b = "192.168.1.%d" % (10 + i), "192.168.1.1"
        p.add_at(at(t), arp_frame(1, a, b))
        p.add_at(at(t + 0.1), arp_frame(2, b, a))

    # IPv6: 20 ping6 pairs.
    for i in range(20):
        t = rnd.uniform(0, 9900)
        a, b = "2001:db8:1::%x" % (0x10 + i % 4), "2001:db8::1"
        p.add_at(at(t), icmp6_frame(a, b, 0x77, i))
        p.add_at(at(t + 0.3), icmp6_frame(b, a, 0x77, i, reply=True))

    # VLAN 100: one TCP connection with 20 data segments, and 10 UDP
    # packets on VLAN 200.
    v = [(ETH_P_8021Q, 100)]
    cl, sv = "172.16.100.5", "172.16.100.1"
    c0, s0 = rnd.getrandbits(32), rnd.getrandbits(32)
    p.add_at(at(2000), tcp4_frame(cl, sv, 40100, 8080, c0, 0, TCP_SYN, 64240,
                                  syn_opts_linux(), vlans=v))
    p.add_at(at(2000.5), tcp4_frame(sv, cl, 8080, 40100, s0, c0 + 1,
                                    TCP_SYN | TCP_ACK, 65160, opt_mss(1460),
                                    vlans=v))
    p.add_at(at(2001), tcp4_frame(cl, sv, 40100, 8080, c0 + 1, s0 + 1,
                                  TCP_ACK, 502, vlans=v))
    for i in range(20):
        p.add_at(at(2010 + i * 5),
                 tcp4_frame(cl, sv, 40100, 8080, c0 + 1 + 500 * i, s0 + 1,
                            TCP_PSH | TCP_ACK, 502, payload=b"m" * 500,
                            vlans=v))
        if i % 2:
            p.add_at(at(2012 + i * 5),
                     tcp4_frame(sv, cl, 8080, 40100, s0 + 1,
                                c0 + 1 + 500 * (i + 1), TCP_ACK, 509,
                                vlans=v))
    for i in range(10):
        p.add_at(at(rnd.uniform(0, 9900)),
                 udp4_frame("172.16.200.7", "172.16.200.1", 514, 514,
                            b"<13>oko demo syslog line %d" % i,
                            vlans=[(ETH_P_8021Q, 200)]))
    return p


SCENARIOS = [
    ("stateless-firewall.pcap", gen_stateless_firewall),
    ("rate-limiter.pcap", gen_rate_limiter),
    ("tcp-firewall.pcap", gen_tcp_firewall),
    ("os-fingerprint.pcap", gen_os_fingerprint),
    ("tcp-diag.pcap", gen_tcp_diag),
    ("bloom-blocklist.pcap", gen_bloom_blocklist),
    ("heavy-hitter.pcap", gen_heavy_hitter),
    ("demo.pcap", gen_demo),
]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s DIR\n" % argv[0])
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, gen in SCENARIOS:
        path = os.path.join(outdir, name)
        tmp = path + ".tmp"
        n = gen().write(tmp)
        os.replace(tmp, path)
        sys.stdout.write("%s: %d packets\n" % (path, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
