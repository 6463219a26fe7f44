import { test } from "node:test";
import * as assert from "node:assert/strict";
import { padAndTruncate } from "../../src/tokenizer/pad";
import { TokenizerError } from "../../src/tokenizer/types";

const seqs = [
  [10, 11, 12, 13, 14],
  [20, 21],
  [30, 31, 32],
];

test("pads to the longest on the right or the left, with the mask", () => {
  assert.deepEqual(padAndTruncate(seqs, { padTokenId: 1 }), {
    inputIds: [
      [10, 11, 12, 13, 14],
      [20, 21, 1, 1, 1],
      [30, 31, 32, 1, 1],
    ],
    attentionMask: [
      [1, 1, 1, 1, 1],
      [1, 1, 0, 0, 0],
      [1, 1, 1, 0, 0],
    ],
  });
  assert.deepEqual(padAndTruncate(seqs, { padTokenId: 7, paddingSide: "left" }), {
    inputIds: [
      [10, 11, 12, 13, 14],
      [7, 7, 7, 20, 21],
      [7, 7, 30, 31, 32],
    ],
    attentionMask: [
      [1, 1, 1, 1, 1],
      [0, 0, 0, 1, 1],
      [0, 0, 1, 1, 1],
    ],
  });
});

test("truncates on either side and pads to max_length", () => {
  const right = padAndTruncate(seqs, { padTokenId: 1, truncation: true, maxLength: 3, padding: "max_length" });
  assert.deepEqual(right.inputIds, [
    [10, 11, 12],
    [20, 21, 1],
    [30, 31, 32],
  ]);
  const left = padAndTruncate(seqs, {
    padTokenId: 1,
    truncation: true,
    maxLength: 3,
    truncationSide: "left",
    paddingSide: "left",
  });
  assert.deepEqual(left.inputIds, [
    [12, 13, 14],
    [1, 20, 21],
    [30, 31, 32],
  ]);
  assert.deepEqual(left.attentionMask, [
    [1, 1, 1],
    [0, 1, 1],
    [1, 1, 1],
  ]);
  const wide = padAndTruncate([[5]], { padTokenId: 0, padding: "max_length", maxLength: 4 });
  assert.deepEqual(wide, { inputIds: [[5, 0, 0, 0]], attentionMask: [[1, 0, 0, 0]] });
  assert.deepEqual(
    padAndTruncate(
      [
        [1, 2],
        [3, 4],
      ],
      { padding: false },
    ).inputIds,
    [
      [1, 2],
      [3, 4],
    ],
  );
  const input = [[1, 2, 3]];
  padAndTruncate(input, { truncation: true, maxLength: 1 });
  assert.deepEqual(input, [[1, 2, 3]], "input not modified");
  assert.deepEqual(padAndTruncate([], { padTokenId: 1 }), { inputIds: [], attentionMask: [] });
});

test("contradictory options and missing pad tokens are clear errors", () => {
  const err = (opts: object, re: RegExp, s = seqs) =>
    assert.throws(
      () => padAndTruncate(s, opts as any),
      (e: any) => e instanceof TokenizerError && re.test(e.message),
    );
  err({ truncation: true }, /truncation: true needs maxLength/);
  err({ padding: "max_length", padTokenId: 1 }, /"max_length" needs maxLength/);
  err(
    { padding: "max_length", maxLength: 3, padTokenId: 1 },
    /text 0 has 5 tokens, more than maxLength 3; pass truncation: true/,
  );
  err({ padding: false }, /padding: false, but text 1 has 2 tokens and the longest has 5/);
  err({}, /padding needs a pad token.*pass padTokenId/);
  err({ padTokenId: 1, paddingSide: "top" }, /paddingSide must be "left" or "right"/);
  err({ padTokenId: 1, padding: "longer" }, /padding must be "longest", "max_length" or false/);
  err({ maxLength: -2 }, /maxLength must be a non-negative integer/);
});
