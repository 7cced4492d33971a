#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/oko-bpf.sh -- oko-bpf verify/disasm/maps/run as users run them:
# exact output for small programs compiled here and pcaps written here,
# error cases (missing, garbage and rejected programs, broken pcaps), and a
# pass over the example and test objects that make builds.
. "$(dirname "$0")/lib.sh"

: "${CLANG:=clang}"
if [ ! -x "$OKO_BPF" ]; then
    echo "SKIP: $OKO_BPF not built"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is needed to write test pcaps"
    exit 77
fi
# A hung verifier or VM fails the test instead of hanging it.
TIMEOUT=
if command -v timeout >/dev/null 2>&1; then TIMEOUT="timeout 60"; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/oko-bpf-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# run CMD...: runs CMD, leaves its stdout in $out, stderr in $err, exit
# status in $st.
run() {
    $TIMEOUT "$@" >"$T/stdout" 2>"$T/stderr"
    st=$?
    out=$(cat "$T/stdout")
    err=$(cat "$T/stderr")
}

# mkpcap OUT [--be] [--nsec] [--linktype N] LEN:ETHERTYPE...: writes a
# classic pcap of Ethernet frames of the given lengths and EtherTypes.
cat >"$T/mkpcap.py" <<'EOF'
import struct, sys
args = sys.argv[1:]
out = args.pop(0)
order, magic, linktype = '<', 0xa1b2c3d4, 1
frames = []
while args:
    a = args.pop(0)
    if a == '--be':
        order = '>'
    elif a == '--nsec':
        magic = 0xa1b23c4d
    elif a == '--linktype':
        linktype = int(args.pop(0))
    else:
        n, et = a.split(':')
        n, et = int(n), int(et, 16)
        hdr = b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x01' + struct.pack('>H', et)
        frames.append((hdr + bytes((i * 7) & 0xff for i in range(n)))[:n])
with open(out, 'wb') as f:
    f.write(struct.pack(order + 'IHHiIII', magic, 2, 4, 0, 0, 65535, linktype))
    for i, fr in enumerate(frames):
        f.write(struct.pack(order + 'IIII', 1700000000 + i, 1000 * i,
                            len(fr), len(fr)))
        f.write(fr)
EOF
mkpcap() { python3 "$T/mkpcap.py" "$@"; }

# bpfcc NAME: compiles $T/NAME.c into $T/NAME.o.
bpfcc() {
    "$CLANG" -O2 -target bpf -I"$top_srcdir/include" -Wall -Werror \
        -c "$T/$1.c" -o "$T/$1.o"
}

# --- programs -----------------------------------------------------------

cat >"$T/long.c" <<'EOF'
#include <oko_helpers.h>
/* Matches frames longer than 60 bytes. */
oko_u64 entry(void *pkt, oko_u64 len) { return len > 60; }
EOF

cat >"$T/count.c" <<'EOF'
#include <oko_helpers.h>
OKO_MAP(by_type, OKO_MAP_HASH, 2, 8, 16, 0);
OKO_MAP(sizes, OKO_MAP_ARRAY, 4, 8, 4, 0);
/* Counts frames per EtherType and per size class (0: < 100 bytes, 1:
 * larger); matches IPv4. */
oko_u64 entry(void *pkt, oko_u64 len)
{
    oko_u8 *p = pkt;
    oko_u16 et;
    oko_u32 idx = len < 100 ? 0 : 1;
    oko_u64 one = 1, *v;

    if (len < 14)
        return 0;
    et = *(oko_u16 *)(p + 12);
    v = oko_map_lookup(&by_type, &et);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        oko_map_update(&by_type, &et, &one);
    v = oko_map_lookup(&sizes, &idx);
    if (v)
        __sync_fetch_and_add(v, 1);
    if (len == 77)
        oko_printf("odd frame of %d bytes\n", len);
    return et == oko_htons(0x0800);
}
EOF

cat >"$T/unsafe.c" <<'EOF'
#include <oko_helpers.h>
/* Reads byte 100 of the frame without checking the length. */
oko_u64 entry(void *pkt, oko_u64 len) { return ((oko_u8 *)pkt)[100] == 1; }
EOF

