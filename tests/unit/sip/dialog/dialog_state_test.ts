import assert from "node:assert/strict";
import {
  DialogState,
  expiryDelayMs,
  failureReason,
  glareDelayMs,
  negotiateAsUas,
  refreshDelayMs,
} from "../../../../src/sip/dialog/mod.ts";
import { DEFAULT_SESSION_TIMER } from "../../../../src/sip/dialog/mod.ts";
import { request } from "../transaction/_helpers.ts";
import { addr, uri } from "./_helpers.ts";

function dialog(routes: string[]): DialogState {
  return new DialogState({
    role: "uac",
    callId: "c1",
    localTag: "lt",
    remoteTag: "rt",
    localUri: addr("<sip:alice@a.example>"),
    remoteUri: addr("<sip:bob@b.example>"),
    localSeq: 10,
    remoteSeq: undefined,
    remoteTarget: uri("sip:bob@192.0.2.2:5070"),
    routeSet: routes.map(addr),
    secure: false,
  });
}

Deno.test("buildRequest() with a loose first route keeps the remote target as Request-URI", () => {
  const d = dialog(["<sip:p1.example;lr>", "<sip:p2.example;lr>"]);
  const { request: r, nextHop } = d.buildRequest("BYE");
  assert.equal(r.uri.kind === "sip" && r.uri.host, "192.0.2.2");
  assert.deepEqual(r.headers.getAll("Route"), ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]);
  assert.equal(nextHop.host, "p1.example");
  assert.equal(r.cseq.seq, 11);
  assert.equal(r.fromTag, "lt");
  assert.equal(r.toTag, "rt");
  assert.equal(d.localSeq, 11);
});

Deno.test("buildRequest() with a strict first route puts it in the Request-URI and the target last", () => {
  const d = dialog(["<sip:p1.example;method=INVITE>", "<sip:p2.example;lr>"]);
  const { request: r, nextHop } = d.buildRequest("INFO");
  assert.equal(r.uri.kind === "sip" && r.uri.host, "p1.example");
  assert.equal(r.uri.kind === "sip" && r.uri.params.length, 0); // method= stripped
  assert.deepEqual(r.headers.getAll("Route"), [
    "<sip:p2.example;lr>",
    "<sip:bob@192.0.2.2:5070>",
  ]);
  assert.equal(nextHop.host, "p1.example");
});

Deno.test("buildRequest() for an ACK reuses the given CSeq and leaves the local number alone", () => {
  const d = dialog([]);
  const { request: r, nextHop } = d.buildRequest("ACK", { cseq: 10 });
  assert.equal(r.cseq.seq, 10);
  assert.equal(r.cseq.method, "ACK");
  assert.equal(d.localSeq, 10);
  assert.equal(nextHop.port, 5070);
});

Deno.test("acceptRemoteCSeq() accepts rising numbers and refuses a lower one (RFC 3261 §12.2.2)", () => {
  const invite = request(`INVITE sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa
From: <sip:alice@a>;tag=ft
To: <sip:bob@b>
Call-ID: x
CSeq: 5 INVITE
Contact: <sip:alice@192.0.2.1:5090>
Record-Route: <sip:p1;lr>, <sip:p2;lr>
Content-Length: 0

`);
  const d = DialogState.fromUas(invite, "mytag", false);
  assert.equal(d.remoteSeq, 5);
  assert.equal(d.localSeq, undefined);
  assert.deepEqual(d.routeSet.map((r) => r.uri.kind === "sip" && r.uri.host), ["p1", "p2"]);
  assert.equal(d.remoteTarget.kind === "sip" && d.remoteTarget.port, 5090);
  const make = (seq: number, method = "INFO") =>
    request(`${method} sip:bob@b SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK${seq}
From: <sip:alice@a>;tag=ft
To: <sip:bob@b>;tag=mytag
Call-ID: x
CSeq: ${seq} ${method}
Content-Length: 0

`);
  assert.ok(d.acceptRemoteCSeq(make(7)));
  assert.ok(!d.acceptRemoteCSeq(make(6)));
  assert.ok(d.acceptRemoteCSeq(make(3, "ACK")));
  assert.equal(d.remoteSeq, 7);
  // The first request of a UAS dialog starts its own CSeq space at 1.
  assert.equal(d.buildRequest("BYE").request.cseq.seq, 1);
});

