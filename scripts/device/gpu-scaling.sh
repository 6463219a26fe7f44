#!/usr/bin/env bash
# The GPU scaling run for notebook 05, in ONE call on a machine with an NVIDIA GPU, Python + PyTorch, and
# no Node.js and no network. Writes recordings (docs/recorded/ format, "tunebook-scaling-record" v1) to $OUT:
#   (a) pytorch-gpu.json     PyTorch's GPT-NeoX training step across Pythia sizes (scripts/device/gpt_neox_step.py)
#   (b) tunebook-webgpu.json tunebook's own step through WebGPU (Dawn → Vulkan), if .device/ was carried
#       (made here by scripts/device/pack-webgpu.sh) and a Vulkan driver answers; .gl/ carries the loaders.
# Then copy the JSON files into docs/recorded/ (see docs/gpu-scaling.md).
#
# Knobs (environment): PT_SIZES PT_BATCH PT_SEQ PT_BUDGET_S  WG_SIZES WG_BATCH WG_SEQ WG_BUDGET_S  SKIP_PYTORCH SKIP_WEBGPU
set -u
OUT=${OUT:-/tmp/tunebook-gpu-out}
mkdir -p "$OUT"
cd "$(dirname "$0")/../.."
{
  date -u +%FT%TZ; uname -a
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "nvidia-smi: not available"
  python3 -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
} > "$OUT/env.txt"
cat "$OUT/env.txt"

if [ -z "${SKIP_PYTORCH:-}" ]; then
  echo "== (a) PyTorch GPT-NeoX step"
  PYTHONUNBUFFERED=1 timeout $(( ${PT_BUDGET_S:-150} + 90 )) python3 scripts/device/gpt_neox_step.py \
    --sizes "${PT_SIZES:-14m,31m,70m,160m,410m,1b,1.4b}" --precisions bf16-amp,fp32 \
    --batch "${PT_BATCH:-8}" --seq "${PT_SEQ:-512}" --budget-s "${PT_BUDGET_S:-150}" \
    --out "$OUT/pytorch-gpu.json" 2>&1 | tee "$OUT/pytorch.log"
fi

if [ -z "${SKIP_WEBGPU:-}" ] && [ -f .device/tunebook-webgpu.js ]; then
  echo "== (b) tunebook on WebGPU"
  # Vulkan loader: bring it when the image has none (unpacking into / is what the device notes prescribe).
  if ! ldconfig -p | grep -q libvulkan; then for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
  NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$NV_ICD" ]; then export VK_DRIVER_FILES=$NV_ICD; fi
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
  TB=/tmp/tunebook-webgpu; rm -rf "$TB"; mkdir -p "$TB"; cp -r .device/. "$TB/"
  xz -d "$TB/node.xz" "$TB/node_modules/webgpu/dist/linux-x64/dawn.node.xz" && chmod +x "$TB/node"
  "$TB/node" --version
  timeout $(( ${WG_BUDGET_S:-150} + 90 )) "$TB/node" "$TB/tunebook-webgpu.js" --out "$OUT/tunebook-webgpu.json" \
    --sizes "${WG_SIZES:-14m,31m,70m,160m,410m}" --batch "${WG_BATCH:-8}" --seq "${WG_SEQ:-512}" --steps 3 \
    --budget-s "${WG_BUDGET_S:-150}" --gpu-name "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)" 2>&1 | grep -v "artificially reduced" | tee "$OUT/webgpu.log"
fi
ls -la "$OUT"
