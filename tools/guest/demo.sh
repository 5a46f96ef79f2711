#!/bin/sh
# `make demo` in the guest: the driver bound, the device nodes udev made,
# the card in lpu-smi, NOP job round trips completed by an interrupt, and a
# DMA round trip through SRAM checked byte for byte.
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
echo "=== LPU demo: done ==="
