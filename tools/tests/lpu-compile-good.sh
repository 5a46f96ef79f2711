#!/bin/bash
# Host test of lpu-compile on good checkpoints: the issue's Mixtral-style
# (hidden 256, 8 experts, top-2, 2 blocks) and DeepSeek-style (16 routed
# experts, top-4, 1 shared expert) ones, Qwen naming, BF16 storage, a
# sigmoid router, every weight dtype. Each schedule passes the loader's
# checks (lpu-compile --check), runs on the host interpreter
# (tools/moe/sched_interp.py) to exactly the outputs of the independent
# numpy reference, and stores the very weight bytes the reference's own
# conversion gives (int8 quantisation, bf16 rounding). lpu-compile
# --describe, through which the interpreter reads schedules, is checked on
# its own: the instruction count, every operand in a slot, slot images
# where the weights are. Then random damage to a schedule is always
# refused by --check and --describe, never crashes them.
#   lpu-compile-good.sh PATH-TO-lpu-compile
COMPILE=${1:?usage: lpu-compile-good.sh PATH-TO-lpu-compile}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
MOE=$TOP/tools/moe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

check() { # name command...
	local name=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
		echo "$out" | sed 's/^/#   /' | tail -5
	fi
}

# same_outputs REF_DIR OUT_DIR: every output file equal, bit for bit
same_outputs() {
	$PY - "$1" "$2" <<'EOF'
import os, sys
import numpy as np
ref, got = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(ref))
if names != sorted(os.listdir(got)):
    sys.exit("outputs %s != %s" % (sorted(os.listdir(got)), names))
for f in names:
    a, b = np.load(os.path.join(ref, f)), np.load(os.path.join(got, f))
    if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b):
        sys.exit("%s differs: %s %s vs %s %s" % (f, a.dtype, a.shape, b.dtype, b.shape))
EOF
}

# describe_ok FILE: lpu-compile --describe prints JSON whose program has
# the manifest's instruction count, whose opcodes, dtypes and flags all
# have names, and whose operands (with int8 scales and routing table
# parts) all lie in a slot; slot images lie inside the file.
describe_ok() {
	"$COMPILE" --describe "$1" >"$tmp/desc.json" || return 1
	$PY - "$tmp/desc.json" "$1" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
size = os.path.getsize(sys.argv[2])
m, prog, slots = d["manifest"], d["program"], d["slots"]
assert len(prog) == m["insn_count"] > 0, "%d instructions, manifest %d" % (len(prog), m["insn_count"])
assert d["header"]["file_size"] == size, "file_size"
def in_slot(op, what):
    assert "slot" in op, "%s: %s in no slot" % (what, op)
    assert 0 <= op["offset"] < slots[op["slot"]]["size"], "%s: %s" % (what, op)
n = 0
for pc, i in enumerate(prog):
    for f in ("opcode", "dtype"):
        assert isinstance(i[f], str), "insn %d: %s %r has no name" % (pc, f, i[f])
    assert all(isinstance(f, str) for f in i["flags"]), "insn %d flags %r" % (pc, i["flags"])
    for o in i["ops"]:
        if o is None:
            continue
        in_slot(o, "insn %d" % pc)
        n += 1
        if "scales" in o:
            in_slot(o["scales"], "insn %d scales" % pc)
        for part, po in o.get("routing", {}).items():
            in_slot(po, "insn %d routing %s" % (pc, part))
    if i["dtype"] == "I8":
        assert any("scales" in o for o in i["ops"] if o), "insn %d: I8 without scales" % pc
in_slot(m["program"], "manifest program")
in_slot(m["stats"], "manifest stats")
assert n >= 2 * len(prog), "only %d operands" % n
for s in slots:
    assert s["device_address"] > 0 and isinstance(s["role"], str) and isinstance(s["domain"], str)
    if s["init"]:
        i = s["init"]
        assert 0 < i["length"] <= s["size"] and i["file_offset"] + i["length"] <= size, s
names = [t["name"] for t in d["tensors"]]
assert [io["name"] for io in d["io"]] == [names[io["tensor"]] for io in d["io"]]
assert sorted(io["direction"] for io in d["io"])[0] == "INPUT"
EOF
}

