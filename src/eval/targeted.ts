/**
 * The iteration loop's middle step: from the mistakes on a validation set to targeted training data, and the
 * before/after comparison on the test set. `wrongExamples` picks the misclassified validation examples (optionally
 * one kind of mistake, e.g. real e-mails called spam); `selectByError` picks, for each of them in turn, the most
 * similar unused example of the same gold label from a pool (cosine similarity of word counts), so the new data
 * is "more of what the model gets wrong"; `variantRows` and `variantFigure` put several retrained variants
 * side by side (mean and min–max over seeds).
 *
 * Find the mistakes on a validation split carved from the training data, never on the test split: choosing
 * training data by test errors would tune to the test set, and the after-metric would no longer be honest.
 */
import type { ConfusionMatrix } from "./confusion";
import type { EvalRecord } from "./run";
import type { PlotlyFigure } from "../types/figure";

/** Lowercase word counts of a text (letters, digits, `$`, `!`: spam's vocabulary keeps its symbols). */
export function wordCounts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}$!]+/gu) ?? []) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

function cosine(a: Map<string, number>, na: number, b: Map<string, number>, nb: number): number {
  if (na === 0 || nb === 0) return 0;
  let dot = 0;
  const [s, l] = a.size < b.size ? [a, b] : [b, a];
  for (const [w, c] of s) dot += c * (l.get(w) ?? 0);
  return dot / (na * nb);
}
const norm = (m: Map<string, number>) => Math.sqrt([...m.values()].reduce((a, c) => a + c * c, 0));

/**
 * The source examples of the wrong predictions: `records[i].index` points into `source` (the records that were
 * evaluated). `gold`/`predicted` keep one kind of mistake only.
 * @example
 * const hamCalledSpam = wrongExamples(valEval.records, validation, { gold: "ham", predicted: "spam" });
 */
export function wrongExamples<T>(
  records: readonly EvalRecord[],
  source: readonly T[],
  opts: { gold?: string; predicted?: string } = {},
): T[] {
  if (records.some((r) => r.label === undefined))
    throw new Error("wrongExamples: the records carry no gold labels (evaluate with the `labels` option)");
  return records
    .filter(
      (r) =>
        r.predictedLabel !== r.label &&
        (opts.gold === undefined || r.label === opts.gold) &&
        (opts.predicted === undefined || r.predictedLabel === opts.predicted),
    )
    .map((r) => {
      if (!(Number.isInteger(r.index) && r.index >= 0 && r.index < source.length))
        throw new Error(`wrongExamples: record index ${r.index} is outside the ${source.length} source records`);
      return source[r.index];
    });
}

/**
 * The commonest kind of mistake in a confusion matrix: the off-diagonal cell with the highest count (ties: the
 * first in label order), or null when there is no mistake.
 * @example
 * worstMistake(cm); // { gold: "ham", predicted: "spam", count: 17 }
 */
export function worstMistake(cm: ConfusionMatrix): { gold: string; predicted: string; count: number } | null {
  let best: { gold: string; predicted: string; count: number } | null = null;
  cm.labels.forEach((g, i) =>
    cm.labels.forEach((p, j) => {
      const c = cm.counts[i]?.[j] ?? 0;
      if (i !== j && c > 0 && (!best || c > best.count)) best = { gold: g, predicted: p, count: c };
    }),
  );
  return best;
}

/** Options of `selectByError`. */
export interface SelectOptions<T> {
  /** How many pool examples to return. */
  count: number;
  /** The text compared (default: the record's `text`, else `input`). */
  text?: (record: T) => string;
  /** The class of a record: a pool example is chosen for an error only when both have the same class. */
  label?: (record: T) => string;
  /** Pool examples never to choose (e.g. those already in the training set). */
  exclude?: ReadonlySet<T> | readonly T[];
}

const defaultText = (r: unknown): string => {
  const o = r as Record<string, unknown>;
  const t = o?.text ?? o?.input;
  if (typeof t !== "string") throw new Error("selectByError: records have no `text` or `input` string; pass `text`");
  return t;
};

/**
 * Targeted examples: take the errors in turn (round robin) and give each its most similar pool example not yet
 * chosen (cosine similarity of word counts; same class when `label` is given; ties go to the earlier pool
 * example), until `count` are chosen or the pool runs out. Deterministic: the same inputs give the same list.
 * @example
 * const extra = selectByError(hamCalledSpam, pool, { count: 32, label: (r) => r.label, exclude: train0 });
 */
