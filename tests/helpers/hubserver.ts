/**
 * A real HTTP server on 127.0.0.1 that behaves like the Hugging Face hub for the requests tunebook makes:
 * `HEAD/GET /{org}/{name}/resolve/{revision}/{path}` and the model info `GET /api/models/{org}/{name}[/revision/{rev}]`.
 * Small files answer 200 with `ETag: "<git blob sha1>"`, or with `resolveCache` as today's hub does: a relative
 * `307` to `/api/resolve-cache/models/{org}/{name}/{commit}/{path}`, which serves them with those headers.
 * LFS files answer `302` to a second server (the "CDN", another origin) with `X-Linked-Etag` (sha256) and
 * `X-Linked-Size`, as the real hub does. Every answer carries `X-Repo-Commit`. GET honours `Range: bytes=N-`.
 * Errors carry `X-Error-Code`: RepoNotFound (401), RevisionNotFound (404), EntryNotFound (404), GatedRepo (401).
 *
 * Faults for tests: `dropAfter(file, n)` closes the socket after n body bytes; `corrupt(file)` serves altered
 * bytes while advertising the true hashes; `throttle(file, ...)` sends the body slowly (to overlap two
 * downloads); `hostile(file, headers)` replaces or removes headers of the hub's answer for a file (a hostile or
 * broken server: path-like etags and commits, bad sizes, odd redirects). Every request is logged in `requests`.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";

export interface FixtureFile {
  content: Buffer;
  /** Stored in LFS (served through the CDN redirect, etag = sha256). */
  lfs?: boolean;
}
export interface FixtureRepo {
  id: string;
  /** commit -> repo path -> file */
  commits: Record<string, Record<string, FixtureFile>>;
  /** branch or tag -> commit */
  refs: Record<string, string>;
}
export interface RequestRecord {
  server: "hub" | "cdn";
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}
export interface HubServer {
  /** Use as HF_ENDPOINT / `endpoint`. */
  url: string;
  cdnUrl: string;
  requests: RequestRecord[];
  /** The next `times` GETs of `file` send only `bytes` bytes of the body, then the socket is destroyed. */
  dropAfter(file: string, bytes: number, times?: number): void;
  /** The next `times` GETs of `file` send altered bytes (same length) with the true headers. */
  corrupt(file: string, times?: number): void;
  /** Bodies of `file` go out `chunkBytes` at a time, `delayMs` apart. */
  throttle(file: string, chunkBytes: number, delayMs: number): void;
  /** Every hub answer for `file` (HEAD and GET, not the CDN) gets these headers; `null` removes one. */
  hostile(file: string, headers: Record<string, string | null>): void;
  close(): Promise<void>;
}

export const sha256hex = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");
export const gitBlobSha1 = (b: Buffer): string =>
  createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
/** A deterministic fake 40-hex commit id. */
export const fakeCommit = (seed: string): string => createHash("sha1").update(`commit ${seed}`).digest("hex");

