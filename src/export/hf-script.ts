/**
 * `train.py`: a self-contained transformers `Trainer` script (plus PEFT for LoRA jobs) for the exported job.
 *
 * Why plain `Trainer` and not TRL's `SFTTrainer`: TRL's prompt-completion options (`completion_only_loss`,
 * `DataCollatorForCompletionOnlyLM`, `dataset_text_field`, ...) changed names and defaults several times
 * between releases, while `Trainer` + a collator has been stable since transformers 4.x. The script does its
 * own tokenization and masking exactly as tunebook's `tokenizeExample` (src/data/prepare.ts): prompt and
 * completion tokenized separately, EOS appended, prompt labels -100, over-long examples cut from the start of
 * the prompt. The data is still in TRL's prompt-completion format, so `SFTTrainer` can read it too.
 *
 * All values come from the job's `hf` section, written into the script as a Python dict literal.
 */
import type { ExportedJob } from "./job";

/**
 * A JSON value as a Python literal (True/False/None; JSON string escapes are valid Python escapes).
 * @example
 * pyLiteral({ a: [1, true, null], b: "x" }); // '{\n    "a": [1, True, None],\n    "b": "x",\n}'
 */
export function pyLiteral(v: unknown, indent = 0): string {
  const pad = " ".repeat(indent);
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`pyLiteral: ${v} has no Python literal here`);
    return JSON.stringify(v);
  }
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyLiteral(x, indent)).join(", ")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.length) return "{}";
    return `{\n${entries.map(([k, x]) => `${pad}    ${JSON.stringify(k)}: ${pyLiteral(x, indent + 4)},`).join("\n")}\n${pad}}`;
  }
  throw new Error(`pyLiteral: cannot write a ${typeof v}`);
}

/** The marker lines around the JOB literal (tests read the literal back with Python's `ast`). */
export const JOB_BEGIN = "# --- job (generated from job.json; edit job.json and re-export rather than here) ---";
export const JOB_END = "# --- end of job ---";

/**
 * The training script for an exported job.
 * @example
 * fs.writeFileSync("train.py", trainScript(job));
 */