export function selectByError<T>(errors: readonly T[], pool: readonly T[], opts: SelectOptions<T>): T[] {
  if (!(Number.isInteger(opts?.count) && opts.count >= 0))
    throw new Error(`selectByError: count must be an integer ≥ 0, found ${opts?.count}`);
  if (errors.length === 0) throw new Error("selectByError: no errors to target (the model made no such mistake)");
  const textOf = opts.text ?? defaultText;
  const excluded = new Set(opts.exclude ?? []);
  const cand = pool
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => !excluded.has(r))
    .map(({ r, i }) => {
      const v = wordCounts(textOf(r));
      return { r, i, v, n: norm(v), label: opts.label?.(r) };
    });
  // for each error: its candidates, most similar first
  const queues = errors.map((e) => {
    const v = wordCounts(textOf(e));
    const n = norm(v);
    const gold = opts.label?.(e);
    return cand
      .filter((c) => gold === undefined || c.label === gold)
      .map((c) => ({ c, s: cosine(v, n, c.v, c.n) }))
      .sort((a, b) => b.s - a.s || a.c.i - b.c.i)
      .map((x) => x.c);
  });
  const chosen = new Set<number>();
  const out: T[] = [];
  const pos = errors.map(() => 0);
  let progress = true;
  while (out.length < opts.count && progress) {
    progress = false;
    for (let e = 0; e < queues.length && out.length < opts.count; e++) {
      const q = queues[e];
      while (pos[e] < q.length && chosen.has(q[pos[e]].i)) pos[e]++;
      if (pos[e] < q.length) {
        chosen.add(q[pos[e]].i);
        out.push(q[pos[e]].r);
        progress = true;
      }
    }
  }
  return out;
}

/** One retrained run of a data variant. */
export interface VariantRun {
  /** The training data's name ("before", "+32 targeted", ...). */
  variant: string;
  seed: number;
  cm: ConfusionMatrix;
}

/** One row of `variantRows`: a variant over its seeds. */
export interface VariantRow {
  variant: string;
  runs: number;
  /** Mean accuracy over the seeds, and its range. */
  accuracy: number;
  accuracyMin: number;
  accuracyMax: number;
  /** Per off-diagonal cell "gold → predicted": the mean count over the seeds. */
  mistakes: Record<string, number>;
}

/**
 * Per variant (in first-seen order): the runs, mean accuracy with min and max, and the mean count of each kind
 * of mistake ("ham → spam": real e-mails called spam).
 * @example
 * show(table(variantRows(runs)));
 */
export function variantRows(runs: readonly VariantRun[]): VariantRow[] {
  if (runs.length === 0) throw new Error("variantRows: no runs");
  const names = [...new Set(runs.map((r) => r.variant))];
  return names.map((variant) => {
    const mine = runs.filter((r) => r.variant === variant);
    const acc = mine.map((r) => r.cm.accuracy);
    const mistakes: Record<string, number> = {};
    const labels = mine[0].cm.labels;
    for (const [g, gl] of labels.entries())
      for (const [p, pl] of labels.entries())
        if (g !== p) mistakes[`${gl} → ${pl}`] = mine.reduce((a, r) => a + (r.cm.counts[g]?.[p] ?? 0), 0) / mine.length;
    return {
      variant,
      runs: mine.length,
      accuracy: acc.reduce((a, b) => a + b, 0) / acc.length,
      accuracyMin: Math.min(...acc),
      accuracyMax: Math.max(...acc),
      mistakes,
    };
  });
}

/**
 * Grouped bars per variant: accuracy (mean, min–max bars) and each kind of mistake (mean count, right axis),
 * with each seed's accuracy as a dot.
 * @example
 * show(variantFigure(runs, "Spam: before and after targeted data"));
 */
export function variantFigure(runs: readonly VariantRun[], title = "Before and after: same test set"): PlotlyFigure {
  const rows = variantRows(runs);
  const x = rows.map((r) => r.variant);
  const kinds = Object.keys(rows[0].mistakes);
  return {
    data: [
      {
        type: "bar",
        name: "accuracy (mean, min–max bars)",
        x,
        y: rows.map((r) => r.accuracy),
        error_y: {
          type: "data",
          symmetric: false,
          array: rows.map((r) => r.accuracyMax - r.accuracy),
          arrayminus: rows.map((r) => r.accuracy - r.accuracyMin),
        },
        offsetgroup: "acc",
      },
      {
        type: "scatter",
        mode: "markers",
        name: "accuracy, one seed",
        x: runs.map((r) => r.variant),
        y: runs.map((r) => r.cm.accuracy),
        marker: { color: "black", size: 6 },
      },
      ...kinds.map((k) => ({
        type: "bar",
        name: `${k} (mean count)`,
        x,
        y: rows.map((r) => r.mistakes[k]),
        yaxis: "y2",
        offsetgroup: k,
      })),
    ],
    layout: {
      title: { text: title },
      barmode: "group",
      yaxis: { title: { text: "accuracy" }, range: [0, 1] },
      yaxis2: { title: { text: "mistakes (count)" }, overlaying: "y", side: "right", rangemode: "tozero" },
      legend: { orientation: "h" },
    },
  };
}
