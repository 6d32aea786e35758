/**
 * Named float32 arrays on disk in the tfjs weights format: a JSON manifest (`weightsManifest`
 * with names, shapes and dtypes, as `tf.io` reads it) and one binary file of the values
 * concatenated in manifest order. The manifest also records the byte length and a SHA-256 of
 * the binary file; loading checks both and every shape, and never evaluates anything it reads.
 *
 * @module
 */

import { join } from "node:path";
import { ModelError } from "./errors.ts";
import { atomicWrite, writeJson } from "./files.ts";

/** A named array with its shape. */
export interface NamedArray {
  /** Name in the manifest. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Values, row-major. */
  data: Float32Array;
}

/** The manifest written next to a bundle's binary file. */
export interface BundleManifest {
  format: string;
  weightsManifest: {
    paths: string[];
    weights: { name: string; shape: number[]; dtype: "float32" }[];
  }[];
  byteLength: number;
  sha256: string;
  [extra: string]: unknown;
}

/** Where a bundle lives: a local folder, or a base URL (`http:`, `https:` or `file:`). */
export type Location = string | URL;

/** Display name (and fetch target) of file `name` at `loc`. */
export function at(loc: Location, name: string): string {
  if (loc instanceof URL) {
    return new URL(name, loc.href.endsWith("/") ? loc : new URL(loc.href + "/")).href;
  }
  return join(loc, name);
}

/** Reads a file of a bundle, from disk or over the network; errors name the file. */
export async function readAt(loc: Location, name: string): Promise<Uint8Array> {
  const where = at(loc, name);
  if (loc instanceof URL) {
    let res: Response;
    try {
      res = await fetch(where);
    } catch (e) {
      throw new ModelError(`${where}: ${(e as Error).message.split("\n")[0]}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ModelError(`${where}: HTTP ${res.status}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  }
  try {
    return await Deno.readFile(where);
  } catch (e) {
    throw new ModelError(
      `${where}: ${e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message}`,
    );
  }
}

/** Hex SHA-256 of bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Hex SHA-256 of a file's bytes, or undefined when there is no such file (other errors thrown).
 *
 * @example
 * ```ts
 * import { fileSha256 } from "./bundle.ts";
 * console.log(await fileSha256("/no/such/file")); // undefined
 * ```
 */
export async function fileSha256(path: string): Promise<string | undefined> {
  try {
    return await sha256Hex(await Deno.readFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Writes `<dir>/<stem>.json` and `<dir>/<stem>.bin` (each atomically; the binary first, so a
 * manifest never points at a missing or partial binary). `extra` fields go into the manifest.
 */
export async function saveBundle(
  dir: string,
  stem: string,
  format: string,
  arrays: NamedArray[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const total = arrays.reduce((s, a) => s + a.data.length, 0);
  const bin = new Uint8Array(total * 4);
  const f32 = new Float32Array(bin.buffer);
  let off = 0;
  for (const a of arrays) {
    const n = a.shape.reduce((p, d) => p * d, 1);
    if (n !== a.data.length) {
      throw new ModelError(`${a.name}: shape ${a.shape} does not hold ${a.data.length} values`);
    }
    f32.set(a.data, off);
    off += n;
  }
  const manifest: BundleManifest = {
    format,
    ...extra,
    weightsManifest: [{
      paths: [`${stem}.bin`],
      weights: arrays.map((a) => ({ name: a.name, shape: a.shape, dtype: "float32" as const })),
    }],
    byteLength: bin.length,
    sha256: await sha256Hex(bin),
  };
  await atomicWrite(join(dir, `${stem}.bin`), bin);
  await writeJson(join(dir, `${stem}.json`), manifest);
}

/** Reads a bundle's manifest only. */
export async function readManifest(dir: Location, stem: string): Promise<BundleManifest> {
  const path = at(dir, `${stem}.json`);
  const text = new TextDecoder().decode(await readAt(dir, `${stem}.json`));
  let m: BundleManifest;
  try {
    m = JSON.parse(text);
  } catch {
    throw new ModelError(`${path}: not valid JSON`);
  }
  const wm = m?.weightsManifest;
  if (
    !Array.isArray(wm) || wm.length !== 1 || !Array.isArray(wm[0].paths) ||
    wm[0].paths.length !== 1 ||
    !Array.isArray(wm[0].weights) || typeof m.byteLength !== "number" ||
    typeof m.sha256 !== "string"
  ) throw new ModelError(`${path}: not a cgvsni weights manifest`);
  for (const w of wm[0].weights) {
    if (
      typeof w.name !== "string" || !Array.isArray(w.shape) ||
      !w.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0) ||
      w.dtype !== "float32"
    ) throw new ModelError(`${path}: bad weight entry ${JSON.stringify(w).slice(0, 80)}`);
  }
  return m;
}

/**
 * Loads a bundle, checking the binary's length and checksum against the manifest, and (when
 * `expect` is given) that it holds exactly those names with those shapes.
 */
export async function loadBundle(
  dir: Location,
  stem: string,
  expect?: { format?: string; shapes?: Map<string, number[]> },
): Promise<{ manifest: BundleManifest; arrays: Map<string, NamedArray> }> {
  const manifest = await readManifest(dir, stem);
  const where = at(dir, `${stem}.json`);
  if (expect?.format && manifest.format !== expect.format) {
    throw new ModelError(`${where}: format is "${manifest.format}", expected "${expect.format}"`);
  }
  const file = manifest.weightsManifest[0].paths[0];
  if (file.includes("/") || file.includes("\\") || file.startsWith(".")) {
    throw new ModelError(`${where}: weights path must be a plain file name, got "${file}"`);
  }
  const binPath = at(dir, file);
  const bin = await readAt(dir, file);
  const weights = manifest.weightsManifest[0].weights;
  const needed = weights.reduce((s, w) => s + w.shape.reduce((p, d) => p * d, 1), 0) * 4;
  if (bin.length !== manifest.byteLength || bin.length !== needed) {
    throw new ModelError(
      `${binPath}: ${bin.length} bytes, manifest says ${manifest.byteLength} and its shapes need ${needed}`,
    );
  }
  if (await sha256Hex(bin) !== manifest.sha256) {
    throw new ModelError(`${binPath}: checksum mismatch (file corrupt)`);
  }
  const all = new Float32Array(bin.buffer, bin.byteOffset, bin.length / 4);
  const arrays = new Map<string, NamedArray>();
  let off = 0;
  for (const w of weights) {
    const n = w.shape.reduce((p, d) => p * d, 1);
    arrays.set(w.name, { name: w.name, shape: w.shape, data: all.slice(off, off + n) });
    off += n;
  }
  if (expect?.shapes) {
    for (const [name, shape] of expect.shapes) {
      const got = arrays.get(name);
      if (!got) throw new ModelError(`${where}: missing weight ${name}`);
      if (got.shape.join("x") !== shape.join("x")) {
        throw new ModelError(
          `${where}: ${name} has shape [${got.shape}], the model needs [${shape}]`,
        );
      }
    }
    for (const name of arrays.keys()) {
      if (!expect.shapes.has(name)) throw new ModelError(`${where}: unexpected weight ${name}`);
    }
  }
  return { manifest, arrays };
}
