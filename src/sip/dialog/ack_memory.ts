/**
 * The UAC's ACKs for 2xx responses (RFC 3261 §13.2.2.4): the UA core, not the transaction, sends
 * them, and sends the same ACK again for every retransmission of the 2xx — including those that
 * arrive after the INVITE transaction has ended (RFC 6026 §7.2).
 */
import type { SipRequest } from "../message/mod.ts";
import type { UaContext } from "./_context.ts";
import type { DialogState } from "./dialog_state.ts";
import { prepareAck, type PreparedAck } from "./in_dialog_request.ts";

/** How many INVITEs back a 2xx retransmission is still answered. */
const REMEMBERED = 4;

/** The ACKs one dialog has sent, by INVITE CSeq number. */
export class AckMemory {
  readonly #ctx: UaContext;
  readonly #dialog: DialogState;
  readonly #acks = new Map<number, Promise<PreparedAck>>();

  constructor(ctx: UaContext, dialog: DialogState) {
    this.#ctx = ctx;
    this.#dialog = dialog;
  }

  /**
   * ACKs a 2xx to `invite`, building the ACK on the first call and re-sending it after. Resolves
   * once the ACK is handed to the transport (never rejects).
   */
  acknowledge(invite: SipRequest): Promise<void> {
    const seq = invite.cseq.seq;
    let prepared = this.#acks.get(seq);
    if (!prepared) {
      prepared = prepareAck(this.#ctx, this.#dialog, invite);
      this.#acks.set(seq, prepared);
      if (this.#acks.size > REMEMBERED) this.#acks.delete(this.#acks.keys().next().value!);
    }
    return this.#send(prepared);
  }

  /** Re-sends the ACK for INVITE `seq` if we sent one (a stray 2xx retransmission). */
  resend(seq: number): void {
    const prepared = this.#acks.get(seq);
    if (prepared) void this.#send(prepared);
  }

  #send(prepared: Promise<PreparedAck>): Promise<void> {
    return prepared.then((a) => this.#ctx.transactions.sendStateless(a.ack, a.destination)).catch(
      (err) => this.#ctx.log?.warn("Cannot send ACK", { error: err, call_id: this.#dialog.callId }),
    );
  }
}
