/**
 * ALLOWED_IPS / TRUST_PROXY_HEADERS over real sockets (compat-notes §1 allowlist row, §2.1): the
 * server runs in-process on a loopback port and is called exactly as a remote client would, over
 * IPv4, IPv6 and the dual-stack wildcard, for REST, /metrics and the VSI WebSocket upgrade.
 */
import assert from "node:assert/strict";
import { call, type Reply, startTestServer } from "../helpers/server.ts";
import type { RunningServer } from "../../src/server.ts";

const INSTANCE_ID = "vb-allowlist-test";
const FORBIDDEN = `{"instance_id":"${INSTANCE_ID}","error":"forbidden"}`;

/** True when this host can listen on `hostname` (false e.g. without an IPv6 loopback). */
function canListen(hostname: string): boolean {
  try {
    Deno.listen({ hostname, port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

/** True when a socket on `[::]` accepts IPv4 clients (IPV6_V6ONLY off, the Linux default). */
async function hasDualStack(): Promise<boolean> {
  let listener: Deno.TcpListener | undefined;
  try {
    listener = Deno.listen({ hostname: "::", port: 0 });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const peer = await listener.accept();
    peer.close();
    conn.close();
    return true;
  } catch {
    return false;
  } finally {
    listener?.close();
  }
}

const NO_IPV6 = !canListen("::1");
const NO_DUAL_STACK = NO_IPV6 || !(await hasDualStack());

/** Runs `fn` against a fresh server configured with `env`, always shutting it down. */
async function withServer(
  env: Record<string, string>,
  fn: (srv: RunningServer) => Promise<void>,
): Promise<void> {
  const srv = await startTestServer({ INSTANCE_ID: INSTANCE_ID, ...env });
  try {
    await fn(srv);
  } finally {
    await srv.shutdown();
  }
}

function assertForbidden(r: Reply, what: string): void {
  assert.equal(r.status, 403, `${what}: expected 403, got ${r.status} ${r.text}`);
  assert.equal(r.text, FORBIDDEN, what);
  assert.equal(r.headers.get("content-type"), "application/json", what);
}

function assertAllowed(r: Reply, what: string): void {
  assert.equal(r.status, 200, `${what}: expected 200, got ${r.status} ${r.text}`);
}

Deno.test("ALLOWED_IPS admits a listed IPv4 client and refuses an unlisted one with the exact 403 body", async () => {
  await withServer({ ALLOWED_IPS: "127.0.0.1" }, async (srv) => {
    assertAllowed(await call(srv.url, "GET", "/v1/rooms"), "127.0.0.1 listed");
    const created = await call(srv.url, "POST", "/v1/rooms", { id: "r1" });
    assert.equal(created.status, 201);
  });
  await withServer({ ALLOWED_IPS: "10.0.0.0/8" }, async (srv) => {
    assertForbidden(await call(srv.url, "GET", "/v1/rooms"), "GET /v1/rooms from 127.0.0.1");
    // A refused write must not act.
    assertForbidden(await call(srv.url, "POST", "/v1/rooms", { id: "r1" }), "POST /v1/rooms");
    assert.equal(srv.ctx.rooms.size, 0);
    assertForbidden(await call(srv.url, "GET", "/v1/openapi.json"), "GET /v1/openapi.json");
    // The gate runs before routing: unknown paths and wrong methods are refused, not 404/405.
    assertForbidden(await call(srv.url, "GET", "/v1/nothing-here"), "unknown path");
    assertForbidden(await call(srv.url, "PUT", "/v1/rooms", {}), "wrong method");
  });
});

Deno.test("ALLOWED_IPS matches CIDR networks and mixed IPv4/IPv6 lists", async () => {
  for (
    const list of [
      "127.0.0.0/8",
      "127.0.0.1/32",
      "10.0.0.0/8, 127.0.0.0/30",
      "2001:db8::/32,127.0.0.1",
    ]
  ) {
    await withServer({ ALLOWED_IPS: list }, async (srv) => {
      assertAllowed(await call(srv.url, "GET", "/v1/rooms"), `ALLOWED_IPS=${list}`);
    });
  }
  for (const list of ["127.0.0.2/32", "127.0.1.0/24", "128.0.0.0/1", "::1, ::ffff:127.0.0.2"]) {
    await withServer({ ALLOWED_IPS: list }, async (srv) => {
      assertForbidden(await call(srv.url, "GET", "/v1/rooms"), `ALLOWED_IPS=${list}`);
    });
  }
});

Deno.test({
  name: "ALLOWED_IPS admits an IPv6 client by ::1 and refuses it by 2001:db8::/32",
  ignore: NO_IPV6,
  async fn() {
    for (const allowed of ["::1", "::1/128", "::/0"]) {
      await withServer({ HTTP_ADDR: "[::1]:0", ALLOWED_IPS: allowed }, async (srv) => {
        assert.match(srv.url, /^http:\/\/\[::1\]:\d+$/);
        assertAllowed(await call(srv.url, "GET", "/v1/rooms"), `[::1] with ALLOWED_IPS=${allowed}`);
      });
    }
    for (const denied of ["2001:db8::/32", "127.0.0.1", "::2"]) {
      await withServer({ HTTP_ADDR: "[::1]:0", ALLOWED_IPS: denied }, async (srv) => {
        assertForbidden(
          await call(srv.url, "GET", "/v1/rooms"),
          `[::1] with ALLOWED_IPS=${denied}`,
        );
      });
    }
  },
});

Deno.test({
  name: "an IPv4 client of a dual-stack listener is matched as IPv4 (v4-mapped address unmapped)",
  ignore: NO_DUAL_STACK,
  async fn() {
    await withServer({ HTTP_ADDR: "[::]:0", ALLOWED_IPS: "127.0.0.1" }, async (srv) => {
      const v4 = `http://127.0.0.1:${srv.port}`;
      assertAllowed(await call(v4, "GET", "/v1/rooms"), "127.0.0.1 via [::] listener");
      assertForbidden(await call(`http://[::1]:${srv.port}`, "GET", "/v1/rooms"), "::1 via [::]");
    });
  },
});

Deno.test("with TRUST_PROXY_HEADERS the leftmost X-Forwarded-For entry is the client", async () => {
  const xff = { "x-forwarded-for": "10.1.2.3, 127.0.0.1" };
  await withServer({ ALLOWED_IPS: "10.0.0.0/8", TRUST_PROXY_HEADERS: "true" }, async (srv) => {
    assertAllowed(await call(srv.url, "GET", "/v1/rooms", undefined, xff), "leftmost 10.1.2.3");
    // Without the header the socket peer (127.0.0.1, not listed) is judged.
    assertForbidden(await call(srv.url, "GET", "/v1/rooms"), "no XFF");
    // A port on the forwarded entry is tolerated.
    assertAllowed(
      await call(srv.url, "GET", "/v1/rooms", undefined, { "x-forwarded-for": "10.9.9.9:4711" }),
      "XFF with port",
    );
  });
  // The socket peer is listed but the leftmost entry is not: the leftmost one decides.
  await withServer({ ALLOWED_IPS: "127.0.0.1", TRUST_PROXY_HEADERS: "true" }, async (srv) => {
    assertForbidden(await call(srv.url, "GET", "/v1/rooms", undefined, xff), "leftmost refused");
  });
});

Deno.test("without TRUST_PROXY_HEADERS an X-Forwarded-For header is ignored", async () => {
  const xff = { "x-forwarded-for": "10.1.2.3" };
  await withServer({ ALLOWED_IPS: "10.0.0.0/8" }, async (srv) => {
    assertForbidden(await call(srv.url, "GET", "/v1/rooms", undefined, xff), "spoofed XFF");
  });
  await withServer({ ALLOWED_IPS: "127.0.0.1", TRUST_PROXY_HEADERS: "false" }, async (srv) => {
    assertAllowed(await call(srv.url, "GET", "/v1/rooms", undefined, xff), "XFF ignored");
    assertAllowed(
      await call(srv.url, "GET", "/v1/rooms", undefined, { "x-forwarded-for": "garbage" }),
      "unparseable XFF ignored when untrusted",
    );
  });
});

Deno.test("with TRUST_PROXY_HEADERS an unparseable X-Forwarded-For is refused even from a listed peer", async () => {
  await withServer({ ALLOWED_IPS: "127.0.0.1", TRUST_PROXY_HEADERS: "true" }, async (srv) => {
    for (
      const value of ["not-an-ip", "10.0.0.300", "unknown, 127.0.0.1", "[::1", "1.2.3.4:99999"]
    ) {
      assertForbidden(
        await call(srv.url, "GET", "/v1/rooms", undefined, { "x-forwarded-for": value }),
        `X-Forwarded-For: ${value}`,
      );
    }
  });
});

Deno.test("X-Real-IP and Forwarded are never consulted, even with TRUST_PROXY_HEADERS", async () => {
  await withServer({ ALLOWED_IPS: "10.0.0.0/8", TRUST_PROXY_HEADERS: "true" }, async (srv) => {
    assertForbidden(
      await call(srv.url, "GET", "/v1/rooms", undefined, {
        "x-real-ip": "10.1.2.3",
        forwarded: "for=10.1.2.3",
      }),
      "X-Real-IP / Forwarded",
    );
  });
});

Deno.test("GET /metrics is subject to the allowlist", async () => {
  await withServer({ ALLOWED_IPS: "10.0.0.0/8" }, async (srv) => {
    assertForbidden(await call(srv.url, "GET", "/metrics"), "/metrics denied");
  });
  await withServer({ ALLOWED_IPS: "127.0.0.1" }, async (srv) => {
    const r = await call(srv.url, "GET", "/metrics");
    assertAllowed(r, "/metrics allowed");
    assert.match(r.text, /^voiceblender_active_rooms 0$/m);
  });
});

Deno.test("a CORS preflight from a refused address is refused too (the allowlist runs first)", async () => {
  await withServer({ ALLOWED_IPS: "10.0.0.0/8" }, async (srv) => {
    const r = await call(srv.url, "OPTIONS", "/v1/rooms", undefined, {
      origin: "http://app.test",
      "access-control-request-method": "POST",
    });
    assertForbidden(r, "OPTIONS preflight");
  });
});

/** The upgrade request a browser sends (RFC 6455 §4.1). */
const UPGRADE_HEADERS = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

Deno.test("a VSI WebSocket upgrade from a refused address gets the 403 JSON instead of 101", async () => {
  await withServer({ ALLOWED_IPS: "10.0.0.0/8" }, async (srv) => {
    const r = await call(srv.url, "GET", "/v1/vsi", undefined, UPGRADE_HEADERS);
    assertForbidden(r, "upgrade via fetch");
    assert.equal(r.headers.get("upgrade"), null);
    const filtered = await call(srv.url, "GET", "/v1/vsi?app_id=.*", undefined, UPGRADE_HEADERS);
    assertForbidden(filtered, "upgrade with app_id via fetch");
  });
});

Deno.test("new WebSocket() to /v1/vsi from a refused address errors and never opens", async () => {
  await withServer({ ALLOWED_IPS: "10.0.0.0/8" }, async (srv) => {
    const ws = new WebSocket(`${srv.url.replace(/^http/, "ws")}/v1/vsi`);
    const seen: string[] = [];
    let errorMessage = "";
    const closed = new Promise<CloseEvent>((resolve) => {
      ws.onopen = () => seen.push("open");
      ws.onmessage = () => seen.push("message");
      ws.onerror = (e) => {
        seen.push("error");
        errorMessage = e instanceof ErrorEvent ? e.message : String(e);
      };
      ws.onclose = (e) => resolve(e);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("WebSocket neither failed nor closed in 5 s")),
        5000,
      );
    });
    try {
      const close = await Promise.race([closed, timeout]);
      assert.deepEqual(seen, ["error"]);
      assert.equal(close.wasClean, false);
      assert.match(errorMessage, /403/);
    } finally {
      clearTimeout(timer);
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
    }
  });
});

Deno.test({
  name: "a VSI WebSocket from an allowed address connects and receives the connected frame",
  async fn() {
    await withServer({ ALLOWED_IPS: "127.0.0.0/8" }, async (srv) => {
      const ws = new WebSocket(`${srv.url.replace(/^http/, "ws")}/v1/vsi`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const first = await Promise.race([
          new Promise<string>((resolve, reject) => {
            ws.onmessage = (e) => resolve(String(e.data));
            ws.onerror = (e) => reject(new Error(`WebSocket failed: ${(e as ErrorEvent).message}`));
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("no first frame within 5 s")), 5000);
          }),
        ]);
        assert.equal(JSON.parse(first).type, "connected");
      } finally {
        clearTimeout(timer);
        if (ws.readyState !== WebSocket.CLOSED) {
          const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
          ws.close();
          await closed;
        }
      }
    });
  },
});
