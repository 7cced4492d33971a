#!/usr/bin/env bash
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# scripts/setup.sh -- everything a fresh Debian 12 machine needs, as root:
# the Debian packages oko builds and tests with, hugepages and a hugetlbfs
# mount (DPDK), and the build itself (autoreconf, configure, make).
# Idempotent: run it as often as you like.
#
#   scripts/setup.sh            install, set up hugepages, build
#   scripts/setup.sh --no-build install and set up hugepages only
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=yes
[ "${1:-}" = "--no-build" ] && build=no

say() { printf 'setup: %s\n' "$*"; }

# Build and test dependencies (DPDK-NOTES.md, PEERS.md).
PACKAGES=(
    build-essential autoconf automake libtool pkg-config
    clang llvm libclang-rt-14-dev
    dpdk dpdk-dev libdpdk-dev
    libnng-dev libmsgpack-dev libelf-dev libcunit1-dev libsystemd-dev
    libbpf-dev python3
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "missing packages: ${missing[*]}; run as root"; exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Hugepages for DPDK: only ever raise the count, never unmount (the machine
# may be shared; DPDK-NOTES.md).
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$nr" ]; then
    [ "$(cat "$nr")" -ge 512 ] || echo 512 > "$nr" || say "warning: cannot reserve hugepages"
    mkdir -p /dev/hugepages
    mountpoint -q /dev/hugepages || mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages \
        || say "warning: cannot mount hugetlbfs on /dev/hugepages"
    say "hugepages: $(cat "$nr") x 2 MiB, hugetlbfs on /dev/hugepages"
else
    say "warning: $nr not writable; DPDK processes will not start"
fi

[ "$build" = yes ] || exit 0
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ ! -f Makefile ]; then
    say "autoreconf"
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
    say "configure"
    ./configure -q
fi
say "make"
make -j"$(nproc)"
