/**
 * How good are the quality filters? Run them over pairs a person has labelled usable or not, and count, for each
 * check alone and for all of them together (what `filterPairs` does), how many unusable pairs they drop (recall)
 * and how many of the pairs they drop were really unusable (precision). "Positive" means "drop" predicted and
 * "unusable" labelled.
 *
 * Labels for a run's own outputs are matched by id and exact answer text (`matchLabels`): a generation that came
 * out differently on another machine is reported as unlabelled rather than silently given someone else's label.
 */
import { checkPairAll, FILTER_REASONS, readPair, type FilterOptions } from "./filters";

/** A pair with a person's judgement. `reason` says why, in a few words. */
export interface LabelledPair {
  id?: string;
  question: string;
  answer: string;
  context?: string;
  usable: boolean;
  reason?: string;
  /** Where the pair came from (e.g. "docs", "template", "model", "bad"), for reading the report. */
  kind?: string;
}

/** One check (or "all checks") scored against the labels. */
export interface FilterReportRow {
  check: string;
  /** Pairs this check would drop. */
  dropped: number;
  /** Dropped and labelled unusable. */
  truePositives: number;
  /** Dropped but labelled usable. */
  falsePositives: number;
  /** truePositives / dropped; null when it drops nothing. */
  precision: number | null;
  /** truePositives / unusable pairs; null when no pair is labelled unusable. */
  recall: number | null;
}

export interface FilterReport<T> {
  total: number;
  usable: number;
  unusable: number;
  /** One row per check (built-in, then custom), each judged alone, then the row "all checks". */
  rows: FilterReportRow[];
  overall: FilterReportRow;
  /** Unusable pairs every check let through, with the label's reason. */
  missed: T[];
  /** Usable pairs some check dropped, with the first failing reason and its detail. */
  wronglyDropped: { item: T; reason: string; detail: string }[];
}

function row(check: string, dropped: boolean[], unusable: boolean[], nUnusable: number): FilterReportRow {
  let tp = 0;
  let fp = 0;
  dropped.forEach((d, i) => {
    if (d && unusable[i]) tp++;
    else if (d) fp++;
  });
  const n = tp + fp;
  return {
    check,
    dropped: n,
    truePositives: tp,
    falsePositives: fp,
    precision: n ? tp / n : null,
    recall: nUnusable ? tp / nUnusable : null,
  };
}

/**
 * Score the filters against labelled pairs: precision and recall of "drop" for "unusable", per check and overall.
 *
 * @example
 * const r = filterReport(labelled, { language: "en", grounding: true });
 * r.overall; // { check: "all checks", dropped: 21, truePositives: 19, falsePositives: 2, precision: 0.90, recall: 0.83 }
 */
export function filterReport<T extends LabelledPair>(
  items: readonly T[],
  options: FilterOptions<T> = {},
): FilterReport<T> {
  if (!Array.isArray(items)) throw new TypeError("filterReport: items must be an array of labelled pairs");
  const fails = items.map((item, i) => {
    if (!item || typeof item.usable !== "boolean")
      throw new TypeError(
        `filterReport: item ${i} needs a boolean field usable (the label), got ${JSON.stringify(item?.usable)}`,
      );
    const { question, answer } = readPair(item, i, options, "filterReport");
    return checkPairAll(question, answer, options, item);
  });
  const unusable = items.map((x) => !x.usable);
  const nUnusable = unusable.filter(Boolean).length;
  const checks = [...FILTER_REASONS, ...(options.custom ?? []).map((c) => c.reason)];
  const rows = checks.map((c) =>
    row(
      c,
      fails.map((f) => f.some((x) => x.reason === c)),
      unusable,
      nUnusable,
    ),
  );
  const overall = row(
    "all checks",
    fails.map((f) => f.length > 0),
    unusable,
    nUnusable,
  );
  return {
    total: items.length,
    usable: items.length - nUnusable,
    unusable: nUnusable,
    rows: [...rows, overall],
    overall,
    missed: items.filter((x, i) => !x.usable && fails[i].length === 0),
    wronglyDropped: items.flatMap((x, i) => (x.usable && fails[i].length ? [{ item: x, ...fails[i][0] }] : [])),
  };
}

/**
 * Attach labels to a run's pairs: a label applies when its id and its answer text equal the pair's (after
 * trimming). Pairs without such a label come back in `unlabelled`.
 *
 * @example
 * const { labelled, unlabelled } = matchLabels(generated, readJsonlSync("data/docs-qa/filter-labels.jsonl"));
 */
export function matchLabels<T extends { id: string; answer: string }>(
  pairs: readonly T[],
  labels: readonly LabelledPair[],
): { labelled: (T & { usable: boolean; reason?: string })[]; unlabelled: T[] } {
  const byKey = new Map<string, LabelledPair>();
  labels.forEach((l, i) => {
    if (typeof l?.id !== "string" || typeof l.answer !== "string" || typeof l.usable !== "boolean")
      throw new TypeError(`matchLabels: label ${i} needs string id and answer and a boolean usable`);
    byKey.set(`${l.id}\u0000${l.answer.trim()}`, l);
  });
  const labelled: (T & { usable: boolean; reason?: string })[] = [];
  const unlabelled: T[] = [];
  for (const p of pairs) {
    const l = byKey.get(`${p.id}\u0000${String(p.answer).trim()}`);
    if (l) labelled.push({ ...p, usable: l.usable, ...(l.reason !== undefined ? { reason: l.reason } : {}) });
    else unlabelled.push(p);
  }
  return { labelled, unlabelled };
}
