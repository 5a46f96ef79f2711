#!/bin/sh
# `make demo` in the guest: the driver bound, the device nodes udev made,
# the card in lpu-smi, NOP job round trips completed by an interrupt, a
# DMA round trip through SRAM checked byte for byte, and a generated MoE
# checkpoint compiled here and run on the card's tensor engine, checked
# against the numpy reference the host computed.
echo "=== LPU demo: kernel log of 'insmod lpu.ko' ==="
dmesg | grep -E 'lpu|accel' | sed 's/^/  /'
echo
echo "=== LPU demo: device nodes (created by udev rule 60-lpu.rules) ==="
ls -l /dev/accel/ /dev/lpu* | sed 's/^/  /'
echo
echo "=== LPU demo: lpu-smi ==="
lpu-smi || exit 1
echo
echo "=== LPU demo: NOP jobs through queue 0 (the first includes scheduler setup) ==="
lpu-run --nop --queue 0 --count 3 || exit 1
echo
echo "=== LPU demo: DMA round trip host -> SRAM -> host, 64 MiB, checked ==="
lpu-run --copy 64M || exit 1
echo
CKPT=/opt/lpu/moe/demo-ckpt
echo "=== LPU demo: compile a generated Mixtral-style checkpoint (8 experts, top-2) ==="
ls "$CKPT" | grep -v '^ref$' | sed 's/^/  /'
lpu-compile "$CKPT" -o /tmp/demo.lpus --tokens 64 --dtype f32 || exit 1
echo
echo "=== LPU demo: run the MoE block on the card, compare with the numpy reference ==="
lpu-run /tmp/demo.lpus --input x="$CKPT/x.npy" --repeat 5 \
	--output-dir /tmp --compare "$CKPT/ref" || exit 1
echo
echo "=== LPU demo: SRAM after the schedule is unloaded ==="
lpu-smi | head -n 2
echo
echo "=== LPU demo: done ==="
