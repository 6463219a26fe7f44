// The send guard that keeps tslab alive when a cell sends many messages (src/display/send-guard.ts):
// first against a socket that behaves like zeromq.js 6 (one pending send at a time, the 513th send
// deferred), then against real zeromq sockets on the loopback interface.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { createRequire } from "node:module";
import { guardSocketSends, type SendFn } from "../../src/display/send-guard";

/** A socket with zeromq.js 6's rule: after `burst` immediate sends the next one waits for the event loop. */
function fakeSocketClass(burst: number) {
  class FakeSocket {
    delivered: unknown[] = [];
    private pending = false;
    private sync = 0;
    send(msg: unknown): Promise<void> {
      if (this.pending)
        throw Object.assign(
          new Error("Socket is busy writing; only one send operation may be in progress at any time"),
          { code: "EBUSY" },
        );
      if (this.sync++ < burst) {
        this.delivered.push(msg);
        return Promise.resolve();
      }
      this.pending = true;
      return new Promise((resolve) =>
        setImmediate(() => {
          this.pending = false;
          this.sync = 0;
          this.delivered.push(msg);
          resolve();
        }),
      );
    }
  }
  return FakeSocket;
}

/** Tslab's pattern: two sends in the same tick, never awaited, with only microtask breaks between pairs. */
async function chatter(sock: { send(m: unknown): unknown }, pairs: number): Promise<void> {
  for (let i = 0; i < pairs; i++) {
    sock.send(`a${i}`);
    sock.send(`b${i}`);
    await null;
  }
}

test("without the guard the 513th-message pattern throws EBUSY; with it every message arrives, in order", async () => {
  const Bare = fakeSocketClass(512);
  await assert.rejects(chatter(new Bare(), 400), /busy writing/);

  const Guarded = fakeSocketClass(512);
  assert.equal(guardSocketSends(Guarded.prototype as unknown as { send: SendFn }), true);
  assert.equal(guardSocketSends(Guarded.prototype as unknown as { send: SendFn }), false, "idempotent");
  const sock = new Guarded();
  await chatter(sock, 1200);
  sock.send("last");
  for (let i = 0; i < 50 && sock.delivered.length < 2401; i++) await new Promise((r) => setImmediate(r));
  const want = Array.from({ length: 1200 }, (_, i) => [`a${i}`, `b${i}`])
    .flat()
    .concat("last");
  assert.deepEqual(sock.delivered, want);
});

test("a queued send that fails is reported, not thrown into the kernel; other errors still throw at once", async () => {
  class Failing {
    n = 0;
    send(msg: unknown): Promise<void> {
      this.n++;
      if (msg === "closed") throw Object.assign(new Error("Socket is closed"), { code: "EBADF" });
      if (this.n === 1) return new Promise((r) => setImmediate(r)); // pending
      if (this.n === 2) throw Object.assign(new Error("busy"), { code: "EBUSY" });
      throw Object.assign(new Error("socket went away"), { code: "ENOTSOCK" });
    }
  }
  guardSocketSends(Failing.prototype as unknown as { send: SendFn });
  const s = new Failing();
  s.send("first");
  const queued = s.send("second"); // EBUSY → queued; when its turn comes the socket fails
  await assert.doesNotReject(queued);
  assert.equal(s.n, 3, "the queued send was retried once the pending one finished");
  assert.throws(() => new Failing().send("closed"), /Socket is closed/);
});

test("a socket already busy when the guard arrives (no send of its own to wait on): retried on the next turns", async () => {
  class BusyAtFirst {
    delivered: unknown[] = [];
    calls = 0;
    send(msg: unknown): Promise<void> {
      if (++this.calls <= 3) throw Object.assign(new Error("Socket is busy writing"), { code: "EBUSY" }); // the first 3 tries
      this.delivered.push(msg);
      return Promise.resolve();
    }
  }
  guardSocketSends(BusyAtFirst.prototype as unknown as { send: SendFn });
  const s = new BusyAtFirst();
  await Promise.all([s.send(1), s.send(2), s.send(3)]);
  assert.deepEqual(s.delivered, [1, 2, 3]);
  assert.equal(s.calls, 6, "three busy tries, then one send each");
});

test("real zeromq (tslab's own copy): the bare socket throws EBUSY; guarded, 900 back-to-back messages reach a Subscriber in order", async () => {
  // tslab is a dependency, so its zeromq is always there.
  const zmq = createRequire(require.resolve("tslab/package.json"))("zeromq") as typeof import("zeromq");
  const bare = new zmq.Publisher();
  try {
    await bare.bind("tcp://127.0.0.1:*");
    await assert.rejects(chatter(bare, 400), /busy writing/);
    await new Promise((r) => setTimeout(r, 50)); // let the deferred send finish before closing
  } finally {
    bare.close();
  }

  guardSocketSends(Object.getPrototypeOf(zmq.Publisher.prototype));
  const pub = new zmq.Publisher();
  const sub = new zmq.Subscriber();
  try {
    await pub.bind("tcp://127.0.0.1:*");
    sub.connect(pub.lastEndpoint!);
    sub.subscribe();
    // Read from the start; send "hello" until one arrives (PUB drops messages nobody subscribed to yet).
    let joined = false;
    const received: string[] = [];
    const reading = (async () => {
      for await (const [m] of sub) {
        const s = m.toString();
        if (s === "hello") joined = true;
        else received.push(s);
        if (s === "end") break;
      }
    })();
    for (let i = 0; i < 250 && !joined; i++) {
      await pub.send("hello");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(joined, "the subscriber connected");
    await chatter(pub, 450); // 900 messages: over 512, under the 1,000-message high-water marks
    await pub.send("end");
    await Promise.race([reading, new Promise((r) => setTimeout(r, 10000))]);
    assert.deepEqual(
      received,
      Array.from({ length: 450 }, (_, i) => [`a${i}`, `b${i}`])
        .flat()
        .concat("end"),
    );
  } finally {
    pub.close();
    sub.close();
  }
});
