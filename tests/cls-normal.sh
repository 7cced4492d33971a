#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/cls-normal.sh -- oko-classifier's port actions: in_port (UDP goes
# back out of port 1), flood (ARP to ports 2 and 3) and normal (an L2
# learning switch: sources learnt on port 1, unknown and broadcast
# destinations flooded, destinations known on the input port dropped).
# The input pcap is generated here; an independent model of the learning
# switch predicts each port's output, compared frame by frame, and the
# learning counters.
. "$(dirname "$0")/cls-lib.sh"

cat >"$T/flows" <<'EOF'
# tests/cls-normal.sh
priority=20,in_port=1,udp,actions=in_port
priority=10,in_port=1,arp,actions=flood
priority=1,in_port=1,actions=normal
EOF
# gen.py IN OUTDIR: writes IN (frames) and OUTDIR/want-N.pcap, prints
# "learned L flooded F".
cat >"$T/gen.py" <<'EOF'
import struct, sys
def mac(i): return bytes([2, 0, 0, 0, 0, i])
BCAST = b'\xff' * 6
def frame(dst, src, kind, n):
    if kind == 'arp':
        return dst + src + b'\x08\x06' + bytes(28)
    proto = 17 if kind == 'udp' else 6
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40, n, 0, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return dst + src + b'\x08\x00' + ip + struct.pack('>HH', 1000 + n, 80) + bytes(16)
# (dst, src, kind): a conversation between 1 and 2, broadcasts, strangers.
seq = [(mac(2), mac(1), 'tcp'), (mac(1), mac(2), 'tcp'), (mac(2), mac(1), 'tcp'),
       (BCAST, mac(3), 'tcp'), (mac(3), mac(4), 'tcp'), (mac(9), mac(5), 'udp'),
       (BCAST, mac(6), 'arp'), (mac(6), mac(7), 'tcp'), (mac(8), mac(1), 'tcp'),
       (b'\x01\x00\x5e\x00\x00\x01', mac(2), 'tcp'), (mac(5), mac(8), 'tcp')] * 3
frames = [frame(d, s, k, i) for i, (d, s, k) in enumerate(seq)]
hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
rec = lambda f: struct.pack('<IIII', 0, 0, len(f), len(f)) + f
out, known, learned, flooded = {1: [], 2: [], 3: []}, set(), 0, 0
for (d, s, k), f in zip(seq, frames):
    if k == 'udp':
        out[1].append(f); continue
    if k == 'arp':
        out[2].append(f); out[3].append(f); continue
    if not s[0] & 1 and s not in known:
        known.add(s); learned += 1
    if d[0] & 1 or d not in known:
        flooded += 1; out[2].append(f); out[3].append(f)
    # a known destination lives on port 1, the input port: dropped
open(sys.argv[1], 'wb').write(hdr + b''.join(map(rec, frames)))
for p in out:
    open('%s/want-%d.pcap' % (sys.argv[2], p), 'wb').write(hdr + b''.join(map(rec, out[p])))
print('frames %d learned %d flooded %d out %d %d %d' % (len(frames), learned, flooded,
      len(out[1]), len(out[2]), len(out[3])))
EOF
W=$(python3 "$T/gen.py" "$T/in.pcap" "$T")
set -- $W
N=$2 L=$4 F=$6 W1=$8 W2=$9 W3=${10}
expect_match "model" "^frames [0-9]+ learned [0-9]+ flooded [0-9]+ out [0-9]+ [0-9]+ [0-9]+$" "$W"

start_primary \
    --vdev="net_pcap0,rx_pcap=$T/in.pcap,tx_pcap=$T/out1.pcap" \
    --vdev="net_pcap1,tx_pcap=$T/out2.pcap" \
    --vdev="net_pcap2,tx_pcap=$T/out3.pcap" \
    --classifier-arg=--flows="$T/flows"
if wait_until 30 '[ "$(field "^classifier 0 pid" rx)" = "$N" ] && [ "$(field "^port 0 " tx)" = "$W1" ] && [ "$(field "^port 1 " tx)" = "$W2" ] && [ "$(field "^port 2 " tx)" = "$W3" ]'; then
    ok "ports 1, 2, 3 sent $W1, $W2, $W3 packets"
else
    fail "ports 1, 2, 3 did not send $W1, $W2, $W3 packets"
fi
remember_pids
expect_eq "MAC addresses learnt, frames flooded" "$L $F" \
    "$(field "^classifier 0 generation" mac-learned) $(field "^classifier 0 generation" flooded)"
expect_eq "no mbuf left in use" "0" "$(field "^mbufs pool" in-use)"
stop_primary
for p in 1 2 3; do
    expect_eq "port $p output = model" "same" \
        "$(python3 "$REF" compare "$T/want-$p.pcap" "$T/out$p.pcap")"
done
dump_logs
finish
