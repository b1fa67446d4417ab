/**
 * Mixed-minus-self for one room at one sample rate; a frame is 20 ms of Int16 mono.
 *
 * Each tick the caller writes every participant's frame into its slot's `input`, sets `present`,
 * calls `mix()`, then reads each slot's `output`. The kernel is the one measured fastest in
 * shared/notes §3a: one Int32 sum over all heard sources, then every listener gets that sum minus
 * its own input, saturated to Int16. That is linear in N (the O(N²) "sum the others" loop of the
 * Go original costs 30× more at N = 50).
 *
 * Routing matrix (compat "Routing matrix"): a listener whose role has a row hears only the source
 * roles the row lists; a listener without a row (or unroled) hears everyone. Unroled sources are
 * never heard by a routed listener. Each distinct row gets its own Int32 sum once per tick (built
 * from per-role sums, so every source is added at most twice whatever the number of rows).
 *
 * Atomicity: `setRouting` and `setRole` only record intent; the derived tables (which sum each
 * listener takes, whether its own input is inside it) are rebuilt at the start of the next `mix()`.
 * All changes made between two ticks therefore land together on one frame boundary, and a slot
 * added with its role never produces a frame under the wrong routing.
 *
 * Steady state allocates nothing: buffers are created when slots, externals or routes are added,
 * and the dense slot list grows by doubling.
 */

/** Largest role index; roles are small room-local ints assigned by the control plane (0 = none). */
export const MAX_ROLE = 1023;

/** Listener role → source roles it hears (`null` = everyone, as if the row were missing). */
export type RoutingMatrix = ReadonlyMap<number, readonly number[] | null>;

/** Initial state of a participant slot; the role is in force from the slot's first frame. */
export interface SlotOptions {
  readonly roleIndex?: number;
  readonly muted?: boolean;
  readonly deaf?: boolean;
}

/** One participant as the tick loop sees it. `present` is consumed (cleared) by `mix()`. */
export interface MixerSlot {
  readonly id: number;
  /** Written by the caller before `mix()`; valid for the slot's whole life. */
  readonly input: Int16Array;
  /** Written by `mix()`: everything this participant hears this tick. */
  readonly output: Int16Array;
  /** True when `input` holds a fresh frame this tick; a missing frame contributes silence. */
  present: boolean;
  /** Others do not hear this participant (it still hears them). */
  muted: boolean;
  /** This participant hears silence. */
  deaf: boolean;
  /** The role most recently requested (applied at the next `mix()`). */
  readonly roleIndex: number;
  /** RMS of the last mixed input frame in Int16 units, 0 when absent (for speaking detection). */
  readonly level: number;
}

/** A non-participant source every listener hears (room playback, the far side of a bridge). */
export interface MixerExternal {
  readonly id: number;
  /** Written by the caller before `mix()`. */
  readonly input: Int16Array;
  /** True when `input` holds a fresh frame this tick; consumed by `mix()`. */
  present: boolean;
  /** Linear gain applied when mixing, clamped to 0..16 (1 = unchanged, bit-exact). */
  gain: number;
}

class Slot implements MixerSlot {
  present = false;
  muted: boolean;
  deaf: boolean;
  roleIndex: number;
  level = 0;
  // Derived at the mix boundary by #apply():
  row = -1; // index into the active row sums, -1 = hears the full sum
  roleSlot = -1; // index into the per-role sums, -1 = its role is in no active row
  selfInRow = false; // its own input is part of its row's sum
  constructor(
    readonly id: number,
    readonly input: Int16Array,
    readonly output: Int16Array,
    opts: SlotOptions,
  ) {
    this.muted = opts.muted ?? false;
    this.deaf = opts.deaf ?? false;
    this.roleIndex = checkRole(opts.roleIndex ?? 0);
  }
}

class External implements MixerExternal {
  present = false;
  mixed = false; // contributed to the last mix (taps subtract it)
  mixedGain = 1; // the gain it was mixed with, so a tap removes exactly that
  #gain = 1;
  constructor(readonly id: number, readonly input: Int16Array) {}
  get gain(): number {
    return this.#gain;
  }
  set gain(g: number) {
    this.#gain = Number.isFinite(g) ? Math.min(16, Math.max(0, g)) : 1;
  }
}

/** A prepared routing table: built by `setRouting`, swapped in by `mix()`. */
interface RoutingTable {
  /** Listener role → distinct row index, -1 = no row (full mesh). */
  readonly rowOfRole: Int16Array;
  /** Per distinct row: source role → 1 when heard. */
  readonly hears: readonly Uint8Array[];
  /** Per distinct row: the heard source roles (sorted, no 0). */
  readonly roles: readonly (readonly number[])[];
}