cat >"$T/ldabs.c" <<'EOF'
#include <oko_helpers.h>
/* Legacy packet loads (LDABS): matches IPv4; a frame too short for the
 * load ends the program with r0 = 0. */
unsigned long long load_half(void *skb, unsigned long long off)
    asm("llvm.bpf.load.half");
oko_u64 entry(void *pkt, oko_u64 len) { return load_half(pkt, 12) == 0x0800; }
EOF

have_clang=yes
for p in long count unsafe ldabs; do
    if ! bpfcc "$p" 2>"$T/cc.err"; then
        have_clang=no
        echo "note: cannot compile BPF programs with $CLANG:"
        sed 's/^/    /' "$T/cc.err" | head -5
        break
    fi
done

mkpcap "$T/a.pcap" 60:0800 61:0800 14:86dd 120:0800 77:0806 200:86dd
mkpcap "$T/a-be.pcap" --be 60:0800 61:0800 14:86dd 120:0800 77:0806 200:86dd
mkpcap "$T/a-ns.pcap" --nsec 60:0800 61:0800 14:86dd 120:0800 77:0806 200:86dd
mkpcap "$T/short.pcap" 10:0800 200:0800
mkpcap "$T/empty.pcap"
mkpcap "$T/wifi.pcap" --linktype 105 60:0800

# --- usage --------------------------------------------------------------

run "$OKO_BPF" --help
expect_eq "--help exits 0" 0 "$st"
expect_match "--help lists the commands" '^  run PROG.o --pcap F' "$out"
run "$OKO_BPF" run --help
expect_eq "run --help exits 0" 0 "$st"
expect_match "run --help shows the options" '--per-packet' "$out"
run "$OKO_BPF"
expect_eq "no command is a usage error" 2 "$st"
run "$OKO_BPF" frobnicate
expect_eq "unknown command exits 2" 2 "$st"
expect_eq "unknown command: one line" "oko-bpf: unknown command 'frobnicate' (try \`oko-bpf --help\`)" "$err"
run "$OKO_BPF" verify --bogus x.o
expect_eq "unknown option exits 2" 2 "$st"
expect_match "unknown option is named" "^oko-bpf: verify: bad option '--bogus'" "$err"
run "$OKO_BPF" verify
expect_eq "missing file is a usage error" 2 "$st"
run "$OKO_BPF" run "$T/long.o"
expect_eq "run without --pcap is a usage error" 2 "$st"
expect_match "run without --pcap says so" 'missing --pcap' "$err"
run "$OKO_BPF" run "$T/long.o" --pcap "$T/a.pcap" --count 0
expect_eq "--count 0 is a usage error" 2 "$st"

# --- errors on bad input --------------------------------------------------

run "$OKO_BPF" verify "$T/does-not-exist.o"
expect_eq "missing file exits 1" 1 "$st"
expect_match "missing file: message" "^oko-bpf: $T/does-not-exist.o: .*No such file" "$err"
head -c 300 /dev/urandom >"$T/garbage.o"
printf 'this is not an ELF file\n' >>"$T/garbage.o"
run "$OKO_BPF" verify "$T/garbage.o"
expect_eq "garbage file exits 1" 1 "$st"
expect_match "garbage file: one line naming the file" "^oko-bpf: $T/garbage.o: " "$err"
expect_eq "garbage file: nothing on stdout" "" "$out"
for cmd in disasm maps; do
    run "$OKO_BPF" $cmd "$T/garbage.o"
    expect_eq "$cmd of a garbage file exits 1" 1 "$st"
done

