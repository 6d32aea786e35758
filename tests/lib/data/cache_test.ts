import assert from "node:assert/strict";
import { join } from "node:path";
import { ImageStore, tile, tileCount } from "../../../lib/data/cache.ts";
import { centerCrop } from "../../../lib/data/image.ts";
import { readImage } from "../../../lib/data/decode.ts";
import { SHIPPED, withTempDir } from "../../_helpers.ts";

const IMG = join(SHIPPED, "POVRay/povray_00003.png");

Deno.test("cache: each image is decoded once; a second store reads the disk cache", async () => {
  await withTempDir(async (dir) => {
    const a = new ImageStore({ dir });
    const c1 = await a.get(IMG, { kind: "center", size: 96 });
    await a.get(IMG, { kind: "center", size: 96 });
    assert.equal(a.decodes, 1);
    const b = new ImageStore({ dir });
    const c2 = await b.get(IMG, { kind: "center", size: 96 });
    assert.equal(b.decodes, 0);
    assert.deepEqual(c2, c1);
    assert.deepEqual(c1, centerCrop(await readImage(IMG), 96));
  });
});

Deno.test("cache: a torn cache file is ignored and the image decoded again", async () => {
  await withTempDir(async (dir) => {
    await new ImageStore({ dir }).get(IMG, { kind: "center", size: 64 });
    for await (const e of Deno.readDir(dir)) {
      await Deno.writeFile(join(dir, e.name), new Uint8Array([1, 2, 3]));
    }
    const s = new ImageStore({ dir });
    const c = await s.get(IMG, { kind: "center", size: 64 });
    assert.equal(s.decodes, 1);
    assert.equal(c.data.length, 64 * 64 * 3);
  });
});

Deno.test("cache: memory stays within its budget", async () => {
  const s = new ImageStore({ memoryBytes: 100 * 100 * 3 * 2 });
  const files = ["Photos/photo_00001.png", "Photos/photo_00010.png", "Cycles/cycles_00000.png"].map(
    (f) => join(SHIPPED, f),
  );
  for (const f of files) await s.get(f, { kind: "center", size: 100 });
  await s.get(files[0], { kind: "center", size: 100 }); // evicted: decoded again
  assert.equal(s.decodes, 4);
  await s.get(files[0], { kind: "center", size: 100 });
  assert.equal(s.decodes, 4);
});

Deno.test("cache: tiles view stacks a grid of crops", async () => {
  const s = new ImageStore();
  const strip = await s.get(IMG, { kind: "tiles", size: 96, perSide: 2 });
  assert.equal(tileCount(strip), 4);
  const full = await readImage(IMG);
  assert.deepEqual(tile(strip, 3).data, cropCorner(full)); // bottom-right tile of the 2x2 grid
  function cropCorner(img: typeof full) {
    const out = new Uint8Array(96 * 96 * 3);
    for (let r = 0; r < 96; r++) {
      out.set(
        img.data.subarray(((160 + r) * 256 + 160) * 3, ((160 + r) * 256 + 256) * 3),
        r * 96 * 3,
      );
    }
    return out;
  }
});

Deno.test("cache: an image replaced by another of the same size and time is decoded again", async () => {
  await withTempDir(async (dir) => {
    // two uncompressed images of one size, one after the other at one path and one time
    const ppm = (v: number) => {
      const head = new TextEncoder().encode("P6\n64 64\n255\n");
      const out = new Uint8Array(head.length + 64 * 64 * 3);
      out.set(head);
      out.fill(v, head.length);
      return out;
    };
    const path = join(dir, "img.ppm"), cache = join(dir, "cache");
    const when = new Date("2026-01-01T00:00:00Z");
    await Deno.writeFile(path, ppm(40));
    await Deno.utime(path, when, when);
    const a = await new ImageStore({ dir: cache }).get(path, { kind: "center", size: 32 });
    assert.equal(a.data[0], 40);
    await Deno.writeFile(path, ppm(200));
    await Deno.utime(path, when, when);
    const s = new ImageStore({ dir: cache });
    const b = await s.get(path, { kind: "center", size: 32 });
    assert.equal(s.decodes, 1);
    assert.equal(b.data[0], 200);
  });
});

Deno.test("cache: a missing file is named, and an unreadable one is named with the reason", async () => {
  await withTempDir(async (dir) => {
    const s = new ImageStore({ dir });
    const missing = join(dir, "gone.png");
    await assert.rejects(s.get(missing, { kind: "center", size: 32 }), /gone\.png: file not found/);
    const torn = join(dir, "torn.png");
    await Deno.writeFile(torn, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    await assert.rejects(s.get(torn, { kind: "center", size: 32 }), (e: Error) => {
      assert.match(e.message, /torn\.png/);
      assert.doesNotMatch(e.message, /file not found/);
      return true;
    });
    assert.equal(s.decodes, 1); // the missing file never reached the decoder
  });
});
