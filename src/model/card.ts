/**
 * A model folder's card (`model-card.json`, format "tunebook-model-card" version 1): what a shipped model was
 * trained on and how, how well it reproduces transformers, and the fine-tuning recipe recommended for each course
 * dataset, which `tunebook train` uses for the flags a learner leaves out. Its human-readable twin is the
 * folder's `datasheet.md`, whose generated block (between the MARKERS) must match the card.
 *
 * Every field is checked; an error is one line naming the file and the field.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type FieldCheck, fieldChecker, isObject, isText, isPositiveInt } from "../runtime/json-records";

export const CARD_FILE = "model-card.json";
export const DATASHEET_FILE = "datasheet.md";
export const CARD_FORMAT = "tunebook-model-card";
export const CARD_VERSION = 1;
export const DATASHEET_BEGIN = "<!-- model-card: generated from model-card.json; do not edit by hand -->";
export const DATASHEET_END = "<!-- model-card: end -->";

/** One recommended fine-tuning recipe: the trainer fields it sets, and where the values were measured. */
export interface Recipe {
  lr: number;
  numSteps: number;
  batchSize: number;
  warmupSteps?: number;
  maxLength?: number;
  /** Where these values were chosen and measured (a document, a record, a notebook). */
  source: string;
  /** What the recipe gave there, in words with the numbers (optional). */
  result?: string;
}

/** The fields of a recipe `tunebook train` fills in when not given. */
export const RECIPE_FIELDS = ["lr", "numSteps", "batchSize", "warmupSteps", "maxLength"] as const;
export type RecipeField = (typeof RECIPE_FIELDS)[number];

export interface HeldOutLoss {
  /** Mean loss per predicted token (nats). */
  loss: number;
  tokens: number;
}

export interface ParitySummary {
  /** max |logits tunebook − logits transformers| on `ids` (see scripts/device/parity.ts). */
  maxAbsDiff: number;
  tolerance: number;
  transformers: string;
  torch?: string;
  tunebookBackend: string;
  date: string;
}

export interface TrainingSummary {
  builtBy: string;
  /** One sentence: optimizer, schedule, precision, hardware. */
  recipe: string;
  steps: number;
  tokens: number;
  batch: number;
  seq: number;
  lr: number;
  device: string;
  date: string;
}

export interface ModelCard {
  format: typeof CARD_FORMAT;
  version: typeof CARD_VERSION;
  /** The model's name (a family member's, or "default"). */
  name: string;
  parameters?: number;
  training?: TrainingSummary;
  /** Held-out loss per corpus source. */
  heldOut?: Record<string, HeldOutLoss>;
  parity?: ParitySummary;
  /** Recommended fine-tuning recipes, keyed by shipped dataset name (`email-subject`, `spam`, `docs-qa`). */
  recipes: Record<string, Recipe>;
  notes?: string;
}

/** A card or datasheet that does not follow the format: the message names the file and the field. */
export class ModelCardError extends Error {
  override name = "ModelCardError";
}

const need: FieldCheck = fieldChecker((m) => new ModelCardError(m));

const posNum = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;
const isoDate = (v: unknown) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v));

export interface ValidateCardOptions {
  /**
   * A shipped family member's card must be complete: parameters, training, held-out loss per source and a
   * parity record within its tolerance. The embedded default model's card carries recipes only.
   */
  shipped?: boolean;
}

/**
 * Check a parsed card; `file` names it in errors.
 *
 * @example
 * validateModelCard(JSON.parse(isText), "data/tunebook-20m/model-card.json", { shipped: true });
 * // throws ModelCardError "data/tunebook-20m/model-card.json: parity.maxAbsDiff: expected ..."
 */