Deno.test("refreshTarget() takes the Contact of a target refresh", () => {
  const d = dialog([]);
  d.refreshTarget(request(`UPDATE sip:alice@a SIP/2.0
Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKu
From: <sip:bob@b>;tag=rt
To: <sip:alice@a>;tag=lt
Call-ID: c1
CSeq: 1 UPDATE
Contact: <sip:bob@198.51.100.7:6000>
Content-Length: 0

`));
  assert.equal(d.remoteTarget.kind === "sip" && d.remoteTarget.host, "198.51.100.7");
});

Deno.test("failureReason() maps the contract's statuses and sip_<code> otherwise", () => {
  const expected: Record<number, string> = {
    486: "busy",
    480: "unavailable",
    404: "not_found",
    403: "forbidden",
    401: "unauthorized",
    407: "unauthorized",
    408: "timeout",
    487: "cancelled",
    488: "not_acceptable",
    503: "service_unavailable",
    603: "declined",
    500: "sip_500",
    415: "sip_415",
    699: "sip_699",
  };
  for (const [status, reason] of Object.entries(expected)) {
    assert.equal(failureReason(Number(status)), reason, status);
  }
});

Deno.test("glareDelayMs() is 2.1–4 s for the Call-ID owner and 0–2 s otherwise, in 10 ms steps", () => {
  assert.equal(glareDelayMs(true, () => 0), 2100);
  assert.equal(glareDelayMs(true, () => 0.999999), 4000);
  assert.equal(glareDelayMs(false, () => 0), 0);
  assert.equal(glareDelayMs(false, () => 0.999999), 2000);
  for (let i = 0; i < 50; i++) assert.equal(glareDelayMs(false, Math.random) % 10, 0);
});

Deno.test("negotiateAsUas() honours the request's refresher and raises small intervals", () => {
  const req = (headers: string) =>
    request(`INVITE sip:bob@b SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKn
From: <sip:alice@a>;tag=ft
To: <sip:bob@b>
Call-ID: n
CSeq: 1 INVITE
${headers}Content-Length: 0

`);
  const s = DEFAULT_SESSION_TIMER;
  assert.deepEqual(
    negotiateAsUas(req("Supported: timer\nSession-Expires: 600;refresher=uas\n"), s),
    {
      interval: 600,
      weRefresh: true,
    },
  );
  assert.deepEqual(negotiateAsUas(req("Supported: timer\nSession-Expires: 60\nMin-SE: 60\n"), s), {
    interval: 90,
    weRefresh: false,
  });
  assert.deepEqual(negotiateAsUas(req("Session-Expires: 1000;refresher=uac\n"), s), {
    interval: 1000,
    weRefresh: true, // a UAC without timer support cannot refresh
  });
  assert.deepEqual(negotiateAsUas(req("Supported: timer\nMin-SE: 2000\n"), s), {
    interval: 2000,
    weRefresh: false,
  });
  assert.equal(negotiateAsUas(req(""), { ...s, enabled: false }), undefined);
});

Deno.test("refresh at interval/2; expiry at interval − min(32, interval/3) or interval + 32", () => {
  assert.equal(refreshDelayMs(1800), 900_000);
  assert.equal(expiryDelayMs(1800, "rfc4028"), 1_768_000);
  assert.equal(expiryDelayMs(90, "rfc4028"), 60_000);
  assert.equal(expiryDelayMs(1800, "lenient"), 1_832_000);
});
