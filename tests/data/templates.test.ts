import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  QA_TEMPLATE,
  INSTRUCTION_TEMPLATE,
  classificationTemplate,
  extractionTemplate,
  stringTemplate,
  templateFor,
  placeholders,
  TemplateError,
} from "../../src/data/templates";
import { chatTemplate } from "../../src/data/chat-template";
import { loadTokenizer } from "../../src/tokenizer";
import { FIXTURES } from "../helpers/backend";

test("Q&A template: the course's ### Question / ### Answer format, split at the answer", () => {
  const r = QA_TEMPLATE.render({ question: "What does sqrt do?", answer: "It takes a square root." });
  assert.equal(r.prompt, "### Question:\nWhat does sqrt do?\n\n### Answer:\n");
  assert.equal(r.completion, "It takes a square root.");
  assert.equal(QA_TEMPLATE.renderPrompt({ question: "Q?" }), r.prompt.replace("What does sqrt do?", "Q?"));
});

test("errors name the missing field and the template", () => {
  assert.throws(
    () => QA_TEMPLATE.render({ question: "Q?" }),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.field === "answer" &&
      /template "qa": the record has no field "answer"/.test(e.message),
  );
  assert.throws(
    () => QA_TEMPLATE.render({ answer: "A" }),
    (e: unknown) => e instanceof TemplateError && e.field === "question",
  );
  assert.throws(() => QA_TEMPLATE.render({ question: "Q?", answer: "  " }), /field "answer" \(the answer\) is empty/);
  assert.throws(
    () => QA_TEMPLATE.render({ question: ["Q?"], answer: "A" }),
    /field "question" must be a string, found an array/,
  );
});

