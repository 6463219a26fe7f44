/**
 * The practical fine-tuning loop as one picture (notebook 00): define the task, get data, fine-tune a small
 * model, vary the amount of data, evaluate, collect more data (and go round again), then a harder task and a
 * bigger model. Each step is a link to the notebook that teaches it. Drawn as inline SVG inside HTML (SVG
 * `<a>` elements are clickable where an `<img>` would not be), with a plain-text list as the fallback.
 */
import { escapeHtml } from "../../display/escape";
import { html, type Displayable } from "../../display/show";

/** One step of the loop and the notebook that teaches it. */
export interface LoopStep {
  /** Short label drawn in the box. */
  label: string;
  /** One line under it. */
  detail: string;
  /** The notebook file, relative to `notebooks/` (a relative link works in Jupyter and on the course site). */
  notebook: string;
}

/** The steps, in order; the last one leads back to the second (new data for the harder task). */
export const COURSE_LOOP: readonly LoopStep[] = Object.freeze([
  { label: "Define the task", detail: "inputs → outputs", notebook: "01_task_definition.ipynb" },
  { label: "Get data", detail: "collect, generate, clean", notebook: "02_data_generation.ipynb" },
  { label: "Small model", detail: "fine-tune it first", notebook: "03_small_model_cpu.ipynb" },
  { label: "Vary the data", detail: "how much is enough?", notebook: "04_evaluate_and_iterate.ipynb" },
  { label: "Evaluate", detail: "what works, what fails", notebook: "04_evaluate_and_iterate.ipynb" },
  { label: "More data", detail: "aimed at the errors", notebook: "02_data_generation.ipynb" },
  { label: "Harder task", detail: "writing, composition", notebook: "01_task_definition.ipynb" },
  { label: "Bigger model", detail: "measure the cost", notebook: "05_gpu_scaling.ipynb" },
]);

/** Links drawn beside the loop: the tools for the bigger model. */
export const LOOP_TOOLS: readonly LoopStep[] = Object.freeze([
  { label: "LoRA", detail: "train less of it", notebook: "06_lora.ipynb" },
  { label: "Sizing", detail: "which GPU fits", notebook: "07_compute_sizing.ipynb" },
]);

const W = 1080;
const H = 500;
const BOX = { w: 204, h: 58 };
const CENTER = { x: 664, y: 250 }; // the ring on the right, the bigger model's tools on its left
const RADIUS = { x: 330, y: 185 };

interface Box {
  x: number;
  y: number;
}

/** Box centres on an ellipse, clockwise from the top left. */
function boxCentres(n: number): Box[] {
  return Array.from({ length: n }, (_, i) => {
    const a = ((-90 - 180 / n + (360 / n) * i) * Math.PI) / 180;
    return { x: CENTER.x + RADIUS.x * Math.cos(a), y: CENTER.y + RADIUS.y * Math.sin(a) };
  });
}

/** The point where the ray from a box's centre towards (dx, dy) leaves the box (plus a gap). */
function edge(c: Box, dx: number, dy: number, gap = 6): Box {
  const t = Math.min(BOX.w / 2 / Math.abs(dx || 1e-9), BOX.h / 2 / Math.abs(dy || 1e-9));
  const len = Math.hypot(dx, dy);
  return { x: c.x + dx * t + (dx / len) * gap, y: c.y + dy * t + (dy / len) * gap };
}

const f = (x: number) => x.toFixed(1);

function arrow(a: Box, b: Box, dashed = false, label = ""): string {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const p = edge(a, dx, dy);
  const q = edge(b, -dx, -dy);
  const line = `<line x1="${f(p.x)}" y1="${f(p.y)}" x2="${f(q.x)}" y2="${f(q.y)}" stroke="#555" stroke-width="2"${dashed ? ' stroke-dasharray="6 4"' : ""} marker-end="url(#tb-arrow)"/>`;
  const text = label
    ? `<text x="${f((p.x + q.x) / 2)}" y="${f((p.y + q.y) / 2 - 6)}" text-anchor="middle" font-size="13" fill="#555">${escapeHtml(label)}</text>`
    : "";
  return line + text;
}

