/** A room: a set of legs mixed together at one sample rate (media arrives with the media core). */
import type { WebhookTarget } from "../events/event.ts";
import type { RoomSampleRate } from "../config/types.ts";
import type { LegView } from "../legs/leg.ts";

/** The contract's Room object (without the injected `instance_id`). */
export interface RoomView {
  id: string;
  app_id?: string;
  sample_rate: RoomSampleRate;
  participants: LegView[];
}

/** Control-plane state of one room. */
export class Room {
  readonly id: string;
  readonly sampleRate: RoomSampleRate;
  readonly appId: string;
  readonly webhook: WebhookTarget | undefined;
  readonly createdAt = Date.now();
  /** Ids of member legs in join order. */
  readonly legIds = new Set<string>();
  /** Set while `DELETE` hangs up the legs; the room is then invisible to lookups. */
  deleting = false;
  /** Whether the media plane has a mixer for this room (created on first join). */
  mixerReady = false;
  /** Closers of the room's raw WebSocket mixer slots (not legs). */
  readonly wsSlots = new Set<() => void>();

  constructor(init: {
    id: string;
    sampleRate: RoomSampleRate;
    appId?: string;
    webhook?: WebhookTarget;
  }) {
    this.id = init.id;
    this.sampleRate = init.sampleRate;
    this.appId = init.appId ?? "";
    this.webhook = init.webhook;
  }

  /** The contract view, given a lookup from leg id to its view. */
  view(legView: (id: string) => LegView | undefined): RoomView {
    const participants: LegView[] = [];
    for (const id of this.legIds) {
      const v = legView(id);
      if (v) participants.push(v);
    }
    const v: RoomView = { id: this.id, sample_rate: this.sampleRate, participants };
    if (this.appId) v.app_id = this.appId;
    return v;
  }
}
