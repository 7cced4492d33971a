#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# bench/bench-dp.sh -- data-plane benchmark (not a test; `make bench-dp`).
# On the same virtual ports (net_pcap rx_pcap=F,infinite_rx=1 -> net_null
# no-rx=1), 64-byte UDP frames, it measures in one run:
#   testpmd   dpdk-testpmd io forwarding (the ceiling), 64k 5-tuples
#   cls-1     oko classifier only, 1 flow (in_port=1,actions=output:2), 1 tuple
#   cls-300   oko classifier only, 300 wildcard flows, 64k 5-tuples
#   filter-1  oko through one filter (stateless-firewall.o), 1 tuple
# Mpps = packets sent by the null port over a fixed window after warm-up
# (oko-primary --show before/after; testpmd's Tx-pps of port 1).
# cycles/pkt = TSC Hz x busy cores / pps (an upper bound: the 2 vCPUs are
# shared with everything else).  Median of RUNS runs each; table on stdout,
# CSV in $OUT (default ./bench-dp-<date>.csv in the build dir).
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
top_srcdir=${top_srcdir:-$top_builddir}
PRIMARY="$top_builddir/primary/oko-primary"
RUNS=${RUNS:-3}
WARM=${WARM:-2}         # seconds of traffic before the window
WIN=${WIN:-4}           # seconds of measurement window
OUT=${OUT:-$top_builddir/bench-dp-$(date +%Y%m%d-%H%M%S).csv}
FILTER_OBJ=${FILTER_OBJ:-$top_builddir/examples/bpf/stateless-firewall.o}
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd)}
for f in "$PRIMARY" "$top_builddir/classifier-proc/oko-classifier" \
    "$top_builddir/filter-proc/oko-filter" "$FILTER_OBJ" "$TESTPMD"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "bench-dp: missing $f" >&2; exit 1; }
done
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
if [ "$(cat $HP 2>/dev/null || echo 0)" -lt 400 ]; then
    echo "bench-dp: needs >= 400 free 2 MiB hugepages (scripts/setup.sh)" >&2
    exit 1
