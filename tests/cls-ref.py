#!/usr/bin/env python3
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/cls-ref.py -- the reference the oko-classifier tests compare
# against, written independently of common/ (python3 stdlib only):
#
#   cls-ref.py route FLOWS IN.pcap OUTDIR [VERDICTS...]
#       parses every frame of IN.pcap, finds its chain in FLOWS (priority
#       descending, file order among equals; conditional flows before the
#       first matching unconditional one) and decides it: VERDICTS are
#       "ID=FILE" lists of `oko-bpf run -p` lines for program ID over the
#       packets it sees, in order -- when a packet's chain reaches a
#       program without verdicts, route writes OUTDIR/seen-ID.pcap (what
#       that program sees), prints "need ID" and stops, so that the caller
#       runs the program and calls again with its verdicts (programs are
#       resolved in chain order).  Writes
#       OUTDIR/port-N.pcap for every output port, prints "port N COUNT",
#       "flow I COUNT" and "drop COUNT".
#   cls-ref.py compare-ip WANT.pcap GOT.pcap
#       the same, but the IPv4 frames and the others are compared as two
#       separate sequences: packets that went through filters may overtake
#       or be overtaken by those that did not, order holds within each.
#   cls-ref.py count IN.pcap
#       prints the number of frames.
#   cls-ref.py compare WANT.pcap GOT.pcap
#       prints "same" or how they differ (frame bytes only).
#
# Flow subset: priority, in_port, ip, tcp, udp, arp, ipv6, icmp, tp_dst,
# tp_src, nw_proto, filter_prog; actions output:N (several), drop.
import os, struct, sys

def read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    end = '<' if struct.unpack('<I', data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, recs = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + 'IIII', data[off:off + 16])[2]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return data[:24], recs

def write_pcap(path, hdr, recs):
    with open(path, 'wb') as f:
        f.write(hdr + b''.join(recs))

def parse(frame, in_port):
    """The fields the flow subset matches on."""
    k = {'in_port': in_port, 'eth_type': None, 'proto': None,
         'tp_src': None, 'tp_dst': None}
    if len(frame) < 14:
        return k
    off, et = 14, struct.unpack('>H', frame[12:14])[0]
    while et in (0x8100, 0x88a8, 0x9100) and len(frame) >= off + 4:
        et = struct.unpack('>H', frame[off + 2:off + 4])[0]
        off += 4
    k['eth_type'] = et
    if et == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 15) * 4
        k['proto'] = frame[off + 9]
        frag = struct.unpack('>H', frame[off + 6:off + 8])[0] & 0x1fff
        l4 = off + ihl
        if frag == 0 and k['proto'] in (6, 17, 132) and len(frame) >= l4 + 4:
            k['tp_src'], k['tp_dst'] = struct.unpack('>HH', frame[l4:l4 + 4])
    elif et == 0x86dd and len(frame) >= off + 40:
        nh, l4 = frame[off + 6], off + 40
        while nh in (0, 43, 60) and len(frame) >= l4 + 8:
            nh, l4 = frame[l4], l4 + (frame[l4 + 1] + 1) * 8
        k['proto'] = nh
        if nh in (6, 17, 132) and len(frame) >= l4 + 4:
            k['tp_src'], k['tp_dst'] = struct.unpack('>HH', frame[l4:l4 + 4])
    return k

SHORT = {'ip': (0x0800, None), 'tcp': (0x0800, 6), 'udp': (0x0800, 17),
         'icmp': (0x0800, 1), 'arp': (0x0806, None), 'ipv6': (0x86dd, None),
         'tcp6': (0x86dd, 6), 'udp6': (0x86dd, 17)}

