/**
 * Live displays that update IN PLACE while long work runs (training, generation, downloads):
 * `progress()` (a bar with count, rate, ETA and any extra text) and `liveChart()` (a plotly line chart
 * that grows as points are pushed). The first render is a display_data with a display id; later
 * renders are update_display_data for that id, throttled (`throttleMs`) so a fast loop does not flood
 * the notebook. `done()` always sends the final state. Outside a kernel they print text lines
 * (at most one per `plainEveryMs`) instead. They are plain objects with plain-function methods, so
 * the trainer or downloader receives them as callbacks without importing `display`.
 */
import { escapeHtml } from "./escape";
import { DISPLAY, type MimeBundle, inKernel, newDisplayId } from "./kernel";
import { emit } from "./show";
import { Figure, type FigureOptions } from "./figure";

export interface ProgressOptions {
  total: number;
  label: string;
  /** Minimum milliseconds between two in-place updates. */
  throttleMs: number;
  /** Outside a kernel: minimum milliseconds between two printed lines. */
  plainEveryMs: number;
  /** Characters of the text bar. */
  width: number;
  /** Clock (tests). */
  now: () => number;
}

export const DEFAULT_PROGRESS_OPTIONS: ProgressOptions = {
  total: 1,
  label: "",
  throttleMs: 250,
  plainEveryMs: 5000,
  width: 30,
  now: () => Date.now(),
};

/** Extra information shown after the counts: `{ "tokens/s": 812, loss: 1.93 }` or a string. */
export type ProgressExtra = Record<string, string | number> | string;

export interface Progress {
  /** Set the count done so far (0..total) and optional extra text; renders when not throttled. */
  update(n: number, extra?: ProgressExtra): void;
  /** Render the final state (count = total unless given). */
  done(extra?: ProgressExtra): void;
  /** The current text form. */
  text(): string;
}

/** "1:05" / "1:02:03". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    r = s % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}

function extraText(extra: ProgressExtra | undefined): string {
  if (extra === undefined) return "";
  if (typeof extra === "string") return extra;
  return Object.entries(extra)
    .map(([k, v]) => `${k} ${typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v}`)
    .join(", ");
}

/**
 * The bundle of a progress state (pure).
 *
 * @example
 * progressBundle({ label: "train", n: 5, total: 10, elapsedS: 2, extra: "loss 1.9" })["text/plain"];
 * // "train ███████████████░░░░░░░░░░░░░░░ 5/10 (50%) 0:02<0:02 loss 1.9"
 */
export function progressBundle(s: {
  label: string;
  n: number;
  total: number;
  elapsedS: number;
  extra?: ProgressExtra;
  width?: number;
  finished?: boolean;
}): MimeBundle {
  const total = Math.max(0, s.total);
  const frac = total > 0 ? Math.min(1, Math.max(0, s.n / total)) : 1;
  const width = s.width ?? DEFAULT_PROGRESS_OPTIONS.width;
  const filled = Math.round(frac * width);
  const eta = s.finished ? "" : s.n > 0 ? `<${formatDuration((s.elapsedS / s.n) * (total - s.n))}` : "<?";
  const ex = extraText(s.extra);
  const counts = `${s.n}/${total} (${Math.round(frac * 100)}%) ${formatDuration(s.elapsedS)}${eta}`;
  const text = `${s.label ? s.label + " " : ""}${"█".repeat(filled)}${"░".repeat(width - filled)} ${counts}${ex ? " " + ex : ""}`;
  const html =
    `<div class="tunebook-progress" style="font-family: monospace;">` +
    (s.label ? `<span>${escapeHtml(s.label)}</span> ` : "") +
    `<progress value="${frac.toFixed(4)}" max="1" style="width: 40%; vertical-align: middle;"></progress> ` +
    `<span>${escapeHtml(counts)}</span>` +
    (ex ? ` <span>${escapeHtml(ex)}</span>` : "") +
    `</div>`;
  return { "text/html": html, "text/plain": text };
}

/**
 * A progress bar that updates in place.
 *
 * @example
 * const bar = progress({ total: steps, label: "fine-tuning" });
 * for (let i = 1; i <= steps; i++) { await step(); bar.update(i, { loss, "tokens/s": tps }); }
 * bar.done();
 */
