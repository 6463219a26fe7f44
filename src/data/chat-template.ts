/**
 * Chat templates: the Jinja template a chat model ships in its `tokenizer_config.json` (`chat_template`),
 * rendered with Hugging Face's own Jinja engine (`@huggingface/jinja`, the one transformers.js uses), as a
 * `PromptTemplate`.
 *
 * Where the prompt ends: the conversation without the assistant's reply, rendered with
 * `add_generation_prompt: true`, is the prompt; the full conversation, rendered without it, must start with
 * that prompt, and the rest is the completion. A template for which this does not hold (one that rewrites
 * earlier turns depending on later ones) is refused with a clear error rather than masked wrongly. When the
 * completion ends with the EOS token's text (most templates close the assistant turn with it), that text is
 * removed: prepare.ts appends the EOS id itself, and it must not appear twice.
 *
 * A template is code from a downloaded file, so it runs in a sandbox with limits, as transformers renders it
 * in Jinja2's `ImmutableSandboxedEnvironment`: `range()` is capped at 100,000 numbers (jinja2.sandbox's
 * MAX_RANGE), a render may take at most `maxSteps` evaluation steps (expressions, statements and loop
 * iterations: nested loops cannot spin for hours) and no string or list may grow past `maxOutputChars` /
 * `maxRange`. A template over a limit fails with one line naming the template and the limit.
 */
import { Environment, Interpreter, Template } from "@huggingface/jinja";
import { FileAccessError, readRegularFileSync } from "../runtime/files";
import { TemplateError, type PromptTemplate, type RenderedExample } from "./templates";

/** The sandbox's limits for one render. */
export interface ChatTemplateLimits {
  /** Numbers one `range()` may produce (and items any list may hold). */
  maxRange: number;
  /** Evaluation steps per render: expressions, statements, loop iterations. */
  maxSteps: number;
  /** Characters of any string, the output included. */
  maxOutputChars: number;
}

export const DEFAULT_CHAT_TEMPLATE_LIMITS: Readonly<ChatTemplateLimits> = {
  maxRange: 100_000, // jinja2.sandbox.MAX_RANGE, the limit transformers' templates already live with
  maxSteps: 1_000_000, // a real template takes tens of steps per message; a runaway loop stops within seconds
  maxOutputChars: 4_000_000, // ~1M tokens: far past any context, far below what exhausts memory
};

/** A template went over one of the sandbox's limits. */
class SandboxLimitError extends Error {}

const pad2 = (n: number) => String(n).padStart(2, "0");
/** transformers' `strftime_now(format)` global (the subset @huggingface/jinja implements). */
function strftimeNow(format: unknown): string {
  const d = new Date();
  return String(format).replace(/%[YmdbBHM%]/g, (t) => {
    switch (t) {
      case "%Y":
        return String(d.getFullYear());
      case "%m":
        return pad2(d.getMonth() + 1);
      case "%d":
        return pad2(d.getDate());
      case "%b":
        return d.toLocaleString("en-US", { month: "short" });
      case "%B":
        return d.toLocaleString("en-US", { month: "long" });
      case "%H":
        return pad2(d.getHours());
      case "%M":
        return pad2(d.getMinutes());
      default:
        return "%";
    }
  });
}

/** Python's `range`, refusing more than `max` numbers before building any. */
function sandboxRange(max: number) {
  return (...args: unknown[]): number[] => {
    const nums = args.filter((a) => !(a instanceof Map)); // keyword arguments are not part of range()
    if (nums.length < 1 || nums.length > 3 || !nums.every((a) => typeof a === "number" && Number.isInteger(a)))
      throw new Error(`range() takes 1 to 3 integers, got (${nums.map((a) => JSON.stringify(a)).join(", ")})`);
    let [start, stop, step] = nums as number[];
    if (nums.length === 1) [start, stop] = [0, start];
    step ??= 1;
    if (step === 0) throw new Error("range() step must not be zero");
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (count > max)
      throw new SandboxLimitError(
        `range() of ${count} numbers is over the limit of ${max} (jinja2.sandbox's MAX_RANGE)`,
      );
    return Array.from({ length: count }, (_, i) => start + i * step);
  };
}

type Evaluator = (node: unknown, env: Environment) => { type: string; value: unknown };

