#!/usr/bin/env bash
# Regenerates the committed seed corpora in fuzz/seeds/<target>/. The registry, table
# and .reg seeds are written by the real producers (the hvsock CLI: `service add`,
# `vm add`, `service export`); the binary wire formats are spelled out byte by byte
# from the layouts in crates/hvsock/src/{addr,handshake}.rs. Deterministic: ids are
# given explicitly, so running it again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p hvsock-cli
HV="$PWD/target/debug/hvsock"
S="$PWD/fuzz/seeds"
rm -rf "$S"
for t in guid_text addr_syntax sockaddr_hv registry_toml partitions_toml reg_import preamble hybrid_reply agent_frames copy_stream proc_stat hcs_document key_files authorized_keys agent_pins stats_file; do
    mkdir -p "$S/$t"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HVSOCK_CONFIG_DIR="$tmp/config" HVSOCK_RUNTIME_DIR="$tmp/run"

# seed TARGET NAME: stdin -> fuzz/seeds/TARGET/NAME
seed() { cat >"$S/$1/$2"; }

# guid_text
printf '999e53d4-3d5c-4c3e-8779-bed06ec056e1' | seed guid_text plain
printf '{999E53D4-3D5C-4C3E-8779-BED06EC056E1}' | seed guid_text braces
printf '00001388-facb-11e6-bd58-64006a7986d3' | seed guid_text vsock-template
printf 'parent' | seed guid_text wildcard
printf 'BroadCast' | seed guid_text wildcard-case
printf '999e53d4-3d5c-4c3e-8779-bed06ec056e' | seed guid_text short
printf '999e53d4+3d5c-4c3e-8779-bed06ec056e1' | seed guid_text hyphen
printf '{999e53d4-3d5c-4c3e-8779-bed06ec056e1' | seed guid_text brace
printf '999e53d4-3d5c-4c3e-8779-bed06ec056é' | seed guid_text non-ascii

# addr_syntax (names match the fixture registry/table in fuzz_targets/addr_syntax.rs)
printf 'parent:VM Session Service' | seed addr_syntax name
printf 'any:vsock:5000' | seed addr_syntax vsock-dec
printf 'zero:VSOCK:0X1388' | seed addr_syntax vsock-hex
printf 'broadcast:with:colon' | seed addr_syntax colon-name
printf 'fc1:echo' | seed addr_syntax vm-name
printf 'local one: spaced ' | seed addr_syntax spaces
printf '0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22:{999E53D4-3D5C-4C3E-8779-BED06EC056E1}' | seed addr_syntax guids
printf 'parent:vsock:4294967296' | seed addr_syntax bad-port
printf 'nosuch:999e53d4-3d5c-4c3e-8779-bed06ec05' | seed addr_syntax bad-guid

# Registry and partition table, written by the CLI.
"$HV" service add "VM Session Service" --id 999E53D4-3D5C-4C3E-8779-BED06EC056E1 >/dev/null
"$HV" service add web --vsock-port 8080 >/dev/null
"$HV" service add 'quote " back \ slash é' --id 5b2c1a3e-7d4f-4e6a-9c8b-1f2e3d4c5b6a >/dev/null
"$HV" service add off --vsock-port 0x2000 >/dev/null
"$HV" service disable off >/dev/null
cp "$HVSOCK_CONFIG_DIR/services.toml" "$S/registry_toml/cli"
"$HV" vm add fc1 --id 5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11 --hybrid /run/fc1/v.sock >/dev/null
"$HV" vm add qemu1 --id 0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22 --cid 3 >/dev/null
"$HV" vm add box --id 7a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b --local >/dev/null
cp "$HVSOCK_CONFIG_DIR/partitions.toml" "$S/partitions_toml/cli"
printf '' | seed registry_toml empty
printf '' | seed partitions_toml empty
cat <<'T' | seed registry_toml hand-edited
# edited by hand
[[service]]
id = "{00001F90-FACB-11E6-BD58-64006A7986D3}"
name = "web"

