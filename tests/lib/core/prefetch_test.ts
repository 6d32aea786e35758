import assert from "node:assert/strict";
import { prefetch } from "../../../lib/core/prefetch.ts";

Deno.test("prefetch: items in order, failures handed back, at most `ahead` loads waiting", async () => {
  let inFlight = 0, most = 0;
  const load = async (i: number) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, (7 - i) * 2)); // later items finish first
    inFlight--;
    if (i === 3) throw new Error("bad item");
    return i * 10;
  };
  const seen: string[] = [];
  for await (const [i, r] of prefetch([0, 1, 2, 3, 4, 5], 1, load)) {
    seen.push(r.status === "fulfilled" ? `${i}:${r.value}` : `${i}:${(r.reason as Error).message}`);
    // the item in hand and one more: never more than two loads started and not yet used
    assert.ok(inFlight <= 1);
  }
  assert.deepEqual(seen, ["0:0", "1:10", "2:20", "3:bad item", "4:40", "5:50"]);
  assert.equal(most, 2);
  const none: string[] = [];
  for await (const [x] of prefetch([], 2, () => Promise.resolve(0))) none.push(String(x));
  assert.deepEqual(none, []);
});