/**
 * Render a parsed template with the globals @huggingface/jinja's `Template.render` sets, but `range` capped and
 * every evaluation step counted and size-checked. The interpreter's `evaluate`/`evaluateBlock` are wrapped on
 * this one instance (its own methods call them through `this`), so the library itself is left untouched.
 */
function renderSandboxed(template: Template, items: Record<string, unknown>, limits: ChatTemplateLimits): string {
  const env = new Environment();
  for (const [k, v] of Object.entries({ false: false, true: true, none: null, False: false, True: true, None: null }))
    env.set(k, v);
  env.set("raise_exception", (message: unknown) => {
    throw new Error(String(message));
  });
  env.set("range", sandboxRange(limits.maxRange));
  env.set("strftime_now", strftimeNow);
  for (const [k, v] of Object.entries(items)) env.set(k, v);
  const interpreter = new Interpreter(env);
  const hooks = interpreter as unknown as { evaluate: Evaluator; evaluateBlock: Evaluator };
  let steps = 0;
  const guard =
    (inner: Evaluator): Evaluator =>
    (node, scope) => {
      if (++steps > limits.maxSteps)
        throw new SandboxLimitError(
          `more than ${limits.maxSteps} evaluation steps (maxSteps): a loop that does not end soon enough`,
        );
      const v = inner(node, scope);
      if (v.type === "StringValue" && (v.value as string).length > limits.maxOutputChars)
        throw new SandboxLimitError(
          `a string of ${(v.value as string).length} characters is over the limit of ${limits.maxOutputChars} (maxOutputChars)`,
        );
      if (Array.isArray(v.value) && v.value.length > limits.maxRange)
        throw new SandboxLimitError(
          `a list of ${v.value.length} items is over the limit of ${limits.maxRange} (maxRange)`,
        );
      return v;
    };
  hooks.evaluate = guard(hooks.evaluate.bind(interpreter));
  hooks.evaluateBlock = guard(hooks.evaluateBlock.bind(interpreter));
  const out = interpreter.run(template.parsed);
  return String(out.value);
}

/** One chat turn. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | string;
  content: string;
}

/** The parts of `tokenizer_config.json` a chat template needs. */
export interface ChatTemplateConfig {
  /** A Jinja string, or a list of named templates (`[{name: "default", template}]`). */
  chat_template?: string | { name: string; template: string }[];
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
}

/** Options of `chatTemplate`, merged over `DEFAULT_CHAT_TEMPLATE_OPTIONS`. */
export interface ChatTemplateOptions {
  /** A system message put first (omitted when undefined). */
  system?: string;
  /** Which named template to use when `chat_template` is a list. */
  templateName: string;
  /** Turns a record into the user's message (default: `question`, `instruction` (+ `input`), `text`). */
  userMessage: (record: Record<string, unknown>) => string;
  /** Turns a record into the assistant's reply (default: `answer`, `output` or `label`). */
  assistantMessage: (record: Record<string, unknown>) => string;
  /** The sandbox's limits (merged over `DEFAULT_CHAT_TEMPLATE_LIMITS`). */
  limits?: Partial<ChatTemplateLimits>;
}

const pick = (r: Record<string, unknown>, fields: string[], what: string): string => {
  for (const f of fields) if (typeof r?.[f] === "string" && (r[f] as string).trim() !== "") return r[f] as string;
  throw new TemplateError(
    `chat template: the record has no ${what} field (${fields.map((f) => `"${f}"`).join(", ")}); fields: ${Object.keys(r ?? {}).join(", ") || "none"}`,
    fields[0],
  );
};

export const DEFAULT_CHAT_TEMPLATE_OPTIONS: Readonly<ChatTemplateOptions> = {
  system: undefined,
  templateName: "default",
  userMessage: (r) => {
    if (typeof r?.instruction === "string")
      return typeof r.input === "string" && r.input.trim()
        ? `${r.instruction}\n\n${r.input}`
        : pick(r, ["instruction"], "user");
    if (typeof r?.question === "string" && (typeof r.text === "string" || typeof r.input === "string"))
      return `${r.text ?? r.input}\n\n${r.question}`;
    return pick(r, ["question", "text", "input"], "user");
  },
  assistantMessage: (r) => pick(r, ["answer", "output", "label"], "answer"),
};

const tokenText = (t: ChatTemplateConfig["bos_token"]): string =>
  typeof t === "string" ? t : t && typeof t === "object" && typeof t.content === "string" ? t.content : "";