# run_case NAME CKPT DTYPE [compile options...]
run_case() {
	local name=$1 ck=$2 dt=$3 s=$tmp/$1.lpus
	shift 3
	check "$name: compiles" "$COMPILE" "$ck" -o "$s" --tokens 16 --dtype "$dt" -q "$@"
	check "$name: passes the loader's checks" "$COMPILE" --check "$s"
	check "$name: --describe is consistent" describe_ok "$s"
	local cf=1.25 arg
	for arg in "$@"; do
		case $arg in --capacity-factor=*) cf=${arg#*=} ;; esac
	done
	check "$name: host run equals the numpy reference" sh -c "
		$PY $MOE/sched_interp.py '$s' --lpu-compile '$COMPILE' \
			--input '$tmp/x16.npy' --out '$tmp/$name.run' &&
		$PY $MOE/reference.py '$ck' --input '$tmp/x16.npy' --dtype $dt \
			--capacity-factor $cf $(for a in "$@"; do
				case $a in --blocks=*) echo "$a" ;; esac; done) \
			--out '$tmp/$name.ref'" 
	check "$name: outputs identical" same_outputs "$tmp/$name.ref" "$tmp/$name.run"
}

$PY "$MOE/gen_checkpoint.py" "$tmp/mixtral" --style mixtral --seed 11 || exit 1
$PY "$MOE/gen_checkpoint.py" "$tmp/deepseek" --style deepseek --seed 12 || exit 1
$PY "$MOE/gen_checkpoint.py" "$tmp/qwen" --style qwen --hidden 128 --ffn 64 \
	--shared-ffn 96 --seed 13 || exit 1
$PY "$MOE/gen_checkpoint.py" "$tmp/sigmoid" --style deepseek --hidden 128 --ffn 64 \
	--experts 8 --top-k 3 --shared 2 --scoring sigmoid --norm-topk --blocks 3 \
	--dtype bf16 --seed 14 || exit 1
$PY -c "
import numpy as np
x = np.load('$tmp/mixtral/x.npy')[:16]
np.save('$tmp/x16.npy', x)
np.save('$tmp/x16s.npy', np.load('$tmp/qwen/x.npy')[:16])
" || exit 1

for dt in f32 bf16 int8; do
	run_case "mixtral-$dt" "$tmp/mixtral" $dt
	run_case "deepseek-$dt" "$tmp/deepseek" $dt
done
cp "$tmp/x16s.npy" "$tmp/x16.npy"
run_case "qwen-int8" "$tmp/qwen" int8
run_case "sigmoid-bf16-storage-int8" "$tmp/sigmoid" int8
run_case "sigmoid-f32-capacity-0.5" "$tmp/sigmoid" f32 --capacity-factor=0.5
run_case "sigmoid-blocks-2-program-host" "$tmp/sigmoid" bf16 --blocks=2 --program-host
check "capacity 0.5 drops tokens" $PY -c "
import numpy as np
d = sum(np.load('$tmp/sigmoid-f32-capacity-0.5.run/block%d.expert_dropped.npy' % b).sum() for b in range(3))
assert d > 0, 'no token dropped'"

# dimensions whose weights end off a 64-byte boundary in every dtype
# (E * H * F = 6300): the last slot image is padded to a multiple of 64
$PY "$MOE/gen_checkpoint.py" "$tmp/odd" --style mixtral --hidden 100 --ffn 21 \
	--experts 3 --top-k 2 --blocks 2 --tokens 16 --seed 15 || exit 1
cp "$tmp/odd/x.npy" "$tmp/x16.npy"
for dt in f32 bf16 int8; do
	run_case "odd-sizes-$dt" "$tmp/odd" $dt
done

# values that are not finite are outside the reference's scope (the rules
# do not define them): exit 3 and a message naming the value, no outputs
ref_out_of_scope() { # MESSAGE CKPT INPUT [reference options...]
	local msg=$1 ck=$2 in=$3 err rc
	shift 3
	rm -rf "$tmp/oos"
	err=$($PY "$MOE/reference.py" "$ck" --input "$in" --out "$tmp/oos" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 3 ] && [[ $err == *"$msg"* ]] && [ ! -e "$tmp/oos" ] ||
		{ echo "rc $rc, stderr: $err"; return 1; }
}
$PY -c "
import numpy as np
x = np.load('$tmp/mixtral/x.npy')[:16]
for name, v in (('nan', np.nan), ('inf', -np.inf)):
    y = x.copy(); y[3, 7] = v; np.save('$tmp/x-%s.npy' % name, y)
" || exit 1
check "reference: a NaN input is out of scope" ref_out_of_scope \
	"input x is not finite at [3, 7] (nan): non-finite values are outside the reference's scope" \
	"$tmp/mixtral" "$tmp/x-nan.npy"
check "reference: an infinite input is out of scope" ref_out_of_scope \
	"input x is not finite at [3, 7] (-inf)" "$tmp/mixtral" "$tmp/x-inf.npy" --dtype int8
