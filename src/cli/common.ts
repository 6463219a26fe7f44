/**
 * What more than one command needs: where a command writes (so tests can capture it) and the refusal of
 * weights that would make every number NaN. A command file imports shared bits from here or args.ts, never from
 * another command's file.
 */
import { LoraModel } from "../lora/model";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { findNonFinite } from "../model/load";

/** Where the command writes (tests pass their own). */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

/** The process's own stdout and stderr. */
export const STD_IO: CliIO = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/**
 * Refuse a model (or the adapters put on it) holding NaN or ±Infinity: every score it gives would be NaN,
 * which JSON prints as `null`. One line naming the weights' folder (or the adapter's) and the first bad tensor.
 */
export function assertFiniteWeights(model: GPTNeoXForCausalLM, modelPath: string, adapterPath?: string): void {
  const bad = findNonFinite(model.parameters());
  if (bad)
    throw new Error(
      `${modelPath}: weight ${bad.name} holds ${bad.value} (first at index ${bad.index}); the checkpoint is corrupt or comes from a run that diverged`,
    );
  const lora = LoraModel.find(model);
  for (const a of lora?.listAdapters() ?? []) {
    const badA = findNonFinite(lora!.adapterVariables(a.name));
    if (badA)
      throw new Error(
        `${adapterPath ?? a.name}: adapter weight ${badA.name} holds ${badA.value} (first at index ${badA.index}); the adapter is corrupt or comes from a run that diverged`,
      );
  }
}