[[service]]
id = "00001f91-facb-11e6-bd58-64006a7986d3"
name = "web"
enabled = false
T
cat <<'T' | seed partitions_toml hand-edited
partition = [
  { id = "5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11", name = "a", kind = "cid", cid = 3 },
  { id = "5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b12", name = "b", kind = "hybrid", path = "rel/v.sock" },
]
T
# Regressions: names that addresses trim into a GUID, wildcard or vsock port.
printf '[[service]]\nid = "5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11"\nname = " vsock:5"\n' | seed registry_toml trimmed-vsock
printf '[[service]]\nid = "5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11"\nname = " "\n' | seed registry_toml only-spaces
printf '[[partition]]\nid = "5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11"\nname = " parent"\nkind = "local"\n' | seed partitions_toml trimmed-wildcard

# reg_import: regedit's UTF-16LE form, from `hvsock service export`, and REGEDIT4.
"$HV" service export --format reg -o "$S/reg_import/export-utf16le.reg" >/dev/null
cat <<'T' | sed 's/$/\r/' | seed reg_import regedit4.reg
REGEDIT4

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices]

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices\999E53D4-3D5C-4C3E-8779-BED06EC056E1]
"ElementName"="VM Session Service"
"Other"=dword:00000001

[HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices\00001F90-FACB-11E6-BD58-64006A7986D3]
@="default"
"ElementName"="web \"q\" \\ x"
"Bin"=hex:01,02,\
  03,04

[-HKEY_CURRENT_USER\Software\Other]
; comment
T
printf 'REGEDIT4\r\n\r\n[HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\00002000-FACB-11E6-BD58-64006A7986D3]\r\n"ElementName"="caf\xe9 \x80"\r\n' \
    | seed reg_import cp1252.reg

# preamble: HVSK, version 1, 3 reserved zeros, caller GUID, service GUID (both LE).
vmss_le='\xd4\x53\x9e\x99\x5c\x3d\x3e\x4c\x87\x79\xbe\xd0\x6e\xc0\x56\xe1'
parent_le='\xda\x7c\x2e\xa4\x3f\xd0\x0c\x48\x9c\xc2\xa4\xde\x20\xab\xb8\x78'
zero16='\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
printf "HVSK\\x01\\x00\\x00\\x00${zero16}${vmss_le}" | seed preamble root-caller
printf "HVSK\\x01\\x00\\x00\\x00${parent_le}${vmss_le}data after" | seed preamble with-data
printf 'HVSK\x01\x00' | seed preamble partial
printf 'HVSK\x02\x00\x00\x00' | seed preamble version2
printf 'HV\x01\x00' | seed preamble reply-ok
printf 'HV\x01\x01\x15\x00service x is disabled' | seed preamble reply-denied
printf 'HV\x01\x04\xff\xff\xc3' | seed preamble reply-busy-truncated

# sockaddr_hv: family 34 (LE), reserved 0, VmId, ServiceId (both LE).
printf "\\x22\\x00\\x00\\x00${parent_le}${vmss_le}" | seed sockaddr_hv parent
printf "\\x22\\x00\\x00\\x00${zero16}\\x88\\x13\\x00\\x00\\xcb\\xfa\\xe6\\x11\\xbd\\x58\\x64\\x00\\x6a\\x79\\x86\\xd3" | seed sockaddr_hv any-vsock
printf "\\x28\\x00\\x00\\x00${zero16}${zero16}" | seed sockaddr_hv af-vsock
printf "\\x22\\x00\\x01\\x00${zero16}${zero16}" | seed sockaddr_hv reserved

# hybrid_reply: what Firecracker / Cloud Hypervisor / vhost-device-vsock answer.
printf 'OK 1073741824\n' | seed hybrid_reply firecracker
printf 'OK 5000\nguest data' | seed hybrid_reply with-data
printf 'OK' | seed hybrid_reply partial
printf 'ERROR no listener\n' | seed hybrid_reply refused
printf 'OK 11111111111111111111111111111111111111111111111111111111111111111111\n' | seed hybrid_reply too-long

