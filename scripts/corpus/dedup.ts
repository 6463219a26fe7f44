/**
 * Exact de-duplication of paragraphs across the whole corpus: the first occurrence of a paragraph (compared
 * case- and whitespace-insensitively) is kept, later ones are dropped. It removes what sources repeat verbatim —
 * licence notices, "See also" boilerplate, a man page's shared sections, the same gloss in WordNet and GCIDE —
 * without touching short lines that legitimately recur (`Example:`, `Returns: None`), which are exempt.
 */
import { createHash } from "node:crypto";
import type { Doc } from "./sources";

/** Paragraphs shorter than this are never treated as duplicates. */
export const MIN_DEDUP_CHARS = 64;

export interface DedupStats {
  /** Per source: paragraphs dropped and their characters. */
  removedParagraphs: Record<string, number>;
  removedChars: Record<string, number>;
  /** Documents left empty (dropped) after their duplicate paragraphs went. */
  removedDocs: Record<string, number>;
}

const key = (p: string) => createHash("sha1").update(p.toLowerCase().replace(/\s+/g, " ").trim()).digest("base64");

/** Docs with their repeated paragraphs removed (input order decides which copy stays), and what went. */
export function dedupParagraphs(docs: Doc[]): { docs: Doc[]; stats: DedupStats } {
  const seen = new Set<string>();
  const stats: DedupStats = { removedParagraphs: {}, removedChars: {}, removedDocs: {} };
  const bump = (r: Record<string, number>, s: string, n: number) => {
    r[s] = (r[s] ?? 0) + n;
  };
  const out: Doc[] = [];
  for (const d of docs) {
    const kept: string[] = [];
    for (const p of d.text.split(/\n\n+/)) {
      if (p.trim().length >= MIN_DEDUP_CHARS) {
        const k = key(p);
        if (seen.has(k)) {
          bump(stats.removedParagraphs, d.source, 1);
          bump(stats.removedChars, d.source, p.length);
          continue;
        }
        seen.add(k);
      }
      kept.push(p);
    }
    const text = kept.join("\n\n").trim();
    if (text) out.push(text === d.text ? d : { ...d, text });
    else bump(stats.removedDocs, d.source, 1);
  }
  return { docs: out, stats };
}