export function trainScript(job: ExportedJob): string {
  const lora = job.hf.lora !== null;
  const req = job.requires;
  const needs = [
    "torch",
    ...Object.entries(req).map(([p, v]) => `${p} >= ${v}`),
    ...(job.cluster.zeroStage > 0 ? ["deepspeed"] : []),
  ];
  const why = job.hf.lora?.use_rslora
    ? { peft: "rsLoRA (use_rslora) arrived in PEFT 0.8; older releases ignore it and scale by lora_alpha/r" }
    : {};
  return `#!/usr/bin/env python3
"""Fine-tune ${job.model.source} on ${job.task.dataset ?? job.task.data} (template ${job.task.template}) — ${lora ? "a LoRA adapter (PEFT)" : "every weight"}.

Exported by \`tunebook export --engine hf\`: the same job as \`tunebook train\` with the same hyper-parameters,
template, tokenization and loss masking (job.json holds every value; README.md explains the launch).

Launch from this folder:
    accelerate launch --config_file accelerate_config.yaml train.py
Needs: ${needs.join(", ")}. No network when the model is in ./model.
Writes to $TUNEBOOK_OUT (default ./output): ${lora ? "adapter/ (adapter_config.json + adapter_model.safetensors)" : "config.json + model.safetensors"}, the tokenizer
files and train_summary.json (losses per step).
"""
import dataclasses
import json
import os
import re
import sys
from importlib import metadata

# Oldest releases this job runs on (checked before importing them: an older one fails later, or silently).
REQUIRES = ${pyLiteral(req)}
WHY = ${pyLiteral(why)}


def release(text):
    """'4.31.0' -> (4, 31, 0); '1.13.0a0+git' -> (1, 13, 0)."""
    return tuple(int(re.match(r"\\d*", part).group() or 0) for part in text.split("+")[0].split(".")[:3])


def check_requirements():
    """One line naming each package below its floor (installed version, required floor) and the pip command."""
    bad, pins = [], []
    for pkg, floor in REQUIRES.items():
        try:
            have = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            have = None
        if have is None or release(have) < release(floor):
            reason = f" ({WHY[pkg]})" if pkg in WHY else ""
            bad.append(f"{pkg} {have or 'not installed'} (needs >= {floor}{reason})")
            pins.append(f'"{pkg}>={floor}"')
    if bad:
        sys.exit(f"train.py: {'; '.join(bad)}. Fix: pip install -U {' '.join(pins)}")


if __name__ == "__main__":  # first, before the imports below can fail on an old release
    check_requirements()

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments, set_seed  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
IGNORE_INDEX = -100

${JOB_BEGIN}
JOB = ${pyLiteral(job.hf)}
${JOB_END}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tokenize(row, tokenizer):
    """A row -> input_ids and labels, as tunebook's tokenizeExample: prompt and completion tokenized apart
    (the boundary is exact), EOS after the completion, the prompt's labels -100, and an over-long example
    cut from the START of its prompt (the answer survives)."""
    prompt = tokenizer(row["prompt"], add_special_tokens=JOB["add_special_tokens"])["input_ids"]
    completion = tokenizer(row["completion"], add_special_tokens=False)["input_ids"]
    if JOB["add_eos"] and tokenizer.eos_token_id is not None:
        completion = completion + [tokenizer.eos_token_id]
    limit = JOB["max_length"]
    if len(prompt) + len(completion) > limit:
        if JOB["truncation_side"] == "left":
            if len(completion) <= limit:
                prompt = prompt[len(prompt) - (limit - len(completion)):]
            else:
                prompt, completion = [], completion[:limit]
        elif len(prompt) >= limit:
            prompt, completion = prompt[:limit], []
        else:
            completion = completion[: limit - len(prompt)]
    labels = ([IGNORE_INDEX] * len(prompt) if JOB["mask_prompt"] else list(prompt)) + completion
    return {"input_ids": prompt + completion, "labels": labels}


class Examples(torch.utils.data.Dataset):
    """Tokenized rows; rows left with no scored token are dropped (as tunebook's trainer does)."""

    def __init__(self, rows, tokenizer):
        examples = [tokenize(r, tokenizer) for r in rows]
        self.examples = [e for e in examples if any(x != IGNORE_INDEX for x in e["labels"])]
        self.dropped = len(examples) - len(self.examples)

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, i):
        return self.examples[i]


class Collator:
    """Right padding: pad id in input_ids, 0 in the attention mask, -100 in the labels."""

    def __init__(self, pad_id):
        self.pad_id = pad_id

    def __call__(self, batch):
        width = JOB["max_length"] if JOB["pad_to_max_length"] else max(len(e["input_ids"]) for e in batch)
        ids, mask, labels = [], [], []
        for e in batch:
            n = len(e["input_ids"])
            ids.append(e["input_ids"] + [self.pad_id] * (width - n))
            mask.append([1] * n + [0] * (width - n))
            labels.append(e["labels"] + [IGNORE_INDEX] * (width - n))
        return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(labels)}


def training_arguments(out_dir):
    """TrainingArguments from JOB; a value this transformers version does not know is an error, except
    save_safetensors (newer versions always write safetensors)."""
    args = {
        "output_dir": os.path.join(out_dir, "checkpoints"),
        "per_device_train_batch_size": JOB["per_device_train_batch_size"],
        "per_device_eval_batch_size": JOB["per_device_train_batch_size"],
        "gradient_accumulation_steps": JOB["gradient_accumulation_steps"],
        "learning_rate": JOB["learning_rate"],
        "max_steps": JOB["max_steps"],
        "warmup_steps": JOB["warmup_steps"],
        "lr_scheduler_type": JOB["lr_scheduler_type"],
        "weight_decay": JOB["weight_decay"],
        "max_grad_norm": JOB["max_grad_norm"],
        "seed": JOB["seed"],
        "optim": JOB["optim"],
        "adam_beta1": JOB["adam_beta1"],
        "adam_beta2": JOB["adam_beta2"],
        "adam_epsilon": JOB["adam_epsilon"],
        "bf16": JOB["bf16"],
        "fp16": JOB["fp16"],
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": "none",
        "remove_unused_columns": False,
        "save_safetensors": True,
    }
    known = {f.name for f in dataclasses.fields(TrainingArguments)}
    missing = [k for k in args if k not in known and k != "save_safetensors"]
    if missing:
        raise SystemExit(f"this transformers version has no TrainingArguments {missing}; install transformers >= 4.31")
    return TrainingArguments(**{k: v for k, v in args.items() if k in known})


def target_modules(model, targets):
    """A regular expression (one string) becomes the full names of the Linear layers it matches entirely, as
    tunebook matches it: PEFT would match it against every module, dropout and activation included, and refuse
    those. A full name in a list matches exactly that module in every PEFT release."""
    if not isinstance(targets, str):
        return targets
    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and re.fullmatch(targets, n)]
    if not names:
        sys.exit(f"train.py: JOB['lora']['target_modules'] {targets!r} matches none of the model's Linear layers")
    return names


def lora_config(model):
    from peft import LoraConfig

    lora = JOB["lora"]
    kwargs = {k: v for k, v in lora.items() if k not in ("use_rslora", "layers_to_transform")}
    kwargs["target_modules"] = target_modules(model, lora["target_modules"])
    if lora["use_rslora"]:
        kwargs["use_rslora"] = True  # older PEFT has no use_rslora: passed only when on
    if lora["layers_to_transform"] is not None:
        kwargs["layers_to_transform"] = lora["layers_to_transform"]
    return LoraConfig(**kwargs)


def float32():
    """fp32 master weights: transformers >= 4.56 calls the argument dtype, older versions torch_dtype."""
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": torch.float32} if (major, minor) >= (4, 56) else {"torch_dtype": torch.float32}


def write_json(path, value):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\\n")
    os.replace(tmp, path)


def main():
    out_dir = os.path.abspath(os.environ.get("TUNEBOOK_OUT", os.path.join(HERE, "output")))
    set_seed(JOB["seed"])
    model_path = JOB["model_name_or_path"]
    if not os.path.isabs(model_path) and os.path.isdir(os.path.join(HERE, model_path)):
        model_path = os.path.join(HERE, model_path)
    args = training_arguments(out_dir)  # before the model: DeepSpeed ZeRO-3 must see it when weights load
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    train = Examples(read_jsonl(os.path.join(HERE, "data", "train.jsonl")), tokenizer)
    test_file = os.path.join(HERE, "data", "test.jsonl")
    test = Examples(read_jsonl(test_file), tokenizer) if os.path.exists(test_file) else None
    model = AutoModelForCausalLM.from_pretrained(model_path, **float32())
    if JOB["lora"] is not None:
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(model))
        model.print_trainable_parameters()
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=test, data_collator=Collator(pad_id))
    result = trainer.train()
    metrics = {"train_" + k if not k.startswith("train") else k: v for k, v in result.metrics.items()}
    if test is not None:
        metrics.update(trainer.evaluate())
    target = os.path.join(out_dir, "adapter") if JOB["lora"] is not None else out_dir
    trainer.save_model(target)
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(out_dir)
        history = trainer.state.log_history
        write_json(os.path.join(out_dir, "train_summary.json"), {
            "model": JOB["model_name_or_path"],
            "saved": target,
            "steps": trainer.state.global_step,
            "losses": [h["loss"] for h in history if "loss" in h],
            "learning_rates": [h["learning_rate"] for h in history if "learning_rate" in h],
            "eval_loss": metrics.get("eval_loss"),
            "metrics": metrics,
            "train_examples": len(train),
            "dropped_examples": train.dropped,
            "world_size": args.world_size,
            "versions": {"torch": torch.__version__, **{pkg: metadata.version(pkg) for pkg in REQUIRES}},
        })
        print(f"saved {target}")


if __name__ == "__main__":
    main()
`;
}
