#!/bin/sh
# SPDX-License-Identifier: MIT
# The test images of the firmware failure tests (firmware/lpu_fw.md), made
# from the good image and the source, then each checked with
# `lpu-fwpack check` so that every variant fails exactly the check it is
# named after (or boots, for the ones the driver must judge).
#   mkvariants.sh LPU-FWPACK SOURCE.json GOOD.bin KEYDIR OUTDIR
# Byte offsets come from `lpu-fwpack info`, never from constants here.
set -eu
FWPACK=$1
SRC=$2
GOOD=$3
KEYS=$4
OUT=$5
KEY=$KEYS/test-signing-key.pem
PUB=$KEYS/test-signing-key.pub.der

mkdir -p "$OUT"
rm -f "$OUT"/*.bin "$OUT"/*.tmp

# field NAME: the value of "NAME: value" in the good image's info
info=$("$FWPACK" info "$GOOD")
field() {
	echo "$info" | sed -n "s/^$1: \([0-9]*\).*/\1/p"
}

# flip FILE OFFSET: invert every bit of the byte at OFFSET, in place
flip() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf '%b' "\\0$(printf '%03o' $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

pack() {
	name=$1
	shift
	"$FWPACK" pack "$SRC" -o "$OUT/$name.bin" "$@"
}

cp "$GOOD" "$OUT/good.bin"
# Every units_per_cycle halved: about twice the cycles for the same job.
sets=$(echo "$info" | sed -n 's/^cost \([A-Z0-9_]*\): .* units_per_cycle \([0-9]*\)$/\1 \2/p' |
	while read -r cls rate; do
		half=$((rate / 2))
		[ "$half" -ge 1 ] || half=1
		printf ' --set cost.%s.units_per_cycle=%s' "$cls" "$half"
	done)
[ -n "$sets" ] || { echo "mkvariants.sh: no cost classes in '$FWPACK info'" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per option
pack cost-x2 --key "$KEY" $sets
pack queues-2 --key "$KEY" --set engine.num_queues=2
pack abi-new --key "$KEY" --set abi=2.0
pack abi-old --key "$KEY" --set abi=0.9
pack chip-rev --key "$KEY" --set chip.revision=2
pack untrusted --key "$KEYS/untrusted-key.pem"
pack bad-section --key "$KEY" --set engine.num_queues=9 --unchecked

cp "$GOOD" "$OUT/bad-magic.bin"
flip "$OUT/bad-magic.bin" 0
cp "$GOOD" "$OUT/bad-digest.bin"
flip "$OUT/bad-digest.bin" $(($(field payload_offset) + $(field payload_size) / 2))
cp "$GOOD" "$OUT/bad-signature.bin"
flip "$OUT/bad-signature.bin" $(($(field sig_offset) + $(field sig_size) / 2))
size=$(field file_size)
head -c $((size / 2)) "$GOOD" >"$OUT/truncated.bin"
: >"$OUT/empty.bin"
cp "$GOOD" "$OUT/too-large.bin"
truncate -s $(($(field max_image_size) + 4096)) "$OUT/too-large.bin"

# expect NAME VERDICT [CHECK-OPTIONS]: VERDICT is "good" or the
# LPU_FW_E_* name the boot ROM reports for it.
expect() {
	name=$1
	want=$2
	shift 2
	got=$("$FWPACK" check "$OUT/$name.bin" --pubkey "$PUB" "$@" || true)
	case "$want:$got" in
	good:*": good: "*) ;;
	*:*"($want, offset "*) ;;
	*)
		echo "mkvariants.sh: $name.bin: wanted $want, got: $got" >&2
		exit 1
		;;
	esac
}
expect good good
expect cost-x2 good
expect queues-2 good
expect abi-new good
expect abi-old good
expect chip-rev CHIP
expect chip-rev good --chip-rev 2
expect untrusted SIGNATURE
expect bad-section SECTION
expect bad-magic MAGIC
expect bad-digest DIGEST
expect bad-signature SIGNATURE
expect truncated TRUNCATED
expect empty EMPTY
expect too-large TOO_LARGE