test("instruction template: with an Input section only when the record has an input", () => {
  const withIn = INSTRUCTION_TEMPLATE.render({ instruction: "Translate.", input: "Bonjour", output: "Hello" });
  assert.match(withIn.prompt, /### Instruction:\nTranslate\.\n\n### Input:\nBonjour\n\n### Response:\n$/);
  assert.equal(withIn.completion, "Hello");
  const noIn = INSTRUCTION_TEMPLATE.render({ instruction: "Say hi.", output: "Hi" });
  assert.doesNotMatch(noIn.prompt, /### Input/);
  assert.match(noIn.prompt, /### Instruction:\nSay hi\.\n\n### Response:\n$/);
  assert.doesNotMatch(INSTRUCTION_TEMPLATE.render({ instruction: "x", input: "", output: "y" }).prompt, /### Input/);
});

test("classification template lists the labels and refuses a label outside the set", () => {
  const t = classificationTemplate(["ham", "spam"], { textName: "E-mail" });
  const r = t.render({ text: "WIN NOW", label: "spam" });
  assert.match(r.prompt, /^### E-mail:\nWIN NOW\n\n/);
  assert.match(r.prompt, /ham, spam/);
  assert.equal(r.completion, "spam");
  assert.throws(() => t.render({ text: "x", label: "eggs" }), /label "eggs" is not one of "ham", "spam"/);
  assert.throws(() => classificationTemplate(["only"]), /at least two/);
  assert.throws(() => templateFor("classification"), /needs the label set/);
});

test("extraction template: question from the record or the default; text or input", () => {
  const t = extractionTemplate("What is the subject?");
  const r = t.render({ text: "Subject: Lunch?", answer: "Lunch?" });
  assert.equal(r.prompt, "### Input:\nSubject: Lunch?\n\n### Question:\nWhat is the subject?\n\n### Answer:");
  assert.equal(r.completion, " Lunch?");
  assert.match(
    t.render({ input: "From: a", question: "Who?", answer: "a" }).prompt,
    /### Input:\nFrom: a\n\n### Question:\nWho\?/,
  );
  assert.throws(() => t.render({ answer: "x" }), /no field "text" \(or "input"\)/);
});

test("extraction template: with Pythia's tokenizer the answer is the same tokens as in the input (a newline would break that)", async () => {
  const tok = await loadTokenizer(path.join(FIXTURES, "pythia", "20B_tokenizer.json"));
  const t = extractionTemplate("What is the subject line of this e-mail?");
  const contains = (hay: number[], needle: number[]) => hay.some((_, i) => needle.every((x, j) => hay[i + j] === x));
  for (const subject of ["[ILUG] Re: Problems with RAID1", "Lunch at noon?", "Order Viagra Online - Safely"]) {
    const { prompt, completion } = t.render({
      text: `From: a@b.c\nSubject: ${subject}\nDate: Thu, 22 Aug 2002`,
      answer: subject,
    });
    const full = tok.encode(prompt + completion);
    const promptIds = tok.encode(prompt);
    assert.deepEqual(
      full.slice(0, promptIds.length),
      promptIds,
      "the prompt's tokens are a prefix of prompt + completion",
    );
    const answerIds = full.slice(promptIds.length);
    assert.ok(
      contains(promptIds, answerIds),
      `the answer's ${answerIds.length} tokens occur in the prompt: ${JSON.stringify(subject)}`,
    );
    // the old layout, answer on its own line, starts with a token that is not in the input
    const lineIds = tok.encode(`${prompt}\n${subject}`).slice(tok.encode(`${prompt}\n`).length);
    assert.ok(
      !contains(promptIds, lineIds),
      `on a new line the answer's tokens differ from the input's: ${JSON.stringify(subject)}`,
    );
  }
});

test("string templates: placeholders, literal braces, completion prefix", () => {
  const t = stringTemplate("{{literal}} Q: {question}\nA:", "answer", { completionPrefix: " " });
  assert.deepEqual(placeholders("{a} {b} {a}"), ["a", "b"]);
  assert.deepEqual(t.render({ question: "2+2?", answer: "4" }), { prompt: "{literal} Q: 2+2?\nA:", completion: " 4" });
});

const CHATML =
  "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const ZEPHYR =
  "{% for m in messages %}{% if m['role'] == 'user' %}{{ '<|user|>\\n' + m['content'] + eos_token }}" +
  "{% elif m['role'] == 'system' %}{{ '<|system|>\\n' + m['content'] + eos_token }}" +
  "{% elif m['role'] == 'assistant' %}{{ '<|assistant|>\\n' + m['content'] + eos_token }}{% endif %}" +
  "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}";

test("chat template from tokenizer_config.json: prompt = generation prompt, completion = the reply", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-chat-"));
  const file = path.join(dir, "tokenizer_config.json");
  fs.writeFileSync(file, JSON.stringify({ chat_template: CHATML, eos_token: "<|im_end|>" }));
  const t = chatTemplate(file, { system: "Be brief." });
  const r = t.render({ question: "What is 2+2?", answer: "4" });
  assert.equal(
    r.prompt,
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
  );
  // the closing <|im_end|> (the eos text) is removed: prepare appends the EOS id itself
  assert.equal(r.completion, "4");
  assert.equal(
    t.renderPrompt({ question: "Hi" }),
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test("chat template: eos_token as an object, instruction records, named templates, and clear refusals", () => {
  const z = chatTemplate({ chat_template: [{ name: "default", template: ZEPHYR }], eos_token: { content: "</s>" } });
  const r = z.render({ instruction: "Translate.", input: "Bonjour", output: "Hello" });
  assert.equal(r.prompt, "<|user|>\nTranslate.\n\nBonjour</s><|assistant|>");
  assert.equal(r.completion, "\nHello");
  assert.throws(() => chatTemplate({}), /no "chat_template"/);
  assert.throws(
    () => chatTemplate({ chat_template: [{ name: "tool_use", template: ZEPHYR }] }),
    /no template named "default"/,
  );
  assert.throws(() => chatTemplate({ chat_template: "{% for %}" }), /not valid Jinja/);
  assert.throws(() => chatTemplate("/nonexistent/tokenizer_config.json"), /cannot read the tokenizer config/);
  assert.throws(() => z.render({ question: "Q?" }), /no answer field/);
  // a template that rewrites the prompt when the reply is present cannot be split: refused, not masked wrongly
  const weird = chatTemplate({
    chat_template:
      "{% if add_generation_prompt %}Q: {{ messages[0]['content'] }}\nA:{% else %}{% for m in messages %}{{ m['content'] }}|{% endfor %}{% endif %}",
  });
  assert.throws(() => weird.render({ question: "Q?", answer: "A" }), /cannot be located for masking/);
});
