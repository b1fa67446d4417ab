import assert from "node:assert/strict";
import { join } from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { BadRequest } from "../../src/errors.ts";
import {
  isPrivateHost,
  preflightBucket,
  resolveS3Target,
  type S3Target,
  uploadFile,
} from "../../src/storage/s3_upload.ts";

interface RunningS3 {
  endpoint: string;
  close(): Promise<void>;
}

/** A real S3-compatible server (s3rver) on an ephemeral loopback port with bucket "rec". */
async function startS3(directory: string): Promise<RunningS3> {
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: [{ name: "rec" }],
  });
  const { port } = await server.run() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => server.close(),
  };
}

function target(endpoint: string, extra: Partial<S3Target> = {}): S3Target {
  return {
    bucket: "rec",
    region: "us-east-1",
    endpoint,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    ...extra,
  };
}

function isBadRequest(message: string | RegExp) {
  return (e: unknown) =>
    e instanceof BadRequest && e.status === 400 &&
    (typeof message === "string" ? e.message === message : message.test(e.message));
}

Deno.test({
  name:
    "uploadFile() stores a WAV in S3 that reads back byte for byte; preflight checks the bucket",
  async fn() {
    const tmp = await Deno.makeTempDir();
    const s3 = await startS3(join(tmp, "s3"));
    try {
      const wav = new Uint8Array(300_000);
      for (let i = 0; i < wav.length; i++) wav[i] = (i * 31 + (i >> 8)) & 0xff;
      const local = join(tmp, "20260105_235958_deadbeef.wav");
      await Deno.writeFile(local, wav);

      const t = resolveS3Target(
        { s3_access_key: "S3RVER", s3_secret_key: "S3RVER", s3_prefix: "/calls/2026/" },
        { s3Bucket: "rec", s3Region: "us-east-1", s3Endpoint: s3.endpoint, s3Prefix: "ignored" },
      );
      assert.deepEqual(t, target(s3.endpoint, { prefix: "calls/2026" }));
      await preflightBucket(t, { timeoutMs: 5000 });

      const up = await uploadFile(t, local);
      assert.deepEqual(up, {
        url: "s3://rec/calls/2026/20260105_235958_deadbeef.wav",
        key: "calls/2026/20260105_235958_deadbeef.wav",
        bytes: wav.length,
      });
      assert.ok(await Deno.stat(local), "the local file is the caller's to remove");

      const client = new S3Client({
        region: "us-east-1",
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      });
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: "rec", Key: up.key }));
        assert.equal(got.ContentType, "audio/wav");
        const body = await got.Body!.transformToByteArray();
        assert.equal(body.length, wav.length);
        assert.deepEqual(body, wav);
      } finally {
        client.destroy();
      }

      const custom = await uploadFile(t, local, "elsewhere/x.wav");
      assert.equal(custom.url, "s3://rec/elsewhere/x.wav");

      await assert.rejects(
        preflightBucket(target(s3.endpoint, { bucket: "missing" }), { timeoutMs: 5000 }),
        isBadRequest("s3 bucket missing not found"),
      );
      await assert.rejects(
        uploadFile(target(s3.endpoint, { bucket: "missing" }), local),
        /^Error: Cannot upload recording to s3:\/\/missing\/20260105_235958_deadbeef\.wav: HTTP 404/,
      );
    } finally {
      await s3.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "preflightBucket() answers 400 when the endpoint is unreachable",
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const started = performance.now();
    await assert.rejects(
      preflightBucket(target(`http://127.0.0.1:${port}`), { timeoutMs: 2000 }),
      isBadRequest(new RegExp(`^s3 endpoint 127\\.0\\.0\\.1:${port} unreachable`)),
    );
    assert.ok(performance.now() - started < 2500);
  },
});

