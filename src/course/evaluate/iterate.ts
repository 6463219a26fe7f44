/**
 * Notebook 04's words for its two experiments, rendered from their results (never typed in by hand): the data-size
 * curve (the record's mean and spread per size, and where this machine's live points fall), and the iteration
 * loop's before/after (a table per data variant, and a verdict that compares the change with the seeds' spread).
 */
import { curveStats, type DataSizeRecord } from "../../eval/data-size-records";
import type { VariantRow } from "../../eval/targeted";

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** A run whose last training loss is above this has not fitted its examples (a fitted run ends near 0). */
export const UNFITTED_LOSS = 0.05;

/**
 * Table rows of `variantRows`: accuracy as mean and range, each kind of mistake as a mean count.
 * @example
 * show(table(variantTable(variantRows(runs))));
 */
export function variantTable(rows: readonly VariantRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    "training data": r.variant,
    seeds: r.runs,
    "accuracy (mean)": pct(r.accuracy),
    "accuracy (min–max)": `${pct(r.accuracyMin)} – ${pct(r.accuracyMax)}`,
    ...Object.fromEntries(Object.entries(r.mistakes).map(([k, v]) => [`${k} (mean count)`, Number(v.toFixed(1))])),
  }));
}

/**
 * One paragraph comparing each later variant with the first (the "before"): the change in mean accuracy, how
 * many seeds improved, whether the ranges overlap (then the change is within the seeds' spread: not shown to be
 * real), and the change in the targeted kind of mistake.
 * @example
 * show(markdown(iterationSummary(variantRows(runs), "ham → spam")));
 */
export function iterationSummary(
  rows: readonly VariantRow[],
  mistake: string,
  perSeed?: readonly { variant: string; seed: number; accuracy: number }[],
): string {
  if (rows.length < 2) throw new Error("iterationSummary: need the before row and at least one other variant");
  const [before, ...others] = rows;
  const parts = others.map((r) => {
    const d = r.accuracy - before.accuracy;
    const overlap = r.accuracyMin <= before.accuracyMax && before.accuracyMin <= r.accuracyMax;
    let seeds = "";
    if (perSeed) {
      const b = new Map(perSeed.filter((x) => x.variant === before.variant).map((x) => [x.seed, x.accuracy]));
      const mine = perSeed.filter((x) => x.variant === r.variant && b.has(x.seed));
      const up = mine.filter((x) => x.accuracy > b.get(x.seed)!).length;
      seeds = `, better in ${up} of ${mine.length} seeds`;
    }
    const m0 = before.mistakes[mistake];
    const m1 = r.mistakes[mistake];
    const mis =
      m0 === undefined || m1 === undefined
        ? ""
        : `; ${mistake} mistakes ${m0.toFixed(1)} → ${m1.toFixed(1)} on average`;
    return (
      `**${r.variant}**: accuracy ${pct(before.accuracy)} → ${pct(r.accuracy)} (${d >= 0 ? "+" : "−"}${(100 * Math.abs(d)).toFixed(1)} points${seeds}${mis}); ` +
      (overlap
        ? "the ranges over the seeds overlap, so this change is within the run-to-run spread: not shown to be real with this many seeds."
        : d > 0
          ? "every seed of it beats every seed of the before runs: a real improvement at this scale."
          : "every seed of it is below every seed of the before runs: the added data made it worse.")
    );
  });
  return parts.join("\n\n");
}

/**
 * The recorded curve in words: mean and min–max per size, and where each live point falls against the recorded
 * range at its size.
 * @example
 * show(markdown(curveSummary(rec, live)));
 */
export function curveSummary(rec: DataSizeRecord, live: readonly { examples: number; value: number }[] = []): string {
  const st = curveStats(rec.rows);
  const seeds = new Set(rec.rows.map((r) => r.seed)).size;
  const fmt = (x: number) => (rec.metric === "accuracy" ? pct(x) : x.toFixed(3));
  const lines = [
    `Recorded ${rec.date.slice(0, 10)} on ${rec.machine.cpu} (${rec.machine.backend}), ${seeds} seeds per size, ` +
      `${rec.testItems} test items: ` +
      st.map((p) => `${p.examples} examples ${fmt(p.mean)} (${fmt(p.min)}–${fmt(p.max)})`).join(", ") +
      (rec.baseline ? `; ${rec.baseline.name} ${fmt(rec.baseline.value)}.` : "."),
  ];
  const loss = st.map((p) => {
    const mine = rec.rows.filter((r) => r.examples === p.examples);
    return { examples: p.examples, loss: mine.reduce((a, r) => a + r.trainLoss, 0) / mine.length };
  });
  const unfit = loss.filter((l) => l.loss > UNFITTED_LOSS);
  if (unfit.length && unfit.length < loss.length)
    lines.push(
      `Mean final training loss per size: ${loss.map((l) => `${l.examples}: ${l.loss.toFixed(3)}`).join(", ")}. ` +
        `The runs on ${unfit.map((l) => l.examples).join(" and ")} examples ended above ${UNFITTED_LOSS} (the others ` +
        `below): they were not fitted under this rule, so ${unfit.length > 1 ? "those points understate" : "that point understates"} ` +
        "what that much data can do.",
    );
  if (live.length) {
    const where = live.map((l) => {
      const p = st.find((s) => s.examples === l.examples);
      const verdict = !p
        ? "no recorded size to compare with"
        : l.value >= p.min && l.value <= p.max
          ? "inside the recorded range"
          : l.value > p.max
            ? "above the recorded range"
            : "below the recorded range";
      return `${l.examples} examples ${fmt(l.value)} (${verdict})`;
    });
    lines.push(`This run: ${where.join(", ")}.`);
  }
  return lines.join(" ");
}
