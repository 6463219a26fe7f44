/**
 * Headless Chromium for the browser tests: the system's Debian `chromium` (or $TUNEBOOK_CHROMIUM),
 * driven by playwright-core — no browser download. Playwright gives every launch a fresh temporary
 * profile (its own --user-data-dir) and adds --headless; the other flags keep the browser off the
 * network and quiet. Artifacts (screenshots) go to $TUNEBOOK_ARTIFACTS or .tunebook/artifacts/.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../../src/tools/notebooks/paths";

// playwright-core is a devDependency; required normally (NODE_PATH works for a scratch install).
// eslint-disable-next-line @typescript-eslint/no-var-requires
type Playwright = typeof import("playwright-core");
export type Browser = import("playwright-core").Browser;
export type Page = import("playwright-core").Page;

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** The Chromium executable: $TUNEBOOK_CHROMIUM, else the first of /usr/bin/chromium, chromium-browser. */
export function chromiumPath(): string {
  const env = process.env.TUNEBOOK_CHROMIUM?.trim();
  const candidates = env ? [env] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found)
    throw new Error(
      `no Chromium at ${candidates.join(" or ")}: install it (sudo apt-get install chromium) or set TUNEBOOK_CHROMIUM=/path/to/chromium`,
    );
  return found;
}

function playwright(): Playwright {
  try {
    return require("playwright-core") as Playwright;
  } catch (e) {
    throw new Error(`the browser tests need the devDependency playwright-core (npm install): ${(e as Error).message}`);
  }
}

/**
 * Launch headless Chromium.
 *
 * @example
 * const browser = await launchChromium();
 * try { const page = await browser.newPage(); ... } finally { await browser.close(); }
 */
export async function launchChromium(): Promise<Browser> {
  return playwright().chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60000,
  });
}

/** The artifact folder (created). */
export function artifactsDir(sub: string): string {
  const base = process.env.TUNEBOOK_ARTIFACTS?.trim() || path.join(projectRoot(), ".tunebook", "artifacts");
  const dir = path.join(base, sub);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Console errors and uncaught page errors, collected from the moment of the call. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}
