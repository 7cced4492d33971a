#!/bin/sh
# Copyright 2026 The oko authors.
# SPDX-License-Identifier: Apache-2.0
#
# tests/plugin.sh -- `oko-bpf plugin`, driven the way the bpf_conformance
# runner drives a plugin: the program as one line of hex bytes on stdin,
# the input memory as the first argument ("%02x  " per byte, possibly
# empty), the runner's --plugin_options as the second (possibly empty);
# the result is r0 in lowercase hex on stdout and exit status 0, or a
# non-zero status with the error on stdout and stderr.
. "$(dirname "$0")/lib.sh"

: "${CLANG:=clang}"
if [ ! -x "$OKO_BPF" ]; then
    echo "SKIP: $OKO_BPF not built"
    exit 77
fi
# A hung verifier or VM fails the test instead of hanging it.
TIMEOUT=
if command -v timeout >/dev/null 2>&1; then TIMEOUT="timeout 60"; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/oko-plugin-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# plugin MEM PROGRAM [ARGS...]: runs the plugin with PROGRAM on stdin;
# leaves stdout in $out, stderr in $err, the exit status in $st.
plugin() {
    _mem=$1 _prog=$2
    shift 2
    printf '%s\n' "$_prog" | $TIMEOUT "$OKO_BPF" plugin "$_mem" "$@" >"$T/stdout" 2>"$T/stderr"
    st=$?
    out=$(cat "$T/stdout")
    err=$(cat "$T/stderr")
}

EXIT="95 00 00 00 00 00 00 00"

# --- the example of the runner's documentation ------------------------------

plugin "" "b7 00 00 00 2a 00 00 00 $EXIT"
expect_eq "r0 = 42; exit" "0:2a" "$st:$out"
expect_eq "nothing on stderr" "" "$err"

# --- a table of programs: expected r0 | memory | instructions ----------------

while IFS='|' read -r want mem prog; do
    case $want in ''|'#'*) continue ;; esac
    plugin "$mem" "$prog $EXIT" ""
    expect_eq "${prog%% *}...: r0 = $want" "0:$want" "$st:$out"
