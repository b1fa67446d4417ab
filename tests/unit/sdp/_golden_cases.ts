/**
 * The golden SDP cases: each peer offer in tests/fixtures/sdp with the options we answer it
 * with and the file holding the expected answer bytes, and each offer of ours with its file.
 * The expected files were generated once and then reviewed line by line; a change to any of
 * them is a change to what we put on the wire.
 */

import type { AnswerOptions, OfferOptions } from "../../../src/sdp/negotiate.ts";

/** Directory of the golden files. */
export const FIXTURES = new URL("../../fixtures/sdp/", import.meta.url);

/** Reads a fixture as the exact text on disk. */
export function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(name, FIXTURES));
}

/** Options shared by the answer cases: our IPv4/IPv6 media addresses and o= numbers. */
export const ANSWER_BASE = {
  address: { ip4: "192.0.2.1", ip6: "2001:db8::1" },
  port: 20000,
  sessionId: 4242,
  sessionVersion: 4242,
} as const;

/** An inbound offer, how we answer it, and the expected answer file. */
export interface AnswerCase {
  readonly title: string;
  readonly offer: string;
  readonly options: AnswerOptions;
  readonly answer: string;
}

/** Every answer golden. */
export const ANSWER_CASES: readonly AnswerCase[] = [
  {
    title: "Linphone offer, every codec allowed: opus on the offer's PT 96, telephone-event/48000",
    offer: "linphone_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["opus", "G722", "PCMU", "PCMA"] },
    answer: "linphone_answer_opus.sdp",
  },
  {
    title: "Linphone offer, SIP_CODECS default: PCMU with telephone-event/8000 on PT 100",
    offer: "linphone_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"] },
    answer: "linphone_answer_pcmu.sdp",
  },
  {
    title: "baresip offer, we prefer PCMA but the offer's order wins: G722",
    offer: "baresip_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMA", "PCMU", "G722"] },
    answer: "baresip_answer_g722.sdp",
  },
  {
    title: "Asterisk PCMU/PCMA offer: PCMU",
    offer: "asterisk_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"] },
    answer: "asterisk_answer.sdp",
  },
  {
    title: "Cisco offer with a media-level c=: PCMA",
    offer: "cisco_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"] },
    answer: "cisco_answer.sdp",
  },
  {
    title: "VoLTE AMR offer: AMR-WB octet-aligned, mode-set echoed, telephone-event/16000",
    offer: "amrwb_offer.sdp",
    options: {
      ...ANSWER_BASE,
      allowed: ["AMR-WB", "AMR-NB", "PCMU"],
      amrWb: { octetAligned: false, mode: 8 },
    },
    answer: "amrwb_answer.sdp",
  },
  {
    title: "VoLTE AMR offer with only AMR-NB allowed: octet-aligned AMR, telephone-event/8000",
    offer: "amrwb_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["AMR-NB"] },
    answer: "amrnb_answer.sdp",
  },
  {
    title: "IPv6 offer answered from our IPv6 address",
    offer: "ipv6_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"] },
    answer: "ipv6_answer.sdp",
  },
  {
    title: "sendonly hold re-INVITE answered recvonly",
    offer: "hold_sendonly_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"], sessionVersion: 4243 },
    answer: "hold_sendonly_answer.sdp",
  },
  {
    title: "c=0.0.0.0 hold re-INVITE answered recvonly",
    offer: "hold_null_address_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"], sessionVersion: 4243 },
    answer: "hold_null_address_answer.sdp",
  },
  {
    title: "audio + video + RTT offer: video refused, text accepted with RED",
    offer: "rtt_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"], text: { port: 20002 } },
    answer: "rtt_answer.sdp",
  },
  {
    title: "audio + video + RTT offer without a text port: video and text refused",
    offer: "rtt_offer.sdp",
    options: { ...ANSWER_BASE, allowed: ["PCMU", "PCMA"] },
    answer: "rtt_answer_text_refused.sdp",
  },
];

/** Options shared by our offers. */
export const OFFER_BASE = {
  address: "192.0.2.1",
  port: 10000,
  sessionId: 1700000000,
  sessionVersion: 1700000000,
} as const;

/** One of our offers and its expected file. */
export interface OfferCase {
  readonly title: string;
  readonly options: OfferOptions;
  readonly file: string;
}

/** Every offer golden. */
export const OFFER_CASES: readonly OfferCase[] = [
  {
    title: "SIP_CODECS default: PCMU, PCMA, telephone-event/8000",
    options: { ...OFFER_BASE, codecs: ["PCMU", "PCMA"] },
    file: "our_offer_default.sdp",
  },
  {
    title: "every codec and RTT: telephone-event per clock, m=text with RED",
    options: {
      ...OFFER_BASE,
      codecs: ["opus", "G722", "PCMU", "PCMA", "AMR-WB", "AMR-NB"],
      rtt: { port: 10002 },
    },
    file: "our_offer_all.sdp",
  },
  {
    title: "IPv6, opus then PCMU",
    options: { ...OFFER_BASE, address: "2001:db8::1", codecs: ["opus", "PCMU"] },
    file: "our_offer_ipv6.sdp",
  },
  {
    title: "AMR bandwidth-efficient with a configured mode-set, no telephone-event, no rtcp-mux",
    options: {
      ...OFFER_BASE,
      codecs: ["AMR-WB", "AMR-NB"],
      amrWb: { octetAligned: false, mode: 2, modeSet: [0, 1, 2] },
      amrNb: { octetAligned: false, mode: 7 },
      telephoneEvent: false,
      rtcpMux: false,
    },
    file: "our_offer_amr_bandwidth_efficient.sdp",
  },
];