cp -r "$tmp/mixtral" "$tmp/huge"
$PY "$MOE/ck_mutate.py" "$tmp/huge" fill model.layers.0.post_attention_layernorm.weight 1e20 &&
$PY "$MOE/ck_mutate.py" "$tmp/huge" fill model.layers.0.block_sparse_moe.gate.weight 1e20 || exit 1
for dt in f32 int8; do
	check "reference: router logits that overflow ($dt) are out of scope" ref_out_of_scope \
		"block 0: router logits is not finite at [0, 0]" "$tmp/huge" \
		"$tmp/mixtral/x.npy" --dtype $dt
done
cp -r "$tmp/mixtral" "$tmp/bf16max"
$PY "$MOE/ck_mutate.py" "$tmp/bf16max" fill model.layers.1.block_sparse_moe.experts.2.w2.weight \
	3.4e38 || exit 1
check "reference: a weight that overflows bf16 is out of scope" ref_out_of_scope \
	"tensor 'model.layers.1.block_sparse_moe.experts.2.w2.weight' rounded to bf16 is not finite" \
	"$tmp/bf16max" "$tmp/mixtral/x.npy" --dtype bf16

# the stored weights are the reference's conversion, byte for byte
for dt in int8 bf16; do
	for t in block0.router block1.w13 block1.w2; do
		check "mixtral $dt $t stored as the reference converts it" sh -c "
			'$COMPILE' '$tmp/mixtral' -o '$tmp/dump.lpus' --tokens 16 --dtype $dt -q \
				--dump-tensor '$t=$tmp/c.bin' &&
			$PY $MOE/reference.py '$tmp/mixtral' --dtype $dt --dump-weight $t '$tmp/r.bin' &&
			cmp '$tmp/c.bin' '$tmp/r.bin'"
	done
done
check "deepseek int8 block1.shared_w13 stored as the reference converts it" sh -c "
	'$COMPILE' '$tmp/deepseek' -o '$tmp/dump.lpus' --tokens 16 --dtype int8 -q \
		--dump-tensor 'block1.shared_w13=$tmp/c.bin' &&
	$PY $MOE/reference.py '$tmp/deepseek' --dtype int8 --dump-weight block1.shared_w13 '$tmp/r.bin' &&
	cmp '$tmp/c.bin' '$tmp/r.bin'"

check "compiling twice gives the same file" sh -c "
	'$COMPILE' '$tmp/deepseek' -o '$tmp/a.lpus' --tokens 16 --dtype int8 -q &&
	'$COMPILE' '$tmp/deepseek' -o '$tmp/b.lpus' --tokens 16 --dtype int8 -q &&
	cmp '$tmp/a.lpus' '$tmp/b.lpus'"
check "--version" sh -c "'$COMPILE' --version | grep -q 'schedule format 1.0'"
check "--help" sh -c "'$COMPILE' --help | grep -q 'usage: lpu-compile'"
check "--help lists --describe" sh -c "'$COMPILE' --help | grep -q -- '--describe FILE'"

# --describe's slot images: the bytes at a weight tensor's offset in its
# slot's image are what --dump-tensor wrote for it
check "--describe: slot images in the file hold the weights" sh -c "
	'$COMPILE' '$tmp/deepseek' -o '$tmp/img.lpus' --tokens 16 --dtype int8 -q \
		--dump-tensor 'block1.w2=$tmp/w2.bin' &&
	'$COMPILE' --describe '$tmp/img.lpus' >'$tmp/img.json' &&
	$PY - '$tmp/img.json' '$tmp/img.lpus' '$tmp/w2.bin' <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