done <<'EOF'
# mov, 64-bit add
3||b7 00 00 00 01 00 00 00 07 00 00 00 02 00 00 00
# lddw 0x100000000, then r0 *= 3: 64-bit multiply
300000000||18 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 27 00 00 00 03 00 00 00
# w0 = -1; w0 += 2: 32-bit wrap-around clears the upper half
1||b4 00 00 00 ff ff ff ff 04 00 00 00 02 00 00 00
# r0 = 7; r1 = 0; r0 /= r1: division by zero gives 0
0||b7 00 00 00 07 00 00 00 b7 01 00 00 00 00 00 00 3f 10 00 00 00 00 00 00
# r0 = 7; r1 = 0; r0 %= r1: modulo by zero leaves r0
7||b7 00 00 00 07 00 00 00 b7 01 00 00 00 00 00 00 9f 10 00 00 00 00 00 00
# w0 = 7; w0 /= 0 (immediate)
0||b4 00 00 00 07 00 00 00 34 00 00 00 00 00 00 00
# r0 = 5; r0 = -r0
fffffffffffffffb||b7 00 00 00 05 00 00 00 87 00 00 00 00 00 00 00
# r0 = -16; r0 s>>= 2
fffffffffffffffc||b7 00 00 00 f0 ff ff ff c7 00 00 00 02 00 00 00
# r0 = -1; r0 >>= 60
f||b7 00 00 00 ff ff ff ff 77 00 00 00 3c 00 00 00
# r0 = 0x1234; r0 = be16 r0
3412||b7 00 00 00 34 12 00 00 dc 00 00 00 10 00 00 00
# r0 = 0; r1 = 5; if r1 > 3 goto +1; exit; r0 = 1
1||b7 00 00 00 00 00 00 00 b7 01 00 00 05 00 00 00 25 01 01 00 03 00 00 00 95 00 00 00 00 00 00 00 b7 00 00 00 01 00 00 00
# r0 = 1; r1 = -1; if r1 s> 0 goto +1; exit; r0 = 2: signed compare
1||b7 00 00 00 01 00 00 00 b7 01 00 00 ff ff ff ff 65 01 01 00 00 00 00 00 95 00 00 00 00 00 00 00 b7 00 00 00 02 00 00 00
# r1 = 0x100000001; r0 = 0; if w1 == 1 goto +1; exit; r0 = 1: jmp32
1||18 01 00 00 01 00 00 00 00 00 00 00 01 00 00 00 b7 00 00 00 00 00 00 00 16 01 01 00 01 00 00 00 95 00 00 00 00 00 00 00 b7 00 00 00 01 00 00 00
# sum 10 + 9 + ... + 1 in a loop
37||b7 00 00 00 00 00 00 00 b7 01 00 00 0a 00 00 00 0f 10 00 00 00 00 00 00 17 01 00 00 01 00 00 00 55 01 fd ff 00 00 00 00
# stack: *(u32 *)(r10 - 4) = 0x11223344; r0 = *(u16 *)(r10 - 4)
3344||b7 01 00 00 44 33 22 11 63 1a fc ff 00 00 00 00 69 a0 fc ff 00 00 00 00
# atomic add on the stack: 5 + 3
8||b7 01 00 00 05 00 00 00 7b 1a f8 ff 00 00 00 00 b7 02 00 00 03 00 00 00 db 2a f8 ff 00 00 00 00 79 a0 f8 ff 00 00 00 00
# r0 = *(u8 *)(r1 + 2) from memory
33|11  22  33  44  |71 10 02 00 00 00 00 00
# *(u32 *)(r1 + 0) = 0xdeadbeef; r0 = *(u32 *)(r1 + 0): memory is writable
deadbeef|00  00  00  00  |62 01 00 00 ef be ad de 61 10 00 00 00 00 00 00
# r0 = r2: the memory's length
5|01  02  03  04  05  |bf 20 00 00 00 00 00 00
# r0 = *(u64 *)(r1 + 0): little-endian load
807060504030201|01  02  03  04  05  06  07  08  |79 10 00 00 00 00 00 00
# r2 = 0; call 6 (oko_hash): hashlittle("", 0, 0)
deadbeef|00  |b7 02 00 00 00 00 00 00 85 00 00 00 06 00 00 00
# call +1; exit; r0 = 7; exit: a local function
7||85 10 00 00 01 00 00 00 95 00 00 00 00 00 00 00 b7 00 00 00 07 00 00 00
EOF

# --- input formats ------------------------------------------------------------

plugin "" "b7000000ff000000$(printf '%s' "$EXIT" | tr -d ' ')"
expect_eq "hex without spaces" "0:ff" "$st:$out"
plugin "" "b7  00  00  00  10  00  00  00  95  00  00  00  00  00  00  00  "
expect_eq "hex as the runner writes it (two spaces)" "0:10" "$st:$out"
printf 'b7 00 00 00 11 00 00 00 %s\r\n' "$EXIT" | "$OKO_BPF" plugin "" >"$T/stdout" 2>&1
expect_eq "CRLF line end" "0:11" "$?:$(cat "$T/stdout")"
plugin "" "B7 00 00 00 AB 00 00 00 $EXIT"
expect_eq "upper-case hex" "0:ab" "$st:$out"

# --- options --------------------------------------------------------------------

for opts in "" "--interpret" "--jit" "--jit --elf-no"; do
    plugin "" "b7 00 00 00 2a 00 00 00 $EXIT" "$opts"
    case $opts in
    *--elf-no) expect_eq "unknown option in '$opts' is a usage error" 2 "$st" ;;
    *) expect_eq "options '$opts'" "0:2a" "$st:$out" ;;
    esac