Deno.test("resolveS3Target() lets the request win and validates bucket, endpoint and keys", () => {
  const defaults = {
    s3Bucket: "cfg-bucket",
    s3Region: "eu-west-1",
    s3Endpoint: "",
    s3Prefix: "",
  };
  assert.deepEqual(resolveS3Target({}, defaults), { bucket: "cfg-bucket", region: "eu-west-1" });
  assert.deepEqual(
    resolveS3Target({ s3_bucket: "req", s3_region: "us-west-2", s3_prefix: "p" }, defaults),
    { bucket: "req", region: "us-west-2", prefix: "p" },
  );
  assert.deepEqual(resolveS3Target({ s3_bucket: "b" }, {}), { bucket: "b", region: "us-east-1" });
  assert.throws(
    () => resolveS3Target({}, { ...defaults, s3Bucket: "" }),
    isBadRequest("s3 bucket is required"),
  );
  assert.throws(
    () => resolveS3Target({ s3_bucket: "a/b" }, defaults),
    isBadRequest("invalid s3 bucket name"),
  );
  assert.throws(
    () => resolveS3Target({ s3_endpoint: "ftp://x.test" }, defaults),
    isBadRequest("s3 endpoint must be an http(s) URL"),
  );
  assert.throws(
    () => resolveS3Target({ s3_endpoint: "minio:9000" }, defaults),
    isBadRequest("s3 endpoint must be an http(s) URL"),
  );
  for (const endpoint of ["http://s3.example.com", "http://8.8.8.8:9000", "http://[2001:db8::1]"]) {
    assert.throws(
      () => resolveS3Target({ s3_endpoint: endpoint }, defaults),
      isBadRequest("insecure http S3 endpoint on a public host"),
      endpoint,
    );
  }
  assert.equal(
    resolveS3Target({ s3_endpoint: "http://s3.example.com" }, {
      ...defaults,
      s3AllowInsecureEndpoint: true,
    }).endpoint,
    "http://s3.example.com",
  );
  for (
    const endpoint of [
      "https://s3.example.com",
      "http://127.0.0.1:9000",
      "http://10.1.2.3",
      "http://172.16.0.1",
      "http://172.31.255.255",
      "http://192.168.1.10:9000",
      "http://localhost:9000",
      "http://[::1]:9000",
      "http://[fd12:3456::1]",
    ]
  ) {
    assert.equal(resolveS3Target({ s3_endpoint: endpoint }, defaults).endpoint, endpoint);
  }
  assert.throws(
    () => resolveS3Target({ s3_endpoint: "https://user:pw@s3.example.com" }, defaults),
    isBadRequest("s3 endpoint must not carry credentials"),
  );
  assert.throws(
    () => resolveS3Target({ s3_access_key: "AK" }, defaults),
    isBadRequest("s3_access_key and s3_secret_key must be given together"),
  );
  const withKeys = resolveS3Target({ s3_access_key: "AK", s3_secret_key: "SK" }, defaults);
  assert.equal(withKeys.accessKeyId, "AK");
  assert.equal(withKeys.secretAccessKey, "SK");
});

Deno.test("isPrivateHost() knows loopback, RFC 1918, ULA and localhost", () => {
  const yes = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.5",
    "192.168.0.1",
    "[::1]",
    "fc00::1",
    "[fdff::2]",
    "localhost",
    "minio.localhost",
    "[::ffff:a00:1]",
  ];
  const no = [
    "172.32.0.1",
    "172.15.0.1",
    "11.0.0.1",
    "8.8.8.8",
    "s3.amazonaws.com",
    "[2001:db8::1]",
    "[fe80::1]",
    "[::ffff:808:808]",
    "minio",
  ];
  for (const h of yes) assert.equal(isPrivateHost(h), true, h);
  for (const h of no) assert.equal(isPrivateHost(h), false, h);
});

Deno.test("uploadFile() retries a 503 with a fresh body and does not retry a 403", async () => {
  const tmp = await Deno.makeTempDir();
  const received: { status: number; bytes: number }[] = [];
  let deny = false;
  // A minimal S3 PUT endpoint: first answer SlowDown (503), then accept; or always deny.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const status = deny ? 403 : received.length === 0 ? 503 : 200;
    received.push({ status, bytes: body.length });
    if (status === 200) return new Response(null, { headers: { etag: '"x"' } });
    const code = status === 503 ? "SlowDown" : "AccessDenied";
    return new Response(
      `<?xml version="1.0"?><Error><Code>${code}</Code><Message>m</Message></Error>`,
      {
        status,
        headers: { "content-type": "application/xml" },
      },
    );
  });
  try {
    const local = join(tmp, "r.wav");
    await Deno.writeFile(local, new Uint8Array(70_000).fill(3));
    const endpoint = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
    const up = await uploadFile(target(endpoint), local);
    assert.equal(up.url, "s3://rec/r.wav");
    assert.deepEqual(received, [{ status: 503, bytes: 70_000 }, { status: 200, bytes: 70_000 }]);

    received.length = 0;
    deny = true;
    await assert.rejects(
      uploadFile(target(endpoint), local),
      /^Error: Cannot upload recording to s3:\/\/rec\/r\.wav: HTTP 403 AccessDenied$/,
    );
    assert.equal(received.length, 1);
  } finally {
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("preflightBucket() gives up after timeoutMs on an endpoint that never answers", async () => {
  const releases: (() => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Promise<Response>((resolve) => releases.push(() => resolve(new Response(null)))),
  );
  try {
    const port = (server.addr as Deno.NetAddr).port;
    const started = performance.now();
    await assert.rejects(
      preflightBucket(target(`http://127.0.0.1:${port}`), { timeoutMs: 300 }),
      isBadRequest(`s3 endpoint 127.0.0.1:${port} did not answer within 300 ms`),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 2000, `elapsed ${elapsed}`);
  } finally {
    for (const release of releases) release();
    await server.shutdown();
  }
});
