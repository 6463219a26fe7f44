/**
 * Tables and figures for notebook 05 and `tunebook scaling`: the four backends and their status here,
 * measured rows, the log-log scaling plot (measured, fitted, extrapolated, and recorded numbers from
 * other machines, each labelled with where it came from).
 */
import { BACKENDS, type BackendChoice } from "../runtime/backend";
import type { ScalingRow } from "./measure";
import { predictPowerLaw, type PowerLawFit } from "./fit";
import type { Recording } from "./recorded";
import type { PlotlyFigure } from "../types/figure";

const ABOUT: Record<string, { what: string; enable: string }> = {
  tensorflow: {
    what: "native TensorFlow (C++), CUDA with tfjs-node-gpu",
    enable: "npm i @tensorflow/tfjs-node-gpu (Linux + CUDA 11.8/cuDNN 8) or @tensorflow/tfjs-node",
  },
  webgpu: {
    what: "WebGPU via Dawn (Vulkan / Metal / D3D12)",
    enable: "npm i webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0; TUNEBOOK_BACKEND=webgpu",
  },
  wasm: { what: "WebAssembly + SIMD, one thread (always shipped)", enable: "built in" },
  cpu: { what: "plain JavaScript (slowest, always works)", enable: "built in; TUNEBOOK_BACKEND=cpu" },
};

/** One row per backend: active, passed over (and why), or not tried because a better one started. */
export function backendRows(
  choice: BackendChoice,
): { backend: string; status: string; what: string; enable: string }[] {
  return BACKENDS.map((name) => {
    const skipped = choice.skipped.find((s) => s.name === name);
    const status =
      name === choice.name
        ? `active: ${choice.reason}`
        : skipped
          ? `not used: ${skipped.why}`
          : "not tried (a backend earlier in the order started)";
    return { backend: name, status, ...ABOUT[name] };
  });
}

const mib = (b: number | null) => (b === null ? "" : (b / 2 ** 20).toFixed(0));

/** Measured rows as table records (seconds, tokens/s, MiB). */
export function scalingTableRows(rows: readonly ScalingRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    model: r.model,
    params: `${(r.params / 1e6).toFixed(1)}M`,
    "B × T": `${r.batchSize} × ${r.seqLen}`,
    "step (s)": r.stepSeconds === null ? "skipped" : +r.stepSeconds.toFixed(3),
    "tokens/s": r.tokensPerSecond === null ? "" : +r.tokensPerSecond.toFixed(1),
    "GFLOP/s (6·N·tokens)": r.flopsPerSecond === null ? "" : +(r.flopsPerSecond / 1e9).toFixed(2),
    "tfjs held (MiB)": mib(r.persistentBytes),
    "tfjs peak (MiB)": mib(r.peakBytes),
    "calculator (MiB)": mib(r.estimatedBytes),
    "process RSS (MiB)": mib(r.rssBytes),
    ...(r.skipped ? { note: r.skipped } : {}),
  }));
}

/** Recorded rows as table records, each with machine, date and software. */
export function recordedTableRows(recs: readonly Recording[]): Record<string, string | number>[] {
  return recs.flatMap((rec) =>
    rec.rows.map((r) => ({
      source: rec.label,
      date: rec.date.slice(0, 10),
      model: r.model,
      precision: r.precision,
      "B × T": `${r.batch} × ${r.seq}`,
      "step (s)": r.stepSeconds === null ? `— (${r.error ?? "not run"})` : +r.stepSeconds.toFixed(4),
      "tokens/s": r.tokensPerSecond === null ? "" : Math.round(r.tokensPerSecond),
      "peak (GiB)": r.peakMemoryBytes === null ? "" : +(r.peakMemoryBytes / 2 ** 30).toFixed(2),
    })),
  );
}

export interface ScalingChartOptions {
  title: string;
  /** Label of this machine's series. */
  thisMachine: string;
  /** Parameter counts to extrapolate the fit to. */
  extrapolateTo: number[];
  /** Recordings from other machines to overlay (tokens/step may differ: see their labels). */
  recordings: Recording[];
}

/**
 * Log-log plot of step time against parameters: this machine's points, the fitted power law drawn over
 * the measured range and dashed beyond it, extrapolated points, and recorded series.
 *
 * @example
 * show(scalingChart(result.rows, fitStepTime(result.rows), { extrapolateTo: [4.05e8, 1.01e9] }));
 */
export function scalingChart(
  rows: readonly ScalingRow[],
  fit: PowerLawFit | null,
  opts: Partial<ScalingChartOptions> = {},
): PlotlyFigure {
  const o: ScalingChartOptions = {
    title: "Training step time vs model size",
    thisMachine: "this machine",
    extrapolateTo: [],
    recordings: [],
    ...opts,
  };
  const measured = rows.filter((r) => r.stepSeconds !== null);
  const data: Record<string, unknown>[] = [
    {
      type: "scatter",
      mode: "markers+text",
      name: `${o.thisMachine} (measured)`,
      x: measured.map((r) => r.params),
      y: measured.map((r) => r.stepSeconds),
      text: measured.map((r) => r.model.replace("pythia-", "")),
      textposition: "top left",
      marker: { size: 10, color: "#1f77b4" },
    },
  ];
  if (fit) {
    const inX = [fit.xMin, fit.xMax];
    data.push({
      type: "scatter",
      mode: "lines",
      name: `fit: t ∝ P^${fit.exponent.toFixed(2)} (R² ${fit.r2.toFixed(3)})`,
      x: inX,
      y: inX.map((x) => predictPowerLaw(fit, x)),
      line: { color: "#1f77b4" },
    });
    if (o.extrapolateTo.length) {
      const xs = [fit.xMax, ...o.extrapolateTo.filter((x) => x > fit.xMax)].sort((a, b) => a - b);
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: "extrapolated (not measured)",
        x: xs,
        y: xs.map((x) => predictPowerLaw(fit, x)),
        line: { color: "#1f77b4", dash: "dash" },
        marker: { symbol: "circle-open", size: 9 },
      });
    }
  }
  const palette = ["#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"];
  let c = 0;
  for (const rec of o.recordings) {
    for (const prec of [...new Set(rec.rows.map((r) => r.precision))]) {
      const rs = rec.rows.filter((r) => r.precision === prec && r.params && r.stepSeconds);
      if (!rs.length) continue;
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: `${rec.label} · ${prec} · B×T ${rs[0].batch}×${rs[0].seq} (recorded ${rec.date.slice(0, 10)})`,
        x: rs.map((r) => r.params),
        y: rs.map((r) => r.stepSeconds),
        line: { color: palette[c++ % palette.length], width: 1 },
      });
    }
  }
  return {
    data,
    layout: {
      title: { text: o.title },
      height: 460,
      xaxis: { type: "log", title: { text: "parameters" } },
      yaxis: { type: "log", title: { text: "seconds per training step" } },
      legend: { orientation: "h", y: -0.25 },
      margin: { t: 50, r: 20, b: 40, l: 70 },
    },
  };
}
