/**
 * Which Debian and npm packages are installed, and at which version, read from the files themselves
 * (`var/lib/dpkg/status`, `package.json`) so that a test can point the corpus builder at a synthetic root.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A corpus source that cannot be read: names the package and the command that installs it. */
export class CorpusSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorpusSourceError";
  }
}

const statusCache = new Map<string, Map<string, string>>();

/** Installed Debian packages under `root` (package → version), from dpkg's status file. */
export function debianPackages(root: string): Map<string, string> {
  const file = path.join(root, "var", "lib", "dpkg", "status");
  let got = statusCache.get(file);
  if (got) return got;
  got = new Map();
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  for (const para of text.split(/\n\s*\n/)) {
    const name = para.match(/^Package:\s*(\S+)/m)?.[1];
    const status = para.match(/^Status:\s*(.+)$/m)?.[1] ?? "";
    const version = para.match(/^Version:\s*(\S+)/m)?.[1];
    if (name && version && /\binstalled$/.test(status.trim())) got.set(name, version);
  }
  statusCache.set(file, got);
  return got;
}

/** The installed version of each package, or a CorpusSourceError naming the missing ones and the install command. */
export function requireDebian(root: string, source: string, packages: string[]): Record<string, string> {
  const installed = debianPackages(root);
  const missing = packages.filter((p) => !installed.has(p));
  if (missing.length) {
    throw new CorpusSourceError(
      `corpus source "${source}" needs the Debian package${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, which ${missing.length > 1 ? "are" : "is"} not installed: ` +
        `run \`apt-get install ${missing.join(" ")}\` (or leave the source out with --skip ${source})`,
    );
  }
  return Object.fromEntries(packages.map((p) => [p, installed.get(p)!]));
}

/** A file a source needs: present, or the same one-line error as a missing package. */
export function requireFile(file: string, source: string, pkg: string): string {
  if (!fs.existsSync(file)) {
    throw new CorpusSourceError(
      `corpus source "${source}": ${file} is missing although ${pkg} is marked installed; reinstall it: \`apt-get install --reinstall ${pkg}\``,
    );
  }
  return file;
}

/** An npm package's folder and version, or a CorpusSourceError with the `npm install` command. */
export function requireNpm(source: string, pkg: string): { dir: string; version: string } {
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new CorpusSourceError(
      `corpus source "${source}" needs the npm package ${pkg}, which is not installed: run \`npm install\` (it is a devDependency)`,
    );
  }
  return { dir: path.dirname(manifest), version: JSON.parse(fs.readFileSync(manifest, "utf8")).version };
}

/** Files a Debian package installed (dpkg's `.list`), under `root`. */
export function packageFiles(root: string, pkg: string): string[] {
  const list = path.join(root, "var", "lib", "dpkg", "info", `${pkg}.list`);
  const alt = path.join(root, "var", "lib", "dpkg", "info", `${pkg}:amd64.list`);
  const file = fs.existsSync(list) ? list : alt;
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((p) => path.join(root, p));
}
