#!/bin/bash
# SPDX-License-Identifier: MIT
# Host test (TAP) of the lpu-fwpack command line on real files: pack ->
# check -> info round trip, reproducible builds, --set, the source reader's
# refusals (each a non-zero exit, a message naming the field, and no output
# file), check's verdicts and exit codes, and the images `make firmware`
# made, when their directory is given.
#   lpu-fwpack-test.sh PATH-TO-lpu-fwpack [BUILD/firmware/lpu]
FWPACK=${1:?usage: lpu-fwpack-test.sh PATH-TO-lpu-fwpack [FIRMWARE-DIR]}
FWDIR=${2:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
SRC=$TOP/firmware/lpu-v3.json
KEY=$TOP/firmware/keys/test-signing-key.pem
UNTRUSTED=$TOP/firmware/keys/untrusted-key.pem
PUB=$TOP/firmware/keys/test-signing-key.pub.der
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tools/tests/tap-lib.sh
. "$TOP/tools/tests/tap-lib.sh"
check() {
	local name=$1
	shift
	if "$@" >"$tmp/check.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/#   /' "$tmp/check.out" | head -n 20
	fi
}

# run RC MESSAGE ARGS...: lpu-fwpack exits RC with MESSAGE in its output
run() {
	local want_rc=$1 want_msg=$2 out rc
	shift 2
	out=$("$FWPACK" "$@" 2>&1)
	rc=$?
	[ "$rc" = "$want_rc" ] && [[ $out == *"$want_msg"* ]] && return 0
	echo "rc=$rc (want $want_rc), output: $out"
	echo "wanted: $want_msg"
	return 1
}

# edit PYTHON-STATEMENT: $tmp/src.json is the source with `j` changed
edit() {
	$PY - "$SRC" "$tmp/src.json" "$1" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(j, indent=1))
PYEOF
}

# refused NAME MESSAGE [PACK-OPTIONS]: packing $tmp/src.json fails with
# exit 1 and MESSAGE, and leaves no output behind
pack_refused() {
	local msg=$1 out rc
	shift
	rm -f "$tmp/out.bin" "$tmp/out.bin.tmp"
	out=$("$FWPACK" pack "$tmp/src.json" --key "$KEY" -o "$tmp/out.bin" "$@" 2>&1)
	rc=$?
	[ $rc = 1 ] || { echo "rc=$rc: $out"; return 1; }
	[[ $out == *"$msg"* ]] || { echo "got: $out"; echo "wanted: $msg"; return 1; }
	if [ -e "$tmp/out.bin" ] || [ -e "$tmp/out.bin.tmp" ]; then
		echo "output left behind"
		return 1
	fi
}
refused() {
	local name=$1
	shift
	check "$name" pack_refused "$@"
}

# ---- pack, check, info ---------------------------------------------------
check "pack the source" "$FWPACK" pack "$SRC" --key "$KEY" -o "$tmp/a.bin"
check "the image passes check (exit 0)" run 0 "$tmp/a.bin: good: firmware 1.0.0, ABI 1.0, chip 0x0003 revision 1" \
	check "$tmp/a.bin" --pubkey "$PUB"
"$FWPACK" info "$tmp/a.bin" >"$tmp/a.info" 2>&1
check "info: versions and chip" grep -qx -e "fw_version: 1.0.0" "$tmp/a.info"
check "info: ABI" grep -qx "abi_version: 1.0" "$tmp/a.info"
check "info: chip" grep -qx "chip: device 0x0003 revision 1" "$tmp/a.info"
check "info: three sections" sh -c "grep -c '^section [0-9]: type' '$tmp/a.info' | grep -qx 3"
check "info: the cost table of the source" grep -qx "cost MATMUL_F32: base_cycles 128 units_per_cycle 1024" "$tmp/a.info"
check "info: the engine section" grep -qx "engine: num_queues 4 max_ring_entries 4096 sram_reserved 65536" "$tmp/a.info"
check "info: the thermal section" grep -qx "thermal: temp_idle_mc 40000 temp_busy_mc 85000 power_idle_mw 20000 power_busy_mw 75000 clock_idle_mhz 400" "$tmp/a.info"
check "info: image_size is the file's size" sh -c "
	grep -qx \"image_size: \$(stat -c %s '$tmp/a.bin')\" '$tmp/a.info'"
