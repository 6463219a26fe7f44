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
 */
import * as fs from "fs";
import { Template } from "@huggingface/jinja";
import { TemplateError, type PromptTemplate, type RenderedExample } from "./templates";

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
}

const pick = (r: Record<string, unknown>, fields: string[], what: string): string => {
  for (const f of fields) if (typeof r?.[f] === "string" && (r[f] as string).trim() !== "") return r[f] as string;
  throw new TemplateError(`chat template: the record has no ${what} field (${fields.map((f) => `"${f}"`).join(", ")}); fields: ${Object.keys(r ?? {}).join(", ") || "none"}`, fields[0]);
};

export const DEFAULT_CHAT_TEMPLATE_OPTIONS: Readonly<ChatTemplateOptions> = {
  system: undefined,
  templateName: "default",
  userMessage: (r) => {
    if (typeof r?.instruction === "string") return typeof r.input === "string" && r.input.trim() ? `${r.instruction}\n\n${r.input}` : pick(r, ["instruction"], "user");
    if (typeof r?.question === "string" && (typeof r.text === "string" || typeof r.input === "string")) return `${r.text ?? r.input}\n\n${r.question}`;
    return pick(r, ["question", "text", "input"], "user");
  },
  assistantMessage: (r) => pick(r, ["answer", "output", "label"], "answer"),
};

const tokenText = (t: ChatTemplateConfig["bos_token"]): string => (typeof t === "string" ? t : t && typeof t === "object" && typeof t.content === "string" ? t.content : "");

/**
 * A `PromptTemplate` from a tokenizer config (the object, or the path of a `tokenizer_config.json`).
 * @example
 * const t = chatTemplate({ chat_template: "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}" });
 * t.render({ question: "Hi?", answer: "Hello." });
 * // { prompt: "<|user|>Hi?\n<|assistant|>", completion: "Hello.\n" }
 */
export function chatTemplate(config: ChatTemplateConfig | string, options: Partial<ChatTemplateOptions> = {}): PromptTemplate & { renderMessages(messages: ChatMessage[], addGenerationPrompt?: boolean): string } {
  const o = { ...DEFAULT_CHAT_TEMPLATE_OPTIONS, ...options };
  let source = "tokenizer config";
  if (typeof config === "string") {
    source = config;
    let text: string;
    try {
      text = fs.readFileSync(config, "utf8");
    } catch (e: any) {
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
    if (!found) throw new TemplateError(`${source}: chat_template has no template named "${o.templateName}" (it has ${jinja.map((t) => `"${t?.name}"`).join(", ")})`, "chat_template");
    jinja = found.template;
  }
  if (typeof jinja !== "string" || jinja.trim() === "")
    throw new TemplateError(`${source}: no "chat_template" (a Jinja string) in the tokenizer config: this model has no chat format; use a plain template such as QA_TEMPLATE`, "chat_template");
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
      return compiled.render({ messages, add_generation_prompt: addGenerationPrompt, bos_token: bos, eos_token: eos });
    } catch (e: any) {
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
