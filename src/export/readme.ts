/**
 * The export's README.md: how to launch, what the sizing calculator predicted and why it chose this layout,
 * the hyper-parameters side by side (tunebook name → transformers name → value), what differs from the local
 * run, and how to bring the result back into tunebook (`tunebook eval`).
 */
import { formatEstimate } from "../sizing/report";
import { formatGiB } from "../sizing/units";
import { pipRequirements, type ExportedJob } from "./job";
import type { ClusterPlan } from "./plan";
import { accelerateConfig } from "./configs";

const code = (s: string) => "`" + s + "`";

/**
 * The `tunebook eval` command that scores the exported run's result, run from the export folder: it reads the
 * export's own files (`data/test.jsonl`, `model/`, `output/`) or absolute paths, never a path as typed where the
 * export ran. The template is the one the job used (a shipped dataset's name brings its template and labels).
 */
export function evalCommand(job: ExportedJob): string {
  const model = job.model.copied ? "model" : job.model.path; // an absolute folder or a hub repo id
  const data = job.data.test ? job.data.test.file : "YOUR_TEST.jsonl";
  const template = job.task.spec.template ?? job.task.dataset ?? job.task.schema;
  const labels = job.task.labels && !job.task.dataset ? ` --labels ${job.task.labels.join(",")}` : "";
  const args = `--data ${data} --template ${template}${labels}`;
  return job.lora
    ? `tunebook eval --model ${model} --adapter output/adapter ${args}`
    : `tunebook eval --model output ${args}`;
}

/**
 * README.md for an export.
 * @example
 * fs.writeFileSync("README.md", exportReadme(job, plan, files));
 */