id=$(sha256sum "$SRC" | cut -c1-20)
check "the default build id is the source's SHA-256, 20 hex digits" grep -qx "build_id: $id" "$tmp/a.info"
"$FWPACK" pack "$SRC" --key "$KEY" -o "$tmp/b.bin"
check "packing twice gives the same bytes" cmp "$tmp/a.bin" "$tmp/b.bin"
"$FWPACK" pack "$SRC" --key "$UNTRUSTED" -o "$tmp/u.bin"
check "the build id does not depend on the key" grep -qx "build_id: $id" <("$FWPACK" info "$tmp/u.bin")
check "an image signed with untrusted-key.pem is refused" run 1 \
	"signature does not verify with the card's key: expected 0, found 0 (SIGNATURE, offset 464)" \
	check "$tmp/u.bin" --pubkey "$PUB"
check "--build-id" sh -c "'$FWPACK' pack '$SRC' --key '$KEY' -o '$tmp/c.bin' --build-id 'v1.0.0 test' &&
	'$FWPACK' info '$tmp/c.bin' | grep -qx 'build_id: v1.0.0 test'"
check "--build-id longer than 40 is a usage error" run 2 "at most 40 printable" \
	pack "$SRC" --key "$KEY" -o "$tmp/c.bin" --build-id "$(printf 'x%.0s' $(seq 41))"
check "--build-id with a control character is a usage error" run 2 "printable" \
	pack "$SRC" --key "$KEY" -o "$tmp/c.bin" --build-id "$(printf 'a\tb')"

# ---- --set -----------------------------------------------------------------
check "--set abi=2.0" sh -c "'$FWPACK' pack '$SRC' --key '$KEY' -o '$tmp/s.bin' --set abi=2.0 &&
	'$FWPACK' info '$tmp/s.bin' | grep -qx 'abi_version: 2.0'"
check "--set cost.MATMUL_F32.units_per_cycle=512" sh -c "
	'$FWPACK' pack '$SRC' --key '$KEY' -o '$tmp/s.bin' --set cost.MATMUL_F32.units_per_cycle=512 &&
	'$FWPACK' info '$tmp/s.bin' | grep -qx 'cost MATMUL_F32: base_cycles 128 units_per_cycle 512'"
check "--set chip.revision=2 builds for revision 2" sh -c "
	'$FWPACK' pack '$SRC' --key '$KEY' -o '$tmp/s.bin' --set chip.revision=2 &&
	'$FWPACK' check '$tmp/s.bin' --pubkey '$PUB' --chip-rev 2 | grep -q ': good:'"
check "--set changes the default build id" sh -c "
	! '$FWPACK' info '$tmp/s.bin' | grep -qx 'build_id: $id'"
cp "$SRC" "$tmp/src.json"
refused "--set of a field that does not exist" "--set 'engine.queues=2': no field 'queues'" \
	--set engine.queues=2
refused "--set of a path through a value" "--set 'version.x=2': no field 'x'" --set version.x=2
refused "--set with a non-integer value" "--set 'engine.num_queues=four': 'four' is not an integer" \
	--set engine.num_queues=four
refused "--set of a whole object" "field 'engine' is a object; set one of its fields" \
	--set engine=1
refused "--set without '='" "--set 'engine.num_queues': expected PATH=VALUE" \
	--set engine.num_queues
refused "--set out of range" "field 'engine.num_queues': 9 out of range (expected 1 to 4)" \
	--set engine.num_queues=9
refused "--set abi=2 (not MAJOR.MINOR)" "field 'abi': '2' is not a version MAJOR.MINOR" --set abi=2
check "--unchecked builds the out-of-range image, which check refuses" sh -c "
	'$FWPACK' pack '$SRC' --key '$KEY' -o '$tmp/bs.bin' --set engine.num_queues=9 --unchecked &&
	'$FWPACK' check '$tmp/bs.bin' --pubkey '$PUB' | grep -qF 'engine num_queues too large: expected 4, found 9 (SECTION, offset 416)'"
refused "--unchecked still refuses a value wider than its field" \
	"field 'engine.num_queues': 4294967296 does not fit the image's field (0 to 4294967295)" \
	--set engine.num_queues=4294967296 --unchecked

