/**
 * Notebook 02's tables: how many generated pairs are usable (by a person's labels, matched by id and text, and by
 * the filters), and the filter report as rows of precision and recall.
 */
import { type FilterReport, type LabelledPair, matchLabels } from "../../data/filter-report";
import { type FilterOptions, filterPairs } from "../../data/filters";

/** Counts for one batch of generated pairs. */
export interface UsableCount {
  method: string;
  pairs: number;
  /** Pairs whose id and exact text have a label (a generation that came out differently has none). */
  labelled: number;
  /** Labelled usable. */
  usable: number;
  /** Kept by the filters (all pairs, labelled or not). */
  keptByFilters: number;
  /** Labelled usable and kept by the filters. */
  usableAndKept: number;
}

/**
 * Label and filter one batch of generated pairs.
 *
 * @example
 * usableCount("extractive", pairs, labels, { language: "en", grounding: true }); // { pairs: 48, labelled: 48, usable: 31, ... }
 */
export function usableCount<T extends { id: string; question: string; answer: string }>(
  method: string,
  pairs: readonly T[],
  labels: readonly LabelledPair[],
  filters: FilterOptions<T> = {},
): UsableCount {
  const { labelled } = matchLabels(pairs, labels);
  const kept = new Set(filterPairs(pairs, filters).kept);
  const usableIds = new Set(labelled.filter((p) => p.usable).map((p) => p.id));
  return {
    method,
    pairs: pairs.length,
    labelled: labelled.length,
    usable: usableIds.size,
    keptByFilters: kept.size,
    usableAndKept: pairs.filter((p) => kept.has(p) && usableIds.has(p.id)).length,
  };
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(0)} %`);

/**
 * The filter report as table rows (checks that dropped nothing are left out, "all checks" last).
 *
 * @example
 * show(table(reportRows(filterReport(labelled, { language: "en", grounding: true }))));
 */
export function reportRows<T>(report: FilterReport<T & LabelledPair>): Record<string, string | number>[] {
  return report.rows
    .filter((r) => r.dropped > 0 || r.check === "all checks")
    .map((r) => ({
      check: r.check,
      dropped: r.dropped,
      "of them unusable": r.truePositives,
      precision: pct(r.precision),
      recall: pct(r.recall),
    }));
}
