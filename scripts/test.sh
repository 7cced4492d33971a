#!/usr/bin/env bash
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# scripts/test.sh -- the README's second command (and what .ci/run runs):
# set up, build, and run every test (make check), then print each test's
# log so that the CUnit summaries are visible (DPDK-NOTES.md note 10).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" || exit 1
cd "$top"

make -j"$(nproc)" check
status=$?
for log in $(find tests -name '*.log' ! -name test-suite.log | sort); do
    echo "===== $log"
    tail -n 40 "$log"
done
# One closing line that any reader understands.
pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null | head -1)
failed=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null | head -1)
errors=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null | head -1)
skipped=$(sed -n 's/^# SKIP: *//p' test-suite.log 2>/dev/null | head -1)
echo "${pass:-0} passed, $(( ${failed:-0} + ${errors:-0} )) failed, ${skipped:-0} skipped"
[ "${pass:-0}" -gt 0 ] || status=1
exit $status
