/**
 * Where a GPT-NeoX model's parameters are, as table rows and as a chart: the loaded model by part, and the
 * model next to the Pythia family (70M to 12B) on a log scale. What notebook 03 shows after loading.
 * Counts come from the config alone (`countParameters`, src/model/presets.ts), so this works for any size.
 */
import type { GPTNeoXConfig } from "../model/config";
import { countParameters, PYTHIA_PRESETS } from "../model/presets";
import type { PlotlyFigure } from "../types/figure";

/** One row of the parameter table. */
export interface ParameterRow {
  part: string;
  /** Which Hugging Face tensors the part covers. */
  tensors: string;
  parameters: number;
  /** parameters / total, 0..1. */
  share: number;
}

/**
 * The parameter count of a config, part by part (embeddings, attention, MLP, norms, output), with a total row.
 * @example
 * show(table(parameterRows(model.config)));
 * parameterRows(getPreset("pythia-70m")).at(-1)!.parameters; // 70426624
 */
export function parameterRows(config: GPTNeoXConfig): ParameterRow[] {
  const c = countParameters(config);
  const n = config.numHiddenLayers;
  const parts: [string, string, number][] = [
    ["input embedding", "gpt_neox.embed_in", c.embedIn],
    [`attention (${n} layers)`, "attention.query_key_value + attention.dense", c.attention],
    [`MLP (${n} layers)`, "mlp.dense_h_to_4h + mlp.dense_4h_to_h", c.mlp],
    [
      `layer norms (${n} layers + final)`,
      "input_layernorm + post_attention_layernorm + final_layer_norm",
      c.norms + c.finalLayerNorm,
    ],
    ["output projection", config.tieWordEmbeddings ? "embed_out (tied to embed_in: 0 extra)" : "embed_out", c.embedOut],
  ];
  const rows = parts.map(([part, tensors, parameters]) => ({
    part,
    tensors,
    parameters,
    share: c.total ? parameters / c.total : 0,
  }));
  rows.push({ part: "total", tensors: "", parameters: c.total, share: 1 });
  return rows;
}

/** One point of the family chart. */
export interface FamilyPoint {
  name: string;
  parameters: number;
  /** True for the models passed in `extra` (drawn apart from the family). */
  highlighted: boolean;
}

/**
 * The Pythia family's parameter counts (from the presets), smallest first, plus extra named models.
 * @example
 * familyPoints({ "embedded default": 5_256_704 }).map((p) => p.name); // ["embedded default", "pythia-14m", ...]
 */
export function familyPoints(extra: Record<string, number> = {}): FamilyPoint[] {
  const family = Object.entries(PYTHIA_PRESETS).map(([name, cfg]) => ({
    name,
    parameters: countParameters(cfg).total,
    highlighted: false,
  }));
  for (const [name, parameters] of Object.entries(extra)) {
    if (!(Number.isFinite(parameters) && parameters > 0))
      throw new RangeError(
        `familyPoints: parameters of ${JSON.stringify(name)} must be a positive number, found ${parameters}`,
      );
  }
  const extras = Object.entries(extra).map(([name, parameters]) => ({ name, parameters, highlighted: true }));
  return [...family, ...extras].sort((a, b) => a.parameters - b.parameters);
}

/**
 * A plotly bar chart of the family on a log axis, the extra models in another colour. Plain `{data, layout}`:
 * hand it to `show()`.
 * @example
 * show(familyFigure({ "this model": countParameters(model.config).total }));
 */
export function familyFigure(
  extra: Record<string, number> = {},
  title = "Parameters: this model and the Pythia family (log scale)",
): PlotlyFigure {
  const pts = familyPoints(extra);
  const fmt = (p: number) => (p >= 1e9 ? `${(p / 1e9).toFixed(1)}B` : `${(p / 1e6).toFixed(p < 1e7 ? 1 : 0)}M`);
  const trace = (hl: boolean, name: string, color: string) => {
    const sel = pts.filter((p) => p.highlighted === hl);
    return {
      type: "bar",
      name,
      x: sel.map((p) => p.name),
      y: sel.map((p) => p.parameters),
      text: sel.map((p) => fmt(p.parameters)),
      textposition: "outside",
      marker: { color },
    };
  };
  const data = [trace(false, "Pythia family", "#4c78a8")];
  if (pts.some((p) => p.highlighted)) data.push(trace(true, "this notebook", "#f58518"));
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: "model" }, categoryorder: "array", categoryarray: pts.map((p) => p.name) },
      yaxis: { title: { text: "parameters" }, type: "log" },
      barmode: "overlay",
      legend: { orientation: "h", x: 0, y: 1.08 }, // above the plot: below, it collides with the rotated model names
      height: 420,
    },
  };
}