# key_files, authorized_keys, agent_pins (crates/hvsock-agent/src/auth/): one fixed key
# (made once by `hvsock key generate`), so that the seeds do not change.
pub='hvsock-ed25519 SnOj/zzQlUcJXuKwmRuSfxzmeJX2HzNcmc+WGK7AOmg='
printf '# hvsock private key (ed25519): keep it secret. Its public line:\n# %s user@vm\nhvsock-ed25519-private xODFUMjCQ2rXOQpH487Ji57kzhk/JTcAMs1sNFkSm7I= user@vm\n' "$pub" | seed key_files private
printf '%s user@vm\n' "$pub" | seed key_files public
printf 'hvsock-ed25519 AAAA short\n' | seed key_files short-key
printf '# hosts\n\n%s user@vm\nuser=builder,ci %s ci@host\n' "$pub" "$pub" | seed authorized_keys two
printf 'from=x %s\n' "$pub" | seed authorized_keys unknown-option
printf '999e53d4-3d5c-4c3e-8779-bed06ec056e1 00004856-facb-11e6-bd58-64006a7986d3 %s\n' "$pub" | seed agent_pins one
printf '# pins\nparent 00004856-facb-11e6-bd58-64006a7986d3 %s extra\n' "$pub" | seed agent_pins trailing

find "$S" -type f | sort | sed "s|^$PWD/||"

# agent_frames (crates/hvsock-agent/PROTOCOL.md): u32 BE len | type | payload
hello='\x00\x00\x00\x0b\x01HVSAGENT\x00\x03'
exec_uname='\x00\x00\x00\x1e\x02\x00\x00\x18\x00\x50\x00\x00\x00\x02\x00\x00\x00\x05uname\x00\x00\x00\x02-a\x00\x00\x00\x00\x00'
printf "$hello" | seed agent_frames hello
n32='\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01'
printf "$hello"'\x00\x00\x00\x21\x30'"$n32" | seed agent_frames auth-hello
printf '\x00\x00\x00\x82\x31\x03'"$n32$n32$n32$n32" | seed agent_frames challenge
printf '\x00\x00\x00\x6a\x32\x00\x00\x00\x04root\x01'"$n32$n32$n32" | seed agent_frames auth-key
printf '\x00\x00\x00\x10\x32\x00\x00\x00\x00\x02\x00\x00\x00\x06sesame\x00\x00\x00\x09\x33\x00\x00\x00\x04root' | seed agent_frames auth-password-ok
printf "$hello$exec_uname\x00\x00\x00\x03\x10hi\x00\x00\x00\x01\x11" | seed agent_frames exec-session
printf '\x00\x00\x00\x03\x12hi\x00\x00\x00\x03\x13er\x00\x00\x00\x06\x16\x00\x00\x00\x00\x03' | seed agent_frames output-exit
printf "$hello"'\x00\x00\x00\x0c\x04\x00\x00\x00\x00\x06/tmp/x' | seed agent_frames copy-to
printf '\x00\x00\x00\x05\x14\x00\x18\x00\x50\x00\x00\x00\x02\x15\x02' | seed agent_frames resize-signal
printf '\x00\x00\x00\x0a\x7f\x00\x7f\x00\x00\x00\x04nope' | seed agent_frames error
printf '\x00\x10\x00\x02\x23' | seed agent_frames over-limit
# v2 flow control: the agent's stdin credit, the client's stdout/stderr credit.
printf '\x00\x00\x00\x06\x17\x00\x00\x04\x00\x00\x00\x00\x00\x06\x17\x01\x00\x04\x00\x00\x00\x00\x00\x06\x17\x02\x01\x00\x00\x00' | seed agent_frames credit
printf '\x00\x00\x00\x06\x17\x03\x00\x00\x00\x01' | seed agent_frames credit-bad-stream

# proc_stat: /proc/PID/stat lines (the agent reads the state and session id)
printf '1234 (bash) S 1 1234 1234 34816 1234 4194560 3000 0 0 0\n' | seed proc_stat bash
printf '77 (a) b) Z 1 (c) R 5 6 7) T 1 9 9 0 -1\n' | seed proc_stat parens-in-name
printf '5 (x\n' | seed proc_stat truncated

