#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/cls-restart.sh -- kill -9 an oko-filter while traffic flows.
# demo.pcap is replayed forever into port 1 (infinite_rx); IPv4 goes
# through filter 1 (stateless-firewall: match = drop, else port 3), the
# rest straight to port 2 (pcap devices writing to /dev/null).  After SIGKILL of the
# filter: the flows without filters keep forwarding, the classifier
# applies the program's fail policy (fail-open: IPv4 goes on to port 3)
# while it is down, the supervisor restarts it, it takes packets again
# with its maps intact.  The test reports how many filtered packets were
# lost: the burst the dead instance held (its `holding` count, which the
# supervisor adds to the program's `lost` counter when it reaps it).
# Then the same with the classifier: killed, restarted, it publishes a new
# flow-table generation and traffic flows again through the filter.
. "$(dirname "$0")/cls-lib.sh"

P1="$EXAMPLES/stateless-firewall.o"
if [ ! -e "$P1" ]; then
    echo "SKIP: $P1 not built"
    exit 77
fi
cat >"$T/flows" <<'EOF'
# tests/cls-restart.sh
priority=20,in_port=1,ip,filter_prog=1,actions=drop
priority=10,in_port=1,ip,actions=output:3
priority=1,in_port=1,actions=output:2
EOF

start_primary \
    --vdev="net_pcap0,rx_pcap=$PCAPS/demo.pcap,infinite_rx=1" \
    --vdev=net_pcap1,tx_pcap=/dev/null --vdev=net_pcap2,tx_pcap=/dev/null \
    --prog="1:$P1:fail-open" \
    --classifier-arg=--flows="$T/flows"

get() { printf '%s\n' "$S" | awk -v k="$1" '/instance 0/ { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
if wait_until 30 '[ "$(field "^classifier 0 pid" ready)" = 1 ] && [ "$(field "^program 1 " state)" = running ] && [ "$(field "^port 2 " tx)" -gt 10000 ]'; then
    ok "traffic flows through the filter"
else
    fail "no traffic after 30 s"
fi
remember_pids
PID1=$(get pid)
HITS=$(printf '%s\n' "$S" | awk '/map 1 hits/ { for (i = 1; i < NF; i++) if ($i == "count") print $(i + 1) }')
expect_match "filter map filled" "^[1-9][0-9]*$" "$HITS"

kill -9 "$PID1"
S=$(show)
A2=$(field "^port 1 " tx)
sleep 0.5
S=$(show)
B2=$(field "^port 1 " tx)
if [ "$B2" -gt "$A2" ]; then
    ok "port 2 kept forwarding while the filter was dead ($A2 -> $B2)"
else
    fail "port 2 stopped while the filter was dead ($A2 -> $B2)"
fi
if wait_until 20 '[ "$(field "^program 1 " restarts)" -ge 1 ] && [ "$(field "^program 1 " state)" = running ] && [ "$(get pid)" != "$PID1" ]'; then
    ok "supervisor restarted the filter (pid $PID1 -> $(get pid))"
else
    fail "filter not restarted after 20 s"
fi
remember_pids
FO=$(field "^classifier 0 generation" fail-open)
if [ "$FO" -gt 0 ]; then
    ok "fail-open applied while it was down ($FO packets)"
else
    fail "fail policy never applied"
fi
P_A=$(get pkts)
A3=$(field "^port 2 " tx)
sleep 1
S=$(show)
P_B=$(get pkts)
B3=$(field "^port 2 " tx)
if [ "$P_B" -gt "$P_A" ] && [ "$B3" -gt "$A3" ]; then
    ok "the new instance filters again ($P_A -> $P_B packets, port 3 $A3 -> $B3)"
else
    fail "no traffic through the new instance ($P_A -> $P_B, port 3 $A3 -> $B3)"
fi
expect_eq "maps kept their content" "$HITS" \
    "$(printf '%s\n' "$S" | awk '/map 1 hits/ { for (i = 1; i < NF; i++) if ($i == "count") print $(i + 1) }')"
LOST=$(field "^program 1 " lost)
echo "report: filtered packets lost with the killed instance: $LOST (the burst it held; $FO packets got the fail-open policy meanwhile)"
if [ "$LOST" -le 64 ]; then
    ok "losses bounded by one burst of the dead instance ($LOST)"
else
    fail "lost $LOST packets"
fi
expect_match "supervisor logged the loss" "filter 1 \(pid $PID1\) killed by signal 9" "$(cat "$T/primary.log")"

# The classifier itself: killed, restarted, it publishes a new flow-table
# generation; verdicts of the old one that come back are dropped (stale).
CPID=$(field "^classifier 0 pid" pid)
GEN=$(field "^classifier 0 generation" generation)
kill -9 "$CPID"
if wait_until 20 '[ "$(field "^classifier 0 pid" ready)" = 1 ] && [ "$(field "^classifier 0 pid" pid)" != "$CPID" ] && [ "$(field "^classifier 0 pid" rx)" -gt 1000 ]'; then
    ok "supervisor restarted the classifier (pid $CPID -> $(field "^classifier 0 pid" pid))"
else
    fail "classifier not restarted after 20 s"
fi
remember_pids
expect_eq "new flow-table generation" "$((GEN + 1))" "$(field "^classifier 0 generation" generation)"
P_A=$(get pkts)
A3=$(field "^port 2 " tx)
A2=$(field "^port 1 " tx)
sleep 1
S=$(show)
if [ "$(get pkts)" -gt "$P_A" ] && [ "$(field "^port 2 " tx)" -gt "$A3" ] && [ "$(field "^port 1 " tx)" -gt "$A2" ]; then
    ok "traffic flows again, through the filter too"
else
    fail "no traffic after the classifier restart"
fi
expect_eq "no broken chain in the filter" "0" "$(get chain-broken)"
echo "report: after the classifier restart: $(field "^classifier 0 generation" stale) stale verdicts dropped, $(field "^port 0 " rx-dropped) packets dropped by the primary while no classifier ran"

stop_primary
dump_logs
finish