/** The mixer of one room. */
export class Mixer {
  /** Samples per second. */
  readonly sampleRate: number;
  /** Samples per 20 ms frame. */
  readonly frameSize: number;

  #slots: (Slot | undefined)[] = new Array(4);
  #count = 0;
  readonly #byId = new Map<number, Slot>();
  readonly #externals: External[] = [];
  readonly #full: Int32Array; // everything heard by an unrouted listener, externals included
  readonly #ext: Int32Array; // externals only (taps subtract it)
  #extActive = false;
  #fullValid = false;

  #table: RoutingTable | null = null;
  #pendingTable: RoutingTable | null | undefined = undefined;
  #dirty = false;
  #rowSums: Int32Array[] = []; // one per active row, grown never shrunk
  #roleSums: Int32Array[] = []; // one per role heard by some active row
  #rowRoleSlots: Int32Array[] = []; // per active row: indices into #roleSums
  #activeRows = 0;
  #activeRoles = 0;
  readonly #roleSlotOf = new Int32Array(MAX_ROLE + 1); // scratch of #apply: role → role sum

  /** `sampleRate` in Hz, a multiple of 200 (8000, 16000, 24000, 48000, …). */
  constructor(sampleRate: number) {
    // 20 ms must be a whole number of 4-sample blocks (8, 16, 24, 32, 48 kHz all are).
    if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate % 200 !== 0) {
      throw new RangeError(`Cannot mix at ${sampleRate} Hz: must be a multiple of 200 Hz`);
    }
    this.sampleRate = sampleRate;
    this.frameSize = sampleRate / 50;
    this.#full = new Int32Array(this.frameSize);
    this.#ext = new Int32Array(this.frameSize);
  }

  /** Number of participant slots. */
  get size(): number {
    return this.#count;
  }

  /** Adds a participant; its role, mute and deaf state are in force from its first frame. */
  addSlot(id: number, opts: SlotOptions = {}): MixerSlot {
    if (this.#byId.has(id)) throw new RangeError(`Cannot add slot ${id}: already in the mixer`);
    const n = this.frameSize;
    const slot = new Slot(id, new Int16Array(n), new Int16Array(n), opts);
    if (this.#count === this.#slots.length) {
      const grown: (Slot | undefined)[] = new Array(this.#slots.length * 2);
      for (let i = 0; i < this.#count; i++) grown[i] = this.#slots[i];
      this.#slots = grown;
    }
    this.#slots[this.#count++] = slot;
    this.#byId.set(id, slot);
    this.#dirty = true;
    return slot;
  }

  /** Removes a participant; returns false when it was not there. */
  removeSlot(id: number): boolean {
    const slot = this.#byId.get(id);
    if (!slot) return false;
    this.#byId.delete(id);
    const i = this.#slots.indexOf(slot);
    // Swap-remove: order of slots carries no meaning and this keeps the tick loop dense.
    this.#slots[i] = this.#slots[--this.#count];
    this.#slots[this.#count] = undefined;
    this.#dirty = true;
    return true;
  }

  /** The slot with this id, if any. */
  slot(id: number): MixerSlot | undefined {
    return this.#byId.get(id);
  }

  /** Changes a participant's role from the next `mix()` on. */
  setRole(id: number, roleIndex: number): void {
    const slot = this.#byId.get(id);
    if (!slot) throw new RangeError(`Cannot set role of slot ${id}: not in the mixer`);
    slot.roleIndex = checkRole(roleIndex);
    this.#dirty = true;
  }

  /**
   * Replaces the routing matrix from the next `mix()` on (`null` = full mesh for everyone). Role 0
   * inside a row is ignored (unroled sources are never heard by routed listeners); a row *for*
   * role 0 is rejected (unroled listeners always hear everyone).
   */
  setRouting(matrix: RoutingMatrix | null): void {
    this.#pendingTable = matrix === null ? null : buildTable(matrix);
    this.#dirty = true;
  }

  /** Adds a source heard by every participant; write its `input` and set `present` each tick. */
  addExternal(id: number, gain = 1): MixerExternal {
    if (this.#externals.some((e) => e.id === id)) {
      throw new RangeError(`Cannot add external ${id}: already in the mixer`);
    }
    const ext = new External(id, new Int16Array(this.frameSize));
    ext.gain = gain;
    this.#externals.push(ext);
    return ext;
  }

  /** Removes an external source; returns false when it was not there. */
  removeExternal(id: number): boolean {
    const i = this.#externals.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.#externals.splice(i, 1);
    return true;
  }

  /** RMS of participant `id`'s last mixed input frame (0 when absent or unknown). */
  level(id: number): number {
    return this.#byId.get(id)?.level ?? 0;
  }

  /** Mixes one tick: fills every slot's `output` and consumes every `present` flag. */
  mix(): void {
    if (this.#dirty) this.#apply();
    const count = this.#count;
    const externals = this.#externals;
    if (count === 0 && externals.length === 0) {
      this.#fullValid = false;
      return; // an idle room costs one branch
    }
    const n = this.frameSize;
    const full = this.#full;
    const routed = this.#activeRows > 0;
    const slots = this.#slots;

    // Externals first: they are heard by every listener, so they seed every sum.
    let extActive = false;
    for (let e = 0; e < externals.length; e++) {
      const ext = externals[e];
      ext.mixed = ext.present;
      if (!ext.present) continue;
      ext.present = false;
      ext.mixedGain = ext.gain;
      if (!extActive) this.#ext.fill(0);
      extActive = true;
      addGain(this.#ext, ext.input, ext.mixedGain, n);
    }
    this.#extActive = extActive;
    if (extActive) full.set(this.#ext);
    else full.fill(0);

    const roleSums = this.#roleSums;
    for (let r = 0; r < this.#activeRoles; r++) roleSums[r].fill(0);

    for (let i = 0; i < count; i++) {
      const s = slots[i] as Slot;
      if (!s.present) {
        s.level = 0;
        continue;
      }
      let sq: number;
      if (s.muted) sq = sumSquares(s.input, n);
      else if (routed && s.roleSlot >= 0) sq = addTwo(full, roleSums[s.roleSlot], s.input, n);
      else sq = addOne(full, s.input, n);
      s.level = Math.sqrt(sq / n);
    }

    const rowSums = this.#rowSums;
    for (let r = 0; r < this.#activeRows; r++) {
      const sum = rowSums[r];
      if (extActive) sum.set(this.#ext);
      else sum.fill(0);
      const members = this.#rowRoleSlots[r];
      for (let k = 0; k < members.length; k++) addSums(sum, roleSums[members[k]], n);
    }

    for (let i = 0; i < count; i++) {
      const s = slots[i] as Slot;
      if (s.deaf) {
        s.output.fill(0);
      } else {
        const base = s.row < 0 ? full : rowSums[s.row];
        const selfHeard = s.present && !s.muted && (s.row < 0 || s.selfInRow);
        if (selfHeard) writeMinus(s.output, base, s.input, n);
        else writeClamped(s.output, base, n);
      }
      s.present = false;
    }
    this.#fullValid = true;
  }

  /**
   * Writes the last tick's room sum into `out` (at least `frameSize` long): every present,
   * unmuted participant plus every present external except `excludeExternal` — pass a bridge's
   * own incoming external so the far room never hears itself. Routing does not apply: this is
   * what the room as a whole sounds like (recordings, bridge-out). Call after `mix()`.
   */
  tap(out: Int16Array, excludeExternal = -1): void {
    if (!this.#fullValid) {
      out.fill(0, 0, this.frameSize);
      return;
    }
    const n = this.frameSize;
    if (excludeExternal >= 0) {
      for (let e = 0; e < this.#externals.length; e++) {
        const ext = this.#externals[e];
        if (ext.id === excludeExternal && ext.mixed) {
          writeMinusGain(out, this.#full, ext.input, ext.mixedGain, n);
          return;
        }
      }
    }
    writeClamped(out, this.#full, n);
  }

  /** Like `tap` but participants only (no externals at all). Call after `mix()`. */
  tapParticipants(out: Int16Array): void {
    if (!this.#fullValid) {
      out.fill(0, 0, this.frameSize);
      return;
    }
    if (this.#extActive) writeDiff(out, this.#full, this.#ext, this.frameSize);
    else writeClamped(out, this.#full, this.frameSize);
  }

  /** Rebuilds the derived routing state; runs at a mix boundary, never mid-tick. */
  #apply(): void {
    this.#dirty = false;
    if (this.#pendingTable !== undefined) {
      this.#table = this.#pendingTable;
      this.#pendingTable = undefined;
    }
    const table = this.#table;
    const slots = this.#slots;
    const count = this.#count;
    // Only rows some participant listens through are summed; map table rows → dense active rows.
    const activeOf = new Int32Array(table ? table.hears.length : 0).fill(-1);
    const roleSlotOf = this.#roleSlotOf.fill(-1);
    const rowRoleSlots: Int32Array[] = [];
    let rows = 0;
    let roles = 0;
    for (let i = 0; i < count; i++) {
      const s = slots[i] as Slot;
      const t = table && s.roleIndex > 0 ? table.rowOfRole[s.roleIndex] : -1;
      if (t < 0) {
        s.row = -1;
        s.selfInRow = false;
        continue;
      }
      if (activeOf[t] < 0) {
        activeOf[t] = rows++;
        const heard = table!.roles[t];
        const members = new Int32Array(heard.length);
        for (let k = 0; k < heard.length; k++) {
          if (roleSlotOf[heard[k]] < 0) roleSlotOf[heard[k]] = roles++;
          members[k] = roleSlotOf[heard[k]];
        }
        rowRoleSlots.push(members);
      }
      s.row = activeOf[t];
      s.selfInRow = table!.hears[t][s.roleIndex] === 1;
    }
    for (let i = 0; i < count; i++) {
      const s = slots[i] as Slot;
      s.roleSlot = s.roleIndex > 0 ? roleSlotOf[s.roleIndex] : -1;
    }
    while (this.#rowSums.length < rows) this.#rowSums.push(new Int32Array(this.frameSize));
    while (this.#roleSums.length < roles) this.#roleSums.push(new Int32Array(this.frameSize));
    this.#rowRoleSlots = rowRoleSlots;
    this.#activeRows = rows;
    this.#activeRoles = roles;
  }
}

function checkRole(role: number): number {
  if (!Number.isInteger(role) || role < 0 || role > MAX_ROLE) {
    throw new RangeError(`Cannot use role index ${role}: must be an integer 0..${MAX_ROLE}`);
  }
  return role;
}

function buildTable(matrix: RoutingMatrix): RoutingTable {
  const rowOfRole = new Int16Array(MAX_ROLE + 1).fill(-1);
  const hears: Uint8Array[] = [];
  const roles: number[][] = [];
  const byKey = new Map<string, number>(); // identical rows share one sum
  for (const [listener, sources] of matrix) {
    checkRole(listener);
    if (listener === 0) {
      throw new RangeError("Cannot route role 0: unroled listeners always hear everyone");
    }
    if (sources === null) continue; // null = everyone = no row
    const set = [...new Set(sources.map(checkRole))].filter((r) => r !== 0).sort((a, b) => a - b);
    const key = set.join(",");
    let row = byKey.get(key);
    if (row === undefined) {
      row = hears.length;
      byKey.set(key, row);
      const h = new Uint8Array(MAX_ROLE + 1);
      for (const r of set) h[r] = 1;
      hears.push(h);
      roles.push(set);
    }
    rowOfRole[listener] = row;
  }
  return { rowOfRole, hears, roles };
}

// ── Kernels: monomorphic loops over typed arrays. The hot ones (every listener, every tick)
// are unrolled by 4: rooms at 8, 16 and 48 kHz share them, so V8 cannot fold the trip count,
// and the 4-way body measured 25–30 % faster here. Frame lengths are multiples of 4. ──

function addOne(acc: Int32Array, x: Int16Array, n: number): number {
  let sq = 0;
  for (let i = 0; i < n; i += 4) {
    const a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
    acc[i] += a;
    acc[i + 1] += b;
    acc[i + 2] += c;
    acc[i + 3] += d;
    sq += a * a + b * b + c * c + d * d;
  }
  return sq;
}

function writeMinus(out: Int16Array, base: Int32Array, self: Int16Array, n: number): void {
  for (let i = 0; i < n; i += 4) {
    out[i] = clamp16(base[i] - self[i]);
    out[i + 1] = clamp16(base[i + 1] - self[i + 1]);
    out[i + 2] = clamp16(base[i + 2] - self[i + 2]);
    out[i + 3] = clamp16(base[i + 3] - self[i + 3]);
  }
}

function writeClamped(out: Int16Array, base: Int32Array, n: number): void {
  for (let i = 0; i < n; i += 4) {
    out[i] = clamp16(base[i]);
    out[i + 1] = clamp16(base[i + 1]);
    out[i + 2] = clamp16(base[i + 2]);
    out[i + 3] = clamp16(base[i + 3]);
  }
}

// Saturate, never wrap: an Int16Array store of 40000 would become −25536, a loud click.
function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

function addTwo(p: Int32Array, q: Int32Array, x: Int16Array, n: number): number {
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    p[i] += v;
    q[i] += v;
    sq += v * v;
  }
  return sq;
}

function sumSquares(x: Int16Array, n: number): number {
  let sq = 0;
  for (let i = 0; i < n; i++) sq += x[i] * x[i];
  return sq;
}

function addSums(acc: Int32Array, src: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) acc[i] += src[i];
}

// Gain 1 is exact; other gains round, identically here and in the tap's subtraction.
function gained(v: number, gain: number): number {
  return gain === 1 ? v : Math.round(v * gain);
}

function addGain(acc: Int32Array, x: Int16Array, gain: number, n: number): void {
  for (let i = 0; i < n; i++) acc[i] += gained(x[i], gain);
}

function writeMinusGain(out: Int16Array, base: Int32Array, x: Int16Array, g: number, n: number) {
  for (let i = 0; i < n; i++) out[i] = clamp16(base[i] - gained(x[i], g));
}

function writeDiff(out: Int16Array, base: Int32Array, minus: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = clamp16(base[i] - minus[i]);
}
