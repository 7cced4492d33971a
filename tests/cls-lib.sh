# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/cls-lib.sh -- sourced by the tests/cls-*.sh integration tests of
# oko-classifier: paths, skip checks, a private --file-prefix with its
# cleanup, `show` / `field` helpers over `oko-primary --show`, and
# tests/cls-ref.py (the independent reference: pcap reading and writing,
# a packet parser and flow matcher for the flow subset the tests use).
. "$(dirname "$0")/lib.sh"

PRIMARY="$top_builddir/primary/oko-primary"
FILTER="$top_builddir/filter-proc/oko-filter"
CLASSIFIER="$top_builddir/classifier-proc/oko-classifier"
REF="$top_srcdir/tests/cls-ref.py"
for f in "$PRIMARY" "$FILTER" "$CLASSIFIER"; do
    if [ ! -x "$f" ]; then
        echo "SKIP: $f not built"
        exit 77
    fi
done
if ! command -v python3 >/dev/null; then
    echo "SKIP: needs python3"
    exit 77
fi
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
if ! mountpoint -q /dev/hugepages 2>/dev/null || [ ! -w /dev/hugepages ] \
    || [ "$(cat $HP 2>/dev/null || echo 0)" -lt 96 ]; then
    echo "SKIP: needs 2 MiB hugepages on /dev/hugepages (scripts/setup.sh)"
    exit 77
fi

PREFIX="oko-cls-$$"
T=$(mktemp -d "${TMPDIR:-/tmp}/oko-cls.XXXXXX") || exit 1
PRIMARY_PID=
cleanup() {
    if [ -n "$PRIMARY_PID" ] && kill -0 "$PRIMARY_PID" 2>/dev/null; then
        kill -9 "$PRIMARY_PID" 2>/dev/null
    fi
    for p in $(cat "$T/child-pids" 2>/dev/null); do
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
# field REGEX KEY: the value after KEY on the first line of $S matching REGEX.
field() {
    printf '%s\n' "$S" | awk -v re="$1" -v k="$2" \
        '$0 ~ re { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}
# wait_until SECONDS CONDITION: re-reads $S until CONDITION holds.
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
# start_primary ARGS...: oko-primary --supervise in the background.
start_primary() {
    "$PRIMARY" --supervise --file-prefix="$PREFIX" -m 128 "$@" \
        >"$T/primary.log" 2>&1 &
    PRIMARY_PID=$!
}
# remember_pids: every child pid in $S, for the cleanup.
remember_pids() {
    printf '%s\n' "$S" | awk '/^classifier 0 pid|instance/ { for (i = 1; i < NF; i++) if ($i == "pid") print $(i + 1) }' >>"$T/child-pids"
}
# stop_primary: SIGTERM, wait, check the exit status.
stop_primary() {
    kill -TERM "$PRIMARY_PID"
    n=75
    while kill -0 "$PRIMARY_PID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
    wait "$PRIMARY_PID"
    expect_eq "primary exit status" "0" "$?"
}
dump_logs() {
    if [ "$T_FAIL" -gt 0 ]; then
        echo "--- primary log"
        cat "$T/primary.log"
        echo "--- last show"
        printf '%s\n' "$S"
    fi
}