export function progress(opts: Partial<ProgressOptions> & { total: number }): Progress {
  const o: ProgressOptions = { ...DEFAULT_PROGRESS_OPTIONS, ...opts };
  if (!Number.isFinite(o.total) || o.total < 0)
    throw new RangeError(`progress: total must be a number >= 0, got ${opts.total}`);
  const kernel = inKernel();
  const id = newDisplayId();
  const t0 = o.now();
  let n = 0;
  let extra: ProgressExtra | undefined;
  let last = -Infinity;
  let finished = false;
  const bundle = () =>
    progressBundle({
      label: o.label,
      n,
      total: o.total,
      elapsedS: (o.now() - t0) / 1000,
      extra,
      width: o.width,
      finished,
    });
  const render = (first: boolean) => {
    last = o.now();
    if (kernel) emit(bundle(), { displayId: id, update: !first });
    else if (!first || finished) process.stderr.write(String(bundle()["text/plain"]) + "\n");
  };
  render(true);
  return {
    update(k, ex) {
      if (finished) return;
      if (!Number.isFinite(k)) throw new RangeError(`progress.update: n must be a number, got ${k}`);
      n = k;
      if (ex !== undefined) extra = ex;
      if (o.now() - last >= (kernel ? o.throttleMs : o.plainEveryMs)) render(false);
    },
    done(ex) {
      if (finished) return;
      if (ex !== undefined) extra = ex;
      if (n < o.total) n = o.total;
      finished = true;
      render(false);
    },
    text: () => String(bundle()["text/plain"]),
  };
}

export interface LiveChartOptions extends FigureOptions {
  /** Minimum milliseconds between two in-place updates. */
  throttleMs: number;
  /** Keep at most this many points per series (oldest dropped); 0 = all. */
  maxPoints: number;
  /** Show markers on the lines. */
  markers: boolean;
  now: () => number;
}

export const DEFAULT_LIVE_CHART_OPTIONS: LiveChartOptions = {
  throttleMs: 500,
  maxPoints: 0,
  markers: false,
  height: 360,
  now: () => Date.now(),
};

export interface LiveChart {
  /** Add a point to a series (created on first use); re-renders when not throttled. */
  push(series: string, x: number, y: number): void;
  /** Render now. */
  flush(): void;
  /** Final render. */
  done(): void;
  /** The current figure. */
  figure(): Figure;
}

/**
 * A line chart that updates in place, one line per series.
 *
 * @example
 * const chart = liveChart({ title: "loss", xLabel: "step", yLabel: "loss" });
 * chart.push("train", step, loss);   // from the trainer's callback
 * chart.done();
 */
export function liveChart(opts: Partial<LiveChartOptions> = {}): LiveChart {
  const o: LiveChartOptions = { ...DEFAULT_LIVE_CHART_OPTIONS, ...opts };
  const series = new Map<string, { x: number[]; y: number[] }>();
  const id = newDisplayId();
  const kernel = inKernel();
  let last = -Infinity;
  let shown = false;
  let dirty = false;
  const figure = () => {
    const fig = new Figure(o);
    for (const [name, s] of series) fig.line(s.x, s.y, { name, markers: o.markers });
    return fig;
  };
  const render = () => {
    last = o.now();
    dirty = false;
    if (kernel) {
      emit(figure()[DISPLAY](), { displayId: id, update: shown });
      shown = true;
    }
  };
  if (kernel) render();
  return {
    push(name, x, y) {
      if (typeof name !== "string")
        throw new TypeError(`liveChart.push: series must be a string name, got ${typeof name}`);
      let s = series.get(name);
      if (!s) series.set(name, (s = { x: [], y: [] }));
      s.x.push(x);
      s.y.push(y);
      if (o.maxPoints > 0 && s.x.length > o.maxPoints) s.x.shift(), s.y.shift();
      dirty = true;
      if (kernel && o.now() - last >= o.throttleMs) render();
    },
    flush() {
      if (kernel) render();
    },
    done() {
      if (kernel) {
        if (dirty || !shown) render();
      } else emit(figure()[DISPLAY]());
    },
    figure,
  };
}
