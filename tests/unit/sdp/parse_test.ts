import assert from "node:assert/strict";
import { parseSdp, SdpParseError } from "../../../src/sdp/parse.ts";
import { serializeSdp } from "../../../src/sdp/serialize.ts";
import { ANSWER_CASES, fixture, OFFER_CASES } from "./_golden_cases.ts";
import { mutate, prng } from "./_mutate.ts";

const PEER_OFFERS = [
  "linphone_offer.sdp",
  "baresip_offer.sdp",
  "asterisk_offer.sdp",
  "cisco_offer.sdp",
  "amrwb_offer.sdp",
  "ipv6_offer.sdp",
  "hold_sendonly_offer.sdp",
  "hold_null_address_offer.sdp",
  "rtt_offer.sdp",
  "no_common_codec_offer.sdp",
  "srtp_offer.sdp",
  "peer_answer_pcma.sdp",
  "peer_answer_opus_rtt.sdp",
  "peer_answer_amrwb.sdp",
];

const OUR_OUTPUT = [
  ...ANSWER_CASES.map((c) => c.answer),
  ...OFFER_CASES.map((c) => c.file),
  "our_offer_default_hold.sdp",
  "our_offer_default_resume.sdp",
];

/** A minimal valid description to break one line at a time. */
const MINIMAL = [
  "v=0",
  "o=- 1 1 IN IP4 192.0.2.1",
  "s=-",
  "c=IN IP4 192.0.2.1",
  "t=0 0",
  "m=audio 4000 RTP/AVP 0 96",
  "a=rtpmap:96 opus/48000/2",
  "a=ptime:20",
];

function withLine(index: number, line: string | null): string {
  const lines = [...MINIMAL];
  if (line === null) lines.splice(index, 1);
  else lines[index] = line;
  return lines.join("\r\n") + "\r\n";
}

