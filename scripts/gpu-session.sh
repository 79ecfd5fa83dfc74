#!/usr/bin/env bash
# Everything a GPU session checks, in one command (the device machine has no Node.js or registry:
# see ../shared/device/README.md). On the development machine: `npm run build` (CUDA, runtime
# linked statically) and `bash scripts/pack-device.sh`; then run this on the GPU machine with the
# working tree plus `.device` and `build/Release` (carry):
#   bash scripts/gpu-session.sh            # suite + both benchmarks (about 5 minutes on an H100)
#   SKIP_BENCH=1 bash scripts/gpu-session.sh
# Logs and JSON go to $OUT (the device tool's folder) or bench/results/gpu; the last lines are a
# short summary table.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-bench/results/gpu}
mkdir -p "$out"
if [ -f .device/node.xz ] && ! command -v node >/dev/null; then
  xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
fi
if [ -f .device/node_modules.tar.xz ] && [ ! -d node_modules/tsx ]; then
  xz -dc .device/node_modules.tar.xz | tar -xf -
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.csv" 2>/dev/null || echo "nvidia-smi unavailable" > "$out/gpu.csv"
info=$(node -e 'const i=require("./build/Release/mmcot.node").backendInfo(); console.log(JSON.stringify(i)); if (!i.cudaDeviceCount) process.exit(1)')
found=$?
echo "$info" | tee "$out/backend.json"
[ "$found" -eq 0 ] || { echo "no usable CUDA device: stopping"; exit 1; }

echo "== npm run test:cuda"
node --import tsx node_modules/uvu/bin.js tests/cuda '\.test\.ts$' > "$out/test-cuda.log" 2>&1
suite=$?
tail -8 "$out/test-cuda.log"

bench_status=skipped
if [ -z "${SKIP_BENCH:-}" ]; then
  echo "== bench/cuda_gemm.ts"
  node --import tsx bench/cuda_gemm.ts --rounds 3 > "$out/cuda_gemm.log" 2>&1; g=$?
  echo "== bench/cuda_attention.ts"
  node --import tsx bench/cuda_attention.ts > "$out/cuda_attention.log" 2>&1; a=$?
  cp bench/results/cuda_gemm.json bench/results/cuda_attention.json "$out/" 2>/dev/null
  bench_status="gemm exit $g, attention exit $a"
  tail -40 "$out/cuda_gemm.log"; tail -30 "$out/cuda_attention.log"
fi

echo "== summary"
plain=$(sed 's/\x1b\[[0-9;]*m//g' "$out/test-cuda.log")
echo "device:      $(tail -1 "$out/gpu.csv")"
echo "test:cuda:   exit $suite; $(echo "$plain" | awk '/Total:/ {t=$2} /Passed:/ {p=$2} /Skipped:/ {s=$2} END {print t" total, "p" passed, "s" skipped"}')"
echo "benchmarks:  $bench_status (tables above; JSON in $out)"
exit $suite
