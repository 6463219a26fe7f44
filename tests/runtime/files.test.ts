import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  assertRegularFile,
  FileAccessError,
  openRegularFile,
  readRegularFile,
  readRegularFileSync,
} from "../../src/runtime/files";
import { findDuplicateKey } from "../../src/runtime/json-keys";
import { makeFifo } from "../helpers/fifo";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-files-"));

test("a FIFO, a folder and a device are refused before opening, naming the path and what it is", async () => {
  const dir = tmp();
  const fifo = makeFifo(path.join(dir, "weights.safetensors"));
  try {
    const kinds: [string, RegExp][] = [
      [fifo.path, /weights\.safetensors: the weights file is a FIFO \(named pipe\), not a regular file$/],
      [dir, /: the weights file is a folder, not a regular file$/],
      ["/dev/null", /^\/dev\/null: the weights file is a character device, not a regular file$/],
      [path.join(dir, "nope"), /nope: the weights file does not exist$/],
    ];
    for (const [p, re] of kinds) {
      for (const call of [
        () => readRegularFileSync(p, "the weights file"),
        () => assertRegularFile(p, "the weights file"),
      ])
        assert.throws(
          call,
          (e: unknown) => e instanceof FileAccessError && re.test(e.message) && !e.message.includes("\n"),
          p,
        );
      await assert.rejects(
        readRegularFile(p, "the weights file"),
        (e: unknown) => e instanceof FileAccessError && re.test(e.message),
        p,
      );
      await assert.rejects(
        openRegularFile(p, "the weights file"),
        (e: unknown) => e instanceof FileAccessError && re.test(e.message),
        p,
      );
    }
    assert.ok(!fifo.wasOpened(), "refused before opening, not read after the helper unblocked the FIFO");
    fs.writeFileSync(path.join(dir, "ok.json"), "{}");
    assert.equal(readRegularFileSync(path.join(dir, "ok.json")).toString(), "{}");
    assert.equal((await readRegularFile(path.join(dir, "ok.json"))).toString(), "{}");
  } finally {
    fifo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("findDuplicateKey: the first repeated key at any depth, with its path; escapes and strings handled", () => {
  const cases: [string, ReturnType<typeof findDuplicateKey>][] = [
    ['{"a":1,"a":2}', { key: "a", path: "" }],
    ['{"a":1,"b":{"c":2,"c":3}}', { key: "c", path: "b" }],
    ['{"messages":[{"role":"user"},{"role":"user","role":"x"}]}', { key: "role", path: "messages[1]" }],
    ['{"q\\"":1,"q\\"":2}', { key: 'q"', path: "" }],
    ['{"\\u0061":1,"a":2}', { key: "a", path: "" }], // the same key, spelled two ways
    ['{"a":"x\\\\","a":1}', { key: "a", path: "" }], // an escaped backslash ends the string
    ['{"a":"\\",\\"a\\":","b":1}', undefined], // a key-like text inside a string value
    ['[{"a":1},{"a":1}]', undefined], // equal keys in different objects
    ['{"a":{"x":1},"b":{"x":1}}', undefined],
    ['{"a":1}', undefined],
  ];
  for (const [text, want] of cases) {
    JSON.parse(text);
    assert.deepEqual(findDuplicateKey(text), want, text);
  }
});

test("findDuplicateKey ends on text that is not valid JSON (an unterminated string)", () => {
  assert.equal(findDuplicateKey('{"a":1,"b'), undefined);
  assert.equal(findDuplicateKey('{"a":"x'), undefined);
});