export function validateModelCard(x: unknown, file = CARD_FILE, opts: ValidateCardOptions = {}): ModelCard {
  need(isObject(x), file, "a JSON object", x);
  need(x.format === CARD_FORMAT, `${file}: format`, `"${CARD_FORMAT}"`, x.format);
  need(x.version === CARD_VERSION, `${file}: version`, String(CARD_VERSION), x.version);
  need(isText(x.name), `${file}: name`, "a non-empty string", x.name);
  const known = new Set([
    "format",
    "version",
    "name",
    "parameters",
    "training",
    "heldOut",
    "parity",
    "recipes",
    "notes",
  ]);
  for (const k of Object.keys(x)) need(known.has(k), `${file}: ${k}`, `a known field (${[...known].join(", ")})`, k);
  const required = (k: string) =>
    need(!opts.shipped || x[k] !== undefined, `${file}: ${k}`, "present (a shipped model's card is complete)", x[k]);
  ["parameters", "training", "heldOut", "parity"].forEach(required);
  if (x.parameters !== undefined)
    need(isPositiveInt(x.parameters), `${file}: parameters`, "an integer > 0", x.parameters);
  if (x.notes !== undefined) need(typeof x.notes === "string", `${file}: notes`, "a string", x.notes);
  if (x.training !== undefined) {
    const t = x.training;
    need(isObject(t), `${file}: training`, "an object", t);
    for (const f of ["builtBy", "recipe", "device"])
      need(isText(t[f]), `${file}: training.${f}`, "a non-empty string", t[f]);
    for (const f of ["steps", "tokens", "batch", "seq"])
      need(isPositiveInt(t[f]), `${file}: training.${f}`, "an integer > 0", t[f]);
    need(posNum(t.lr), `${file}: training.lr`, "a number > 0", t.lr);
    need(isoDate(t.date), `${file}: training.date`, "an ISO date (YYYY-MM-DD)", t.date);
  }
  if (x.heldOut !== undefined) {
    need(
      isObject(x.heldOut) && Object.keys(x.heldOut).length > 0,
      `${file}: heldOut`,
      "an object of corpus sources",
      x.heldOut,
    );
    for (const [src, h] of Object.entries(x.heldOut as Record<string, any>)) {
      need(isObject(h), `${file}: heldOut.${src}`, "{ loss, tokens }", h);
      need(posNum(h.loss), `${file}: heldOut.${src}.loss`, "a number > 0 (nats per token)", h.loss);
      need(isPositiveInt(h.tokens), `${file}: heldOut.${src}.tokens`, "an integer > 0", h.tokens);
    }
  }
  if (x.parity !== undefined) {
    const p = x.parity;
    need(isObject(p), `${file}: parity`, "an object", p);
    need(
      typeof p.maxAbsDiff === "number" && p.maxAbsDiff >= 0,
      `${file}: parity.maxAbsDiff`,
      "a number ≥ 0",
      p.maxAbsDiff,
    );
    need(posNum(p.tolerance), `${file}: parity.tolerance`, "a number > 0", p.tolerance);
    need(
      p.maxAbsDiff <= p.tolerance,
      `${file}: parity.maxAbsDiff`,
      `at most parity.tolerance ${p.tolerance}`,
      p.maxAbsDiff,
    );
    for (const f of ["transformers", "tunebookBackend"])
      need(isText(p[f]), `${file}: parity.${f}`, "a non-empty string", p[f]);
    if (p.torch !== undefined) need(isText(p.torch), `${file}: parity.torch`, "a non-empty string", p.torch);
    need(isoDate(p.date), `${file}: parity.date`, "an ISO date (YYYY-MM-DD)", p.date);
  }
  need(isObject(x.recipes), `${file}: recipes`, "an object keyed by dataset name ({} for none)", x.recipes);
  for (const [ds, r] of Object.entries(x.recipes as Record<string, any>)) {
    const w = `${file}: recipes.${ds}`;
    need(isObject(r), w, "an object", r);
    const fields = new Set<string>([...RECIPE_FIELDS, "source", "result"]);
    for (const k of Object.keys(r)) need(fields.has(k), `${w}.${k}`, `a recipe field (${[...fields].join(", ")})`, k);
    need(posNum(r.lr) && r.lr < 1, `${w}.lr`, "a learning rate in (0, 1)", r.lr);
    for (const f of ["numSteps", "batchSize"]) need(isPositiveInt(r[f]), `${w}.${f}`, "an integer > 0", r[f]);
    if (r.warmupSteps !== undefined)
      need(Number.isInteger(r.warmupSteps) && r.warmupSteps >= 0, `${w}.warmupSteps`, "an integer ≥ 0", r.warmupSteps);
    if (r.maxLength !== undefined)
      need(Number.isInteger(r.maxLength) && r.maxLength >= 2, `${w}.maxLength`, "an integer ≥ 2", r.maxLength);
    need(isText(r.source), `${w}.source`, "a non-empty string saying where the recipe was measured", r.source);
    if (r.result !== undefined) need(isText(r.result), `${w}.result`, "a non-empty string", r.result);
  }
  return x as unknown as ModelCard;
}

/**
 * The card of the model folder `dir`, or undefined when it has none. A card that is present but malformed is an
 * error (never silently ignored: it would change which learning rate a run uses).
 *
 * @example
 * readModelCard("data/default-model")?.recipes["email-subject"]; // { lr: 0.005, numSteps: 240, batchSize: 8, ... }
 */
