/**
 * A plain-text progress printer for downloads, for terminals and logs (the notebook side draws its own).
 * On a TTY it redraws one line per file in place (throttled) and ends it when the file completes; elsewhere
 * (CI logs, pipes) it prints exactly one line per file, when the file completes. While another process downloads
 * the same file, it says so once ("waiting for another download …"), then shows that download's progress.
 */
import type { DownloadProgress, ProgressCallback } from "./download";

export interface TextProgressOptions {
  /** Where to write. Default: process.stderr (stdout stays clean for --json output). */
  stream?: { write(s: string): unknown; isTTY?: boolean };
  /** Least time between two redraws of the same file's line, ms. */
  intervalMs?: number;
  /** Characters of the bar. */
  barWidth?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export const DEFAULT_TEXT_PROGRESS: Required<Omit<TextProgressOptions, "stream">> = {
  intervalMs: 200,
  barWidth: 24,
  now: () => Date.now(),
};

/** 1536 -> "1.5 KB", 70426624 -> "70.4 MB" (decimal units, like the hub's web pages). */
export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** One line of progress text for a file. */
export function progressLine(p: DownloadProgress, barWidth = DEFAULT_TEXT_PROGRESS.barWidth): string {
  const frac = p.total > 0 ? Math.min(1, p.loaded / p.total) : 1;
  const filled = Math.round(frac * barWidth);
  const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
  const line = `${p.file} [${bar}] ${formatBytes(p.loaded)} / ${formatBytes(p.total)} ${Math.floor(frac * 100)}%`;
  return p.waitingFor ? `${line} (another download: ${p.waitingFor})` : line;
}

/** "model.safetensors: waiting for another download (pid 12 on host-a since …)" */
export function waitingLine(p: DownloadProgress): string {
  return `${p.file}: waiting for another download (${p.waitingFor}) to finish`;
}

/**
 * A `{ file, loaded, total }` callback that prints progress text.
 *
 * @example
 * await resolveModelDir("EleutherAI/pythia-70m", { onProgress: textProgress() });
 * // model.safetensors [########----------------] 55.0 MB / 166.0 MB 33%
 */
export function textProgress(opts: TextProgressOptions = {}): ProgressCallback {
  const o = { ...DEFAULT_TEXT_PROGRESS, ...opts };
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const lastDraw = new Map<string, number>();
  const done = new Set<string>();
  const waitNoted = new Set<string>();
  return (p) => {
    const key = p.file;
    if (p.waitingFor && !waitNoted.has(key)) {
      waitNoted.add(key);
      stream.write(tty ? `\r\x1b[2K${waitingLine(p)}\n` : `${waitingLine(p)}\n`);
      lastDraw.set(key, o.now());
      return;
    }
    const complete = p.loaded >= p.total;
    if (complete) {
      if (done.has(key)) return;
      done.add(key);
      stream.write(tty ? `\r\x1b[2K${progressLine(p, o.barWidth)}\n` : `${progressLine(p, o.barWidth)}\n`);
      return;
    }
    done.delete(key); // a new download of the same name
    if (!tty) return;
    const t = o.now();
    const last = lastDraw.get(key);
    if (last !== undefined && t - last < o.intervalMs) return;
    lastDraw.set(key, t);
    stream.write(`\r\x1b[2K${progressLine(p, o.barWidth)}`);
  };
}