# ---- the source reader --------------------------------------------------
edit 'del j["thermal"]["clock_idle_mhz"]'
refused "missing field" "missing field 'thermal.clock_idle_mhz'"
edit 'del j["cost"]["TOPK"]'
refused "missing cost class" "missing field 'cost.TOPK'"
edit 'del j["abi"]'
refused "missing abi" "missing field 'abi'"
edit 'j["engine"]["num_queues"] = "4"'
refused "wrong type: string for an integer" "field 'engine.num_queues': expected int, found string"
edit 'j["engine"]["num_queues"] = 4.0'
refused "wrong type: double for an integer" "field 'engine.num_queues': expected int, found double"
edit 'j["engine"]["num_queues"] = True'
refused "wrong type: boolean for an integer" "field 'engine.num_queues': expected int, found boolean"
edit 'j["chip"] = [3, 1]'
refused "wrong type: array for an object" "field 'chip': expected object, found array"
edit 'j["version"] = 1'
refused "wrong type: number for the version" "field 'version': expected string, found int"
edit 'j["comment"] = 5'
refused "wrong type: comment" "field 'comment': expected string, found int"
edit 'j["engine"]["num_queues"] = 0'
refused "out of range: num_queues 0" "field 'engine.num_queues': 0 out of range (expected 1 to 4)"
edit 'j["engine"]["num_queues"] = -1'
refused "out of range: negative" "field 'engine.num_queues': -1 does not fit the image's field"
edit 'j["engine"]["max_ring_entries"] = 8192'
refused "out of range: max_ring_entries 8192" "field 'engine.max_ring_entries': 8192 out of range (expected 2 to 4096)"
edit 'j["engine"]["max_ring_entries"] = 24'
refused "max_ring_entries not a power of two" "field 'engine.max_ring_entries': 24 is not a power of two"
edit 'j["engine"]["sram_reserved_bytes"] = 1000'
refused "sram_reserved_bytes not a page multiple" "field 'engine.sram_reserved_bytes': 1000 is not a multiple of 4096"
edit 'j["engine"]["sram_reserved_bytes"] = 64 << 20'
refused "sram_reserved_bytes 64 MiB" "field 'engine.sram_reserved_bytes': 67108864 out of range (expected 0 to 67108863)"
edit 'j["thermal"]["temp_busy_mc"] = 30000'
refused "temp_busy below temp_idle" "field 'thermal.temp_busy_mc': 30000 out of range (expected 40000 to 150000)"
edit 'j["thermal"]["power_busy_mw"] = 1000001'
refused "power above 1 kW" "field 'thermal.power_busy_mw': 1000001 out of range (expected 20000 to 1000000)"
edit 'j["thermal"]["clock_idle_mhz"] = 0'
refused "idle clock 0" "field 'thermal.clock_idle_mhz': 0 out of range (expected 1 to 1000)"
edit 'j["cost"]["SOFTMAX"]["units_per_cycle"] = 0'
refused "units_per_cycle 0" "field 'cost.SOFTMAX.units_per_cycle': 0 out of range (expected 1 to 1048576)"
edit 'j["cost"]["COPY"]["base_cycles"] = (1 << 20) + 1'
refused "base_cycles above 2^20" "field 'cost.COPY.base_cycles': 1048577 out of range (expected 0 to 1048576)"
edit 'j["chip"]["device"] = 65536'
refused "chip device above 16 bits" "field 'chip.device': 65536 does not fit the image's field (0 to 65535)"
edit 'j["cost"]["MATMUL_F64"] = {"base_cycles": 1, "units_per_cycle": 1}'
refused "unknown cost class" "unknown cost class 'cost.MATMUL_F64'"
edit 'j["firmware"] = 1'
refused "unknown top-level key" "unknown field 'firmware'"
edit 'j["engine"]["queues"] = 1'
refused "unknown engine key" "unknown field 'engine.queues'"
edit 'j["cost"]["COPY"]["cycles"] = 1'
refused "unknown key in a cost class" "unknown field 'cost.COPY.cycles'"
edit 'j["version"] = "1.0"'
refused "version with two parts" "field 'version': '1.0' is not a version MAJOR.MINOR.PATCH"
edit 'j["version"] = "1.0.0.0"'
refused "version with four parts" "field 'version': '1.0.0.0' is not a version MAJOR.MINOR.PATCH"
edit 'j["version"] = "v1.0.0"'
refused "version with a prefix" "field 'version': 'v1.0.0' is not a version"
edit 'j["version"] = "1.-1.0"'
refused "version with a sign" "field 'version': '1.-1.0' is not a version"
edit 'j["version"] = "1.256.0"'
refused "version minor above 255" "field 'version': '1.256.0': part 2 is 256, above 255"
edit 'j["version"] = "65536.0.0"'
refused "version major above 65535" "part 1 is 65536, above 65535"
edit 'j["abi"] = "1.256"'
refused "abi minor above 255" "field 'abi': '1.256': part 2 is 256, above 255"
# --unchecked builds versions the boot ROM refuses (check 11), not ones
# wider than the header's 16-bit fields.
edit 'j["version"] = "1.256.0"'
check "--unchecked packs version 1.256.0, which check refuses (LAYOUT)" sh -c "
	'$FWPACK' pack '$tmp/src.json' --key '$KEY' -o '$tmp/v.bin' --unchecked &&
	'$FWPACK' check '$tmp/v.bin' --pubkey '$PUB' | grep -qF 'fw_minor above 255: expected 255, found 256 (LAYOUT, offset 18)'"