/**
 * A `PromptTemplate` from a tokenizer config (the object, or the path of a `tokenizer_config.json`).
 * @example
 * const t = chatTemplate({ chat_template: "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}" });
 * t.render({ question: "Hi?", answer: "Hello." });
 * // { prompt: "<|user|>Hi?\n<|assistant|>", completion: "Hello.\n" }
 */
export function chatTemplate(
  config: ChatTemplateConfig | string,
  options: Partial<ChatTemplateOptions> = {},
): PromptTemplate & { renderMessages(messages: ChatMessage[], addGenerationPrompt?: boolean): string } {
  const o = { ...DEFAULT_CHAT_TEMPLATE_OPTIONS, ...options };
  const limits: ChatTemplateLimits = { ...DEFAULT_CHAT_TEMPLATE_LIMITS, ...(options.limits ?? {}) };
  for (const [k, v] of Object.entries(limits))
    if (!(Number.isInteger(v) && v > 0))
      throw new TemplateError(`chat template: limits.${k} must be a positive integer, got ${JSON.stringify(v)}`);
  let source = "tokenizer config";
  if (typeof config === "string") {
    source = config;
    let text: string;
    try {
      text = readRegularFileSync(config, "the tokenizer config").toString("utf8");
    } catch (e: any) {
      if (e instanceof FileAccessError && e.kind !== "missing" && e.kind !== "unreadable")
        throw new TemplateError(e.message);
      throw new TemplateError(`${config}: cannot read the tokenizer config (${e?.code ?? e?.message ?? e})`);
    }
    try {
      config = JSON.parse(text) as ChatTemplateConfig;
    } catch (e: any) {
      throw new TemplateError(`${source}: not valid JSON (${e?.message ?? e})`);
    }
  }
  let jinja = config.chat_template;
  if (Array.isArray(jinja)) {
    const found = jinja.find((t) => t?.name === o.templateName);
    if (!found)
      throw new TemplateError(
        `${source}: chat_template has no template named "${o.templateName}" (it has ${jinja.map((t) => `"${t?.name}"`).join(", ")})`,
        "chat_template",
      );
    jinja = found.template;
  }
  if (typeof jinja !== "string" || jinja.trim() === "")
    throw new TemplateError(
      `${source}: no "chat_template" (a Jinja string) in the tokenizer config: this model has no chat format; use a plain template such as QA_TEMPLATE`,
      "chat_template",
    );
  let compiled: Template;
  try {
    compiled = new Template(jinja);
  } catch (e: any) {
    throw new TemplateError(`${source}: chat_template is not valid Jinja (${e?.message ?? e})`, "chat_template");
  }
  const bos = tokenText(config.bos_token);
  const eos = tokenText(config.eos_token);
  const renderMessages = (messages: ChatMessage[], addGenerationPrompt = false): string => {
    try {
      return renderSandboxed(
        compiled,
        { messages, add_generation_prompt: addGenerationPrompt, bos_token: bos, eos_token: eos },
        limits,
      );
    } catch (e: any) {
      if (e instanceof SandboxLimitError)
        throw new TemplateError(
          `${source}: the chat template exceeds the sandbox's limits: ${e.message}`,
          "chat_template",
        );
      throw new TemplateError(`${source}: rendering the chat template failed (${e?.message ?? e})`, "chat_template");
    }
  };
  const head = (r: Record<string, unknown>): ChatMessage[] => [
    ...(o.system !== undefined ? [{ role: "system", content: o.system }] : []),
    { role: "user", content: o.userMessage(r) },
  ];
  const renderPrompt = (r: Record<string, unknown>) => renderMessages(head(r), true);
  return {
    name: "chat",
    renderPrompt,
    renderMessages,
    render(r): RenderedExample {
      const prompt = renderPrompt(r);
      const full = renderMessages([...head(r), { role: "assistant", content: o.assistantMessage(r) }], false);
      if (!full.startsWith(prompt))
        throw new TemplateError(
          `${source}: the chat template does not render the conversation as prompt + reply (the full text does not start with the generation prompt ${JSON.stringify(prompt.slice(-40))}), so the answer cannot be located for masking`,
          "chat_template",
        );
      let completion = full.slice(prompt.length);
      if (eos && completion.trimEnd().endsWith(eos)) completion = completion.trimEnd().slice(0, -eos.length);
      return { prompt, completion };
    },
  };
}
