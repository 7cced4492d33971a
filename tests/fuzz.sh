#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/fuzz.sh -- runs every libFuzzer target: first over its regression
# inputs (tests/fuzz/regress/TARGET/: inputs that once crashed, kept
# forever), then fuzzes for FUZZ_SECONDS (default 20 under make check; `make
# fuzz FUZZ_SECONDS=600` for a long run) from its seed corpus.  A crash
# leaves its input in tests/fuzz/artifacts/ and fails the test.
. "$(dirname "$0")/lib.sh"
secs=${FUZZ_SECONDS:-20}

for t in fuzz_loader fuzz_vm; do
    bin="$top_builddir/tests/fuzz/$t"
    if [ ! -x "$bin" ]; then
        echo "SKIP: $bin not built (clang with libFuzzer missing)"
        exit 77
    fi
    corpus="$top_builddir/tests/fuzz/work/$t"
    art="$top_builddir/tests/fuzz/artifacts/$t/"
    mkdir -p "$corpus" "$art"
    # Seeds: the committed corpus, and for the loader every BPF object built.
    [ -d "$top_srcdir/tests/fuzz/corpus/${t#fuzz_}" ] && \
        cp -f "$top_srcdir/tests/fuzz/corpus/${t#fuzz_}"/* "$corpus"/ 2>/dev/null
    if [ "$t" = fuzz_loader ]; then
        cp -f "$EXAMPLES"/*.o "$PROGS"/*.o "$corpus"/ 2>/dev/null
    fi
    regress="$top_srcdir/tests/fuzz/regress/${t#fuzz_}"
    if [ -d "$regress" ] && [ -n "$(ls "$regress")" ]; then
        if "$bin" "$regress"/* >"$art/regress.log" 2>&1; then
            ok "$t: regression inputs"
        else
            fail "$t: a regression input fails again"; tail -30 "$art/regress.log"
        fi
    fi
    if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$art" -print_final_stats=1 "$corpus" >"$art/run.log" 2>&1; then
        ok "$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$art/run.log" | grep -o '[0-9]*$') runs in ${secs}s, no crash"
    else
        fail "$t: crashed; input saved in $art"; tail -40 "$art/run.log"
    fi
done
finish