if [ "$have_clang" = yes ]; then
    # --- verify ---------------------------------------------------------
    run "$OKO_BPF" verify "$T/long.o"
    expect_eq "verify long.o exits 0" 0 "$st"
    expect_match "verify long.o: OK line" "^$T/long.o: OK \([0-9]+ instructions, 0 maps, [0-9]+ states, max stack [0-9]+ bytes\)$" "$out"
    run "$OKO_BPF" verify "$T/count.o"
    expect_match "verify count.o: 2 maps" "^$T/count.o: OK \([0-9]+ instructions, 2 maps, " "$out"
    run "$OKO_BPF" verify "$T/unsafe.o"
    expect_eq "unsafe program is rejected" 1 "$st"
    expect_match "rejection names insn and register" "^oko-bpf: $T/unsafe.o: insn [0-9]+: r[0-9]+: " "$err"
    expect_eq "rejection: one line" 1 "$(printf '%s\n' "$err" | wc -l)"
    run "$OKO_BPF" verify "$T/long.o" --section nosuch
    expect_eq "unknown section exits 1" 1 "$st"
    expect_match "unknown section is named" 'nosuch' "$err"

    # --- maps -----------------------------------------------------------
    run "$OKO_BPF" maps "$T/count.o"
    expect_eq "maps exits 0" 0 "$st"
    expect_eq "maps lists both maps" "0 by_type hash key 2 value 8 max_entries 16
1 sizes array key 4 value 8 max_entries 4" "$out"
    run "$OKO_BPF" maps "$T/long.o"
    expect_eq "maps of a program without maps: no output" "0:" "$st:$out"

    # --- disasm ---------------------------------------------------------
    run "$OKO_BPF" disasm "$T/long.o"
    expect_eq "disasm exits 0" 0 "$st"
    expect_eq "disasm long.o: first line is the entry label" "entry:" "$(printf '%s\n' "$out" | head -1)"
    expect_match "disasm long.o: exit" '^ +[0-9]+: 95 00 00 00 00 00 00 00  exit$' "$out"
    run "$OKO_BPF" disasm "$T/count.o"
    expect_match "disasm resolves map names" '^ +[0-9]+: 18 [0-9a-f]1 00 00 00 00 00 00 00 00 00 00 00 00 00 00  r1 = map by_type ll$' "$out"
    expect_match "disasm resolves the second map" '  r1 = map sizes ll$' "$out"
    expect_match "disasm names helpers" '  call 1 \(oko_map_lookup\)$' "$out"
    expect_match "disasm shows atomics" '  lock \*\(u64 \*\)\(r[0-9] \+ 0\) \+= r[0-9]$' "$out"
    expect_match "disasm shows printf strings" ' ll  ; "odd frame of %d bytes\\n"$' "$out"
    llvm=$(command -v llvm-objdump || true)
    if [ -n "$llvm" ]; then
        expect_eq "disasm: as many instructions as llvm-objdump" \
            "$("$llvm" -d "$T/count.o" | grep -cE '^ +[0-9]+:')" \
            "$(printf '%s\n' "$out" | grep -cE '^ +[0-9]+:')"
    fi

    # --- run ------------------------------------------------------------
    run "$OKO_BPF" run "$T/long.o" --pcap "$T/a.pcap"
    expect_eq "run long.o exits 0" 0 "$st"
    expect_eq "run long.o: summary" "packets 6 matched 4 not-matched 2" "$out"
    run "$OKO_BPF" run "$T/long.o" --pcap "$T/a.pcap" -p
    expect_eq "run -p: one line per packet" "pkt 1 len 60 r0 0x0 no-match
pkt 2 len 61 r0 0x1 match
pkt 3 len 14 r0 0x0 no-match
pkt 4 len 120 r0 0x1 match
pkt 5 len 77 r0 0x1 match
pkt 6 len 200 r0 0x1 match
packets 6 matched 4 not-matched 2" "$out"
    run "$OKO_BPF" run "$T/long.o" --pcap "$T/a-be.pcap"
    expect_eq "big-endian pcap" "packets 6 matched 4 not-matched 2" "$out"
    run "$OKO_BPF" run "$T/long.o" --pcap "$T/a-ns.pcap"
    expect_eq "nanosecond pcap" "packets 6 matched 4 not-matched 2" "$out"
    run "$OKO_BPF" run --count 2 --per-packet --pcap "$T/a.pcap" "$T/long.o"
    expect_eq "--count 2, options before PROG.o" "pkt 1 len 60 r0 0x0 no-match
