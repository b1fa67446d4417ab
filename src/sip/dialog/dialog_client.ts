/**
 * The client half of a dialog (RFC 3261 §12.2.1): the requests we send inside it, each tracked
 * so the dialog can terminate them; the rule that 481/408/timeouts end the dialog (§12.2.1.2);
 * one INVITE at a time and one offer at a time (§14.1, RFC 3311 §5.1) with the 491 back-off;
 * and the ACKs for the 2xx responses to our INVITEs (§13.2.2.4).
 */
import type { DigestCredentials } from "../auth/digest.ts";
import type { SipRequest, SipResponse } from "../message/mod.ts";
import type { AnyClientTransaction } from "../transaction/mod.ts";
import type { UaContext } from "./_context.ts";
import type { NamedTimers } from "./_timers.ts";
import { AckMemory } from "./ack_memory.ts";
import type { DialogState } from "./dialog_state.ts";
import { GlareBackoff, glareDelayMs } from "./glare.ts";
import { type InDialogOptions, type InDialogOutcome, sendInDialog } from "./in_dialog_request.ts";
import { CallFailedError } from "./reasons.ts";

/** How many times a request refused with 491 is retried (RFC 3261 §14.1). */
const MAX_GLARE_RETRIES = 3;

/** What the client needs from the session around it. */
export interface DialogClientHooks {
  /** RFC 3261 §12.2.1.2: a request got 481/408 or timed out; the dialog is gone. */
  gone(status: number | undefined): void;
  /** Whether the dialog has ended (no new request may start). */
  ended(): boolean;
  /** Whether an INVITE of the peer's is still open (§14.1: we must not start one). */
  peerInviteOpen(): boolean;
  /** Header fields every re-INVITE or UPDATE carries (the session timer, RFC 4028 §7.4). */
  refreshHeaders(): readonly (readonly [string, string])[];
}

/** Sends and tracks the requests of one dialog. */
export class DialogClient {
  readonly #ctx: UaContext;
  readonly #dialog: DialogState;
  readonly #credentials: DigestCredentials | undefined;
  readonly #hooks: DialogClientHooks;
  readonly #clients = new Set<AnyClientTransaction>();
  readonly #acks: AckMemory;
  readonly #glare: GlareBackoff;
  #invite = false;
  #offer = false;
  /** The latest ACK being sent: later requests leave after it (no BYE overtaking its ACK). */
  #ackSent: Promise<void> = Promise.resolve();

  constructor(
    ctx: UaContext,
    dialog: DialogState,
    timers: NamedTimers,
    options: { credentials?: DigestCredentials; hooks: DialogClientHooks },
  ) {
    this.#ctx = ctx;
    this.#dialog = dialog;
    this.#credentials = options.credentials;
    this.#hooks = options.hooks;
    this.#acks = new AckMemory(ctx, dialog);
    this.#glare = new GlareBackoff(timers, () => glareDelayMs(dialog.role === "uac", ctx.random));
  }

  /** Whether a re-INVITE of ours is in progress (the peer's gets 491, §14.2). */
  get inviteInProgress(): boolean {
    return this.#invite;
  }

  /** Whether an offer of ours awaits its answer (the peer's UPDATE offer gets 491). */
  get offerPending(): boolean {
    return this.#offer;
  }

  /** One request with our credentials; 481, 408 and timeouts end the dialog (§12.2.1.2). */
  async run(method: string, options: InDialogOptions = {}): Promise<InDialogOutcome> {
    let outcome: InDialogOutcome;
    await this.#ackSent;
    try {
      outcome = await sendInDialog(this.#ctx, this.#dialog, method, {
        ...options,
        credentials: this.#credentials,
        onTransaction: (tx) => {
          this.#clients.add(tx);
          tx.done.then(() => this.#clients.delete(tx));
        },
      });
    } catch (err) {
      if (method !== "BYE") this.#hooks.gone(undefined);
      throw err;
    }
    const status = outcome.response.status;
    if ((status === 481 || status === 408) && method !== "BYE") this.#hooks.gone(status);
    return outcome;
  }

  /**
   * A re-INVITE or UPDATE (target refresh, maybe an offer): resolves with its 2xx, retrying a
   * 491 after the §14.1 back-off; rejects with `CallFailedError` on another final status and with
   * `Error` when another INVITE (or offer) is in progress.
   */
  async offer(
    method: "INVITE" | "UPDATE",
    sdp: string | undefined,
    headers: readonly (readonly [string, string])[],
  ): Promise<SipResponse> {
    for (let attempt = 0;; attempt++) {
      if (this.#hooks.ended()) throw new Error(`Cannot send ${method}: the dialog has ended`);
      const inviteBusy = method === "INVITE" && (this.#invite || this.#hooks.peerInviteOpen());
      if (inviteBusy || (sdp !== undefined && this.#offer)) {
        // RFC 3261 §14.1: one INVITE transaction at a time; after a 491 we wait our turn.
        if (attempt === 0 || attempt > MAX_GLARE_RETRIES) {
          throw new Error(`Cannot send ${method}: another offer or INVITE is in progress`);
        }
        await this.#glare.wait();
        continue;
      }
      if (method === "INVITE") this.#invite = true;
      if (sdp !== undefined) this.#offer = true;
      let response: SipResponse;
      try {
        ({ response } = await this.run(method, {
          sdp,
          headers: [...this.#hooks.refreshHeaders(), ...headers],
          targetRefresh: true,
          onResponse: method === "INVITE"
            ? (r, sent) => {
              if (r.status >= 200 && r.status < 300) void this.acknowledge(sent.request);
            }
            : undefined,
        }));
      } finally {
        if (method === "INVITE") this.#invite = false;
        if (sdp !== undefined) this.#offer = false;
      }
      if (response.status === 491 && attempt < MAX_GLARE_RETRIES && !this.#hooks.ended()) {
        await this.#glare.wait();
        continue;
      }
      if (response.status >= 300) throw CallFailedError.fromResponse(response);
      return response;
    }
  }

  /** ACKs a 2xx to `invite` (the dialog-creating one included), again for each retransmission. */
  acknowledge(invite: SipRequest): Promise<void> {
    this.#ackSent = this.#acks.acknowledge(invite);
    return this.#ackSent;
  }

  /** A 2xx retransmission after its transaction ended: the same ACK again. */
  resendAck(seq: number): void {
    this.#acks.resend(seq);
  }

  /** Cuts every back-off short (the dialog ended). */
  stop(): void {
    this.#glare.wakeAll();
  }

  /** Terminates every open client transaction (closing without signalling). */
  terminateAll(): void {
    for (const tx of this.#clients) tx.terminate();
    this.#clients.clear();
    this.stop();
  }
}
