/**
 * SDP offer/answer for SIP legs (RFC 3264) in one import: build our offer, answer theirs, read
 * their answer, and re-offer for hold and resume.
 */

export { answerOffer, type AnswerOptions, offersText } from "./answer.ts";
export { buildOffer, type LocalOffer, type OfferedFormat, type OfferOptions } from "./offer.ts";
export { parseAnswer } from "./parse_answer.ts";
export {
  holdOffer,
  isHoldOffer,
  type LocalDescription,
  nextSessionVersion,
  resumeOffer,
} from "./hold.ts";
export type {
  Negotiated,
  NegotiatedAmr,
  NegotiatedCodec,
  NegotiatedText,
  NegotiationFailure,
  NegotiationFailureReason,
  NegotiationResult,
} from "./negotiated.ts";
export type { AmrOptions, LocalAddresses, SdpNumber } from "./local_media.ts";
export type { RemoteEndpoint } from "./endpoint.ts";