done
printf '' | "$OKO_BPF" plugin "" --program "b7 00 00 00 2b 00 00 00 $EXIT" >"$T/stdout" 2>&1
expect_eq "--program HEX instead of stdin" "0:2b" "$?:$(cat "$T/stdout")"
ln -s "$OKO_BPF" "$T/oko-bpf-plugin"
printf 'b7 00 00 00 2c 00 00 00 %s\n' "$EXIT" | "$T/oko-bpf-plugin" "" "" >"$T/stdout" 2>&1
expect_eq "invoked as oko-bpf-plugin (for the runner's --plugin_path)" "0:2c" "$?:$(cat "$T/stdout")"
"$OKO_BPF" plugin --help >"$T/stdout" 2>&1
expect_eq "plugin --help" "0" "$?"
plugin "" "$EXIT" "" "extra"
expect_eq "a third argument is a usage error" 2 "$st"

# --- errors: non-zero exit, one line on stderr, the message on stdout -----------

# expect_error WHAT REGEX: the last plugin run failed with REGEX on stderr.
expect_error() {
    if [ "$st" -ne 0 ] && [ "$st" -lt 128 ]; then ok "$1: exit $st"; else fail "$1: exit status $st"; fi
    expect_match "$1: message on stderr" "^oko-bpf: plugin: $2" "$err"
    expect_eq "$1: one line on stderr" 1 "$(printf '%s\n' "$err" | wc -l)"
    expect_match "$1: message on stdout" "$2" "$out"
}

plugin "01  02  " "71 10 0a 00 00 00 00 00 $EXIT"
expect_error "load past the end of memory" "Failed to execute program: "
plugin "" "71 10 00 00 00 00 00 00 $EXIT"
expect_error "load through r1 without memory" "Failed to execute program: "
plugin "" "7a 0a 00 02 01 00 00 00 $EXIT"
expect_error "store past the top of the stack" "Failed to execute program: "
plugin "" "ff 00 00 00 00 00 00 00 $EXIT"
expect_error "invalid opcode" "Failed to (load|verify) code: "
plugin "" "05 00 05 00 00 00 00 00 $EXIT"
expect_error "jump out of the program" "Failed to (load|verify) code: "
plugin "" "b7 00 00 00 01 00 00 00"
expect_error "no exit" "Failed to (load|verify) code: "
plugin "" "85 00 00 00 e7 03 00 00 $EXIT"
expect_error "unknown helper 999" "Failed to (load|verify) code: "
plugin "" "b7 00 00"
expect_error "length not a multiple of 8" "program length 3 is not a multiple of 8"
plugin "" "b7 00 zz"
expect_error "bad hex" "bad program: bad hex digit 'z'"
plugin "" ""
expect_error "empty program" "empty program"
plugin "zz" "$EXIT"
expect_error "bad memory" "bad memory argument: "
"$OKO_BPF" plugin "" </dev/null >"$T/stdout" 2>"$T/stderr"
st=$? out=$(cat "$T/stdout") err=$(cat "$T/stderr")
expect_error "no input at all" "no program on standard input"

# --- the data-driven VM tests (tests/vm/*.data) through the plugin ------------

# Each .data file becomes what the runner would send: the program as hex on
# stdin, the memory as "%02x  " bytes.  A "-- result" test must print that
# value, an "-- error" test must fail.  call-recursive is rejected by the
# structural verifier (no recursion), which the plain VM allows.
VM_KNOWN_REJECTED="call-recursive.data"
if command -v python3 >/dev/null 2>&1 && [ -d "$top_srcdir/tests/vm" ]; then
    cat >"$T/vmdata.py" <<'PYEOF'
import sys, os, glob, struct
def num(s):
    return int(s, 0)
