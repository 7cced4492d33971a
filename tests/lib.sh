# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/lib.sh -- sourced by the shell tests.  Provides paths and a tiny
# assertion vocabulary; every failed check prints what was expected and
# what came, and the test exits non-zero at the end.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
OKO_BPF="$top_builddir/tools/oko-bpf"
EXAMPLES="$top_builddir/examples/bpf"
PCAPS="$top_builddir/tests/pcaps"
PROGS="$top_builddir/tests/progs"
T_PASS=0
T_FAIL=0

ok() { T_PASS=$((T_PASS + 1)); echo "ok: $*"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL: $*"; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# expect_match WHAT REGEX TEXT
expect_match() {
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else
        fail "$1: no line matches /$2/ in:"; printf '%s\n' "$3" | sed 's/^/    /' | head -20; fi
}

# finish: prints the closing line and exits with the right status.
finish() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
}