edit 'j["version"] = "1.0.65535"'
check "--unchecked packs version 1.0.65535, which check refuses (LAYOUT)" sh -c "
	'$FWPACK' pack '$tmp/src.json' --key '$KEY' -o '$tmp/v.bin' --unchecked &&
	'$FWPACK' check '$tmp/v.bin' --pubkey '$PUB' | grep -qF 'fw_patch above 255: expected 255, found 65535 (LAYOUT, offset 20)'"
edit 'j["abi"] = "1.300"'
check "--unchecked packs ABI 1.300, which check refuses (LAYOUT)" sh -c "
	'$FWPACK' pack '$tmp/src.json' --key '$KEY' -o '$tmp/v.bin' --unchecked &&
	'$FWPACK' check '$tmp/v.bin' --pubkey '$PUB' | grep -qF 'abi_minor above 255: expected 255, found 300 (LAYOUT, offset 26)'"
edit 'j["version"] = "1.65536.0"'
refused "--unchecked still refuses a version part above 65535" \
	"field 'version': '1.65536.0': part 2 is 65536, above 65535" --unchecked
edit 'j["abi"] = "1.0.0"'
refused "abi with three parts" "field 'abi': '1.0.0' is not a version MAJOR.MINOR"
edit 'j["abi"] = ""'
refused "empty abi" "field 'abi': '' is not a version MAJOR.MINOR"
{ cat "$SRC"; echo '}'; } >"$tmp/src.json"
refused "trailing garbage" "trailing garbage after the JSON object at byte"
{ cat "$SRC"; echo '{}'; } >"$tmp/src.json"
refused "a second JSON object" "trailing garbage"
head -c 300 "$SRC" >"$tmp/src.json"
refused "truncated JSON" "not valid JSON at byte 300: unexpected end of file"
sed 's/"abi": "1.0",/"abi": "1.0",,/' "$SRC" >"$tmp/src.json"
refused "a syntax error" "not valid JSON at byte"
sed 's/"num_queues": 4,/"num_queues": 4, \/\/ four/' "$SRC" >"$tmp/src.json"
refused "a comment (not JSON)" "not valid JSON"
: >"$tmp/src.json"
refused "an empty file" "not valid JSON at byte 0: unexpected end of file"
echo '[1, 2]' >"$tmp/src.json"
refused "an array, not an object" "expected a JSON object, found array"
printf '{"version": "1.0.0"\0}' >"$tmp/src.json"
refused "a NUL byte" "NUL byte at offset 19"
rm -f "$tmp/src.json"
refused "a missing source file" "src.json: cannot open: No such file or directory"

# ---- keys and arguments -------------------------------------------------------
cp "$SRC" "$tmp/src.json"
check "a missing key file" run 1 "nothing.pem: No such file" pack "$SRC" --key "$tmp/nothing.pem" -o "$tmp/k.bin"
check "a public key given as the signing key" run 1 "not a PEM private key" pack "$SRC" --key "$PUB" -o "$tmp/k.bin"
check "pack without --key is a usage error" run 2 "usage:" pack "$SRC" -o "$tmp/k.bin"
check "pack without -o is a usage error" run 2 "usage:" pack "$SRC" --key "$KEY"
check "an unwritable output" run 1 "No such file or directory" pack "$SRC" --key "$KEY" -o "$tmp/no/dir/k.bin"
check "no command is a usage error" run 2 "usage:"
check "an unknown command is a usage error" run 2 "usage:" unpack "$SRC"
check "check with a PEM file as the public key" run 1 "not a DER RSA public key" check "$tmp/a.bin" --pubkey "$KEY"
check "check with a missing image" run 1 "nothing.bin: No such file" check "$tmp/nothing.bin" --pubkey "$PUB"
check "check --chip-rev with a bad number" run 2 "--chip-rev 'x': expected 0 to 65535" check "$tmp/a.bin" --chip-rev x
check "check without a key: the card has none" run 1 "the card has no public key: expected 0, found 0 (NO_KEY, offset 0)" \
	check "$tmp/a.bin"