# hcs_document: HcsEnumerateComputeSystems answers (fields from the HCS schema's Properties)
printf '[]' | seed hcs_document empty
printf '[{"Id":"1F0C1E39-8B2D-4C5A-9E0B-6C7D8E9FA0B1","SystemType":"VirtualMachine","Name":"Ubuntu","Owner":"VMMS","RuntimeId":"1f0c1e39-8b2d-4c5a-9e0b-6c7d8e9fa0b1","RuntimeOsType":"Linux","State":"Running","Stopped":false,"Statistics":{"Uptime100ns":5}}]' | seed hcs_document hyperv-vm
printf '[{"Id":"8E4A2B61-35C8-4F0D-A1B2-C3D4E5F60718","SystemType":"VirtualMachine","Name":"8E4A2B61-35C8-4F0D-A1B2-C3D4E5F60718","Owner":"WSL","RuntimeId":"{5C1D7E2A-9B3F-4E60-8A71-B2C3D4E5F607}","State":"Running"}]' | seed hcs_document wsl
printf '[{"Id":"4f1c2d3e4f5a","SystemType":"Container","Owner":"docker","RuntimeId":"0d2e3f40-5162-4738-89ab-cdef01234567","State":"Running"},{"Id":"abc","SystemType":"Container","Name":null,"State":"Stopped"}]' | seed hcs_document containers
printf '[{"Id":"vm2","RuntimeId":"not-a-guid"}]' | seed hcs_document bad-runtime-id

# copy_stream: a flag byte (bit 0 recursive, bit 1 the root must be "t", bit 2 into a
# new name), then the frames a sender sends after the request (layouts in
# crates/hvsock-agent/PROTOCOL.md), built as hex by these helpers.
u32() { printf '%08x' "$1"; }
u64() { printf '%016x' "$1"; }
hexstr() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
fr() { u32 $((${#2} / 2 + 1)); printf '%s%s' "$1" "$2"; }
str() { u32 "$(printf '%s' "$1" | wc -c)"; hexstr "$1"; }
total() { fr 20 "$(u64 "$1")$(u64 "$2")"; }
dir() { fr 21 "$(u32 "$2")$(str "$1")"; }
file() {
    fr 22 "$(u32 "$2")$(u64 "$(printf '%s' "$3" | wc -c)")$(str "$1")"
    if [ -n "$3" ]; then fr 23 "$(hexstr "$3")"; fi
    fr 24 "$(printf '%s' "$3" | sha256sum | cut -c1-64)"
}
end() { fr 25 ""; }
cseed() { xxd -r -p | seed copy_stream "$1"; }
{ printf 02; total 1 5; file t 420 hello; end; } | cseed one-file
{ printf 07; total 2 6; dir t 493; file t/a 420 abc; dir t/d 448; file t/d/b 384 xyz; end; } | cseed tree
{ printf 03; total 2 2; dir t 511; file t/a 438 a; file t/a 438 b; end; } | cseed repeat
{ printf 03; total 1 1; dir t 493; dir t/link 493; file t/link/pwned 420 x; end; } | cseed through-link
{ printf 01; total 1 1; dir .ssh 511; file .ssh/authorized_keys 438 k; end; } | cseed ssh-tree
{ printf 02; total 1 9; file t 420 short; end; } | cseed short-total
{ printf 03; total 1 1; dir t 493; file "t/$(printf '\033')[2J" 420 x; end; } | cseed escape-name

# stats_file: a counters file as a process publishes it (one ready slot), cut short,
# and with a slot in an unknown state.
python3 - "$S/stats_file" <<'PY'
import struct, sys
d = sys.argv[1]
hdr = [int.from_bytes(b"HVSTATS1", "little"), 1 | (1 << 32), 4242, 123456, 0] + [0] * 27
slot = [2, 0x11e6facb00001388, 0xd386796a006458bd, 0xaaaa, 0xbbbb, 3, 0, 1, 4096, 2048] + [0] * 22
slot[10 + 1] = 2  # refused: disabled
full = struct.pack("<64Q", *(hdr + slot))
open(f"{d}/one-slot", "wb").write(full)
open(f"{d}/truncated", "wb").write(full[:300])
bad = list(slot); bad[0] = 9
open(f"{d}/bad-state", "wb").write(struct.pack("<64Q", *(hdr + bad)))
PY
