/**
 * The routing matrix of a room on the control plane: listener role → source roles it hears
 * (compat §1 "Routing matrix"). A role with no row hears everyone, `[]` hears nothing, unroled
 * listeners hear everyone and unroled sources are heard by no routed listener — the mixer in the
 * worker implements those rules; this module keeps the matrix, validates edits, pushes it to the
 * room's worker and publishes `room.routing_changed`.
 *
 * The matrix lives beside the main-thread {@link Room} (a WeakMap, so it dies with the room) and
 * is pushed whenever it changes. Pushing first creates the room's mixer if needed: the worker then
 * holds the matrix before any leg joins, and a join carries the leg's role in the same message,
 * so no frame of a new participant is ever mixed under full mesh.
 */
import { BadRequest } from "../errors.ts";
import { ensureMixer, type MembershipDeps, onMixerCreated } from "./membership.ts";
import type { Room } from "./room.ts";

/** Most distinct role names one matrix may name (the mixer indexes roles per room). */
export const MAX_MATRIX_ROLES = 256;

/** Listener role → source roles, as the API shows it. */
export type MatrixView = Record<string, string[]>;

/** One row edit of `PATCH /rooms/{id}/routing`: `sources: null` removes the row (full mesh). */
export interface RowUpdate {
  readonly listener_role: string;
  readonly sources: readonly string[] | null;
}

/** Why the matrix event was published (compat §1). */
export type RoutingReason = "set" | "update" | "leg_joined" | "leg_role_changed";

const matrices = new WeakMap<Room, Map<string, readonly string[]>>();
/** Rooms whose current matrix has been handed to their mixer. */
const pushed = new WeakSet<Room>();

/** The room's matrix as the API shows it (a fresh object; rows in insertion order). */
export function routingView(room: Room): MatrixView {
  const rows = matrices.get(room);
  if (!rows) return {};
  // fromEntries defines own properties, so a role named "__proto__" stays an ordinary row.
  return Object.fromEntries([...rows].map(([listener, sources]) => [listener, [...sources]]));
}

/** Replaces the whole matrix (PUT). Throws 400 for an empty listener role or too many roles. */
export function setRouting(
  deps: MembershipDeps,
  room: Room,
  matrix: Readonly<Record<string, readonly string[]>>,
): MatrixView {
  const next = new Map<string, readonly string[]>();
  for (const [listener, sources] of Object.entries(matrix)) next.set(listener, [...sources]);
  check(next, "matrix");
  commit(deps, room, next, "set");
  return routingView(room);
}

/** Replaces or removes selected rows atomically (PATCH); same checks as {@link setRouting}. */
export function updateRouting(
  deps: MembershipDeps,
  room: Room,
  updates: readonly RowUpdate[],
): MatrixView {
  const next = new Map(matrices.get(room) ?? []);
  for (const u of updates) {
    if (u.sources === null) next.delete(u.listener_role);
    else next.set(u.listener_role, [...u.sources]);
  }
  check(next, "updates");
  commit(deps, room, next, "update");
  return routingView(room);
}

/**
 * Hands the stored matrix to the room's mixer if it has not got it yet (a room's mixer created
 * by a join after the matrix was stored). Returns whether something was sent.
 */
export function pushIfPending(deps: MembershipDeps, room: Room): boolean {
  if (pushed.has(room) || !matrices.has(room) || !room.mixerReady) return false;
  push(deps, room);
  return true;
}

// A room whose matrix was stored before it had a mixer gets it in the same turn as the mixer.
onMixerCreated((deps, room) => void pushIfPending(deps, room));

/** Publishes `room.routing_changed` with the current matrix. */
export function publishRoutingChanged(
  deps: MembershipDeps,
  room: Room,
  reason: RoutingReason,
): void {
  deps.bus.publish("room.routing_changed", {
    room_id: room.id,
    app_id: room.appId,
    matrix: routingView(room),
    reason,
  }, { webhook: room.webhook });
}

function check(next: ReadonlyMap<string, readonly string[]>, field: string): void {
  const roles = new Set<string>();
  for (const [listener, sources] of next) {
    // An unroled listener always hears everyone; a row for it could never apply.
    if (listener === "") throw new BadRequest(`invalid ${field}: listener role must not be empty`);
    roles.add(listener);
    for (const s of sources) roles.add(s);
  }
  if (roles.size > MAX_MATRIX_ROLES) {
    throw new BadRequest(`invalid ${field}: more than ${MAX_MATRIX_ROLES} distinct roles`);
  }
}

function commit(
  deps: MembershipDeps,
  room: Room,
  next: Map<string, readonly string[]>,
  reason: RoutingReason,
): void {
  matrices.set(room, next);
  if (room.mixerReady) {
    push(deps, room);
  } else {
    // Create the mixer now, so the matrix is in the worker before the first leg joins; the
    // mixer-created hook pushes the stored matrix.
    pushed.delete(room);
    ensureMixer(deps, room);
  }
  publishRoutingChanged(deps, room, reason);
}

function push(deps: MembershipDeps, room: Room): void {
  const m = matrices.get(room);
  deps.media.setRouting(room.id, m && m.size > 0 ? routingView(room) : null);
  pushed.add(room);
}
