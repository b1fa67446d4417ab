import assert from "node:assert/strict";
import { join } from "node:path";
import { BadRequest, Conflict } from "../../../src/errors.ts";
import {
  defaultRecordingName,
  reserveRecordingPath,
  validateRecordingFilename,
} from "../../../src/media/recording_names.ts";

Deno.test("defaultRecordingName() formats UTC time and a lowercase hex suffix", () => {
  // 23:59:58 on Jan 5 in UTC is already Jan 6 in UTC+1: the name must use UTC.
  const now = new Date("2026-01-05T23:59:58.750Z");
  assert.equal(defaultRecordingName(now, () => "DEADBEEF"), "20260105_235958_deadbeef.wav");
  const random = defaultRecordingName(now);
  assert.match(random, /^20260105_235958_[0-9a-f]{8}\.wav$/);
  assert.notEqual(defaultRecordingName(now), defaultRecordingName(now));
  assert.equal(validateRecordingFilename(random), random);
  assert.throws(() => defaultRecordingName(now, () => "xyz"), /8 hex digits/);
});

Deno.test("validateRecordingFilename() appends .wav only when missing", () => {
  assert.equal(validateRecordingFilename("call-42"), "call-42.wav");
  assert.equal(validateRecordingFilename("call_42.wav"), "call_42.wav");
  assert.equal(validateRecordingFilename("Call.WAV"), "Call.WAV");
  assert.equal(validateRecordingFilename("a.b-c_d"), "a.b-c_d.wav");
  assert.equal(validateRecordingFilename("x".repeat(200)), `${"x".repeat(200)}.wav`);
});

Deno.test("validateRecordingFilename() rejects traversal, separators, hidden and odd names with 400", () => {
  const bad = [
    "../x.wav",
    "a/b.wav",
    "/abs.wav",
    "..",
    "a..b",
    ".hidden",
    ".wav",
    "a\\b",
    "x\u0000y",
    "",
    "x".repeat(201),
    "sp ace",
    "tab\t",
    "é.wav",
    "a:b",
    "x.",
  ];
  for (const name of bad) {
    assert.throws(
      () => validateRecordingFilename(name),
      (e: unknown) => e instanceof BadRequest && e.status === 400,
      JSON.stringify(name),
    );
  }
});

Deno.test("reserveRecordingPath() creates the directory and returns an absolute path", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = join(tmp, "a", "b");
    const reserved = new Set<string>();
    const path = await reserveRecordingPath(dir, "x.wav", reserved);
    assert.equal(path, join(dir, "x.wav"));
    assert.ok((await Deno.stat(dir)).isDirectory);
    assert.ok(reserved.has(path));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("reserveRecordingPath() answers 409 for an existing file and for a reserved name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const reserved = new Set<string>();
    await Deno.writeTextFile(join(dir, "old.wav"), "x");
    await assert.rejects(
      reserveRecordingPath(dir, "old.wav", reserved),
      (e: unknown) =>
        e instanceof Conflict && e.status === 409 &&
        e.message === "recording file old.wav already exists",
    );
    assert.equal(reserved.size, 0, "a failed reservation must not stay reserved");

    // Two concurrent requests for the same name: exactly one wins.
    const results = await Promise.allSettled([
      reserveRecordingPath(dir, "new.wav", reserved),
      reserveRecordingPath(dir, "new.wav", reserved),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.ok(lost.reason instanceof Conflict);
    assert.equal(lost.reason.message, "recording file new.wav already exists");

    // Released by its owner, the name can be taken again.
    reserved.delete(join(dir, "new.wav"));
    assert.equal(await reserveRecordingPath(dir, "new.wav", reserved), join(dir, "new.wav"));
    await assert.rejects(reserveRecordingPath(dir, "../escape.wav", reserved), BadRequest);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