check "check on a card of revision 2" run 1 "built for another chip: expected 0x00030002, found 0x00030001 (CHIP, offset 28)" \
	check "$tmp/a.bin" --pubkey "$PUB" --chip-rev 2
check "info on an empty file" run 0 "header: truncated (0 of 256 bytes)" info /dev/null
# patch FILE OFFSET VALUE: $tmp/p.bin is FILE with a 32-bit LE value there
patch() {
	$PY - "$@" "$tmp/p.bin" <<'PYEOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", b, int(sys.argv[2]), int(sys.argv[3]))
open(sys.argv[4], "wb").write(b)
PYEOF
}
# sig_size at 52: expected is the sig_size that would end the image.
patch "$tmp/a.bin" 52 385
check "check: a signature that does not end the image" run 1 \
	"signature does not end the image: expected 384, found 385 (LAYOUT, offset 52)" \
	check "$tmp/p.bin" --pubkey "$PUB"
# rsvd0 at 22: the first non-zero byte, at its own offset.
patch "$tmp/a.bin" 20 $((0xab << 24))
check "check: a reserved header byte" run 1 \
	"reserved header field not zero: expected 0, found 171 (LAYOUT, offset 23)" \
	check "$tmp/p.bin" --pubkey "$PUB"
head -c 300 "$tmp/a.bin" >"$tmp/t.bin"
check "info on a truncated image stops at the file's end" run 0 "section 2: past the end of the file" \
	info "$tmp/t.bin"

# ---- the images `make firmware` built ------------------------------------
if [ -n "$FWDIR" ]; then
	# variant RC MESSAGE [CHECK-OPTIONS]
	variant() {
		local name=$1
		shift
		check "make firmware: $name.bin" run "$@"
	}
	check "make firmware: lpu-v3.bin is the packed source" cmp "$FWDIR/lpu-v3.bin" "$tmp/a.bin"
	T=$FWDIR/test
	variant good 0 ": good: firmware 1.0.0, ABI 1.0" check "$T/good.bin" --pubkey "$PUB"
	variant cost-x2 0 "cost MATMUL_F32: base_cycles 128 units_per_cycle 512" info "$T/cost-x2.bin"
	variant queues-2 0 "engine: num_queues 2 " info "$T/queues-2.bin"
	variant abi-new 0 ": good: firmware 1.0.0, ABI 2.0" check "$T/abi-new.bin" --pubkey "$PUB"
	variant abi-old 0 ": good: firmware 1.0.0, ABI 0.9" check "$T/abi-old.bin" --pubkey "$PUB"
	variant chip-rev 1 "(CHIP, offset 28)" check "$T/chip-rev.bin" --pubkey "$PUB"
	variant bad-magic 1 "bad magic: expected 0x5746504c" check "$T/bad-magic.bin" --pubkey "$PUB"
	variant bad-digest 1 "(DIGEST, offset 96)" check "$T/bad-digest.bin" --pubkey "$PUB"
	variant bad-signature 1 "(SIGNATURE, offset 464)" check "$T/bad-signature.bin" --pubkey "$PUB"
	variant untrusted 1 "(SIGNATURE, offset 464)" check "$T/untrusted.bin" --pubkey "$PUB"
	variant truncated 1 "expected 848, found 424 (TRUNCATED" check "$T/truncated.bin" --pubkey "$PUB"
	variant empty 1 "empty image: expected 256, found 0 (EMPTY" check "$T/empty.bin" --pubkey "$PUB"
	variant too-large 1 "expected 1048576, found 1052672 (TOO_LARGE" check "$T/too-large.bin" --pubkey "$PUB"
	variant "too-large (info)" 0 "file_size: 1052672" info "$T/too-large.bin"
	variant bad-section 1 "engine num_queues too large: expected 4, found 9 (SECTION" \
		check "$T/bad-section.bin" --pubkey "$PUB"
fi

tap_done
