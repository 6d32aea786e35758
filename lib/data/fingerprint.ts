/**
 * A file's fingerprint: what the feature cache records of each image beside its name, so that a
 * file replaced under the same name (a render set rebuilt, a photograph re-exported) is never
 * read from the cache as the file it replaced.
 *
 * The fingerprint is the file's size and the SHA-256 of its first and last 64 KiB. It does not
 * depend on the file's time or place, so a copy of the same bytes (another machine, a cluster
 * node, `cp` without `-p`) keeps it and cached vectors stay usable; and it reads at most 128 KiB,
 * so checking a cache of thousands of 24-megapixel photographs costs little next to decoding one.
 * An edit of the same length that changes neither end is not seen: image encoders write a header
 * and entropy-coded data from the start, so no real re-encoding or re-render does that.
 *
 * @module
 */

/** Bytes read from each end of a file. */
const END = 64 * 1024;

/**
 * The fingerprint of the file at `path` (`<size>:<hex>`), or `"unreadable"` when it cannot be
 * read: the caller that decodes it names the file and why.
 *
 * @example Two copies of an image share a fingerprint; another image has its own
 * ```ts
 * import { fileFingerprint } from "./mod.ts";
 * const copy = await Deno.makeTempFile();
 * await Deno.copyFile("dataset/Cycles/cycles_00000.png", copy);
 * const a = await fileFingerprint("dataset/Cycles/cycles_00000.png");
 * console.log(a === await fileFingerprint(copy)); // true
 * console.log(a === await fileFingerprint("dataset/Cycles/cycles_00001.png")); // false
 * ```
 */
export async function fileFingerprint(path: string): Promise<string> {
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path, { read: true });
    const size = (await file.stat()).size;
    const head = await readAt(file, 0, Math.min(END, size));
    const tail = size > END
      ? await readAt(file, Math.max(END, size - END), size)
      : new Uint8Array();
    const both = new Uint8Array(head.length + tail.length);
    both.set(head);
    both.set(tail, head.length);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", both));
    return `${size}:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  } catch {
    return "unreadable";
  } finally {
    file?.close();
  }
}

/**
 * The fingerprints of many files, a few read at a time, each path read once.
 *
 * @example
 * ```ts
 * import { fileFingerprints } from "./mod.ts";
 * const fp = await fileFingerprints(["dataset/Cycles/cycles_00000.png", "no/such/file.png"]);
 * console.log(fp.get("no/such/file.png")); // "unreadable"
 * ```
 */
export async function fileFingerprints(
  paths: string[],
  parallel = 8,
): Promise<Map<string, string>> {
  const todo = [...new Set(paths)], out = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const p = todo[next++];
      out.set(p, await fileFingerprint(p));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
  return out;
}

/** Bytes `from` (inclusive) to `to` (exclusive) of an open file. */
async function readAt(file: Deno.FsFile, from: number, to: number): Promise<Uint8Array> {
  const buf = new Uint8Array(to - from);
  await file.seek(from, Deno.SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return buf.subarray(0, got);
}