pkt 2 len 61 r0 0x1 match
packets 2 matched 1 not-matched 1" "$out"
    run "$OKO_BPF" run "$T/long.o" --pcap "$T/empty.pcap"
    expect_eq "empty pcap" "0:packets 0 matched 0 not-matched 0" "$st:$out"

    run "$OKO_BPF" run "$T/count.o" --pcap "$T/a.pcap"
    expect_eq "run count.o exits 0" 0 "$st"
    expect_eq "run count.o: summary and maps" "packets 6 matched 3 not-matched 3
map 0 by_type (hash, key 2, value 8, max_entries 16): 3 entries
  key 0800 value 0300000000000000
  key 0806 value 0100000000000000
  key 86dd value 0200000000000000
map 1 sizes (array, key 4, value 8, max_entries 4): 2 non-zero
  key 00000000 value 0400000000000000
  key 01000000 value 0200000000000000" "$out"
    expect_match "oko_printf goes to stderr" 'odd frame of 77 bytes' "$err"
    run "$OKO_BPF" run "$T/count.o" --pcap "$T/a.pcap" -q
    expect_eq "run -q: no maps" "packets 6 matched 3 not-matched 3" "$out"

    run "$OKO_BPF" run "$T/ldabs.o" --pcap "$T/short.pcap" -p
    expect_eq "LDABS: out-of-range load gives 0" "0:pkt 1 len 10 r0 0x0 no-match
pkt 2 len 200 r0 0x1 match
packets 2 matched 1 not-matched 1" "$st:$out"
    run "$OKO_BPF" disasm "$T/ldabs.o"
    expect_match "disasm shows LDABS" '^ +[0-9]+: 28 00 00 00 0c 00 00 00  r0 = \*\(u16 \*\)skb\[12\]$' "$out"

    # Errors while running.
    run "$OKO_BPF" run "$T/unsafe.o" --pcap "$T/a.pcap"
    expect_eq "run of a rejected program exits 1" 1 "$st"
    expect_match "run of a rejected program: verifier message" "^oko-bpf: $T/unsafe.o: insn [0-9]+: r[0-9]+: " "$err"
    run "$OKO_BPF" run "$T/unsafe.o" --pcap "$T/short.pcap" --no-verify -p
    expect_eq "--no-verify: a fault exits 1" 1 "$st"
    expect_eq "--no-verify: faulting packet counted as not matched" "pkt 1 len 10 error
pkt 2 len 200 r0 0x0 no-match
packets 2 matched 0 not-matched 2" "$out"
    expect_match "--no-verify: the fault is reported" '^oko-bpf: pkt 1: ' "$err"

    for bad in empty-file bad-magic trunc-header trunc-record trunc-data pcapng wifi; do
        case $bad in
        empty-file) : >"$T/bad.pcap"; want='too short' ;;
        bad-magic) printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' >"$T/bad.pcap"; want='not a pcap file' ;;
        trunc-header) head -c 20 "$T/a.pcap" >"$T/bad.pcap"; want='truncated file header' ;;
        trunc-record) head -c 32 "$T/a.pcap" >"$T/bad.pcap"; want='record 1: truncated header' ;;
        trunc-data) head -c 90 "$T/a.pcap" >"$T/bad.pcap"; want='record 1: truncated data' ;;
        pcapng) printf '\012\015\015\012\034\000\000\000\115\074\053\032' >"$T/bad.pcap"; want='pcapng' ;;
        wifi) cp "$T/wifi.pcap" "$T/bad.pcap"; want='link type 105 is not Ethernet' ;;
        esac
        run "$OKO_BPF" run "$T/long.o" --pcap "$T/bad.pcap"
        expect_eq "pcap $bad: exits 1" 1 "$st"
        expect_match "pcap $bad: clear message" "^oko-bpf: $T/bad.pcap: .*$want" "$err"
        expect_eq "pcap $bad: no summary" "" "$out"
    done
    run "$OKO_BPF" run "$T/long.o" --pcap "$T/nosuch.pcap"
    expect_eq "missing pcap exits 1" 1 "$st"
    expect_match "missing pcap: message" "nosuch.pcap: No such file" "$err"
fi

# --- disasm --raw: every instruction form, exact text ----------------------

