/**
 * Shards: the `i`-th of `N` contiguous slices of a sorted list of work items. Contiguous (not
 * strided) so that concatenating the shards' outputs in shard order gives exactly the order one
 * process would write.
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError, UsageError } from "../core/errors.ts";

/** One shard of a job: `index` in 1..`count`. */
export interface Shard {
  /** 1-based index. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** The whole job as one shard. */
export const WHOLE: Shard = { index: 1, count: 1 };

/**
 * Parses `i/N` (1 ≤ i ≤ N).
 *
 * @example
 * ```ts
 * import { parseShard } from "./mod.ts";
 * console.log(parseShard("2/4")); // { index: 2, count: 4 }
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 100000) {
    throw new UsageError(`shard must be i/N with 1 <= i <= N (e.g. 2/4), got "${text}"`);
  }
  return { index, count };
}

/**
 * The half-open range of item positions `[start, end)` a shard owns among `n` items: the
 * shards' ranges tile `0..n` in order, sizes differing by at most one.
 *
 * @example
 * ```ts
 * import { shardRange } from "./mod.ts";
 * console.log([1, 2, 3].map((i) => shardRange(10, { index: i, count: 3 }))); // [[0, 3], [3, 6], [6, 10]]
 * ```
 */
export function shardRange(n: number, s: Shard): [number, number] {
  return [Math.floor(((s.index - 1) * n) / s.count), Math.floor((s.index * n) / s.count)];
}

/**
 * The items of a shard.
 *
 * @example
 * ```ts
 * import { shardOf } from "./mod.ts";
 * console.log(shardOf(["a", "b", "c", "d", "e"], { index: 2, count: 2 })); // ["c", "d", "e"]
 * ```
 */
export function shardOf<T>(items: readonly T[], s: Shard): T[] {
  const [a, b] = shardRange(items.length, s);
  return items.slice(a, b);
}

/**
 * A shard's file-name stem, sorting in shard order: `shard-0002-of-0004`.
 *
 * @example
 * ```ts
 * import { shardName } from "./mod.ts";
 * console.log(shardName({ index: 2, count: 4 })); // "shard-0002-of-0004"
 * ```
 */
export function shardName(s: Shard): string {
  const w = Math.max(4, String(s.count).length);
  return `shard-${String(s.index).padStart(w, "0")}-of-${String(s.count).padStart(w, "0")}`;
}

/** Every shard of `count`, in order. */
export function allShards(count: number): Shard[] {
  return Array.from({ length: count }, (_, i) => ({ index: i + 1, count }));
}

/**
 * The files `shard-i-of-N.<ext>` in `dir`, in shard order: all N of them, or an error naming the
 * missing ones (`what` says how to make them).
 */
export async function shardFiles(dir: string, ext: string, what: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
      .filter((n) => new RegExp(`^shard-\\d+-of-\\d+\\.${ext}$`).test(n));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (names.length === 0) throw new CgvsniError(`${dir}: no shards to merge`);
  const counts = [...new Set(names.map((n) => Number(/-of-(\d+)/.exec(n)![1])))];
  if (counts.length > 1) {
    throw new CgvsniError(
      `${dir}: shards of ${
        counts.join(" and ")
      } (split again into the same folder): remove the old ones`,
    );
  }
  const count = counts[0];
  const wanted = allShards(count).map((s) => `${shardName(s)}.${ext}`);
  const missing = wanted.filter((n) => !names.includes(n));
  if (missing.length || names.length !== count) {
    throw new CgvsniError(
      `${dir}: ${missing.length} of ${count} shards missing (${missing.slice(0, 5).join(", ")}${
        missing.length > 5 ? ", ..." : ""
      }); ${what} (--shard i/${count}) before merging`,
    );
  }
  return wanted.map((n) => join(dir, n));
}
