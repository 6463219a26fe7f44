// The chat-template sandbox: a template from a downloaded tokenizer_config.json is code, so range(), loop
// iterations, strings and lists are capped as Jinja2's sandbox caps range() (MAX_RANGE = 100000); real
// templates render exactly as before.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chatTemplate, DEFAULT_CHAT_TEMPLATE_LIMITS } from "../../src/data/chat-template";
import { TemplateError } from "../../src/data/templates";
import { makeFifo } from "../helpers/fifo";

const MSGS = [{ role: "user", content: "x" }];

function bomb(jinja: string, limits = {}): { error: TemplateError } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-chat-"));
  const file = path.join(dir, "tokenizer_config.json");
  fs.writeFileSync(file, JSON.stringify({ chat_template: jinja }));
  try {
    chatTemplate(file, { limits }).renderMessages(MSGS);
  } catch (e) {
    assert.ok(e instanceof TemplateError, String(e));
    assert.ok(!e.message.includes("\n"), "one line");
    assert.ok(e.message.startsWith(`${file}: the chat template exceeds the sandbox's limits: `), e.message);
    return { error: e };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.fail(`${jinja} rendered`);
}

test("range(100000000) is refused before any number is made, naming the template file and the limit", () => {
  const { error } = bomb("{% for i in range(100000000) %}x{% endfor %}");
  assert.match(
    error.message,
    /range\(\) of 100000000 numbers is over the limit of 100000 \(jinja2\.sandbox's MAX_RANGE\)$/,
  );
  // before any number is made: a range no array can hold (over 2**32 - 1 items) is refused with the same
  // message; building its numbers first would throw "Invalid array length" (or run out of memory) instead
  assert.match(
    bomb("{{ range(10**12)|length }}").error.message,
    /range\(\) of 1000000000000 numbers is over the limit/,
  );
  assert.match(bomb("{{ range(0, 10**9, 2)|length }}").error.message, /range\(\) of 500000000 numbers/);
  assert.equal(DEFAULT_CHAT_TEMPLATE_LIMITS.maxRange, 100_000);
});

test("nested loops, doubling strings and doubling lists stop at their limits", () => {
  const steps = bomb("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", {
    maxSteps: 100_000,
  });
  assert.match(steps.error.message, /more than 100000 evaluation steps \(maxSteps\)/);
  assert.match(
    bomb("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}")
      .error.message,
    /a string of 4194304 characters is over the limit of 4000000 \(maxOutputChars\)$/,
  );
  assert.match(
    bomb(
      "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}",
    ).error.message,
    /a list of 131072 items is over the limit of 100000 \(maxRange\)$/,
  );
  assert.match(
    bomb("{{ messages[0].content }}{{ messages[0].content }}", { maxOutputChars: 1 }).error.message,
    /a string of 2 characters is over the limit of 1/,
  );
});

test("inside the limits templates render as before: globals, range forms, raise_exception", () => {
  const t = chatTemplate({
    chat_template:
      "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
  });
  assert.deepEqual(t.render({ question: "Hi?", answer: "Hello." }), {
    prompt: "<|user|>Hi?\n<|assistant|>",
    completion: "Hello.\n",
  });
  const g = chatTemplate({
    chat_template:
      "{{ range(3)|join(',') }};{{ range(1,7,2)|join(',') }};{{ range(5,0,-2)|join(',') }};{{ True }} {{ none is none }};{{ strftime_now('%Y') }}",
  });
  assert.equal(g.renderMessages(MSGS), `0,1,2;1,3,5;5,3,1;true true;${new Date().getFullYear()}`);
  assert.equal(chatTemplate({ chat_template: "{{ range(100000)|length }}" }).renderMessages(MSGS), "100000"); // the limit itself is allowed
  assert.throws(
    () => chatTemplate({ chat_template: "{{ raise_exception('Only user roles') }}" }).renderMessages(MSGS),
    /rendering the chat template failed \(Only user roles\)/,
  );
  assert.throws(
    () => chatTemplate({ chat_template: "x" }, { limits: { maxSteps: 0 } }),
    /limits\.maxSteps must be a positive integer, got 0/,
  );
});

test("a tokenizer config that is a FIFO is refused at once", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-chat-"));
  const fifo = makeFifo(path.join(dir, "tokenizer_config.json"));
  try {
    assert.throws(
      () => chatTemplate(fifo.path),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.message === `${fifo.path}: the tokenizer config is a FIFO (named pipe), not a regular file`,
    );
    assert.ok(!fifo.wasOpened(), "refused before opening the FIFO");
  } finally {
    fifo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
