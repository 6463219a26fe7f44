/**
 * `JSON.parse` keeps the last of two equal keys in one object without a word, so a record such as
 * `{"answer": "A", "answer": "B"}` would train on "B" silently. `findDuplicateKey` scans JSON text (already
 * known to be valid) for the first key that repeats within one object, at any depth. It is one linear pass
 * that skips string contents with `indexOf` and allocates only for keys, so checking every line of a large
 * JSONL file costs little next to `JSON.parse` itself.
 */

/** Where a key repeats: the key, and the JSON path of the object holding it (`""` for the top level). */
export interface DuplicateKey {
  key: string;
  path: string;
}

const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
  LBRACKET = 0x5b,
  RBRACKET = 0x5d,
  COMMA = 0x2c;

/**
 * Characters the scans have looked at, summed over all calls: one per step of the main loop, each span that
 * `indexOf` skipped, each backslash looked back at. Only for tests: they check this work stays linear in the
 * text's length (a count that a loaded machine cannot change, unlike a wall-clock limit).
 */
export const scanWork = { chars: 0 };

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let j = text.indexOf('"', start + 1);
  let from = start;
  for (;;) {
    if (j < 0) {
      scanWork.chars += text.length - from;
      return text.length; // unterminated (not valid JSON): stop scanning rather than loop
    }
    // a quote preceded by an odd number of backslashes is escaped
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    scanWork.chars += j - from + (j - 1 - k);
    if ((j - 1 - k) % 2 === 0) return j;
    from = j;
    j = text.indexOf('"', j + 1);
  }
}

interface Frame {
  keys: Set<string> | null; // null for an array
  expectKey: boolean;
  name: string; // path segment of this container in its parent
  lastKey: string;
  index: number; // element index, for arrays
}

/**
 * The first duplicate key in valid JSON text, or undefined.
 *
 * @example
 * findDuplicateKey('{"a": 1, "b": {"c": 2, "c": 3}}'); // { key: "c", path: "b" }
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  // fast path: an object needs at least two keys to repeat one
  if (text.indexOf(",") < 0) return undefined;
  const stack: Frame[] = [];
  const pathOf = () =>
    stack
      .slice(1)
      .map((f) => f.name)
      .join("");
  for (let i = 0; i < text.length; i++) {
    scanWork.chars++;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const j = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, j);
        const key = raw.indexOf("\\") < 0 ? raw : (JSON.parse(text.slice(i, j + 1)) as string);
        if (top.keys.has(key)) return { key, path: pathOf() };
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === LBRACE || c === LBRACKET) {
      const parent = stack[stack.length - 1];
      const name = !parent
        ? ""
        : !parent.keys
          ? `[${parent.index}]`
          : stack.length === 1
            ? parent.lastKey
            : `.${parent.lastKey}`;
      stack.push({ keys: c === LBRACE ? new Set() : null, expectKey: c === LBRACE, name, lastKey: "", index: 0 });
    } else if (c === RBRACE || c === RBRACKET) stack.pop();
    else if (c === COMMA) {
      const top = stack[stack.length - 1];
      if (top) {
        if (top.keys) top.expectKey = true;
        else top.index++;
      }
    }
  }
  return undefined;
}
