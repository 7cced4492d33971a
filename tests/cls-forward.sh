#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/cls-forward.sh -- oko-classifier forwarding: demo.pcap enters port
# 1 (net_pcap0) of a supervised oko-primary; a flow file sends TCP port 80
# and UDP to port 3, other TCP to port 2, ARP to both, other IPv4 to drop
# and the rest (IPv6, ...) to port 2.  tests/cls-ref.py computes the
# expected split with its own parser; each output pcap must equal it frame
# by frame, the per-flow and per-port counters must match, and no mbuf may
# be left in use.  Own --file-prefix, processes stopped by pid, hugepage
# files removed.
. "$(dirname "$0")/cls-lib.sh"

cat >"$T/flows" <<'EOF'
# tests/cls-forward.sh
priority=30,in_port=1,tcp,tp_dst=80,actions=output:3
priority=20,in_port=1,tcp,actions=output:2
priority=20,in_port=1,udp,actions=output:3
priority=15,in_port=1,arp,actions=output:2,output:3
priority=10,in_port=1,ip,actions=drop
priority=5,in_port=1,actions=output:2
EOF
python3 "$REF" route "$T/flows" "$PCAPS/demo.pcap" "$T" >"$T/want"
N=$(python3 "$REF" count "$PCAPS/demo.pcap")
W2=$(awk '$1 == "port" && $2 == 2 { print $3 }' "$T/want")
W3=$(awk '$1 == "port" && $2 == 3 { print $3 }' "$T/want")
WD=$(awk '$1 == "drop" { print $2 }' "$T/want")
expect_match "reference split" "^[0-9]+ [0-9]+ [0-9]+ [0-9]+$" "$N $W2 $W3 $WD"

start_primary \
    --vdev="net_pcap0,rx_pcap=$PCAPS/demo.pcap" \
    --vdev="net_pcap1,tx_pcap=$T/out2.pcap" \
    --vdev="net_pcap2,tx_pcap=$T/out3.pcap" \
    --classifier-arg=--flows="$T/flows"

if wait_until 30 '[ "$(field "^classifier 0 pid" ready)" = 1 ]'; then
    ok "classifier ready"
else
    fail "classifier not ready after 30 s"
fi
remember_pids
if wait_until 30 '[ "$(field "^port 1 " tx)" = "$W2" ] && [ "$(field "^port 2 " tx)" = "$W3" ]'; then
    ok "ports 2 and 3 sent $W2 and $W3 packets"
else
    fail "ports 2 and 3 did not send $W2 and $W3 packets"
fi
sleep 0.3
S=$(show)
expect_eq "port 1 rx" "$N" "$(field "^port 0 " rx)"
expect_eq "nothing dropped by the primary" "0 0 0" \
    "$(field "^port 0 " rx-dropped) $(field "^port 1 " tx-dropped) $(field "^port 2 " tx-dropped)"
expect_eq "classifier rx" "$N" "$(field "^classifier 0 pid" rx)"
expect_eq "classifier tx" "$((W2 + W3))" "$(field "^classifier 0 pid" tx)"
expect_eq "classifier dropped" "$WD" "$(field "^classifier 0 pid" dropped)"
expect_eq "classifier port 0 rx/dropped" "$N $WD" \
    "$(field "^classifier 0 port 0 " rx) $(field "^classifier 0 port 0 " dropped)"
expect_eq "classifier port 1/2 tx" "$W2 $W3" \
    "$(field "^classifier 0 port 1 " tx) $(field "^classifier 0 port 2 " tx)"
expect_eq "drop reasons" "$WD 0 0" \
    "$(field "^classifier 0 generation" drop-action) $(field "^classifier 0 generation" table-miss) $(field "^classifier 0 generation" tx-full)"
expect_eq "flow counters" "$(awk '$1 == "flow" { printf "%s %s\n", $2, $3 }' "$T/want")" \
    "$(printf '%s\n' "$S" | awk '$1 == "flow" { printf "%s %s\n", $2, $4 }')"
expect_eq "every packet classified by cache or lookup" "$N" \
    "$(( $(field "^classifier 0 pid" emc-hits) + $(field "^classifier 0 pid" lookups) ))"
expect_eq "no mbuf left in use" "0" "$(field "^mbufs pool" in-use)"

stop_primary
expect_eq "port 2 output = reference" "same" \
    "$(python3 "$REF" compare "$T/port-2.pcap" "$T/out2.pcap")"
expect_eq "port 3 output = reference" "same" \
    "$(python3 "$REF" compare "$T/port-3.pcap" "$T/out3.pcap")"
expect_match "classifier stopped cleanly" "classifier 0 \(pid [0-9]+\) stopped: exited with status 0" \
    "$(cat "$T/primary.log")"
dump_logs
finish
