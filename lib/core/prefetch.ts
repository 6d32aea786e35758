/**
 * Loading the next items while the current one is used: a bounded read-ahead queue, so that
 * decoding (which libvips does on its own threads) overlaps scoring, and at most `ahead` items
 * wait in memory.
 *
 * @module
 */

/**
 * Each item with the outcome of `load(item)`, in order, with up to `ahead` loads started before
 * their turn. A failed load is returned as its rejection, not thrown, so one bad item does not
 * end the walk.
 *
 * @example Decode the next file while this one is scored
 * ```ts
 * import { prefetch } from "./prefetch.ts";
 * const seen: string[] = [];
 * for await (const [name, r] of prefetch(["a", "b", "c"], 1, async (s) => s.toUpperCase())) {
 *   seen.push(r.status === "fulfilled" ? r.value : "?");
 * }
 * console.log(seen); // ["A", "B", "C"]
 * ```
 */
export async function* prefetch<T, R>(
  items: readonly T[],
  ahead: number,
  load: (item: T) => Promise<R>,
): AsyncGenerator<[T, PromiseSettledResult<R>]> {
  const settle = (t: T): Promise<PromiseSettledResult<R>> =>
    load(t).then(
      (value) => ({ status: "fulfilled", value }),
      (reason) => ({ status: "rejected", reason }),
    );
  // while item i is in the caller's hands, items i+1 .. i+ahead are loading
  const queue: Promise<PromiseSettledResult<R>>[] = [];
  let next = 0;
  for (let i = 0; i < items.length; i++) {
    while (next < items.length && queue.length <= ahead) queue.push(settle(items[next++]));
    const r = await queue.shift()!;
    yield [items[i], r];
  }
}