export function readModelCard(dir: string, opts: ValidateCardOptions = {}): ModelCard | undefined {
  const file = path.join(dir, CARD_FILE);
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch (e: any) {
    if (e?.code === "ENOENT" || e?.code === "ENOTDIR") return undefined;
    throw new ModelCardError(`${file}: cannot read (${e?.code ?? e?.message ?? e})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e: any) {
    throw new ModelCardError(`${file}: not valid JSON (${String(e?.message ?? e).split("\n")[0]})`);
  }
  return validateModelCard(json, file, opts);
}

const fmt = (x: number, d = 3) => x.toFixed(d);

/** The generated block of a datasheet: the card's numbers as Markdown tables, between the markers. */
export function renderCardBlock(card: ModelCard): string {
  const lines = [DATASHEET_BEGIN, "", `| ${card.name} | |`, "|---|---|"];
  if (card.parameters) lines.push(`| parameters | ${card.parameters.toLocaleString("en-US")} |`);
  const t = card.training;
  if (t) {
    lines.push(
      `| pretraining | ${t.steps.toLocaleString("en-US")} steps × ${t.batch} × ${t.seq} tokens = ${(t.tokens / 1e6).toFixed(1)}M tokens; peak lr ${t.lr}; ${t.recipe} |`,
    );
    lines.push(`| trained on | ${t.device}, ${t.date}, by \`${t.builtBy}\` |`);
  }
  const p = card.parity;
  if (p)
    lines.push(
      `| parity | max \\|logits tunebook − transformers ${p.transformers}\\| = ${p.maxAbsDiff.toExponential(2)} (tolerance ${p.tolerance}; tunebook on ${p.tunebookBackend}${p.torch ? `, torch ${p.torch}` : ""}; ${p.date}) |`,
    );
  if (card.heldOut) {
    const rows = Object.entries(card.heldOut);
    const tokens = rows.reduce((a, [, h]) => a + h.tokens, 0);
    const all = rows.reduce((a, [, h]) => a + h.loss * h.tokens, 0) / tokens;
    lines.push("", "| held-out source | loss (nats/token) | perplexity | tokens |", "|---|---:|---:|---:|");
    for (const [src, h] of rows)
      lines.push(
        `| \`${src}\` | ${fmt(h.loss)} | ${Math.exp(h.loss).toFixed(1)} | ${h.tokens.toLocaleString("en-US")} |`,
      );
    lines.push(`| **all** | **${fmt(all)}** | ${Math.exp(all).toFixed(1)} | ${tokens.toLocaleString("en-US")} |`);
  }
  const recipes = Object.entries(card.recipes);
  lines.push("", "Recommended fine-tuning (`tunebook train` uses these for flags not given):", "");
  if (!recipes.length) lines.push("none recorded yet.");
  else {
    lines.push(
      "| dataset | lr | updates | batch | warm-up | maxLength | measured in | result |",
      "|---|---:|---:|---:|---:|---:|---|---|",
    );
    for (const [ds, r] of recipes)
      lines.push(
        `| \`${ds}\` | ${r.lr} | ${r.numSteps} | ${r.batchSize} | ${r.warmupSteps ?? "–"} | ${r.maxLength ?? "–"} | ${r.source} | ${r.result ?? "–"} |`,
      );
  }
  lines.push("", DATASHEET_END);
  return lines.join("\n");
}

/**
 * Check a model folder's card and datasheet together: the card is valid (complete when `shipped`), and
 * `datasheet.md` holds exactly the block `renderCardBlock` makes from it (prose around the block is free).
 *
 * @example
 * validateModelFolder("data/tunebook-20m", { shipped: true }); // throws ModelCardError naming the file and field
 */
export function validateModelFolder(dir: string, opts: ValidateCardOptions = {}): ModelCard {
  const card = readModelCard(dir, opts);
  if (!card) throw new ModelCardError(`${path.join(dir, CARD_FILE)}: missing (every shipped model carries its card)`);
  const sheetFile = path.join(dir, DATASHEET_FILE);
  if (!fs.existsSync(sheetFile))
    throw new ModelCardError(`${sheetFile}: missing (render it with renderCardBlock from ${CARD_FILE})`);
  const sheet = fs.readFileSync(sheetFile, "utf8");
  const a = sheet.indexOf(DATASHEET_BEGIN);
  const b = sheet.indexOf(DATASHEET_END);
  if (a < 0 || b < a)
    throw new ModelCardError(`${sheetFile}: no generated block (the lines "${DATASHEET_BEGIN}" … "${DATASHEET_END}")`);
  const block = sheet.slice(a, b + DATASHEET_END.length);
  const want = renderCardBlock(card);
  if (block !== want) {
    const got = block.split("\n");
    const exp = want.split("\n");
    const i = exp.findIndex((l, k) => got[k] !== l);
    throw new ModelCardError(
      `${sheetFile}: generated block line ${i + 1} differs from ${CARD_FILE} (expected ${JSON.stringify(exp[i] ?? "")}, found ${JSON.stringify(got[i] ?? "")}); re-render it`,
    );
  }
  return card;
}
