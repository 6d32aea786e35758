/**
 * Sorting out the unusable images: an image vouched for (decoded before, as the caller knows) is
 * checked from its header and not decoded, unless its header shows it too small for the crop or
 * over the pixel limit, or cannot be read: then it is decoded, named and skipped as any other.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ImageStore } from "../../../lib/data/cache.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { sniffImage } from "../../../lib/data/decode.ts";
import { usable } from "../../../lib/data/samples.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { SHIPPED, withTempDir } from "../../_helpers.ts";

Deno.test("usable: a vouched image is checked from its header, decoded only where that fails", async () => {
  await withTempDir(async (run) => {
    const ds = await loadDataset(SHIPPED);
    const entries = ds.images.slice(0, 3).map((e) => ({ ...e, role: "test" as const }));
    const sizes = await Promise.all(
      entries.map(async (e) => sniffImage(await Deno.readFile(e.path), e.path)),
    );
    const side = Math.min(...sizes.map((s) => Math.min(s.width, s.height)));
    const all = new Set(entries.map((e) => e.path));
    const check = (store: ImageStore, crop: number, vouched?: Set<string>) =>
      usable(entries, store, { kind: "center", size: 16 }, crop, {
        skipBad: true,
        run,
        log: makeProgress({ quiet: true }),
        what: "test",
        ...(vouched ? { vouched } : {}),
      });
    // vouched: all usable, none decoded; not vouched: each decoded once
    const vouchedStore = new ImageStore();
    assert.deepEqual(await check(vouchedStore, 16, all), entries);
    assert.equal(vouchedStore.decodes, 0);
    const plain = new ImageStore();
    assert.deepEqual(await check(plain, 16), entries);
    assert.equal(plain.decodes, 3);
    // one vouched, two not
    const one = new ImageStore();
    assert.deepEqual(await check(one, 16, new Set([entries[0].path])), entries);
    assert.equal(one.decodes, 2);
    // too small for the crop, though vouched: decoded, and skipped and named
    const small = new ImageStore();
    assert.deepEqual(await check(small, side + 1, all), []);
    assert.equal(small.decodes, 3);
    assert.match(await Deno.readTextFile(join(run, "skipped.txt")), /smaller than the/);
    // over the store's pixel limit, though vouched: decoded (refused), and skipped
    const limited = new ImageStore({ maxPixels: 100 });
    assert.deepEqual(await check(limited, 16, all), []);
    assert.match(await Deno.readTextFile(join(run, "skipped.txt")), /pixel limit/);
  });
});
