/** Small helpers shared by the modules that write recording files. */

/** Eight lowercase hex characters from a CSPRNG (file-name suffixes, staging names). */
export function randomHex8(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** The message of an error-like value. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Writes all of `bytes` (a single `write` may be partial). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}