fi
TSC_MHZ=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | head -1)
[ -n "$TSC_MHZ" ] || TSC_MHZ=$(awk -F': *' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
NCPU=$(nproc)

T=$(mktemp -d "${TMPDIR:-/tmp}/oko-bench.XXXXXX") || exit 1
PID=
PREFIX=
stop_run() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        n=50
        while kill -0 "$PID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
        kill -9 "$PID" 2>/dev/null
        # children of a primary that had to be killed
        for c in $(cat "$T/child-pids" 2>/dev/null); do kill -9 "$c" 2>/dev/null; done
    fi
    wait "$PID" 2>/dev/null
    PID=
    if [ -n "$PREFIX" ]; then
        rm -f /dev/hugepages/"$PREFIX"map_* /dev/hugepages/"$PREFIX"* 2>/dev/null
        rm -rf /var/run/dpdk/"$PREFIX"
    fi
    PREFIX=
    : >"$T/child-pids"
}
cleanup() { stop_run; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- inputs: pcaps and flow files (python3 stdlib only) -------------------
python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
def csum(b):
    s = sum(struct.unpack("!10H", b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def frame(src, dst, sp, dp):
    payload = bytes(64 - 14 - 20 - 8 - 4)            # 64 bytes on the wire with FCS
    udp = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp
def write(name, frames):
    with open(f"{d}/{name}", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)
ips = lambda a, b, c, e: bytes((a, b, c, e))
write("one.pcap", [frame(ips(10, 0, 0, 1), ips(192, 168, 0, 1), 1024, 53)])
# 64k distinct 5-tuples: source 10.0.X.Y, destination port one of 16
write("64k.pcap", [frame(ips(10, 0, i >> 8, i & 255), ips(192, 168, (i * 7) & 255, 1),
                         1024 + (i & 4095), 5000 + (i >> 12)) for i in range(65536)])
with open(f"{d}/flows-1", "w") as f:
    f.write("in_port=1,actions=output:2\n")
with open(f"{d}/flows-300", "w") as f:
    # 300 wildcard flows with several mask shapes (tuple-space search),
    # most of them missed by the traffic, then the catch-all
    for k in range(100):
        f.write(f"priority={400 - k},udp,nw_dst=172.16.{k}.0/24,tp_dst={k + 1},actions=drop\n")
    for k in range(100):
        f.write(f"priority={300 - k},udp,nw_src=10.{k + 1}.0.0/16,actions=drop\n")
    for k in range(99):
        f.write(f"priority={200 - k},udp,in_port=1,tp_dst={6000 + k},actions=drop\n")
    f.write("priority=1,udp,in_port=1,actions=output:2\n")
with open(f"{d}/flows-filter", "w") as f:
    f.write("priority=20,ip,filter_prog=1,actions=drop\n")
    f.write("priority=1,actions=output:2\n")
PY
[ -s "$T/64k.pcap" ] || { echo "bench-dp: pcap generation failed" >&2; exit 1; }

now() { date +%s.%N; }
# port1_tx: packets sent by port 1 (net_null) according to --show
port1_tx() {
    "$PRIMARY" --show --file-prefix="$PREFIX" 2>/dev/null |
        awk '$1 == "port" && $2 == 1 { for (i = 3; i < NF; i++) if ($i == "tx") { print $(i + 1); exit } }'
}

# run_oko NAME PCAP FLOWS [PROG]: prints pps (0 on failure)
run_oko() {
    PREFIX="okob-$1-$$"
    set -- "$@"
    prog=
    [ -n "$4" ] && prog="--prog=1:$4"
    "$PRIMARY" --supervise --file-prefix="$PREFIX" -m 512 --mbufs=131071 \
        --vdev="net_pcap0,rx_pcap=$2,infinite_rx=1" --vdev="net_null1,no-rx=1" \
        $prog --classifier-arg=--flows="$3" >"$T/$1.log" 2>&1 &
    PID=$!
    n=100; a=
    while [ $n -gt 0 ]; do
        a=$(port1_tx)
        [ -n "$a" ] && [ "$a" -gt 0 ] 2>/dev/null && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.2; n=$((n - 1))
    done
    "$PRIMARY" --show --file-prefix="$PREFIX" 2>/dev/null |
        awk '/^classifier 0 pid|instance/ { for (i = 1; i < NF; i++) if ($i == "pid") print $(i + 1) }' >"$T/child-pids"
    sleep "$WARM"
    t0=$(now); a=$(port1_tx); sleep "$WIN"; b=$(port1_tx); t1=$(now)
    stop_run
    if [ -z "$a" ] || [ -z "$b" ]; then echo 0; return; fi
    awk -v a="$a" -v b="$b" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f\n", (b - a) / (t1 - t0) }'
}

# run_testpmd NAME PCAP: prints pps (mean of Tx-pps of port 1 after warm-up)
run_testpmd() {
    PREFIX="okob-$1-$$"
    timeout -s INT $((WARM + WIN + 3)) "$TESTPMD" --lcores 0@0,1@1 --file-prefix="$PREFIX" \
        --socket-mem 512 --no-pci --no-telemetry \
        --vdev "net_pcap0,rx_pcap=$2,infinite_rx=1" --vdev net_null1,no-rx=1 -- \
        --forward-mode=io --nb-cores=1 --total-num-mbufs=131071 \
        --auto-start --stats-period 1 </dev/null >"$T/$1.log" 2>&1 &
    PID=$!
    wait "$PID"
    PID=
    stop_run
    PREFIX=
    # per-second blocks: port 0 then port 1; take port 1's Tx-pps
    tr -d '\033' <"$T/$1.log" | awk -v skip="$((WARM + 1))" -v win="$WIN" '
        /NIC statistics for port/ { port = $(NF - 1) + 0 }
        /Tx-pps:/ && port == 1 { n++; if (n > skip && m < win) { s += $2; m++ } }
        END { if (m) printf "%.0f\n", s / m; else print 0 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "config,run,pps" >"$T/raw.csv"
for cfg in testpmd cls-1 cls-300 filter-1; do
    for r in $(seq 1 "$RUNS"); do
        case $cfg in
        testpmd) p=$(run_testpmd "$cfg-$r" "$T/64k.pcap") ;;
        cls-1) p=$(run_oko "$cfg-$r" "$T/one.pcap" "$T/flows-1") ;;
        cls-300) p=$(run_oko "$cfg-$r" "$T/64k.pcap" "$T/flows-300") ;;
        filter-1) p=$(run_oko "$cfg-$r" "$T/one.pcap" "$T/flows-filter" "$FILTER_OBJ") ;;
        esac
        echo "$cfg,$r,$p" >>"$T/raw.csv"
        echo "  $cfg run $r: $p pps" >&2
    done
done

TP=$(awk -F, '$1 == "testpmd" { print $3 }' "$T/raw.csv" | median)
{
    echo "config,description,busy_cores,mpps_median,tsc_mhz,cycles_per_pkt_upper_bound,ratio_to_testpmd,runs_pps"
    for cfg in testpmd cls-1 cls-300 filter-1; do
        case $cfg in
        testpmd) d="dpdk-testpmd io-fwd pcap(64k tuples)->null"; c=1 ;;
        cls-1) d="oko classifier 1 flow (in_port=1 output:2) 1 tuple"; c=$NCPU ;;
        cls-300) d="oko classifier 300 wildcard flows 64k tuples"; c=$NCPU ;;
        filter-1) d="oko through 1 filter ($(basename "$FILTER_OBJ")) 1 tuple"; c=$NCPU ;;
        esac
        runs=$(awk -F, -v k="$cfg" '$1 == k { printf "%s%s", s, $3; s = " " }' "$T/raw.csv")
        med=$(awk -F, -v k="$cfg" '$1 == k { print $3 }' "$T/raw.csv" | median)
        awk -v k="$cfg" -v d="$d" -v c="$c" -v p="$med" -v hz="$TSC_MHZ" -v tp="$TP" -v runs="$runs" 'BEGIN {
            cy = (p > 0) ? hz * 1e6 * c / p : 0
            printf "%s,%s,%d,%.2f,%s,%.0f,%.3f,%s\n", k, d, c, p / 1e6, hz, cy, (tp > 0 ? p / tp : 0), runs }'
    done
} >"$OUT"

echo "bench-dp: 64-byte UDP frames, net_pcap(infinite_rx) -> net_null, window ${WIN}s after ${WARM}s, median of $RUNS"
echo "cycles/pkt = TSC Hz ($TSC_MHZ MHz) x busy cores / pps  (upper bound: shared $NCPU-vCPU machine)"
awk -F, 'NR == 1 { printf "%-9s %-52s %5s %8s %10s %7s\n", "config", "description", "cores", "Mpps", "cyc/pkt<=", "ratio"; next }
    { printf "%-9s %-52s %5s %8s %10s %7s\n", $1, $2, $3, $4, $6, $7 }' "$OUT"
echo "CSV: $OUT"
