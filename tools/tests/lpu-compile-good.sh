#!/bin/bash
# Host test of lpu-compile on good checkpoints: the issue's Mixtral-style
# (hidden 256, 8 experts, top-2, 2 blocks) and DeepSeek-style (16 routed
# experts, top-4, 1 shared expert) ones, Qwen naming, BF16 storage, a
# sigmoid router, every weight dtype. Each schedule passes the loader's
# checks (lpu-compile --check), runs on the host interpreter
# (tools/moe/sched_interp.py) to exactly the outputs of the independent
# numpy reference, and stores the very weight bytes the reference's own
# conversion gives (int8 quantisation, bf16 rounding). Then random damage
# to a schedule is always refused, never crashes the checker.
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

# run_case NAME CKPT DTYPE [compile options...]
run_case() {
	local name=$1 ck=$2 dt=$3 s=$tmp/$1.lpus
	shift 3
	check "$name: compiles" "$COMPILE" "$ck" -o "$s" --tokens 16 --dtype "$dt" -q "$@"
	check "$name: passes the loader's checks" "$COMPILE" --check "$s"
	local cf=1.25 arg
	for arg in "$@"; do
		case $arg in --capacity-factor=*) cf=${arg#*=} ;; esac
	done
	check "$name: host run equals the numpy reference" sh -c "
		$PY $MOE/sched_interp.py '$s' --input '$tmp/x16.npy' --out '$tmp/$name.run' &&
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
	if [ $rc = 1 ] && [[ $err == "lpu-compile: $f: "* ]]; then
		refused=$((refused + 1))
	elif [ $rc -ge 128 ]; then
		crashed=$((crashed + 1))
	else
		silent=$((silent + 1))
	fi
done
n=$((n + 1))
if [ $refused = 300 ]; then
	echo "ok $n - 300 damaged schedules all refused with a message"
else
	failed=$((failed + 1))
	echo "not ok $n - damaged schedules: $refused refused, $crashed crashed, $silent accepted"
fi

echo "1..$n"
echo "# $failed of $n failed"
[ "$failed" = 0 ]
