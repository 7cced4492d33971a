#!/usr/bin/env bash
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# scripts/demo.sh -- the README's first command: set up, build, and run the
# whole switch on virtual ports, supervised:
#
#   port 1  net_pcap0 replaying tests/pcaps/demo.pcap in a loop (infinite_rx)
#   port 2  net_null0 (discards what it is sent, receives nothing)
#   program 1  examples/bpf/rate-limiter.o   (per-source token bucket)
#   program 2  examples/bpf/tcp-firewall.o   (stateful TCP firewall)
#   flows      examples/demo.flows (TCP: firewall, then rate limiter; other
#              IPv4: rate limiter; a match drops; the rest goes to port 2)
#
# It shows the counters of ports, flows and filters, with rates, every
# second until Ctrl-C, then stops the switch (SIGTERM to oko-primary, which
# stops its oko-classifier and oko-filters), prints a summary and removes
# the hugepage files and runtime directory of its --file-prefix.
#
#   scripts/demo.sh                   run until Ctrl-C
#   DEMO_SECONDS=15 scripts/demo.sh   run 15 s, then stop (no terminal needed)
#   DEMO_NO_SETUP=1 scripts/demo.sh   skip scripts/setup.sh (already built)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${DEMO_NO_SETUP:-}" ] || "$top/scripts/setup.sh"
cd "$top"

PRIMARY=primary/oko-primary
PREFIX="oko-demo-$$"
SECONDS_MAX=${DEMO_SECONDS:-0}
T=$(mktemp -d "${TMPDIR:-/tmp}/oko-demo.XXXXXX")
PID=
STOP=

show() { "$PRIMARY" --show --file-prefix="$PREFIX" 2>/dev/null; }

