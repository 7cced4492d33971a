#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/dp-basic.sh -- the data plane with real processes on DPDK virtual
# devices: oko-primary --supervise --bypass-classifier replays demo.pcap
# (net_pcap0) through program 1 (heavy-hitter, run by a supervised
# oko-filter) and writes what does not match to a pcap (net_pcap1).
# Checks:
#  - start-up errors: a program the verifier rejects; a secondary or
#    --show without a primary says "is oko-primary running?";
#  - the filter starts, reports ready, its heartbeat advances;
#  - the output capture holds exactly the frames `oko-bpf run` says do not
#    match, in order, and the port counters agree;
#  - kill -9 of the filter: the supervisor restarts it (new pid, restarts
#    1) and the maps, in hugepage memzones, keep their content;
#  - SIGTERM of the primary stops everything, exit status 0.
# Each run uses its own --file-prefix, stops its processes by pid and
# removes its hugepage files and /var/run/dpdk/<prefix>.
. "$(dirname "$0")/lib.sh"

PRIMARY="$top_builddir/primary/oko-primary"
FILTER="$top_builddir/filter-proc/oko-filter"
PROG="$EXAMPLES/heavy-hitter.o"
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
T=$(mktemp -d "${TMPDIR:-/tmp}/oko-dp.XXXXXX") || exit 1
PRIMARY_PID=
cleanup() {
    # Stop by pid whatever is left: the primary, then any filter it ran.
    if [ -n "$PRIMARY_PID" ] && kill -0 "$PRIMARY_PID" 2>/dev/null; then
        kill -9 "$PRIMARY_PID" 2>/dev/null
    fi
    for p in $(cat "$T/filter-pids" 2>/dev/null); do
        kill -9 "$p" 2>/dev/null
    done
    rm -f /dev/hugepages/"$PREFIX"map_* /dev/hugepages/"$PREFIX"-none*
    rm -rf /var/run/dpdk/"$PREFIX" /var/run/dpdk/"$PREFIX"-none "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

show() {
    "$PRIMARY" --show --file-prefix="$PREFIX" 2>>"$T/show.err"
}

# field LINE-REGEX NAME: the value after word NAME on the first line of the
# latest `show` output ($S) that matches LINE-REGEX.
field() {
    printf '%s\n' "$S" | awk -v re="$1" -v k="$2" \
        '$0 ~ re { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

# wait_until SECONDS SHELL-CONDITION: re-reads `show` into $S every 0.2 s
# until the condition holds.  Returns 1 on timeout.
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

# --- errors before anything runs -------------------------------------------
out=$("$PRIMARY" --file-prefix="$PREFIX-none" -m 64 --vdev=net_null0 \
      --prog="1:$PROGS/nonexistent.o" 2>&1)
expect_match "missing program file is an error" "nonexistent.o: No such file" "$out"
if "${CLANG:-clang}" -O2 -target bpf -I"$top_srcdir/include" -c \
       "$top_srcdir/tests/verifier/bad/oob_read.c" -o "$T/bad.o" 2>/dev/null; then
    out=$("$PRIMARY" --file-prefix="$PREFIX-none" -m 64 --vdev=net_null0 \
          --prog="1:$T/bad.o" 2>&1)
    expect_match "verifier rejection is reported" "rejected by the verifier: insn [0-9]+: r[0-9]+: " "$out"
fi
out=$("$PRIMARY" --show --file-prefix="$PREFIX-none" 2>&1)
expect_match "--show without a primary" "is oko-primary running\?" "$out"
out=$("$FILTER" --proc-type=secondary --file-prefix="$PREFIX-none" \
      "--lcores=30@(0,1)" --no-pci --no-telemetry -- --prog=1 2>&1)
expect_match "oko-filter without a primary" "is oko-primary running\?" "$out"

# --- what the program predicts ----------------------------------------------
"$OKO_BPF" run "$PROG" --pcap "$PCAPS/demo.pcap" -p -q >"$T/expected" 2>&1
summary=$(tail -1 "$T/expected")
N=$(echo "$summary" | awk '{print $2}')
M=$(echo "$summary" | awk '{print $4}')
K=$(echo "$summary" | awk '{print $6}')
expect_match "oko-bpf predicts verdicts" "^packets [0-9]+ matched [0-9]+ not-matched [0-9]+$" "$summary"

# --- start the switch ---------------------------------------------------------
"$PRIMARY" --supervise --file-prefix="$PREFIX" -m 128 \
    --vdev="net_pcap0,rx_pcap=$PCAPS/demo.pcap" \
    --vdev="net_pcap1,tx_pcap=$T/out.pcap" \
    --prog="1:$PROG:fail-open" --bypass-classifier \
    --pid-file="$T/primary.pid" --stop-timeout=5 \
    >"$T/primary.log" 2>&1 &
PRIMARY_PID=$!

if wait_until 30 '[ "$(field "^program 1 " state)" = running ]'; then
    ok "program 1 running under the supervisor"
else
    fail "program 1 not running after 30 s"
    cat "$T/primary.log" "$T/show.err"
    finish
    exit 1
fi
expect_eq "pid file" "$PRIMARY_PID" "$(cat "$T/primary.pid" 2>/dev/null)"
PID1=$(field "instance 0" pid)
echo "$PID1" >>"$T/filter-pids"
if [ -n "$PID1" ] && [ "$PID1" -gt 0 ] && kill -0 "$PID1" 2>/dev/null; then
    ok "filter process $PID1 exists"
else
    fail "filter pid '$PID1' is not a live process"
fi

# Every packet of the capture handled: out of port 1 or dropped by a match.
if wait_until 30 '[ $(( $(field "^port 1 " tx) + $(field "^port 1 " filter-dropped) )) -eq "$N" ]'; then
    ok "all $N packets went through the filter"
else
    fail "not all $N packets were handled:"; printf '%s\n' "$S"
fi
expect_eq "port 0 rx" "$N" "$(field "^port 0 " rx)"
expect_eq "port 1 tx = not matched" "$K" "$(field "^port 1 " tx)"
expect_eq "port 1 filter-dropped = matched" "$M" "$(field "^port 1 " filter-dropped)"
expect_eq "fail policy never applied" "0" "$(field "^port 0 " fail-policy)"
expect_eq "filter counted the packets" "$N" "$(field "instance 0" pkts)"
expect_eq "filter counted the matches" "$M" "$(field "instance 0" matched)"

HB1=$(field "instance 0" heartbeat)
sleep 0.5
S=$(show)
HB2=$(field "instance 0" heartbeat)
if [ "${HB2:-0}" -gt "${HB1:-0}" ]; then
    ok "heartbeat advances ($HB1 -> $HB2)"
else
    fail "heartbeat stuck at '$HB1' -> '$HB2'"
fi
SKETCH=$(field " sketch " count)
HITTERS=$(field " hitters " count)
if [ "${SKETCH:-0}" -gt 0 ] && [ "${HITTERS:-0}" -gt 0 ]; then
    ok "maps filled (sketch $SKETCH, hitters $HITTERS)"
else
    fail "maps empty: sketch '$SKETCH' hitters '$HITTERS'"
fi

# --- kill -9 the filter: restarted, maps intact ------------------------------
kill -9 "$PID1"
if wait_until 20 'p=$(field "instance 0" pid); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$PID1" ] && [ "$(field "instance 0" ready)" = 1 ]'; then
    PID2=$(field "instance 0" pid)
    echo "$PID2" >>"$T/filter-pids"
    ok "supervisor restarted the filter ($PID1 -> $PID2)"
else
    fail "filter not restarted:"; printf '%s\n' "$S"
fi
expect_eq "restart counted" "1" "$(field "^program 1 " restarts)"
expect_match "death logged with its cause" "filter 1 \(pid $PID1\) killed by signal 9" "$(cat "$T/primary.log")"
expect_eq "sketch survived the restart" "$SKETCH" "$(field " sketch " count)"
expect_eq "hitters survived the restart" "$HITTERS" "$(field " hitters " count)"
expect_eq "primary kept running" "0" "$(kill -0 "$PRIMARY_PID" 2>/dev/null; echo $?)"

# --- SIGTERM: everything stops ----------------------------------------------
kill -TERM "$PRIMARY_PID"
n=75
while kill -0 "$PRIMARY_PID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
if kill -0 "$PRIMARY_PID" 2>/dev/null; then
    fail "primary still running 15 s after SIGTERM"
else
    wait "$PRIMARY_PID"
    expect_eq "primary exit status" "0" "$?"
fi
alive=
for p in $(cat "$T/filter-pids"); do
    kill -0 "$p" 2>/dev/null && alive="$alive $p"
done
expect_eq "no filter process left" "" "$alive"
expect_eq "pid file removed" "no" "$([ -e "$T/primary.pid" ] && echo yes || echo no)"
expect_match "filter stopped cleanly" "filter 1 \(pid [0-9]+\) stopped: exited with status 0" "$(cat "$T/primary.log")"

# The output capture: exactly the frames that do not match, in order.
cmp=$(python3 - "$PCAPS/demo.pcap" "$T/out.pcap" "$T/expected" <<'EOF'
import struct, sys

def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + 'IIII', data[off:off + 16])[2]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out

inp, outp = frames(sys.argv[1]), frames(sys.argv[2])
keep = [l.split()[1] for l in open(sys.argv[3]) if l.startswith('pkt ')
        and l.split()[-1] == 'no-match']
want = [inp[int(i) - 1] for i in keep]
print('same' if want == outp else 'differ: want %d frames, got %d' % (len(want), len(outp)))
EOF
)
expect_eq "out.pcap = the frames that do not match" "same" "$cmp"

if [ "$T_FAIL" -gt 0 ]; then
    echo "--- primary log"
    cat "$T/primary.log"
fi
finish