def load_flows(path):
    flows = []
    for line in open(path):
        line = line.split('#')[0].strip()
        if not line:
            continue
        match, acts = line.split('actions=')
        f = {'priority': 32768, 'prog': 0, 'm': {}, 'out': [], 'text': line}
        for tok in filter(None, match.replace(' ', ',').split(',')):
            if tok in SHORT:
                et, pr = SHORT[tok]
                f['m']['eth_type'] = et
                if pr is not None:
                    f['m']['proto'] = pr
            else:
                name, val = tok.split('=')
                val = int(val, 0)
                if name == 'priority':
                    f['priority'] = val
                elif name == 'filter_prog':
                    f['prog'] = val
                elif name == 'nw_proto':
                    f['m']['proto'] = val
                else:
                    f['m'][name] = val
        for a in acts.split(','):
            a = a.strip()
            if a.startswith('output:'):
                f['out'].append(int(a[7:]))
        flows.append(f)
    # Stable: file order among equal priorities.
    return sorted(flows, key=lambda f: -f['priority'])

def chain(flows, k):
    cond = []
    for f in flows:
        if all(k.get(n) == v for n, v in f['m'].items()):
            if f['prog']:
                cond.append(f)
            else:
                return cond, f
    return cond, None

def route(args):
    flows = load_flows(args[0])
    hdr, recs = read_pcap(args[1])
    outdir = args[2]
    verdicts = {}
    for a in args[3:]:
        pid, path = a.split('=')
        verdicts[int(pid)] = [l.split()[-1] == 'match' for l in open(path)
                              if l.startswith('pkt ')]
    seen = {}        # program -> records it sees, in order
    used = {}        # program -> verdicts consumed
    ports, counts, drops = {}, [0] * len(flows), 0
    for r in recs:
        k = parse(r[16:], 1)
        cond, final = chain(flows, k)
        decided, tried, blocked = None, set(), False
        for f in cond:
            p = f['prog']
            if p in tried:            # a program decides once per packet
                continue
            tried.add(p)
            seen.setdefault(p, []).append(r)
            if p not in verdicts:     # the caller must run p first
                blocked = True
                break
            i = used.get(p, 0)
            used[p] = i + 1
            if verdicts[p][i]:
                decided = f
                break
        if blocked:
            continue
        if decided is None:
            decided = final
        if decided is None:
            drops += 1
            continue
        counts[flows.index(decided)] += 1
        if not decided['out']:
            drops += 1
        for o in decided['out']:
            ports.setdefault(o, []).append(r)
    missing = [p for p in seen if p not in verdicts]
    if missing:
        for p in missing:
            write_pcap(os.path.join(outdir, 'seen-%d.pcap' % p), hdr, seen[p])
        print('need %s' % ' '.join(map(str, sorted(missing))))
        return
    for o in sorted(ports):
        write_pcap(os.path.join(outdir, 'port-%d.pcap' % o), hdr, ports[o])
        print('port %d %d' % (o, len(ports[o])))
    for i, f in enumerate(flows):
        print('flow %d %d %s' % (i, counts[i], f['text']))
    print('drop %d' % drops)

def compare(want_path, got_path, keep=lambda frame: True):
    want = [r[16:] for r in read_pcap(want_path)[1]] if os.path.exists(want_path) else []
    got = [r[16:] for r in read_pcap(got_path)[1]]
    want = [f for f in want if keep(f)]
    got = [f for f in got if keep(f)]
    if want == got:
        print('same')
        return
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            print('differ at frame %d (want %d frames, got %d)' % (i + 1, len(want), len(got)))
            return
    print('differ: want %d frames, got %d' % (len(want), len(got)))

if __name__ == '__main__':
    if sys.argv[1] == 'route':
        route(sys.argv[2:])
    elif sys.argv[1] == 'compare-ip':
        is_ip = lambda f: parse(f, 1)['eth_type'] == 0x0800
        compare(sys.argv[2], sys.argv[3], is_ip)
        compare(sys.argv[2], sys.argv[3], lambda f: not is_ip(f))
    elif sys.argv[1] == 'count':
        print(len(read_pcap(sys.argv[2])[1]))
    else:
        compare(sys.argv[2], sys.argv[3])