function assertParseError(text: string, message: string): void {
  assert.throws(() => parseSdp(text), (e: unknown) => {
    assert.ok(e instanceof SdpParseError, `expected SdpParseError, got ${e}`);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("parseSdp() reads the session and media fields of a Linphone offer", () => {
  const sd = parseSdp(fixture("linphone_offer.sdp"));
  assert.deepEqual(sd.origin, {
    username: "alice",
    sessionId: "3174",
    sessionVersion: "1842",
    family: "IP4",
    address: "192.168.1.23",
  });
  assert.equal(sd.sessionName, "Talk");
  assert.deepEqual(sd.connection, { family: "IP4", address: "192.168.1.23" });
  assert.deepEqual(sd.timing, [{ start: 0, stop: 0, repeats: [] }]);
  assert.deepEqual(sd.attributes, [
    { name: "rtcp-xr", value: "rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics" },
    { name: "record", value: "off" },
  ]);
  assert.equal(sd.media.length, 1);
  const m = sd.media[0];
  assert.equal(m.media, "audio");
  assert.equal(m.port, 7078);
  assert.equal(m.proto, "RTP/AVP");
  assert.deepEqual(m.formats, ["96", "9", "0", "8", "101", "100"]);
  assert.deepEqual(m.rtpmaps, [
    { payloadType: 96, encodingName: "opus", clockRate: 48000, channels: 2 },
    { payloadType: 101, encodingName: "telephone-event", clockRate: 48000 },
    { payloadType: 100, encodingName: "telephone-event", clockRate: 8000 },
  ]);
  assert.deepEqual(m.fmtps, [{ format: "96", parameters: "useinbandfec=1" }]);
  assert.deepEqual(m.rtcp, { port: 7079 });
  assert.equal(m.rtcpMux, false);
  assert.equal(m.direction, undefined);
  assert.deepEqual(m.attributes, [
    { name: "rtcp-fb", value: "* trr-int 1000" },
    { name: "rtcp-fb", value: "* ccm tmmbr" },
  ]);
});

Deno.test("parseSdp() accepts LF line ends and trailing whitespace like CRLF", () => {
  const lf = fixture("baresip_offer.sdp");
  assert.ok(!lf.includes("\r") && lf.includes("   \n"), "fixture must be LF with trailing blanks");
  const crlf = lf.replace(/[ \t]+\n/g, "\n").replace(/\n/g, "\r\n");
  assert.deepEqual(parseSdp(lf), parseSdp(crlf));
  const m = parseSdp(lf).media[0];
  assert.equal(m.direction, "sendrecv");
  assert.equal(m.ptime, 20);
  assert.equal(m.rtcpMux, true);
  assert.deepEqual(m.bandwidths, [{ type: "AS", value: 106 }]);
});

Deno.test("parseSdp() reads a media-level c= line when the session has none", () => {
  const sd = parseSdp(fixture("cisco_offer.sdp"));
  assert.equal(sd.connection, undefined);
  assert.deepEqual(sd.media[0].connection, { family: "IP4", address: "10.10.1.30" });
  assert.deepEqual(sd.media[0].bandwidths, [{ type: "TIAS", value: 64000 }]);
});

Deno.test("parseSdp() reads IPv6 origin and connection addresses", () => {
  const sd = parseSdp(fixture("ipv6_offer.sdp"));
  assert.equal(sd.origin.family, "IP6");
  assert.deepEqual(sd.connection, { family: "IP6", address: "2001:db8::10" });
});

Deno.test("parseSdp() keeps unknown attributes in their order", () => {
  const m = parseSdp(fixture("amrwb_offer.sdp")).media[0];
  assert.deepEqual(m.attributes.map((a) => `${a.name}:${a.value}`), [
    "curr:qos local none",
    "curr:qos remote none",
    "des:qos mandatory local sendrecv",
    "des:qos optional remote sendrecv",
  ]);
  assert.equal(m.maxptime, 240);
  assert.deepEqual(m.bandwidths.map((b) => b.type), ["AS", "RS", "RR"]);
});

Deno.test("parseSdp() reads session-level direction, multicast suffixes, port counts and a=rtcp addresses", () => {
  const sd = parseSdp(
    [
      "v=0",
      "o=- 1 1 IN IP4 host.example.com",
      "s= ",
      "c=IN IP4 233.252.0.1/127/3",
      "t=3034423619 3042462419",
      "r=7d 1h 0 25h",
      "a=recvonly",
      "m=audio 49170/2 RTP/AVP 0",
      "a=rtcp:53020 IN IP6 2001:db8::7",
      "m=application 9 UDP/BFCP *",
      "a=floorctrl:c-s",
      "",
    ].join("\n"),
  );
  assert.equal(sd.sessionName, "");
  assert.equal(sd.direction, "recvonly");
  assert.deepEqual(sd.connection, { family: "IP4", address: "233.252.0.1", ttl: 127, count: 3 });
  assert.deepEqual(sd.timing, [{ start: 3034423619, stop: 3042462419, repeats: ["7d 1h 0 25h"] }]);
  assert.equal(sd.media[0].portCount, 2);
  assert.deepEqual(sd.media[0].rtcp, {
    port: 53020,
    connection: { family: "IP6", address: "2001:db8::7" },
  });
  assert.deepEqual(sd.media[1].formats, ["*"]);
});

Deno.test("parseSdp() supplies s=- and t=0 0 when a peer leaves them out", () => {
  const sd = parseSdp(withLine(4, null).replace("s=-\r\n", ""));
  assert.equal(sd.sessionName, "-");
  assert.deepEqual(sd.timing, [{ start: 0, stop: 0, repeats: [] }]);
});

Deno.test("serializeSdp() reproduces our own SDP byte for byte", () => {
  for (const name of OUR_OUTPUT) {
    const text = fixture(name);
    assert.ok(text.endsWith("\r\n") && !/[^\r]\n/.test(text), `${name} must be CRLF`);
    assert.equal(serializeSdp(parseSdp(text)), text, name);
  }
});

Deno.test("serializeSdp() writes peer SDP as CRLF text that parses back to the same model", () => {
  for (const name of PEER_OFFERS) {
    const model = parseSdp(fixture(name));
    const text = serializeSdp(model);
    assert.ok(!/[^\r]\n/.test(text), `${name} must serialize to CRLF`);
    assert.deepEqual(parseSdp(text), model, name);
    assert.equal(serializeSdp(parseSdp(text)), text, `${name} must be stable`);
  }
});

Deno.test("serializeSdp() puts lifted attributes in a fixed order after the formats' rtpmap/fmtp", () => {
  const text = serializeSdp(parseSdp(
    "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n" +
      "m=audio 4000 RTP/AVP 96 0\na=rtcp-mux\na=x-vendor:1\na=sendonly\na=ptime:30\n" +
      "a=fmtp:96 useinbandfec=1\na=rtpmap:0 PCMU/8000\na=rtpmap:96 opus/48000/2\na=maxptime:60\n",
  ));
  assert.equal(
    text.split("\r\n").slice(5).join("\n"),
    "m=audio 4000 RTP/AVP 96 0\na=rtpmap:96 opus/48000/2\na=fmtp:96 useinbandfec=1\n" +
      "a=rtpmap:0 PCMU/8000\na=ptime:30\na=maxptime:60\na=sendonly\na=rtcp-mux\na=x-vendor:1\n",
  );
});

const MALFORMED: readonly [string, string, string][] = [
  ["an empty body", "", "Cannot parse SDP: empty description (no v= line)"],
  ["only blank lines", "\r\n\r\n", "Cannot parse SDP: empty description (no v= line)"],
  [
    "a missing v=",
    withLine(0, null),
    "Cannot parse SDP: line 1: the description must start with v=0",
  ],
  ["v=1", withLine(0, "v=1"), "Cannot parse SDP: line 1: unsupported protocol version v=1"],
  ["a missing o=", withLine(1, null), "Cannot parse SDP: line 5: m= before o="],
  [
    "a missing o= without media",
    "v=0\r\ns=-\r\nt=0 0\r\n",
    "Cannot parse SDP: missing o= line",
  ],
  ["a duplicate o=", withLine(2, MINIMAL[1]), "Cannot parse SDP: line 3: duplicate o= line"],
  [
    "an o= with five fields",
    withLine(1, "o=- 1 IN IP4 192.0.2.1"),
    "Cannot parse SDP: line 2: o= must have 6 fields, got 5",
  ],
  [
    "a non-numeric session id",
    withLine(1, "o=- abc 1 IN IP4 192.0.2.1"),
    'Cannot parse SDP: line 2: o= session id "abc" is not numeric',
  ],
  [
    "a line without '='",
    withLine(2, "hello world"),
    'Cannot parse SDP: line 3: expected <type>=<value>, got "hello world"',
  ],
  [
    "an unknown type letter",
    withLine(2, "x=1"),
    'Cannot parse SDP: line 3: unknown line type "x="',
  ],
  [
    "a non-IN network type",
    withLine(3, "c=ATM NSAP 47.0005"),
    'Cannot parse SDP: line 4: unsupported network type "ATM" in c=',
  ],
  [
    "a bad IPv4 address",
    withLine(3, "c=IN IP4 999.1.1.1"),
    'Cannot parse SDP: line 4: c= address "999.1.1.1" is not valid',
  ],
  [
    "an IPv4 address labelled IP6",
    withLine(3, "c=IN IP6 10.0.0.1"),
    'Cannot parse SDP: line 4: c= address "10.0.0.1" is not valid',
  ],
  [
    "a malformed IPv6 address",
    withLine(3, "c=IN IP6 2001:db8:::1"),
    'Cannot parse SDP: line 4: c= address "2001:db8:::1" is not valid',
  ],
  [
    "a bad t= line",
    withLine(4, "t=now later"),
    'Cannot parse SDP: line 5: t= must be "<start> <stop>", got "now later"',
  ],
  [
    "an m= line without formats",
    withLine(5, "m=audio 4000 RTP/AVP"),
    'Cannot parse SDP: line 6: m= must be "<media> <port> <proto> <fmt> ...", got "audio 4000 RTP/AVP"',
  ],
  [
    "a non-numeric port",
    withLine(5, "m=audio abc RTP/AVP 0 96"),
    'Cannot parse SDP: line 6: m= port "abc" is not a number',
  ],
  [
    "a port above 65535",
    withLine(5, "m=audio 70000 RTP/AVP 0 96"),
    "Cannot parse SDP: line 6: m= port 70000 is out of range (0-65535)",
  ],
  [
    "a payload type above 127",
    withLine(5, "m=audio 4000 RTP/AVP 0 128"),
    'Cannot parse SDP: line 6: m= payload type "128" is not a number in 0-127',
  ],
  [
    "a non-numeric RTP payload type",
    withLine(5, "m=audio 4000 RTP/AVP PCMU"),
    'Cannot parse SDP: line 6: m= payload type "PCMU" is not a number in 0-127',
  ],
  [
    "a repeated format",
    withLine(5, "m=audio 4000 RTP/AVP 0 0 96"),
    "Cannot parse SDP: line 6: m= lists a format twice",
  ],
  [
    "an fmtp for an undeclared format",
    withLine(7, "a=fmtp:101 0-16"),
    "Cannot parse SDP: line 8: a=fmtp for format 101 not listed on the m= line",
  ],
  [
    "a ptime of 100000 ms",
    withLine(7, "a=ptime:100000"),
    "Cannot parse SDP: line 8: a=ptime:100000 is out of range (0 < ptime <= 1000 ms)",
  ],
  [
    "a ptime of zero",
    withLine(7, "a=ptime:0"),
    "Cannot parse SDP: line 8: a=ptime:0 is out of range (0 < ptime <= 1000 ms)",
  ],
  [
    "a non-numeric ptime",
    withLine(7, "a=ptime:fast"),
    'Cannot parse SDP: line 8: a=ptime value "fast" is not a number of milliseconds',
  ],
  [
    "a negative ptime",
    withLine(7, "a=ptime:-20"),
    'Cannot parse SDP: line 8: a=ptime value "-20" is not a number of milliseconds',
  ],
  [
    "conflicting directions",
    MINIMAL.join("\n") + "\na=sendrecv\na=inactive\n",
    "Cannot parse SDP: line 10: conflicting direction attributes a=sendrecv and a=inactive",
  ],
  [
    "a session line inside a media section",
    MINIMAL.join("\n") + "\nt=0 0\n",
    "Cannot parse SDP: line 9: t= is not allowed inside a media section",
  ],
  [
    "a live stream without any c= line",
    withLine(3, null),
    "Cannot parse SDP: line 5: m=audio has no c= line and the session has no c= line",
  ],
  [
    "an attribute with an empty name",
    withLine(7, "a=:x"),
    'Cannot parse SDP: line 8: attribute name "" is not a token',
  ],
  [
    "an a=rtcp with a bad port",
    withLine(7, "a=rtcp:99999"),
    'Cannot parse SDP: line 8: a=rtcp port "99999" is not a port number',
  ],
];

for (const [what, text, message] of MALFORMED) {
  Deno.test(`parseSdp() rejects ${what} with a clear error`, () => {
    assertParseError(text, message);
  });
}

Deno.test("parseSdp() rejects a body that is not text", () => {
  assertParseError(42 as unknown as string, "Cannot parse SDP: body is not text");
});

Deno.test("parseSdp() throws nothing but SdpParseError on 5000 corrupted descriptions", () => {
  const rand = prng(0x5d9);
  const corpus = [...PEER_OFFERS, ...OUR_OUTPUT].map(fixture);
  let rejected = 0;
  for (let i = 0; i < 5000; i++) {
    const text = mutate(corpus[i % corpus.length], rand);
    try {
      const sd = parseSdp(text);
      // Whatever parses must also serialize and parse back to the same model.
      assert.deepEqual(parseSdp(serializeSdp(sd)), sd);
    } catch (e) {
      assert.ok(e instanceof SdpParseError, `non-SdpParseError for ${JSON.stringify(text)}: ${e}`);
      assert.match(e.message, /^Cannot parse SDP: /);
      rejected++;
    }
  }
  assert.ok(rejected > 1000, `only ${rejected} of 5000 mutations were rejected`);
});
