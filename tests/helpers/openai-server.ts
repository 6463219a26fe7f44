/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol for tests:
 * `POST /v1/chat/completions` and `GET /v1/models`. By default it answers each chat request with a reply that
 * echoes the last user message (`echo: <text>`). Tests queue special answers with `plan(...)`, consumed one per
 * chat request in order: a status with headers and a body (e.g. 429 + Retry-After, 500, bad JSON, JSON without
 * `choices`), or `hang` (answers only when the test calls `release()`). When `apiKey` is set, a request without `Authorization: Bearer <key>`
 * gets 401. Every request is recorded with its arrival time. `close()` ends open sockets too.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type Planned =
  | { status: number; headers?: Record<string, string>; body?: unknown; raw?: string; delayMs?: number }
  | { hang: true };

export interface RecordedRequest {
  method: string;
  url: string;
  at: number;
  authorization?: string;
  body?: any;
}

export interface OpenAIServer {
  /** The base URL to give the client, with /v1. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Most chat requests that were open at the same time. */
  maxInFlight: number;
  /** Queue answers for the next chat requests. */
  plan(...answers: Planned[]): void;
  /** Answer the hanging requests still open now with `chatReply(content)`. */
  release(content: string): void;
  close(): Promise<void>;
}

export function chatReply(content: string, finishReason: string | null = "stop"): unknown {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 0,
    model: "test-model",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finishReason }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

export async function startOpenAIServer(opts: { apiKey?: string; models?: string[] } = {}): Promise<OpenAIServer> {
  const requests: RecordedRequest[] = [];
  const queue: Planned[] = [];
  const hanging = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        at: Date.now(),
        authorization: req.headers.authorization,
        body,
      });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
      };
      if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        return send(401, {
          error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" },
        });
      }
      if (req.method === "GET" && req.url === "/v1/models") {
        return send(200, {
          object: "list",
          data: (opts.models ?? ["test-model"]).map((id) => ({ id, object: "model", owned_by: "test" })),
        });
      }
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        return send(404, { error: { message: `no route ${req.method} ${req.url}` } });
      }
      const p = queue.shift();
      if (p && "hang" in p) {
        hanging.add(res); // never answered; closed by close()
        return;
      }
      if (p) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const answer = () => {
          inFlight--;
          res.writeHead(p.status, { "content-type": "application/json", ...(p.headers ?? {}) });
          res.end(p.raw ?? JSON.stringify(p.body ?? {}));
        };
        if (!p.delayMs) return answer();
        const t = setTimeout(() => (timers.delete(t), answer()), p.delayMs);
        timers.add(t);
        return;
      }
      const msgs = Array.isArray(body?.messages) ? body.messages : [];
      const last = msgs.filter((m: any) => m?.role === "user").pop();
      send(200, chatReply(`echo: ${last?.content ?? ""}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    plan: (...answers) => queue.push(...answers),
    release: (content) => {
      for (const r of hanging) {
        hanging.delete(r);
        if (!r.destroyed) {
          r.writeHead(200, { "content-type": "application/json" });
          r.end(JSON.stringify(chatReply(content)));
        }
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