raw, want = open(sys.argv[2], 'rb').read(), open(sys.argv[3], 'rb').read()
t = [t for t in d['tensors'] if t['name'] == 'block1.w2'][0]
img = d['slots'][t['slot']]['init']
assert t['bytes'] == len(want) and t['offset'] + t['bytes'] <= img['length']
at = img['file_offset'] + t['offset']
assert raw[at:at + t['bytes']] == want, 'image bytes differ'
EOF"
# refusals: exit 1, the parser's message naming the file, nothing on stdout
describe_refused() { # FILE MESSAGE
	local out err rc
	out=$("$COMPILE" --describe "$1" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
	[ $rc = 1 ] && [ -z "$out" ] && [[ $err == "lpu-compile: $1: "*"$2"* ]] ||
		{ echo "rc $rc, stdout '${out:0:80}', stderr '$err'"; return 1; }
}
head -c 1000 "$tmp/a.lpus" >"$tmp/short.lpus"
check "--describe refuses a truncated file" describe_refused "$tmp/short.lpus" "file_size"
check "--describe refuses a non-schedule" describe_refused "$tmp/mixtral/config.json" ""
: >"$tmp/empty.lpus"
head -c 79 "$tmp/a.lpus" >"$tmp/79.lpus"
check "--describe refuses an empty file as too small" describe_refused "$tmp/empty.lpus" \
	"too small for a schedule: 0 bytes, the header alone is 80"
check "--describe refuses 79 bytes as too small" describe_refused "$tmp/79.lpus" \
	"too small for a schedule: 79 bytes"
check "--check refuses an empty file as too small" sh -c "
	'$COMPILE' --check '$tmp/empty.lpus' 2>&1 >/dev/null | grep -q 'empty.lpus: too small for a schedule: 0 bytes'"
check "--describe refuses a missing file" describe_refused "$tmp/nothing.lpus" \
	"No such file"
check "--describe with a checkpoint directory is a usage error" sh -c "
	'$COMPILE' --describe '$tmp/a.lpus' '$tmp/mixtral' 2>&1 >/dev/null; [ \$? = 2 ]"

# json-c out of memory: a shim (tools/lpu-compile/tests/json_fail.c) makes
# the Nth constructor call return NULL; --describe must fail with exit 1
# and a message, print nothing, never crash. ASAN_OPTIONS lets a sanitized
# lpu-compile run with the preloaded shim.
describe_oom() {
	local calls n bad=0 tried=0 out rc
	cc -Wall -Wextra -Werror -shared -fPIC -o "$tmp/json_fail.so" \
		"$TOP/tools/lpu-compile/tests/json_fail.c" || return 1
	"$COMPILE" "$tmp/mixtral" -o "$tmp/oom.lpus" --tokens 8 --blocks 1 -q || return 1
	export ASAN_OPTIONS=verify_asan_link_order=0
	calls=$(JSON_FAIL_COUNT=1 LD_PRELOAD="$tmp/json_fail.so" "$COMPILE" \
		--describe "$tmp/oom.lpus" 2>&1 >/dev/null | sed -n 's/^json_fail: \([0-9]*\) calls$/\1/p')
	[ -n "$calls" ] && [ "$calls" -gt 100 ] || { echo "counted '$calls' calls"; return 1; }
	for n in 1 2 3 4 5 6 7 8 $(seq 9 $((calls / 40 + 1)) "$calls") "$calls"; do
		tried=$((tried + 1))
		out=$(JSON_FAIL_AT=$n LD_PRELOAD="$tmp/json_fail.so" "$COMPILE" \
			--describe "$tmp/oom.lpus" 2>"$tmp/oom.err")
		rc=$?
		if [ $rc != 1 ] || [ -n "$out" ] ||
		   ! grep -q "oom.lpus: out of memory for the description" "$tmp/oom.err"; then
			echo "call $n of $calls: rc $rc, stdout ${#out} bytes, stderr $(head -c 200 "$tmp/oom.err")"
			bad=$((bad + 1))
		fi
	done
	echo "$tried failing calls tried"
	[ $bad = 0 ]
}
if command -v cc >/dev/null; then
	check "--describe: json-c out of memory at any call is exit 1 and a message" describe_oom
else
	n=$((n + 1))
	echo "ok $n - --describe: json-c out of memory # SKIP no cc"
fi

# random damage to a real schedule: refused with a message, never a crash
$PY - "$tmp/a.lpus" "$tmp/mut" <<'EOF'
import os, sys
import numpy as np
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
rng = np.random.default_rng(7)
os.makedirs(out)
for i in range(300):
    b = bytearray(data)
    kind = i % 3
    if kind == 0:       # bit flips in the metadata
        for _ in range(1 + i % 4):
            at = int(rng.integers(0, 4096))
            b[at] ^= 1 << int(rng.integers(0, 8))
    elif kind == 1:     # truncation
        b = b[:int(rng.integers(0, len(b)))]
    else:               # a byte anywhere, even in the weights
        b[int(rng.integers(0, len(b)))] ^= 0xff
    open(os.path.join(out, "%03d.lpus" % i), "wb").write(b)
EOF
refused=0 crashed=0 silent=0
for f in "$tmp"/mut/*.lpus; do
	err=$("$COMPILE" --check "$f" 2>&1 >/dev/null)
	rc=$?
	if [ $rc = 1 ] && [[ $err == "lpu-compile: $f: "* ]] &&
	   describe_refused "$f" "" >/dev/null; then
		refused=$((refused + 1))
	elif [ $rc -ge 128 ]; then
		crashed=$((crashed + 1))
	else
		silent=$((silent + 1))
	fi
done
n=$((n + 1))
if [ $refused = 300 ]; then
	echo "ok $n - 300 damaged schedules all refused with a message (--check, --describe)"
else
	failed=$((failed + 1))
	echo "not ok $n - damaged schedules: $refused refused, $crashed crashed, $silent accepted"
fi

echo "1..$n"
echo "# $failed of $n failed"
[ "$failed" = 0 ]