for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.data'))):
    sec = None; prog = b''; mem = None; result = None; error = None
    for line in open(path):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        if line.startswith('-- '):
            sec = line[3:].strip()
            if sec == 'mem': mem = b''
            continue
        f = line.split()
        if sec == 'raw':
            if f[0] == 'lddw':
                v = num(f[2]) & (2**64 - 1)
                prog += struct.pack('<BBhI', 0x18, num(f[1]), 0, v & 0xffffffff)
                prog += struct.pack('<BBhI', 0, 0, 0, v >> 32)
            elif len(f) == 5:
                prog += struct.pack('<BBhI', int(f[0], 16), num(f[1]) | num(f[2]) << 4,
                                    num(f[3]), num(f[4]) & 0xffffffff)
            else:
                prog += bytes.fromhex(''.join(f))
        elif sec == 'mem':
            mem += bytes.fromhex(''.join(f))
        elif sec == 'result':
            result = num(line) & (2**64 - 1)
        elif sec == 'error':
            error = line
    memhex = ''.join('%02x  ' % b for b in mem) if mem is not None else ''
    want = ('%x' % result) if result is not None else 'error'
    print('%s|%s|%s|%s' % (os.path.basename(path), want, memhex, prog.hex(' ')))
PYEOF
    python3 "$T/vmdata.py" "$top_srcdir/tests/vm" >"$T/vm.lst"
    nvm=0
    while IFS='|' read -r name want mem prog; do
        nvm=$((nvm + 1))
        plugin "$mem" "$prog" ""
        case " $VM_KNOWN_REJECTED " in
        *" $name "*)
            expect_match "vm $name: rejected by the verifier" "Failed to verify code" "$out"
            continue ;;
        esac
        if [ "$want" = error ]; then
            if [ "$st" -ne 0 ] && [ "$st" -lt 128 ]; then ok "vm $name: fails"; else fail "vm $name: expected an error, got $st:$out"; fi
        else
            expect_eq "vm $name" "0:$want" "$st:$out"
        fi
    done <"$T/vm.lst"
    if [ "$nvm" -ge 60 ]; then ok "$nvm .data tests run"; else fail "only $nvm .data tests found in $top_srcdir/tests/vm"; fi
else
    echo "note: python3 or tests/vm missing; .data tests skipped"
fi

# --- ELF objects (--elf) -----------------------------------------------------------

# hexof FILE: the bytes of FILE as hex pairs separated by spaces.
hexof() { od -An -v -tx1 "$1" | tr -s ' \n' '  '; }

cat >"$T/len.c" <<'EOF'
#include <oko_helpers.h>
oko_u64 entry(void *mem, oko_u64 len) { return len * 2 + 1; }
EOF
cat >"$T/map.c" <<'EOF'
#include <oko_helpers.h>
OKO_MAP(m, OKO_MAP_HASH, 4, 8, 4, 0);
/* Stores 0x1234 + mem[0] under key 1 and reads it back through a lookup. */
oko_u64 entry(void *mem, oko_u64 len)
{
    oko_u32 k = 1;
    oko_u64 v = 0x1234, *p;

    if (len < 1)
        return 98;
    v += *(oko_u8 *)mem;
    if (oko_map_update(&m, &k, &v))
        return 97;
    p = oko_map_lookup(&m, &k);
    return p ? *p : 99;
}
EOF
if "$CLANG" -O2 -target bpf -I"$top_srcdir/include" -c "$T/len.c" -o "$T/len.o" 2>/dev/null &&
   "$CLANG" -O2 -target bpf -I"$top_srcdir/include" -c "$T/map.c" -o "$T/map.o" 2>/dev/null; then
    plugin "01  02  03  " "$(hexof "$T/len.o")" "--elf"
    expect_eq "--elf: program from an ELF object" "0:7" "$st:$out"
    plugin "01  02  03  " "$(hexof "$T/len.o")" "--elf --jit"
    expect_eq "--elf --jit in one options argument" "0:7" "$st:$out"
    plugin "05  " "$(hexof "$T/map.o")" "--elf"
    expect_eq "--elf: maps work" "0:1239" "$st:$out"
    plugin "" "$(hexof "$T/len.o" | cut -c1-300)" "--elf"
    expect_error "--elf with a truncated object" "Failed to load code: "
    plugin "" "b7 00 00 00 2a 00 00 00 $EXIT" "--elf"
    expect_error "--elf with raw instructions" "Failed to load code: "
else
    echo "note: $CLANG cannot compile BPF programs; --elf tests skipped"
fi

finish