export function exportReadme(job: ExportedJob, plan: ClusterPlan, files: string[]): string {
  const h = job.hf;
  const t = job.train;
  const c = job.cluster;
  const pip = ["torch", ...pipRequirements(job.requires), ...(c.zeroStage ? ["deepspeed"] : [])];
  const rows: [string, string, unknown][] = [
    ["lr", "learning_rate", h.learning_rate],
    [t.numEpochs > 0 ? `numEpochs ${t.numEpochs} → numSteps` : "numSteps", "max_steps", h.max_steps],
    [
      "batchSize × gradAccumSteps",
      "per_device_train_batch_size × gradient_accumulation_steps × GPUs",
      `${t.batchSize} × ${t.gradAccumSteps} → ${h.per_device_train_batch_size} × ${h.gradient_accumulation_steps} × ${c.numProcesses} = ${c.effectiveBatch}`,
    ],
    ["warmupSteps", "warmup_steps", h.warmup_steps],
    ["schedule", "lr_scheduler_type", `${t.schedule} → ${h.lr_scheduler_type}`],
    [
      "optimizer",
      "optim (adam_beta1, adam_beta2, adam_epsilon)",
      `${t.optimizer} → ${h.optim} (${h.adam_beta1}, ${h.adam_beta2}, ${h.adam_epsilon})`,
    ],
    ["weightDecay", "weight_decay", h.weight_decay],
    ["maxGradNorm", "max_grad_norm", h.max_grad_norm],
    ["seed", "seed", h.seed],
    ["maxLength", "max_length (train.py)", h.max_length],
    [
      "EOS appended, prompt masked (-100), left truncation",
      "add_eos, mask_prompt, truncation_side (train.py)",
      `${h.add_eos}, ${h.mask_prompt}, ${h.truncation_side}`,
    ],
    ...(h.lora
      ? ([
          [
            "LoRA r, alpha, dropout, targets",
            "peft.LoraConfig(r, lora_alpha, lora_dropout, target_modules)",
            `${h.lora.r}, ${h.lora.lora_alpha}, ${h.lora.lora_dropout}, ${JSON.stringify(h.lora.target_modules)}`,
          ],
        ] as [string, string, unknown][])
      : []),
    ["(F32 on the CPU)", "bf16 / fp16", `${h.bf16} / ${h.fp16}`],
  ];
  const attempts = plan.attempts.map(
    (a) =>
      `| ${a.gpus} | ${a.zeroStage ? `ZeRO-${a.zeroStage}` : "none"} | ${formatGiB(a.bytesPerGpu)} | ${a.fits ? "fits" : "too big"} |`,
  );
  return [
    `# Fine-tuning job: ${job.model.source} on ${job.task.dataset ?? job.task.data}`,
    "",
    `Exported by ${code("tunebook export --engine hf")}. It is the job ${code("tunebook train")} runs on a laptop — same records, template`,
    `(${code(job.task.template)}), tokenization, loss masking and hyper-parameters — written for Hugging Face transformers${job.lora ? " + PEFT (LoRA)" : " (full fine-tuning)"}`,
    `and ${code("accelerate")}${c.zeroStage ? " with DeepSpeed" : ""}, to run where there are GPUs.`,
    "",
    "## Files",
    "",
    ...files.map((f) => `- ${code(f)}`),
    "",
    "## Launch",
    "",
    "```bash",
    `pip install ${pip.join(" ")}`,
    "cd <this folder>",
    "accelerate launch --config_file accelerate_config.yaml train.py",
    "```",
    "",
    `Oldest releases it runs on: ${Object.entries(job.requires)
      .map(([p, v]) => `${p} ${v}`)
      .join(
        ", ",
      )}${job.hf.lora?.use_rslora ? " (PEFT 0.8 added rsLoRA's use_rslora; older releases ignore it and scale by lora_alpha/r)" : ""}; ${code("train.py")} checks them first and says what to install.`,
    "",
    `The result lands in ${code("output/")} (or ${code("$TUNEBOOK_OUT")}): ${job.lora ? `${code("output/adapter/")} — a PEFT adapter (${code("adapter_config.json")} + ${code("adapter_model.safetensors")})` : `${code("config.json")} + ${code("model.safetensors")}`},`,
    `the tokenizer files and ${code("train_summary.json")} (the loss of every step).`,
    ...(files.includes("axolotl.yaml")
      ? [
          "",
          `With axolotl instead: ${code("accelerate launch --config_file accelerate_config.yaml -m axolotl.cli.train axolotl.yaml")}.`,
        ]
      : []),
    "",
    "## What the sizing calculator chose, and why",
    "",
    `${c.numProcesses} × ${c.gpuName}, ${c.zeroStage ? `DeepSpeed ZeRO-${c.zeroStage}` : "no ZeRO"}, micro-batch ${c.microBatch}, ${c.gradAccumSteps} accumulation step(s), ${c.precision === "fp32" ? "fp32" : `${c.precision} mixed precision`}.`,
    "",
    plan.reason.charAt(0).toUpperCase() + plan.reason.slice(1),
    "",
    "Layouts tried (memory per GPU at micro-batch 1):",
    "",
    "| GPUs | ZeRO | per GPU | |",
    "| --- | --- | --- | --- |",
    ...attempts,
    "",
    "The estimate for the chosen layout:",
    "",
    formatEstimate(plan.estimate),
    "",
    `Re-plan for other hardware with ${code("tunebook export ... --gpu ID [--gpus N]")}; ${code("tunebook sizing --gpus")} lists the GPU ids.`,
    "",
    "## Hyper-parameters",
    "",
    "| tunebook | transformers / train.py | value |",
    "| --- | --- | --- |",
    ...rows.map(([a, b, v]) => `| ${a} | ${b} | ${String(v)} |`),
    "",
    `${code("job.json")} holds every value, the data's sha256 and the local trainer's full config.`,
    "",
    "## What differs from the local run",
    "",
    ...job.notes.map((n) => `- ${n}`),
    "",
    "## Bring the result back",
    "",
    `Copy ${code("output/")} back next to this README, then, from this folder:`,
    "",
    "```bash",
    evalCommand(job),
    "```",
    "",
    job.lora
      ? `The adapter loads onto the base model like any PEFT adapter (tunebook's ${code('loadAdapter(model, "output/adapter")')}).`
      : `The folder loads with tunebook's ${code('loadModel("output")')} like any Hugging Face GPT-NeoX checkpoint.`,
    "",
  ].join("\n");
}

/**
 * A short Markdown summary of an export for a notebook: where it went, the plan, the launch and
 * bring-back commands, and the accelerate config.
 * @example
 * show(markdown(exportSummary(await exportJob({ ... }))));
 */
export function exportSummary(r: { out: string; files: string[]; job: ExportedJob }): string {
  const c = r.job.cluster;
  return [
    `Wrote **${r.files.length} files** to ${code(r.out)}: ${r.files
      .filter((f) => !f.startsWith("model/"))
      .map(code)
      .join(", ")}.`,
    "",
    `**Plan:** ${c.numProcesses} × ${c.gpuName}, ${c.zeroStage ? `DeepSpeed ZeRO-${c.zeroStage}` : "no ZeRO"}, micro-batch ${c.microBatch} × ${c.gradAccumSteps} accumulation step(s) = ${c.effectiveBatch} sequences per update. ${c.reason.charAt(0).toUpperCase() + c.reason.slice(1)}`,
    "",
    `**Launch** (on the cluster, in that folder): ${code("accelerate launch --config_file accelerate_config.yaml train.py")}`,
    "",
    `**Bring the result back** (from that folder): ${code(evalCommand(r.job))}`,
    "",
    "```yaml",
    accelerateConfig(r.job).trimEnd(),
    "```",
  ].join("\n");
}
