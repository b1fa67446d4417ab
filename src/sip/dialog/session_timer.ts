/**
 * Session timers (RFC 4028): negotiating the interval and the refresher for each (re-)INVITE or
 * UPDATE transaction, and the timer that either refreshes the session at half the interval (as
 * refresher, §10) or ends it shortly before the interval runs out (as the other side, §10).
 *
 * The `refresher` parameter names a role in the transaction that carries it (`uac`/`uas`), not
 * in the dialog, so each negotiation is turned into "do we refresh" at once.
 */
import { formatSessionTimer, type SipRequest, type SipResponse } from "../message/mod.ts";
import type { Clock, TimerHandle } from "../transaction/mod.ts";

/** How the session is ended when no refresh arrives. */
export type SessionExpiryRule =
  /** RFC 4028 §10: interval − min(32, interval/3) after the last refresh. */
  | "rfc4028"
  /** interval + 32 s (the original server's slack; see the contract's session timer row). */
  | "lenient";

/** Session timer settings of a user agent. */
export interface SessionTimerSettings {
  /** Off: no `Supported: timer`, no Session-Expires, no timers. Default on. */
  readonly enabled: boolean;
  /** Interval we propose and use when the peer proposes none (default 1800 s). */
  readonly interval: number;
  /** Smallest interval we accept (default 90 s); a smaller one is raised, never answered 422. */
  readonly minSe: number;
  /** When the non-refresher hangs up (default `rfc4028`). */
  readonly expiry: SessionExpiryRule;
  /** How the refresher refreshes: UPDATE when the peer allows it (default), or always re-INVITE. */
  readonly refreshWith: "update-if-allowed" | "reinvite";
}

/** RFC 4028 defaults with the contract's Min-SE of 90 s and interval of 1800 s. */
export const DEFAULT_SESSION_TIMER: SessionTimerSettings = Object.freeze({
  enabled: true,
  interval: 1800,
  minSe: 90,
  expiry: "rfc4028",
  refreshWith: "update-if-allowed",
});

/** The outcome of one negotiation: the interval and whether we are the refresher. */
export interface SessionTimerPlan {
  /** Session interval in seconds. */
  readonly interval: number;
  /** True when we send the refreshes. */
  readonly weRefresh: boolean;
}

/**
 * RFC 4028 §9 as UAS of `request`: the interval the request asks for (or the current one, or our
 * default), raised to our Min-SE and the request's; the refresher the request names, else the
 * current refresher, else `uac` when the peer supports timers and `uas` otherwise. A UAC without
 * `Supported: timer` cannot be made the refresher.
 */
export function negotiateAsUas(
  request: SipRequest,
  settings: SessionTimerSettings,
  current?: SessionTimerPlan,
): SessionTimerPlan | undefined {
  if (!settings.enabled) return undefined;
  const se = request.sessionExpires;
  const peerSupports = request.supported.includes("timer");
  const asked = se?.seconds ?? current?.interval ?? settings.interval;
  const interval = Math.max(asked, settings.minSe, request.minSe ?? 0);
  let refresher = se?.refresher ??
    (current ? (current.weRefresh ? "uas" : "uac") : peerSupports ? "uac" : "uas");
  if (refresher === "uac" && !peerSupports) refresher = "uas";
  return { interval, weRefresh: refresher === "uas" };
}

/**
 * RFC 4028 §7.2 as UAC of a transaction that got `response` (a 2xx): its Session-Expires decides;
 * without one there is no session timer for a new session, and an existing one carries on.
 */
export function acceptAsUac(
  response: SipResponse,
  current?: SessionTimerPlan,
): SessionTimerPlan | undefined {
  const se = response.sessionExpires;
  if (!se) return current;
  return { interval: se.seconds, weRefresh: (se.refresher ?? "uac") === "uac" };
}

/** Header fields of a 2xx carrying `plan` (RFC 4028 §9: Require: timer when the UAC refreshes). */
export function responseTimerHeaders(plan: SessionTimerPlan): [string, string][] {
  const refresher = plan.weRefresh ? "uas" : "uac";
  const out: [string, string][] = [[
    "Session-Expires",
    formatSessionTimer({
      seconds: plan.interval,
      params: [{ name: "refresher", value: refresher }],
    }),
  ]];
  if (refresher === "uac") out.push(["Require", "timer"]);
  return out;
}

/** Header fields of a refresh (or any target refresh) we send as UAC (RFC 4028 §7.4). */
export function requestTimerHeaders(
  plan: SessionTimerPlan,
  settings: SessionTimerSettings,
): [string, string][] {
  const refresher = plan.weRefresh ? "uac" : "uas";
  return [
    ["Session-Expires", `${plan.interval};refresher=${refresher}`],
    ["Min-SE", String(Math.min(settings.minSe, plan.interval))],
  ];
}

/** RFC 4028 §10: the refresher refreshes at half the interval. */
export function refreshDelayMs(interval: number): number {
  return interval * 500;
}

/** When the side that does not refresh gives up, after the last refresh. */
export function expiryDelayMs(interval: number, rule: SessionExpiryRule): number {
  const seconds = rule === "lenient" ? interval + 32 : interval - Math.min(32, interval / 3);
  return seconds * 1000;
}

/** What a `SessionTimer` asks its owner to do. */
export interface SessionTimerActions {
  /** Time to send a refresh (we are the refresher). */
  refresh(): void;
  /** No refresh came in time (or ours failed): end the session. */
  expire(): void;
}

/** The running session timer of one dialog (RFC 4028 §10). */
export class SessionTimer {
  readonly #clock: Clock;
  readonly #rule: SessionExpiryRule;
  readonly #actions: SessionTimerActions;
  #plan: SessionTimerPlan | undefined;
  #handle: TimerHandle | undefined;

  constructor(clock: Clock, rule: SessionExpiryRule, actions: SessionTimerActions) {
    this.#clock = clock;
    this.#rule = rule;
    this.#actions = actions;
  }

  /** The plan in force, if any. */
  get plan(): SessionTimerPlan | undefined {
    return this.#plan;
  }

  /** Whether a refresh or expiry is scheduled. */
  get running(): boolean {
    return this.#handle !== undefined;
  }

  /** A successful refresh (or a new negotiation): restart from now under `plan`. */
  apply(plan: SessionTimerPlan | undefined): void {
    this.stop();
    this.#plan = plan;
    if (!plan) return;
    if (plan.weRefresh) this.#arm(refreshDelayMs(plan.interval), () => this.#actions.refresh());
    else this.#arm(expiryDelayMs(plan.interval, this.#rule), () => this.#actions.expire());
  }

  /**
   * Our refresh failed without ending the dialog: the session lasts until the peer's deadline,
   * the rest of the interval less the RFC 4028 §10 margin.
   */
  refreshFailed(): void {
    const plan = this.#plan;
    if (!plan) return;
    this.stop();
    const remaining = expiryDelayMs(plan.interval, "rfc4028") - refreshDelayMs(plan.interval);
    this.#arm(Math.max(0, remaining), () => this.#actions.expire());
  }

  /** Clears the timer (the plan is kept). */
  stop(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #arm(ms: number, fire: () => void): void {
    this.#handle = this.#clock.setTimeout(() => {
      this.#handle = undefined;
      fire();
    }, ms);
  }
}
