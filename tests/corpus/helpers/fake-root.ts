// A synthetic system root for the corpus builder: dpkg's status file and a few small files in the layouts the
// real packages use (WordNet, the Node.js docs, Debian Reference, man pages, and a stand-in for the `bible`
// reader), plus a course data folder whose test split has one answer planted in the WordNet glosses.
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

export const PLANTED_ANSWER = "a small furry animal that purrs loudly";

const WORDS =
  "river stone light garden window letter market winter silver forest bridge candle harbor meadow thunder".split(" ");

function write(root: string, rel: string, data: string | Buffer, mode?: number): void {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data, mode ? { mode } : undefined);
}

/** Sentences that differ from each other (so dedup keeps them) and have enough repeats for BPE merges. */
function prose(seed: number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = (k: number) => WORDS[(seed * 7 + i * 3 + k * 5) % WORDS.length];
    out.push(`The ${w(0)} near the ${w(1)} kept its ${w(2)} until ${w(3)} came, number ${seed * 100 + i}.`);
  }
  return out.join(" ");
}

export const FAKE_PACKAGES: Record<string, string> = {
  "wordnet-base": "1:3.0-37",
  "nodejs-doc": "18.20.4",
  "debian-reference-en": "2.100",
  "bible-kjv-text": "4.38",
  "bible-kjv": "4.38",
  manpages: "6.03-2",
};

/** Builds the tree under `root`; `data` gets `<task>/test.jsonl`. Leave a package out with `without`. */
export function makeFakeRoot(root: string, data: string, without: string[] = []): void {
  const status = Object.entries(FAKE_PACKAGES)
    .filter(([p]) => !without.includes(p))
    .map(([p, v]) => `Package: ${p}\nStatus: install ok installed\nVersion: ${v}\n`)
    .join("\n");
  write(root, "var/lib/dpkg/status", status + "\nPackage: half-gone\nStatus: deinstall ok config-files\nVersion: 1\n");
  for (const [pos, tag] of [
    ["noun", "n"],
    ["verb", "v"],
    ["adj", "a"],
    ["adv", "r"],
  ]) {
    const lines = ["  1 This software and database is being provided to you, the LICENSEE, by Princeton University"];
    for (let i = 0; i < 70; i++) {
      const gloss = pos === "noun" && i === 5 ? PLANTED_ANSWER : prose(i + pos.length, 1).toLowerCase();
      lines.push(
        `${String(i * 100).padStart(8, "0")} 03 ${tag} 02 word_${pos}_${i} 0 other${i}(a) 0 000 | ${gloss}; "the ${WORDS[i % WORDS.length]} example"  `,
      );
    }
    write(root, `usr/share/wordnet/data.${pos}`, lines.join("\n") + "\n");
  }
  for (const [name, seed] of [
    ["fs", 1],
    ["path", 2],
    ["url", 3],
  ] as const) {
    write(
      root,
      `usr/share/doc/nodejs/api/${name}.md.gz`,
      zlib.gzipSync(
        `# Module ${name}\n\n<!--introduced_in=v0.10.0-->\n\nUse [\`${name}.open()\`][] here.\n\n\`\`\`js\nconst ${name} = require('node:${name}');\n\`\`\`\n\n${prose(seed, 12)}\n\n[\`${name}.open()\`]: #x\n`,
      ),
    );
  }
  write(root, "usr/share/doc/nodejs/api/all.md.gz", zlib.gzipSync("# All\n\nthe concatenation, skipped\n"));
  const ref = `Debian Reference\n\nPreface\n\n1. Disclaimer\n\nChapter\u00a01.\u00a0Tutorials\n\n${prose(4, 3)}\n\nPreface\n\n${prose(5, 10)}\n\nChapter\u00a01.\u00a0Tutorials\n\n${prose(6, 15)}\n\nChapter\u00a02.\u00a0Packages\n\n${prose(7, 15)}\n\nAppendix\u00a0A.\u00a0Appendix\n\n${prose(8, 15)}\n`;
  write(root, "usr/share/debian-reference/debian-reference.en.txt.gz", zlib.gzipSync(ref));
  // The real reader decodes bible.data; this one prints verses in its `-f` (unformatted) output format.
  const verses: string[] = [];
  for (const book of ["Ge", "Ex", "Le"])
    for (let c = 1; c <= 3; c++)
      for (let v = 1; v <= 6; v++) verses.push(`${book}${c}:${v} ${prose(book.length * 10 + c * 3 + v, 1)}`);
  write(root, "usr/bin/bible", `#!/bin/sh\ncat <<'VERSES'\n${verses.join("\n")}\nVERSES\n`, 0o755);
  write(root, "usr/lib/bible.data", "EC02");
  const pages = ["ls.1", "passwd.5", "intro.7"];
  write(
    root,
    "var/lib/dpkg/info/manpages.list",
    [
      "/usr/share/man",
      ...pages.map((p) => `/usr/share/man/man${p.slice(-1)}/${p}.gz`),
      "/usr/share/man/man7/alias.7.gz",
    ].join("\n") + "\n",
  );
  pages.forEach((p, i) =>
    write(
      root,
      `usr/share/man/man${p.slice(-1)}/${p}.gz`,
      zlib.gzipSync(
        `.\\" comment\n.TH X 1\n.SH NAME\n${p} \\- a page\n.SH DESCRIPTION\n.B ${p}\n${prose(20 + i, 8)}\n.PP\n\\fIMore\\fP text.\n`,
      ),
    ),
  );
  write(root, "usr/share/man/man7/alias.7.gz", zlib.gzipSync(".so man7/intro.7\n"));

  const item = (id: string, question: string, answer: string) => JSON.stringify({ id, question, answer });
  write(
    data,
    "qa/test.jsonl",
    [item("q1", "What purrs?", PLANTED_ANSWER), item("q2", "Short?", "yes")].join("\n") + "\n",
  );
}

/** The sources the fake root provides. */
export const FAKE_SOURCES = ["kjv", "wordnet", "nodejs-docs", "debian-reference", "manpages"];
