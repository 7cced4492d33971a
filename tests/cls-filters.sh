#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/cls-filters.sh -- a filter chain driven by oko-classifier: two
# conditional flows on the same match and a fallback,
#
#   priority=20,ip,filter_prog=1,actions=drop        (stateless-firewall)
#   priority=15,ip,filter_prog=2,actions=output:3    (heavy-hitter)
#   priority=1,actions=output:2
#
# so an IPv4 packet goes to filter 1, which hands what it does not match
# straight to filter 2; the verdict comes back to the classifier, which
# drops (filter 1 matched), sends to port 3 (filter 2 matched) or to port
# 2 (neither).  tests/cls-ref.py and `oko-bpf run -p` predict every
# packet's port (program 2 sees only what program 1 did not match, in
# order); the outputs must equal the prediction frame by frame, and the
# filter counters and hash-map entry counts must be what running the
# programs by hand gives.
. "$(dirname "$0")/cls-lib.sh"

P1="$EXAMPLES/stateless-firewall.o"
P2="$EXAMPLES/heavy-hitter.o"
for f in "$OKO_BPF" "$P1" "$P2"; do
    if [ ! -e "$f" ]; then
        echo "SKIP: $f not built"
        exit 77
    fi
done
cat >"$T/flows" <<'EOF'
# tests/cls-filters.sh
priority=20,ip,filter_prog=1,actions=drop
priority=15,ip,filter_prog=2,actions=output:3
priority=1,actions=output:2
EOF
IN="$PCAPS/demo.pcap"
N=$(python3 "$REF" count "$IN")
python3 "$REF" route "$T/flows" "$IN" "$T" >"$T/r0"
expect_eq "reference: program 1 first" "need 1" "$(cat "$T/r0")"
"$OKO_BPF" run "$P1" --pcap "$T/seen-1.pcap" -p >"$T/v1"
python3 "$REF" route "$T/flows" "$IN" "$T" "1=$T/v1" >"$T/r1"
expect_eq "reference: then program 2" "need 2" "$(cat "$T/r1")"
"$OKO_BPF" run "$P2" --pcap "$T/seen-2.pcap" -p >"$T/v2"
python3 "$REF" route "$T/flows" "$IN" "$T" "1=$T/v1" "2=$T/v2" >"$T/want"
S1=$(python3 "$REF" count "$T/seen-1.pcap")
S2=$(python3 "$REF" count "$T/seen-2.pcap")
M1=$(awk '/^packets / { print $4 }' "$T/v1")
M2=$(awk '/^packets / { print $4 }' "$T/v2")
W2=$(awk '$1 == "port" && $2 == 2 { print $3 }' "$T/want")
W3=$(awk '$1 == "port" && $2 == 3 { print $3 }' "$T/want")
WD=$(awk '$1 == "drop" { print $2 }' "$T/want")
expect_match "predictions" "^[0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$" \
    "$N $S1 $S2 $M1 $M2 $W2 $W3 $WD"
expect_eq "prediction adds up" "$N" "$((W2 + W3 + WD))"
# Hash maps after the run: "map I NAME COUNT" for each program.
hashmaps() {
    awk -v p="$1" '/^map [0-9]+ .*\(hash/ { sub(/\(hash.*\): /, ""); print p, $2, $3, $4 }' "$2"
}
WMAPS=$( { hashmaps 1 "$T/v1"; hashmaps 2 "$T/v2"; } )

start_primary \
    --vdev="net_pcap0,rx_pcap=$IN" \
    --vdev="net_pcap1,tx_pcap=$T/out2.pcap" \
    --vdev="net_pcap2,tx_pcap=$T/out3.pcap" \
    --prog="1:$P1" --prog="2:$P2" \
    --classifier-arg=--flows="$T/flows"

if wait_until 30 '[ "$(field "^classifier 0 pid" ready)" = 1 ]'; then
    ok "classifier ready"
else
    fail "classifier not ready after 30 s"
fi
remember_pids
if wait_until 30 '[ "$(field "^classifier 0 pid" rx)" = "$N" ] && [ "$(field "^port 1 " tx)" = "$W2" ] && [ "$(field "^port 2 " tx)" = "$W3" ]'; then
    ok "all $N packets decided"
else
    fail "not all $N packets decided"
fi
sleep 0.3
S=$(show)
SP1=$(printf '%s\n' "$S" | sed -n '/^program 1 /,/^program 2 /p')
SP2=$(printf '%s\n' "$S" | sed -n '/^program 2 /,$p')
get() { printf '%s\n' "$1" | awk -v k="$2" '/instance 0/ { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
expect_eq "filter 1 ran what the classifier sent" "$S1 $M1" "$(get "$SP1" pkts) $(get "$SP1" matched)"
expect_eq "filter 1 handed the rest to filter 2" "$((S1 - M1))" "$(get "$SP1" handed-off)"
expect_eq "filter 2 ran only those" "$S2 $M2" "$(get "$SP2" pkts) $(get "$SP2" matched)"
expect_eq "no broken chain" "0 0" "$(get "$SP1" chain-broken) $(get "$SP2" chain-broken)"
expect_eq "classifier to/from filters" "$S1 $S1" \
    "$(field "^classifier 0 pid" to-filters) $(field "^classifier 0 pid" from-filters)"
expect_eq "no fail policy, no stale verdict" "0 0 0" \
    "$(field "^classifier 0 generation" fail-open) $(field "^classifier 0 generation" fail-closed) $(field "^classifier 0 generation" stale)"
expect_eq "flow counters" "$(awk '$1 == "flow" { printf "%s %s\n", $2, $3 }' "$T/want")" \
    "$(printf '%s\n' "$S" | awk '$1 == "flow" { printf "%s %s\n", $2, $4 }')"
GMAPS=$(printf '%s\n' "$S" | awk '/^program / { p = $2 } /^  map .* hash / { for (i = 1; i < NF; i++) if ($i == "count") c = $(i + 1); print p, $2, $3, c }')
expect_eq "hash-map entries = offline run" "$WMAPS" "$GMAPS"
expect_eq "no mbuf left in use" "0" "$(field "^mbufs pool" in-use)"

stop_primary
# IPv4 frames came through the filters, the others straight: order holds
# within each kind.
expect_eq "port 2 output = prediction" "same same" \
    "$(python3 "$REF" compare-ip "$T/port-2.pcap" "$T/out2.pcap" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "port 3 output = prediction" "same" \
    "$(python3 "$REF" compare "$T/port-3.pcap" "$T/out3.pcap")"
dump_logs
finish