/** Read files from a folder into a commit: name in repo -> path on disk, with the LFS flag. */
export function filesFrom(
  entries: Record<string, { from: string; lfs?: boolean } | { content: Buffer; lfs?: boolean }>,
): Record<string, FixtureFile> {
  const out: Record<string, FixtureFile> = {};
  for (const [name, e] of Object.entries(entries)) {
    out[name] = { content: "from" in e ? fs.readFileSync(e.from) : e.content, lfs: e.lfs };
  }
  return out;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Start the hub and its CDN. Pass `token` to make every repo gated (401 GatedRepo without `Bearer <token>`).
 *
 * @example
 * const hub = await startHubServer({ repos: [repo] });
 * try { ... resolveRepoFiles(repo.id, ["config.json"], { endpoint: hub.url }) ... } finally { await hub.close(); }
 */
export async function startHubServer(opts: {
  repos: FixtureRepo[];
  token?: string;
  resolveCache?: boolean;
}): Promise<HubServer> {
  const requests: RequestRecord[] = [];
  const drops = new Map<string, { bytes: number; times: number }>();
  const corrupts = new Map<string, number>();
  const throttles = new Map<string, { chunkBytes: number; delayMs: number }>();
  const hostiles = new Map<string, Record<string, string | null>>();
  /** `headers` with the hostile overrides for `file` applied. */
  const withHostile = (file: string, headers: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = { ...headers };
    for (const [k, v] of Object.entries(hostiles.get(file) ?? {})) {
      for (const have of Object.keys(out)) if (have.toLowerCase() === k.toLowerCase()) delete out[have];
      if (v !== null) out[k] = v;
    }
    return out;
  };
  const bySha = new Map<string, { file: string; content: Buffer }>();
  for (const r of opts.repos) {
    for (const files of Object.values(r.commits)) {
      for (const [file, f] of Object.entries(files))
        if (f.lfs) bySha.set(sha256hex(f.content), { file, content: f.content });
    }
  }

  /** Send `content` (or its Range) honouring faults registered for `file`. */
  function sendBody(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    file: string,
    content: Buffer,
    headers: Record<string, string>,
  ): void {
    let body = content;
    const corruptLeft = corrupts.get(file) ?? 0;
    if (req.method === "GET" && corruptLeft > 0) {
      corrupts.set(file, corruptLeft - 1);
      body = Buffer.from(content);
      body[body.length >> 1] ^= 0xff;
    }
    let status = 200;
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ""));
    if (m) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { ...headers, "Content-Range": `bytes */${body.length}` });
        res.end();
        return;
      }
      headers = { ...headers, "Content-Range": `bytes ${start}-${body.length - 1}/${body.length}` };
      body = body.subarray(start);
      status = 206;
    }
    res.writeHead(status, { ...headers, "Content-Length": String(body.length), "Accept-Ranges": "bytes" });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const drop = drops.get(file);
    if (drop && drop.times > 0) {
      drop.times--;
      res.write(body.subarray(0, Math.min(drop.bytes, body.length)), () => res.socket?.destroy());
      return;
    }
    const slow = throttles.get(file);
    if (slow) {
      let at = 0;
      const next = () => {
        if (res.destroyed) return;
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, at + slow.chunkBytes));
        at += slow.chunkBytes;
        setTimeout(next, slow.delayMs);
      };
      next();
      return;
    }
    res.end(body);
  }

  const cdn = http.createServer((req, res) => {
    requests.push({
      server: "cdn",
      method: req.method ?? "",
      url: req.url ?? "",
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
    const sha = (req.url ?? "").split("?")[0].split("/").pop() ?? "";
    const blob = bySha.get(sha);
    if (!blob) {
      res.writeHead(404);
      res.end();
      return;
    }
    sendBody(req, res, blob.file, blob.content, { ETag: `"${sha}"` });
  });
  const cdnUrl = await listen(cdn);

  /**
   * `GET /api/models/{org}/{name}[/revision/{rev}]`: the model info the hub API returns (id, the commit as `sha`,
   * `siblings` listing the files of that commit), for clients that ask which files a revision holds.
   */
  function modelInfo(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    p: string[],
    fail: (s: number, c: string) => void,
  ): void {
    const [org, name, verb, ...revParts] = p;
    const repo = opts.repos.find((r) => r.id === `${org}/${name}`);
    if (!repo || (verb !== undefined && verb !== "revision")) return fail(404, "RepoNotFound");
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return fail(401, "GatedRepo");
    const rev = verb === "revision" ? revParts.join("/") : "main";
    const commit = repo.commits[rev] ? rev : repo.refs[rev];
    if (!commit || !repo.commits[commit]) return fail(404, "RevisionNotFound");
    const siblings = Object.keys(repo.commits[commit])
      .sort()
      .map((rfilename) => ({ rfilename }));
    const body = JSON.stringify({
      _id: commit.slice(0, 24),
      id: repo.id,
      modelId: repo.id,
      sha: commit,
      private: false,
      gated: opts.token ? "manual" : false,
      disabled: false,
      siblings,
    });
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  const hub = http.createServer((req, res) => {
    requests.push({
      server: "hub",
      method: req.method ?? "",
      url: req.url ?? "",
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
    const fail = (status: number, code: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { "X-Error-Code": code, "Content-Type": "text/plain", ...extra });
      res.end(req.method === "HEAD" ? undefined : `${code}\n`);
    };
    const parts = (req.url ?? "").split("?")[0].split("/").slice(1).map(decodeURIComponent);
    if (parts[0] === "api" && parts[1] === "models") return modelInfo(req, res, parts.slice(2), fail);
    if (parts[0] === "api" && parts[1] === "resolve-cache" && parts[2] === "models") {
      const [o, n, c, ...p] = parts.slice(3);
      const r = opts.repos.find((x) => x.id === `${o}/${n}`);
      const file = p.join("/");
      const cf = r?.commits[c]?.[file];
      if (!cf || cf.lfs) return fail(404, "EntryNotFound");
      return sendBody(
        req,
        res,
        file,
        cf.content,
        withHostile(file, { "X-Repo-Commit": c, ETag: `"${gitBlobSha1(cf.content)}"` }),
      );
    }
    const [org, name, verb, rev, ...rest] = parts;
    const repo = opts.repos.find((r) => r.id === `${org}/${name}`);
    if (!repo || verb !== "resolve" || rev === undefined) return fail(401, "RepoNotFound");
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return fail(401, "GatedRepo");
    const commit = repo.commits[rev] ? rev : repo.refs[rev];
    if (!commit || !repo.commits[commit]) return fail(404, "RevisionNotFound");
    const file = rest.join("/");
    const f = repo.commits[commit][file];
    if (!f) {
      const extra = withHostile(file, { "X-Repo-Commit": commit });
      return fail(404, "EntryNotFound", extra);
    }
    if (f.lfs) {
      const sha = sha256hex(f.content);
      const pointer = Buffer.from(
        `version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${f.content.length}\n`,
      );
      res.writeHead(
        302,
        withHostile(file, {
          Location: `${cdnUrl}/blobs/${sha}?file=${encodeURIComponent(path.basename(file))}`,
          "X-Repo-Commit": commit,
          "X-Linked-Etag": `"${sha}"`,
          "X-Linked-Size": String(f.content.length),
          ETag: `"${gitBlobSha1(pointer)}"`,
          "Content-Length": "0",
        }),
      );
      res.end();
      return;
    }
    if (opts.resolveCache) {
      // today's hub: a relative 307 to a commit-pinned URL, which answers with the file and its headers
      const pinned = `/api/resolve-cache/models/${repo.id}/${commit}/${file.split("/").map(encodeURIComponent).join("/")}`;
      const query = `${encodeURIComponent(`/${repo.id}/resolve/${rev}/${file}`)}=&etag=${encodeURIComponent(`"${gitBlobSha1(f.content)}"`)}`;
      res.writeHead(
        307,
        withHostile(file, { Location: `${pinned}?${query}`, "X-Repo-Commit": commit, "Content-Length": "0" }),
      );
      res.end();
      return;
    }
    sendBody(
      req,
      res,
      file,
      f.content,
      withHostile(file, { "X-Repo-Commit": commit, ETag: `"${gitBlobSha1(f.content)}"` }),
    );
  });
  const url = await listen(hub);

  return {
    url,
    cdnUrl,
    requests,
    dropAfter: (file, bytes, times = 1) => void drops.set(file, { bytes, times }),
    corrupt: (file, times = 1) => void corrupts.set(file, times),
    throttle: (file, chunkBytes, delayMs) => void throttles.set(file, { chunkBytes, delayMs }),
    hostile: (file, headers) => void hostiles.set(file, headers),
    close: async () => {
      for (const s of [hub, cdn]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
