import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { checkAudioUrl, fetchAudio } from "../../../src/media/audio_fetch.ts";

const WAV = new Uint8Array(10_000).map((_, i) => i & 0xff);
const SECRET = "SECRET-token-123";

interface TestServer {
  base: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** A local server with one route per behaviour; every request URL carries a secret query. */
function startServer(): TestServer {
  const hits = new Map<string, number>();
  const pendingHangs = new Set<() => void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      switch (path) {
        case "/tone.wav":
          return new Response(WAV, { headers: { "content-type": "audio/wav" } });
        case "/missing.wav":
          return new Response("nope", { status: 404 });
        case "/big.wav":
          // Declares its size up front: refused before reading the body.
          return new Response(new Uint8Array(2048), { headers: { "content-length": "2048" } });
        case "/endless.wav": {
          const chunk = new Uint8Array(16 * 1024);
          return new Response(
            new ReadableStream<Uint8Array>({
              pull(controller) {
                controller.enqueue(chunk);
              },
            }),
          );
        }
        case "/hang.wav":
          // Never answers; released by close() so the server can shut down.
          return new Promise<Response>((resolve) => {
            const release = () => {
              pendingHangs.delete(release);
              resolve(new Response("late"));
            };
            pendingHangs.add(release);
          });
        case "/stall.wav": {
          // Headers at once, then a body that stops after the first chunk.
          let release: () => void = () => {};
          return new Response(
            new ReadableStream<Uint8Array>({
              start(controller) {
                controller.enqueue(new Uint8Array(100));
                release = () => {
                  pendingHangs.delete(release);
                  try {
                    controller.close();
                  } catch {
                    // already cancelled by the client
                  }
                };
                pendingHangs.add(release);
              },
              cancel() {
                release();
              },
            }),
          );
        }
      }
      return new Response("?", { status: 500 });
    },
  );
  const addr = server.addr as Deno.NetAddr;
  return {
    base: `http://127.0.0.1:${addr.port}`,
    hits,
    async close() {
      for (const release of [...pendingHangs]) release();
      await server.shutdown();
    },
  };
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await p.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error);
  assert.match(err.message, pattern);
  assert.ok(!err.message.includes(SECRET), `secret leaked: ${err.message}`);
  assert.ok(!err.message.includes("?"), `query leaked: ${err.message}`);
}

Deno.test("fetchAudio() returns the body and content type of a WAV over http", async () => {
  const srv = startServer();
  try {
    const got = await fetchAudio({ url: `${srv.base}/tone.wav?token=${SECRET}` });
    assert.deepEqual(got.bytes, WAV);
    assert.equal(got.contentType, "audio/wav");
  } finally {
    await srv.close();
  }
});

Deno.test("fetchAudio() reports a 404 without the query string", async () => {
  const srv = startServer();
  try {
    await rejectsWith(
      fetchAudio({ url: `${srv.base}/missing.wav?token=${SECRET}` }),
      /^Cannot fetch audio: HTTP 404$/,
    );
  } finally {
    await srv.close();
  }
});

Deno.test("fetchAudio() refuses a declared Content-Length over maxBytes", async () => {
  const srv = startServer();
  try {
    await rejectsWith(
      fetchAudio({ url: `${srv.base}/big.wav?token=${SECRET}` }, { maxBytes: 1024 }),
      /^Cannot fetch audio: larger than 1024 bytes$/,
    );
  } finally {
    await srv.close();
  }
});

Deno.test("fetchAudio() aborts an endless body at maxBytes", async () => {
  const srv = startServer();
  try {
    const started = performance.now();
    await rejectsWith(
      fetchAudio({ url: `${srv.base}/endless.wav?token=${SECRET}` }, { maxBytes: 1 << 20 }),
      /^Cannot fetch audio: larger than 1048576 bytes$/,
    );
    assert.ok(performance.now() - started < 5000);
  } finally {
    await srv.close();
  }
});

Deno.test("fetchAudio() times out a server that never responds", async () => {
  const srv = startServer();
  try {
    const started = performance.now();
    await rejectsWith(
      fetchAudio({ url: `${srv.base}/hang.wav?token=${SECRET}` }, { timeoutMs: 200 }),
      /^Cannot fetch audio: timed out after 200 ms$/,
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 3000, `elapsed ${elapsed}`);
  } finally {
    await srv.close();
  }
});

Deno.test("fetchAudio() applies the timeout to the body read too", async () => {
  const srv = startServer();
  try {
    await rejectsWith(
      fetchAudio({ url: `${srv.base}/stall.wav?token=${SECRET}` }, { timeoutMs: 200 }),
      /^Cannot fetch audio: timed out after 200 ms$/,
    );
  } finally {
    await srv.close();
  }
});

Deno.test("fetchAudio() stops when the caller aborts", async () => {
  const srv = startServer();
  try {
    const ac = new AbortController();
    const p = fetchAudio({ url: `${srv.base}/hang.wav?token=${SECRET}` }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await rejectsWith(p, /^Cannot fetch audio: aborted$/);
  } finally {
    await srv.close();
  }
});

Deno.test("fetchAudio() reports a closed port as a connection failure naming only the host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await rejectsWith(
    fetchAudio({ url: `http://127.0.0.1:${port}/a.wav?token=${SECRET}` }),
    new RegExp(`^Cannot fetch audio: connection failed \\(127\\.0\\.0\\.1:${port}\\)$`),
  );
});

Deno.test("fetchAudio() reads file:// URLs and absolute paths only when allowed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "tone file.wav");
    await Deno.writeFile(path, WAV);
    const url = pathToFileURL(path).href;
    assert.deepEqual((await fetchAudio({ url }, { allowFile: true })).bytes, WAV);
    assert.deepEqual((await fetchAudio({ url: path }, { allowFile: true })).bytes, WAV);
    await rejectsWith(fetchAudio({ url }), /^Cannot fetch audio: local files are not allowed$/);
    await rejectsWith(
      fetchAudio({ url: path }),
      /^Cannot fetch audio: local files are not allowed$/,
    );
    await rejectsWith(
      fetchAudio({ url: path }, { allowFile: true, maxBytes: 100 }),
      /^Cannot read audio file: larger than 100 bytes$/,
    );
    await rejectsWith(
      fetchAudio({ url: join(dir, "absent.wav") }, { allowFile: true }),
      /^Cannot read audio file: not found$/,
    );
    await rejectsWith(
      fetchAudio({ url: dir }, { allowFile: true }),
      /^Cannot read audio file: not a regular file$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fetchAudio() and checkAudioUrl() refuse other schemes and malformed URLs", async () => {
  await rejectsWith(fetchAudio({ url: "ftp://x.test/a.wav" }), /unsupported URL scheme ftp$/);
  await rejectsWith(fetchAudio({ url: "not a url" }), /^Cannot fetch audio: invalid URL$/);
  assert.throws(() => checkAudioUrl("ftp://x.test/a.wav"), (e: unknown) => {
    return e instanceof Error && (e as Error & { status?: number }).status === 400;
  });
  assert.throws(() => checkAudioUrl("/tmp/a.wav"), /local files are not allowed/);
  checkAudioUrl("/tmp/a.wav", { allowFile: true });
  checkAudioUrl("https://x.test/a.wav?sig=1");
});
