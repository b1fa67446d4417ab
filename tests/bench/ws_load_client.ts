/**
 * Load generator for the media benchmark, run as a separate process so the server's CPU is
 * measured alone. Opens `rooms × perRoom` WebSocket legs (binary PCM at `rate`) into rooms
 * `bench-<i>`, sends one 20 ms tone frame per leg per tick, counts received frames, and prints
 * one JSON line when done: `{"ready":true}` once all are connected, then `{"done":…}`.
 *
 * Usage: deno run --allow-net ws_load_client.ts <baseWsUrl> <rooms> <perRoom> <rate> <seconds>
 */
const [base, roomsArg, perRoomArg, rateArg, secondsArg] = Deno.args;
const rooms = Number(roomsArg);
const perRoom = Number(perRoomArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const n = rate / 50;

const sockets: WebSocket[] = [];
let received = 0;
const opens: Promise<void>[] = [];
for (let r = 0; r < rooms; r++) {
  for (let p = 0; p < perRoom; p++) {
    const ws = new WebSocket(`${base}/v1/legs/websocket?room_id=bench-${r}&sample_rate=${rate}`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) received++;
    };
    opens.push(
      new Promise((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("connect failed"));
      }),
    );
    sockets.push(ws);
  }
}
await Promise.all(opens);

// One pre-built frame per leg (a distinct tone each), sent every 20 ms on an absolute grid.
const frames = sockets.map((_, i) => {
  const f = new Int16Array(n);
  const hz = 200 + (i % 40) * 50;
  for (let k = 0; k < n; k++) f[k] = Math.round(6000 * Math.sin((2 * Math.PI * hz * k) / rate));
  return new Uint8Array(f.buffer);
});
console.log(JSON.stringify({ ready: true }));

const t0 = performance.now();
let tick = 0;
await new Promise<void>((resolve) => {
  const step = () => {
    for (let i = 0; i < sockets.length; i++) {
      if (sockets[i].readyState === WebSocket.OPEN) sockets[i].send(frames[i]);
    }
    tick++;
    if (performance.now() - t0 >= seconds * 1000) return resolve();
    setTimeout(step, Math.max(0, t0 + (tick + 1) * 20 - performance.now()));
  };
  step();
});
const sent = tick * sockets.length;
for (const ws of sockets) ws.close();
console.log(JSON.stringify({ done: true, sent, received, legs: sockets.length }));
