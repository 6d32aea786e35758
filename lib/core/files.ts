/**
 * File writes that never leave a half-written file behind: data goes to a temporary file in the
 * same folder, is flushed, then renamed over the target (atomic on POSIX file systems).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { CgvsniError } from "./errors.ts";

let counter = 0;

function tempName(path: string): string {
  return join(dirname(path), `.${path.split("/").pop()}.tmp-${Deno.pid}-${counter++}`);
}

/** Explains a failed write in one line, naming the path. */
export function writeError(path: string, e: unknown): CgvsniError {
  const err = e as Error;
  let why = err.message?.split("\n")[0] ?? String(e);
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    why = `permission denied (Deno's --allow-write does not cover it: add --allow-write=${
      dirname(path)
    })`;
  } else if (/No space left|ENOSPC|os error 28/i.test(why)) why = "no space left on device";
  return new CgvsniError(`cannot write ${path}: ${why}`);
}

/** Writes bytes or text to `path` atomically. */
export async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempName(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw writeError(path, e);
  }
}

/** Writes JSON (2-space indented) atomically. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await atomicWrite(path, JSON.stringify(value, null, 2) + "\n");
}

/** Reads and parses a JSON file, or returns `undefined` if it does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new CgvsniError(`${path}: ${(e as Error).message}`);
  }
}

/** True if `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Appends one line to a text file (used for `metrics.jsonl`; each line is written whole). */
export async function appendLine(path: string, line: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, line.endsWith("\n") ? line : line + "\n", {
      append: true,
      create: true,
    });
  } catch (e) {
    throw writeError(path, e);
  }
}

/**
 * JSON that keeps NaN and ±Infinity (as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`), so
 * that numbers written by one process and read by another are the same numbers, bit for bit.
 *
 * @example
 * ```ts
 * import { parseExact, stringifyExact } from "./files.ts";
 * console.log(parseExact(stringifyExact({ a: NaN, b: 0.1 + 0.2 }))); // { a: NaN, b: 0.30000000000000004 }
 * ```
 */
export function stringifyExact(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => typeof x === "number" && !Number.isFinite(x) ? String(x) : x,
  );
}

/** Reads {@link stringifyExact}'s JSON back. */
export function parseExact<T = unknown>(text: string): T {
  return JSON.parse(
    text,
    (_k, x) => x === "NaN" ? NaN : x === "Infinity" ? Infinity : x === "-Infinity" ? -Infinity : x,
  );
}
