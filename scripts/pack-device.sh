#!/usr/bin/env bash
# Prepares a GPU session (the device machine has no Node.js or registry, and `run` carries at most
# 64 MiB): packs node (../shared/device/pack-node.sh) and the runtime part of node_modules
# (without typescript, @types and the build tools) into .device/, after a CUDA build.
#   npm run build && bash scripts/pack-device.sh
# then call the device tool with carry [".device", "build/Release"] and the command
#   bash scripts/gpu-session.sh
set -euo pipefail
cd "$(dirname "$0")/.."
test -f build/Release/mmcot.node || { echo "build/Release/mmcot.node missing: npm run build first"; exit 1; }
node -e 'if (!require("./build/Release/mmcot.node").backendInfo().cudaCompiled) { console.error("this build has no CUDA backend"); process.exit(1); }'
bash ../shared/device/pack-node.sh >/dev/null
tar -cf - --exclude=node_modules/typescript --exclude=node_modules/@types --exclude=node_modules/prebuildify \
  --exclude=node_modules/cmake-js --exclude=node_modules/.cache node_modules | xz -T2 -6 > .device/node_modules.tar.xz
du -ch .device/* build/Release/mmcot.node | tail -1 | sed 's/total/to carry (limit 64 MiB)/'