python3 - "$T/raw.bin" <<'EOF'
import struct, sys
def i(code, dst=0, src=0, off=0, imm=0):
    return struct.pack('<BBhI', code, dst | (src << 4), off, imm & 0xffffffff)
p = b''.join([
    i(0xb7, 0, imm=42),             # r0 = 42
    i(0xbf, 1, 2),                  # r1 = r2
    i(0x07, 2, imm=-4),             # r2 += -4
    i(0x0c, 1, 2),                  # w1 += w2
    i(0x87, 3),                     # r3 = -r3
    i(0xdc, 1, imm=16),             # r1 = be16 r1
    i(0xd4, 1, imm=64),             # r1 = le64 r1
    i(0xc7, 4, imm=3),              # r4 s>>= 3
    i(0x71, 2, 1, 27),              # r2 = *(u8 *)(r1 + 27)
    i(0x69, 0, 1, 12),              # r0 = *(u16 *)(r1 + 12)
    i(0x7b, 10, 1, -16),            # *(u64 *)(r10 - 16) = r1
    i(0x62, 10, 0, -4, 7),          # *(u32 *)(r10 - 4) = 7
    i(0x25, 2, 0, 45, 0x22),        # if r2 > 0x22 goto +45
    i(0x6d, 1, 2, -3),              # if r1 s> r2 goto -3
    i(0x16, 1, 0, 1, 8),            # if w1 == 8 goto +1
    i(0x05, 0, 0, 2),               # goto +2
    i(0x85, 0, 0, 0, 1),            # call 1 (oko_map_lookup)
    i(0x85, 0, 1, 0, 3),            # call +3
    i(0xdb, 0, 1, 0, 0x00),         # lock *(u64 *)(r0 + 0) += r1
    i(0xc3, 2, 3, 8, 0x01),         # w3 = atomic_fetch_add((u32 *)(r2 + 8), w3)
    i(0xdb, 1, 2, 0, 0xf1),         # r0 = cmpxchg_64(r1 + 0, r0, r2)
    i(0x28, imm=12),                # r0 = *(u16 *)skb[12]
    i(0x50, 0, 3, imm=2),           # r0 = *(u8 *)skb[r3 + 2]
    i(0x18, 1, imm=0x9abcdef0), i(0, imm=0x12345678),
    i(0xff, 1, 2),                  # invalid
    i(0x95),                        # exit
    i(0x18, 2, imm=5),              # lddw cut short at the end
])
open(sys.argv[1], 'wb').write(p)
EOF
run "$OKO_BPF" disasm --raw "$T/raw.bin"
expect_eq "disasm --raw exits 0" 0 "$st"
expect_eq "disasm --raw: exact text" "   0: b7 00 00 00 2a 00 00 00  r0 = 42
   1: bf 21 00 00 00 00 00 00  r1 = r2
   2: 07 02 00 00 fc ff ff ff  r2 += -4
   3: 0c 21 00 00 00 00 00 00  w1 += w2
   4: 87 03 00 00 00 00 00 00  r3 = -r3
   5: dc 01 00 00 10 00 00 00  r1 = be16 r1
   6: d4 01 00 00 40 00 00 00  r1 = le64 r1
   7: c7 04 00 00 03 00 00 00  r4 s>>= 3
   8: 71 12 1b 00 00 00 00 00  r2 = *(u8 *)(r1 + 27)
   9: 69 10 0c 00 00 00 00 00  r0 = *(u16 *)(r1 + 12)
  10: 7b 1a f0 ff 00 00 00 00  *(u64 *)(r10 - 16) = r1
  11: 62 0a fc ff 07 00 00 00  *(u32 *)(r10 - 4) = 7
  12: 25 02 2d 00 22 00 00 00  if r2 > 0x22 goto +45 <58>
  13: 6d 21 fd ff 00 00 00 00  if r1 s> r2 goto -3 <11>
  14: 16 01 01 00 08 00 00 00  if w1 == 8 goto +1 <16>
  15: 05 00 02 00 00 00 00 00  goto +2 <18>
  16: 85 00 00 00 01 00 00 00  call 1 (oko_map_lookup)
  17: 85 10 00 00 03 00 00 00  call +3 <21>
  18: db 10 00 00 00 00 00 00  lock *(u64 *)(r0 + 0) += r1
  19: c3 32 08 00 01 00 00 00  w3 = atomic_fetch_add((u32 *)(r2 + 8), w3)
  20: db 21 00 00 f1 00 00 00  r0 = cmpxchg_64(r1 + 0, r0, r2)
  21: 28 00 00 00 0c 00 00 00  r0 = *(u16 *)skb[12]
  22: 50 30 00 00 02 00 00 00  r0 = *(u8 *)skb[r3 + 2]
  23: 18 01 00 00 f0 de bc 9a 00 00 00 00 78 56 34 12  r1 = 0x123456789abcdef0 ll
  25: ff 21 00 00 00 00 00 00  invalid opcode 0xff
  26: 95 00 00 00 00 00 00 00  exit
  27: 18 02 00 00 05 00 00 00  invalid lddw (missing second slot)" "$out"