# render PREV CUR: the counters of CUR, with per-second rates since PREV.
render() {
    awk '
    function ports(   i) {
        if (done++) return
        printf "%-17s %12s %9s %12s %9s %12s\n", "PORT", "in", "in/s", "out", "out/s", "dropped"
        for (i = 1; i <= np; i++) printf "%s %12d\n", pl[i], pd[i] + cdrop[pn[i]]
        printf "%s", cl
    }
    END { ports() }
    function kv(   i) { delete v; for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
    function rate(key, now,   d) {
        if (!(key in old) || dt <= 0) return "-"
        d = (now - old[key]) / dt
        return d >= 1e6 ? sprintf("%.2fM", d / 1e6) : d >= 1e3 ? sprintf("%.1fk", d / 1e3) : sprintf("%d", d)
    }
    FNR == 1 { file++ }
    { kv() }
    /^primary pid/              { up[file] = v["up-ms"] }
    /^port /                    { k = "port " $2; rx = v["rx"]; tx = v["tx"] }
    /^classifier 0 port /       { k = "cport " $4; rx = v["rx"]; tx = v["dropped"] }
    /^flow /                    { k = "flow " $2; rx = v["pkts"]; tx = 0 }
    /^  instance .*\(active\)/  { k = "prog " prog; rx = v["pkts"]; tx = v["matched"] }
    /^program /                 { prog = $2 }
    file == 1 { if (k != "") { old[k] = rx; old[k "/2"] = tx }; k = ""; next }
    /^primary pid/ { dt = (up[2] - up[1]) / 1000
        printf "oko demo: up %.0f s, --file-prefix=%s\n\n", v["up-ms"] / 1000, prefix
    }
    /^port / { np++; pn[np] = $2; pl[np] = sprintf("%-17s %12d %9s %12d %9s", ($2 + 1) " " $3, v["rx"], rate(k, rx), v["tx"], rate(k "/2", tx))
        pd[np] = v["rx-dropped"] + v["tx-dropped"] + v["filter-dropped"] }
    /^flow |^mbufs / { ports() }
    /^classifier 0 pid/ { cl = cl sprintf("\nclassifier: in %d out %d dropped %d to-filters %d from-filters %d cache-hits %d\n", v["rx"], v["tx"], v["dropped"], v["to-filters"], v["from-filters"], v["emc-hits"]) }
    /^classifier 0 generation/ { cl = cl sprintf("  dropped by action %d, table miss %d, fail-open %d, fail-closed %d\n", v["drop-action"], v["table-miss"], v["fail-open"], v["fail-closed"]) }
    /^classifier 0 port / { cdrop[$4] = v["dropped"] }
    /^flow / { if (!nflow++) printf "\n%-5s %12s %9s  %s\n", "FLOW", "pkts", "pkts/s", "match,actions"
        printf "%-5s %12d %9s  %s\n", $2, v["pkts"], rate(k, rx), $NF }
    /^program / { if (!nprog++) printf "\n%-24s %12s %9s %12s %9s %11s %8s\n", "FILTER", "run", "run/s", "matched", "match/s", "handed-off", "restarts"
        name = $2 " " $4; restarts = v["restarts"]; lost = v["lost"] }
    /^  instance .*\(active\)/ { printf "%-24s %12d %9s %12d %9s %11d %8d\n", name, v["pkts"], rate(k, rx), v["matched"], rate(k "/2", tx), v["handed-off"], restarts }
    /^  map / { printf "    map %s: %d entries\n", $3, v["count"] }
    /^mbufs / { printf "\nmbufs in use %d of %d\n", v["in-use"], v["size"] }
    ' prefix="$PREFIX" "$1" "$2"
}

stop() {
    [ -n "$PID" ] || return 0
    if kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID"
        for _ in $(seq 75); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$PID" 2>/dev/null; then
            echo "demo: oko-primary did not stop in 15 s: SIGKILL"
            kill -KILL "$PID" 2>/dev/null || true
        fi
    fi
    wait "$PID" 2>/dev/null && status=0 || status=$?
    PID=
    # Its children stop with it; make sure (they are in their own groups).
    for p in $(cat "$T/children" 2>/dev/null); do
        if kill -0 "$p" 2>/dev/null; then
            echo "demo: pid $p still running after the primary: SIGKILL"
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
    return "$status"
}
cleanup() {
    stop || true
    rm -f /dev/hugepages/"$PREFIX"map_*
    rm -rf /var/run/dpdk/"$PREFIX" "$T"
}
trap cleanup EXIT
trap 'STOP=1' INT TERM

# The switch, in its own session so that Ctrl-C reaches only this script,
# which then stops it by PID.
setsid "$PRIMARY" --supervise --file-prefix="$PREFIX" -m 128 \
    --vdev="net_pcap0,rx_pcap=tests/pcaps/demo.pcap,infinite_rx=1" \
    --vdev="net_null0,no-rx=1" \
    --prog=1:examples/bpf/rate-limiter.o \
    --prog=2:examples/bpf/tcp-firewall.o \
    --filter-bin=filter-proc/oko-filter \
    --classifier-bin=classifier-proc/oko-classifier \
    --classifier-arg=--flows=examples/demo.flows \
    >"$T/primary.log" 2>&1 &
PID=$!

echo "demo: oko-primary pid $PID, --file-prefix=$PREFIX, flows:"
grep -v '^#' examples/demo.flows | sed 's/^/  /'
# Wait for the classifier to be ready (it then polls the ports).
for _ in $(seq 150); do
    S=$(show || true)
    printf '%s\n' "$S" | grep -q '^classifier 0 pid .* ready 1 ' && break
    if ! kill -0 "$PID" 2>/dev/null || [ -n "$STOP" ]; then break; fi
    sleep 0.2
done
if ! printf '%s\n' "$S" | grep -q '^classifier 0 pid .* ready 1 '; then
    echo "demo: the switch did not become ready; its log:"
    cat "$T/primary.log"
    exit 1
fi
printf '%s\n' "$S" | awk '/^classifier 0 pid|instance/ { for (i = 1; i < NF; i++) if ($i == "pid") print $(i + 1) }' >"$T/children"
echo "demo: running: classifier pid $(sed -n 1p "$T/children"), filters pids $(sed -n '2,$p' "$T/children" | tr '\n' ' ')"

tty=; [ -t 1 ] && [ "$SECONDS_MAX" = 0 ] && tty=1
if [ "$SECONDS_MAX" != 0 ]; then echo "demo: running $SECONDS_MAX s (DEMO_SECONDS)"; else echo "demo: running until Ctrl-C"; fi
printf '%s\n' "$S" >"$T/prev"
cp "$T/prev" "$T/first"
t=0
while [ -z "$STOP" ]; do
    sleep 1 || true
    [ -z "$STOP" ] || break
    kill -0 "$PID" 2>/dev/null || { echo "demo: oko-primary exited"; break; }
    show >"$T/cur" || true
    t=$((t + 1))
    if [ -n "$tty" ]; then
        printf '\033[H\033[2J'
        render "$T/prev" "$T/cur"
        echo; echo "Ctrl-C to stop"
    else
        # One line a second: port rates and filter matches.
        render "$T/prev" "$T/cur" | awk -v t="$t" '
            /^1 net_pcap/ { i = $4 } /^2 net_null/ { o = $6 }
            /^1 rate-limiter/ { r = $6 } /^2 tcp-firewall/ { f = $6 }
            END { printf "t=%2ds  port 1 in %s/s  port 2 out %s/s  rate-limiter matched %s/s  tcp-firewall matched %s/s\n", t, i, o, r, f }'
    fi
    mv "$T/cur" "$T/prev"
    [ "$SECONDS_MAX" = 0 ] || [ "$t" -lt "$SECONDS_MAX" ] || break
done

# The last counters, then stop.
show >"$T/cur" || cp "$T/prev" "$T/cur"
echo
echo "demo: stopping oko-primary (pid $PID, SIGTERM)"
status=0
stop || status=$?
echo
echo "=== summary (rates: averages since the classifier became ready) ==="
render "$T/first" "$T/cur"
echo
echo "oko-primary exit status $status; its last words:"
grep -E 'stopping|stopped' "$T/primary.log" | sed 's/^/  /'
left=$(for p in $(cat "$T/children"); do kill -0 "$p" 2>/dev/null && echo "$p"; done || true)
[ -z "$left" ] || { echo "demo: processes left: $left"; status=1; }
exit "$status"
