#!/usr/bin/env bash
# The exported-job round trip on a real GPU (issue 10): tunebook exports a tiny LoRA job here, transformers +
# PEFT + accelerate run it on the GPU machine, and tunebook loads the adapter back and evaluates it here.
#
#   bash scripts/device/export-check.sh prepare        # here (Node): writes .device/export-job/ (< 5 MB, git-ignored)
#   bash scripts/device/export-check.sh run            # on the GPU machine (Python only): adapter -> $OUT/export-run/
#   bash scripts/device/export-check.sh back DIR       # here: load DIR/adapter onto the job's model, tunebook eval
#
# The job: a tiny random GPT-NeoX (hidden 32, 2 layers, the embedded model's 4096-token tokenizer) saved with
# saveModel, 50 rows of data/email-subject, LoRA r=4 alpha=8 on query_key_value, 20 steps.
set -euo pipefail
cd "$(dirname "$0")/../.."
JOB=.device/export-job
mode="${1:-}"

case "$mode" in
prepare)
  node --import tsx -e '
    const fs = require("fs"), path = require("path");
    const { initBackend } = require("./src/runtime/backend");
    const { GPTNeoXForCausalLM } = require("./src/model/gptneox");
    const { makeConfig } = require("./src/model/config");
    const { saveModel } = require("./src/model/load");
    const { defaultModelDir } = require("./src/pipeline/pretrained");
    const { exportJob } = require("./src/export");
    (async () => {
      await initBackend({ backend: "wasm", verbose: false });
      const src = ".device/export-src/model";
      fs.rmSync(".device/export-src", { recursive: true, force: true });
      const model = GPTNeoXForCausalLM.create(makeConfig({ vocabSize: 4096, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64, maxPositionEmbeddings: 512 }), { seed: 7 });
      await saveModel(model, src);
      model.dispose();
      for (const f of ["tokenizer.json", "tokenizer_config.json"]) fs.copyFileSync(path.join(defaultModelDir(), f), path.join(src, f));
      const r = await exportJob({ out: ".device/export-job", model: src, data: "email-subject", limit: 50, lora: "r=4,alpha=8",
        train: { lr: 1e-3, numSteps: 20, batchSize: 4, maxLength: 128, warmupSteps: 2 }, gpu: "h100-80gb", force: true });
      console.log(JSON.stringify({ out: r.out, files: r.files, cluster: r.job.cluster }, null, 2));
    })().catch((e) => { console.error(e); process.exit(1); });'
  du -sh "$JOB"
  ;;
run)
  : "${OUT:?set OUT to the folder that receives the run}"
  test -f "$JOB/train.py" || { echo "no $JOB: run \`$0 prepare\` first (and carry .device/export-job)"; exit 2; }
  python3 -c 'import sys, torch, transformers, peft, accelerate; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__, "peft", peft.__version__, "accelerate", accelerate.__version__)' | tee "$OUT/versions.txt"
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$OUT/versions.txt" || true
  export TUNEBOOK_OUT="$OUT/export-run" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
  cd "$JOB"
  if command -v accelerate >/dev/null; then launch=(accelerate launch); else launch=(python3 -m accelerate.commands.launch); fi
  "${launch[@]}" --config_file accelerate_config.yaml train.py 2>&1 | tee "$OUT/train.log"
  ls -la "$TUNEBOOK_OUT" "$TUNEBOOK_OUT/adapter"
  ;;
back)
  dir="${2:?usage: $0 back DIR (the folder holding adapter/ from the GPU run)}"
  node --import tsx -e '
    const { run } = require("./src/cli/eval");
    const [dir] = process.argv.slice(1);
    run(["--model", ".device/export-job/model", "--adapter", dir + "/adapter", "--data", "email-subject", "--limit", "20", "--max-new-tokens", "8", "--json"])
      .then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });' "$dir"
  ;;
*)
  echo "usage: $0 prepare | run | back DIR" >&2
  exit 2
  ;;
esac