printf 'abc' >"$T/odd.bin"
run "$OKO_BPF" disasm --raw "$T/odd.bin"
expect_eq "disasm --raw of 3 bytes exits 1" 1 "$st"
expect_match "disasm --raw of 3 bytes: message" 'not a multiple of 8' "$err"
head -c 4096 /dev/urandom >"$T/random.bin"
run "$OKO_BPF" disasm --raw "$T/random.bin"
expect_eq "disasm --raw of random bytes exits 0" 0 "$st"

# --- the objects make builds -------------------------------------------------

# Every example and test object verifies, lists its maps, disassembles
# without an invalid instruction, and runs over its pcap (the one named
# after it, else demo.pcap); the -O2, -mcpu=v3 and -g builds of one example
# must match the same packets.
nobj=0
for o in "$EXAMPLES"/*.o "$PROGS"/*.o; do
    [ -f "$o" ] || continue
    nobj=$((nobj + 1))
    name=${o#"$top_builddir"/}
    run "$OKO_BPF" verify "$o"
    expect_match "verify $name" "^$o: OK \([0-9]+ instructions, [0-9]+ maps, " "$out"
    nmaps=$(printf '%s\n' "$out" | sed -n 's/.* instructions, \([0-9]*\) maps.*/\1/p')
    run "$OKO_BPF" maps "$o"
    expect_eq "maps $name exits 0" 0 "$st"
    expect_eq "maps $name: every line well-formed" "" "$(printf '%s\n' "$out" | grep . | grep -vE '^[0-9]+ [A-Za-z_][A-Za-z0-9_.]* (array|hash|bloom|count-min) key [0-9]+ value [0-9]+ max_entries [0-9]+( hashes [0-9]+)?$')"
    if [ -n "$nmaps" ]; then
        expect_eq "maps $name: as many maps as verify counts" "$nmaps" "$(printf '%s' "$out" | grep -c .)"
    fi
    run "$OKO_BPF" disasm "$o"
    expect_eq "disasm $name exits 0" 0 "$st"
    expect_eq "disasm $name: no invalid instruction" "" "$(printf '%s\n' "$out" | grep invalid)"
    base=${o##*/}
    base=${base%.o}
    base=${base%.v3}
    base=${base%.g}
    pcap=$PCAPS/$base.pcap
    [ -f "$pcap" ] || pcap=$PCAPS/demo.pcap
    [ -f "$pcap" ] || continue
    run "$OKO_BPF" run "$o" --pcap "$pcap" -q
    expect_match "run $name on ${pcap##*/}" '^packets [0-9]+ matched [0-9]+ not-matched [0-9]+$' "$out"
    case $o in
    */examples/bpf/*.v3.o|*/examples/bpf/*.g.o)
        if [ -f "$EXAMPLES/$base.o" ]; then
            summary=$out
            run "$OKO_BPF" run "$EXAMPLES/$base.o" --pcap "$pcap" -q
            expect_eq "run $name: same result as $base.o" "$out" "$summary"
        fi
        ;;
    esac
done
if [ "$nobj" -eq 0 ]; then
    echo "note: no example or test objects built yet in $EXAMPLES, $PROGS"
fi

finish
