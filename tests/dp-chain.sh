#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/dp-chain.sh -- a filter chain across processes: oko-primary
# --bypass-chain=1,2 sends demo.pcap through program 1
# (stateless-firewall); packets it does not match are handed by its
# oko-filter straight to program 2's (heavy-hitter, stateful) over the
# ring oko_f2_in_f1; every final verdict comes back to the primary, which
# drops matches and writes the rest to a pcap.  Checks that the output is
# exactly what running the two programs by hand predicts (program 2 sees
# only what program 1 let through), with the per-filter counters and the
# maps that implies.  Own --file-prefix, processes stopped by pid,
# hugepage files removed.
. "$(dirname "$0")/lib.sh"

PRIMARY="$top_builddir/primary/oko-primary"
FILTER="$top_builddir/filter-proc/oko-filter"
P1="$EXAMPLES/stateless-firewall.o"
P2="$EXAMPLES/heavy-hitter.o"
for f in "$PRIMARY" "$FILTER" "$OKO_BPF"; do
    if [ ! -x "$f" ]; then
        echo "SKIP: $f not built"
        exit 77
    fi
done
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
if ! mountpoint -q /dev/hugepages 2>/dev/null || [ ! -w /dev/hugepages ] \
    || [ "$(cat $HP 2>/dev/null || echo 0)" -lt 96 ]; then
    echo "SKIP: needs 2 MiB hugepages on /dev/hugepages (scripts/setup.sh)"
    exit 77
fi

PREFIX="oko-test-$$"
T=$(mktemp -d "${TMPDIR:-/tmp}/oko-chain.XXXXXX") || exit 1
PRIMARY_PID=
cleanup() {
    if [ -n "$PRIMARY_PID" ] && kill -0 "$PRIMARY_PID" 2>/dev/null; then
        kill -9 "$PRIMARY_PID" 2>/dev/null
    fi
    for p in $(cat "$T/filter-pids" 2>/dev/null); do
        kill -9 "$p" 2>/dev/null
    done
    rm -f /dev/hugepages/"$PREFIX"map_*
    rm -rf /var/run/dpdk/"$PREFIX" "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

show() {
    "$PRIMARY" --show --file-prefix="$PREFIX" 2>>"$T/show.err"
}
field() {
    printf '%s\n' "$S" | awk -v re="$1" -v k="$2" \
        '$0 ~ re { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}
wait_until() {
    n=$(($1 * 5))
    while [ "$n" -gt 0 ]; do
        S=$(show)
        if eval "$2"; then return 0; fi
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}

# pcap.py split|compare: frame-level helpers on classic pcap files.
cat >"$T/pcap.py" <<'EOF'
import struct, sys

def read(path):
    with open(path, 'rb') as f:
        data = f.read()
    end = '<' if struct.unpack('<I', data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, recs = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + 'IIII', data[off:off + 16])[2]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return data[:24], recs

def nomatch(verdicts):
    return [int(l.split()[1]) - 1 for l in open(verdicts)
            if l.startswith('pkt ') and l.split()[-1] == 'no-match']

if sys.argv[1] == 'select':       # select IN VERDICTS OUT
    hdr, recs = read(sys.argv[2])
    with open(sys.argv[4], 'wb') as f:
        f.write(hdr + b''.join(recs[i] for i in nomatch(sys.argv[3])))
else:                             # compare WANT GOT
    want, got = read(sys.argv[2])[1], read(sys.argv[3])[1]
    body = lambda r: r[16:]
    print('same' if list(map(body, want)) == list(map(body, got))
          else 'differ: want %d frames, got %d' % (len(want), len(got)))
EOF

# What the chain must do: program 2 runs on what program 1 does not match.
"$OKO_BPF" run "$P1" --pcap "$PCAPS/demo.pcap" -p -q >"$T/v1"
python3 "$T/pcap.py" select "$PCAPS/demo.pcap" "$T/v1" "$T/after1.pcap"
"$OKO_BPF" run "$P2" --pcap "$T/after1.pcap" -p -q >"$T/v2"
python3 "$T/pcap.py" select "$T/after1.pcap" "$T/v2" "$T/want.pcap"
N=$(tail -1 "$T/v1" | awk '{print $2}')
M1=$(tail -1 "$T/v1" | awk '{print $4}')
K1=$(tail -1 "$T/v1" | awk '{print $6}')
M2=$(tail -1 "$T/v2" | awk '{print $4}')
K2=$(tail -1 "$T/v2" | awk '{print $6}')
expect_match "predictions" "^[0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$" "$N $M1 $K1 $M2 $K2"

"$PRIMARY" --supervise --file-prefix="$PREFIX" -m 128 \
    --vdev="net_pcap0,rx_pcap=$PCAPS/demo.pcap" \
    --vdev="net_pcap1,tx_pcap=$T/out.pcap" \
    --prog="1:$P1" --prog="2:$P2" --bypass-chain=1,2 \
    >"$T/primary.log" 2>&1 &
PRIMARY_PID=$!

if wait_until 30 '[ "$(field "^program 1 " state)" = running ] && [ "$(field "^program 2 " state)" = running ]'; then
    ok "both filters running"
else
    fail "filters not running after 30 s"
fi
field "instance 0" pid >>"$T/filter-pids"
S2=$(printf '%s\n' "$S" | sed -n '/^program 2 /,$p')
printf '%s\n' "$S2" | awk '/instance 0/ { for (i = 1; i < NF; i++) if ($i == "pid") print $(i + 1) }' >>"$T/filter-pids"

if wait_until 30 '[ $(( $(field "^port 1 " tx) + $(field "^port 1 " filter-dropped) )) -eq "$N" ]'; then
    ok "all $N packets came back"
else
    fail "not all $N packets came back:"; printf '%s\n' "$S"
fi
S1=$(printf '%s\n' "$S" | sed -n '/^program 1 /,/^program 2 /p')
S2=$(printf '%s\n' "$S" | sed -n '/^program 2 /,$p')
get() { printf '%s\n' "$1" | awk -v k="$2" '/instance 0/ { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
expect_eq "filter 1 ran every packet" "$N" "$(get "$S1" pkts)"
expect_eq "filter 1 matches" "$M1" "$(get "$S1" matched)"
expect_eq "filter 1 handed the rest to filter 2" "$K1" "$(get "$S1" handed-off)"
expect_eq "filter 2 ran only those" "$K1" "$(get "$S2" pkts)"
expect_eq "filter 2 matches" "$M2" "$(get "$S2" matched)"
expect_eq "no broken chain" "0 0" "$(get "$S1" chain-broken) $(get "$S2" chain-broken)"
expect_eq "port 1 tx" "$K2" "$(field "^port 1 " tx)"
expect_eq "port 1 filter-dropped" "$((M1 + M2))" "$(field "^port 1 " filter-dropped)"
expect_match "filter 2 found its hand-off ring" "input from filter 1 \(oko_f2_in_f1\)" "$(cat "$T/primary.log")"

kill -TERM "$PRIMARY_PID"
n=75
while kill -0 "$PRIMARY_PID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
wait "$PRIMARY_PID"
expect_eq "primary exit status" "0" "$?"
expect_eq "output = what the chain predicts" "same" \
    "$(python3 "$T/pcap.py" compare "$T/want.pcap" "$T/out.pcap")"

if [ "$T_FAIL" -gt 0 ]; then
    echo "--- primary log"
    cat "$T/primary.log"
fi
finish
