/**
 * A file's fingerprint: what the caches record of each image beside its name, so that a file
 * replaced under the same name (a render set rebuilt, a photograph re-exported) is never read from
 * a cache as the file it replaced.
 *
 * The fingerprint is the file's size and the SHA-256 of all its bytes. It does not depend on the
 * file's time or place, so a copy of the same bytes (another machine, a cluster node, `cp` without
 * `-p`) keeps it and cached vectors stay usable. Hashing reads the file once (streamed, 1 MiB at a
 * time): about 10 ms for a 24-megapixel JPEG, little next to decoding it. Within one process a
 * file's fingerprint is remembered while its path, inode, size, modification and change times
 * stay the same (not for a file changed in the last two seconds, which may still be being
 * written).
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Fingerprints computed in this process, by path, inode, size, modification and change times. */
const seen = new Map<string, string>();

/**
 * The fingerprint of the file at `path` (`<size>:<hex>`). A file that cannot be read gets a
 * value of its own (`unreadable:…`) that matches nothing, so no cached row is taken for it (the
 * caller that decodes it names the file and says why).
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
    const stat = await file.stat();
    // the change time too: a replacement given the old modification time (cp -p) changes it
    const changed = stat.ctime ?? stat.mtime;
    const key = [path, stat.ino, stat.size, stat.mtime?.getTime(), changed?.getTime()].join("\0");
    const known = seen.get(key);
    if (known) return known;
    const hash = createHash("sha256"), buf = new Uint8Array(1 << 20);
    for (let n; (n = await file.read(buf)) !== null;) hash.update(buf.subarray(0, n));
    const fp = `${stat.size}:${hash.digest("hex")}`;
    if (changed && Date.now() - changed.getTime() > 2000) seen.set(key, fp);
    return fp;
  } catch {
    return `unreadable:${crypto.randomUUID()}`;
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
 * console.log(fp.get("no/such/file.png")?.startsWith("unreadable")); // true
 * ```
 */
export async function fileFingerprints(
  paths: string[],
  parallel = 4,
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