function box(c: Box, step: LoopStep, n: string, fill: string): string {
  const nb = step.notebook.slice(0, 2);
  return (
    `<a href="${escapeHtml(step.notebook)}" target="_self"><title>${escapeHtml(`${step.label}: notebook ${nb}`)}</title>` +
    `<rect x="${f(c.x - BOX.w / 2)}" y="${f(c.y - BOX.h / 2)}" width="${BOX.w}" height="${BOX.h}" rx="10" fill="${fill}" stroke="#3a6ea5" stroke-width="1.5"/>` +
    `<text x="${f(c.x)}" y="${f(c.y - 6)}" text-anchor="middle" font-size="15" font-weight="bold" fill="#1d3557">${escapeHtml(n ? `${n} · ${step.label}` : step.label)}</text>` +
    `<text x="${f(c.x)}" y="${f(c.y + 15)}" text-anchor="middle" font-size="12" fill="#333">${escapeHtml(step.detail)} · <tspan fill="#1a5fb4" text-decoration="underline">notebook ${nb}</tspan></text></a>`
  );
}

/**
 * The loop as an SVG string: the steps on a ring, arrows between them, a dashed "iterate" arrow from "More data"
 * back to "Vary the data", and the bigger model's tools beside the ring. Every box links to its notebook.
 * @example
 * courseLoopSvg().includes('href="03_small_model_cpu.ipynb"'); // true
 */
export function courseLoopSvg(
  steps: readonly LoopStep[] = COURSE_LOOP,
  tools: readonly LoopStep[] = LOOP_TOOLS,
): string {
  if (steps.length < 3) throw new Error(`courseLoopSvg: a loop needs at least 3 steps, found ${steps.length}`);
  const c = boxCentres(steps.length);
  const parts: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    const last = i === steps.length - 1;
    // the last step leads back to the data for the next, harder round
    parts.push(arrow(c[i], c[last ? 1 : i + 1], last, last ? "next round" : ""));
  }
  const vary = steps.findIndex((s) => s.label === "Vary the data");
  const more = steps.findIndex((s) => s.label === "More data");
  if (vary >= 0 && more >= 0) parts.push(arrow(c[more], c[vary], true, "iterate"));
  steps.forEach((s, i) => parts.push(box(c[i], s, String(i + 1), "#eef4fb")));
  const big = c[steps.length - 1];
  tools.forEach((t, i) => {
    const at = { x: BOX.w / 2 + 12, y: big.y - 40 + i * (BOX.h + 24) };
    parts.push(
      `<line x1="${f(big.x - BOX.w / 2)}" y1="${f(big.y)}" x2="${f(at.x + BOX.w / 2)}" y2="${f(at.y)}" stroke="#999" stroke-width="1.5" stroke-dasharray="2 3"/>`,
    );
    parts.push(box(at, t, "", "#f6f1e7"));
    if (i === 0)
      parts.push(
        `<text x="${f(at.x)}" y="${f(at.y - BOX.h / 2 - 10)}" text-anchor="middle" font-size="13" fill="#555">for the bigger model</text>`,
      );
  });
  parts.push(
    `<text x="${f(CENTER.x)}" y="${f(CENTER.y)}" text-anchor="middle" font-size="14" fill="#555">start small, measure, then grow</text>`,
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px" role="img" aria-label="The fine-tuning loop">` +
    `<defs><marker id="tb-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>` +
    `${parts.join("")}</svg>`
  );
}

/**
 * The loop for `show()`: the SVG in HTML, and a numbered list of the steps and notebooks as text.
 * @example
 * show(courseLoopFigure());
 */
export function courseLoopFigure(steps: readonly LoopStep[] = COURSE_LOOP): Displayable {
  const text = steps.map((s, i) => `${i + 1}. ${s.label} (${s.detail}): ${s.notebook}`).join("\n");
  return html(`<div class="tunebook-loop">${courseLoopSvg(steps)}</div>`, text);
}
