// scripts/device/size-sweep.ts record: fine-tuned models per member × task → tunebook's evaluation on the test
// split → one size record that validates and plots. Tiny random models stand in for the fine-tuned members (the
// numbers are not results of anything), one of them as a LoRA adapter on its pretrained member; a missing
// member × task folder is named.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useTestBackend } from "../helpers/backend";
import { recordSweep } from "../../scripts/device/size-sweep";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { saveModel } from "../../src/model/load";
import { defaultModelDir } from "../../src/pipeline/pretrained";
import { loadSizeRecords, sizeFigure } from "../../src/eval/size-records";
import { attachLora, parseLoraOption } from "../../src/pipeline/adapters";
import { LoraModel } from "../../src/lora/model";

test("record: every member × task evaluated on its test split, written as a valid size record; a missing folder is named", async () => {
  await useTestBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-sweep-"));
  try {
    const sweep = path.join(dir, "sweep");
    const members = [
      { name: "m-small", hidden: 16 },
      { name: "m-big", hidden: 32 },
    ];
    const family = path.join(dir, "family");
    for (const [i, m] of members.entries()) {
      for (const d of [
        path.join(family, m.name),
        ...["spam", "docs-qa"].map((task) => path.join(sweep, m.name, task)),
      ]) {
        const model = GPTNeoXForCausalLM.create(
          makeConfig({
            vocabSize: 4096,
            hiddenSize: m.hidden,
            numHiddenLayers: 1,
            numAttentionHeads: 2,
            intermediateSize: 2 * m.hidden,
            maxPositionEmbeddings: 512,
          }),
          { seed: i },
        );
        if (d.endsWith(path.join("m-small", "docs-qa"))) {
          // a LoRA run brings back an adapter for the pretrained member, not a model
          const lora = await attachLora(model, parseLoraOption("r=2,alpha=4"), { baseModelNameOrPath: "m-small" });
          await lora.save(path.join(d, "adapter"));
          LoraModel.find(model)?.unload();
        } else {
          await saveModel(model, d);
          for (const f of ["tokenizer.json", "tokenizer_config.json"])
            fs.copyFileSync(path.join(defaultModelDir(), f), path.join(d, f));
        }
        model.dispose();
      }
    }
    const meta = {
      label: "synthetic",
      date: "2026-12-05",
      machine: { gpu: "none (test)" },
      software: { torch: "0", transformers: "0", tunebook: "0" },
      method: "a test",
      recipe: { lr: 0.002, numSteps: 1, batchSize: 1 },
      models: [
        { name: "m-small", parameters: 1000 },
        { name: "m-big", parameters: 3000 },
      ],
    };
    fs.writeFileSync(path.join(sweep, "sweep.json"), JSON.stringify(meta));
    const out = path.join(dir, "records", "r.json");
    const lines: string[] = [];
    await assert.rejects(
      recordSweep({ sweep, out, tasks: ["spam", "docs-qa"], limit: 3, log: () => {} }),
      /m-small\/docs-qa\/adapter: a LoRA adapter; give --family DIR/,
    );
    const rec = await recordSweep({
      sweep,
      out,
      family,
      tasks: ["spam", "docs-qa"],
      limit: 3,
      log: (l) => lines.push(l),
    });
    assert.equal(rec.results.length, 4);
    const spam = rec.results.find((r) => r.model === "m-big" && r.task === "spam")!;
    assert.equal(spam.testItems, 3);
    assert.ok(typeof spam.accuracy === "number" && spam.perplexity! > 0);
    assert.equal(spam.samples.length, 3);
    assert.ok(
      spam.samples.every((s) => s.expected === "spam" || s.expected === "ham"),
      "the references are the test split's labels",
    );
    assert.equal(rec.results.find((r) => r.task === "docs-qa")!.accuracy, null);
    const [back] = loadSizeRecords(path.dirname(out));
    assert.deepEqual(sizeFigure([back], "spam").data[0].x, [1000, 3000]);
    assert.match(lines.join("\n"), /m-small × docs-qa: exact match/);
    fs.rmSync(path.join(sweep, "m-big", "docs-qa"), { recursive: true });
    await assert.rejects(
      recordSweep({ sweep, out, family, tasks: ["spam", "docs-qa"], limit: 3, log: () => {} }),
      /m-big\/docs-qa: no fine-tuned model \(config\.json\) or adapter \(adapter\/adapter_config\.json\)/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
