/**
 * The `profile` features: their layout, that noise raises the fine-scale energy and a blur lowers
 * it, that clipped patches are left out and flat unclipped ones are not, that a photograph stored
 * larger than 512 px reads as its 512-px copy, that the source is registered as a whole-image one
 * (cached and saved under its own definition), and that its features are the quantiles of its
 * patch tables.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Rng } from "../../../lib/core/rng.ts";
import { readImage } from "../../../lib/data/decode.ts";
import type { RgbImage } from "../../../lib/data/image.ts";
import { addNoise, fitShortSide, gaussianBlur, resize } from "../../../lib/data/perturb.ts";
import { PROFILE_DIM, profileFeatures, profilePatches } from "../../../lib/features/profile.ts";
import {
  needsMap,
  sourceSpec,
  specKey,
  wholeImageFeatures,
} from "../../../lib/features/sources.ts";
import { SHIPPED } from "../../_helpers.ts";

// per scale 27 numbers: for the 10, 50, 90 % quantiles, E(d1, d2, d3, kb), E − C (4), C
const E_D1_MEDIAN = 9;

Deno.test("profile: 81 numbers; noise raises the fine-scale energy, a blur lowers it", async () => {
  const img = await readImage(`${SHIPPED}/Photos/photo_00010.png`);
  const f = profileFeatures(img);
  assert.equal(f.length, PROFILE_DIM);
  assert.equal(PROFILE_DIM, 81);
  assert.ok(f.every(Number.isFinite));
  const noisy = profileFeatures(addNoise(img, 8, new Rng(1)));
  const blurred = profileFeatures(gaussianBlur(img, 1.5));
  assert.ok(
    noisy[E_D1_MEDIAN] > f[E_D1_MEDIAN] + 0.3,
    `${noisy[E_D1_MEDIAN]} vs ${f[E_D1_MEDIAN]}`,
  );
  assert.ok(
    blurred[E_D1_MEDIAN] < f[E_D1_MEDIAN] - 0.3,
    `${blurred[E_D1_MEDIAN]} vs ${f[E_D1_MEDIAN]}`,
  );
  // the quantiles are ordered: 10 % ≤ 50 % ≤ 90 % for every column at every scale
  for (let s = 0; s < 3; s++) {
    for (let c = 0; c < 9; c++) {
      const q = [0, 1, 2].map((i) => f[s * 27 + i * 9 + c]);
      assert.ok(q[0] <= q[1] && q[1] <= q[2], `scale ${s} column ${c}: ${q}`);
    }
  }
  // a flat image: every energy is ln(0.001)
  const flat = profileFeatures({ width: 40, height: 40, data: new Uint8Array(4800).fill(7) });
  assert.ok(Math.abs(flat[0] - Math.log(1e-3)) < 1e-6);
});

Deno.test("profile: an image stored larger than 512 px reads as its 512-px copy; a registered whole-image source", async () => {
  const big = resize(await readImage(`${SHIPPED}/Photos/photo_00010.png`), 2.5); // 640 px
  assert.deepEqual(profileFeatures(big), profileFeatures(fitShortSide(big, 512)));
  assert.equal(needsMap("profile"), false);
  assert.equal(specKey("profile"), "profile");
  assert.equal(sourceSpec("profile")?.version, 2);
  assert.deepEqual(await wholeImageFeatures("profile", big), profileFeatures(big));
});

/** `img` in the middle of a canvas three times as wide, the rest filled with `value`. */
function onCanvas(img: RgbImage, value: number): RgbImage {
  const w = img.width * 3, data = new Uint8Array(w * img.height * 3).fill(value);
  for (let y = 0; y < img.height; y++) {
    data.set(
      img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3),
      (y * w + img.width) * 3,
    );
  }
  return { width: w, height: img.height, data };
}

Deno.test("profile: clipped patches (a white or black backdrop) are left out; flat unclipped ones are kept", async () => {
  const img = await readImage(`${SHIPPED}/Photos/photo_00010.png`);
  const f = profileFeatures(img);
  const E_D1_LOW = 0; // the 10 % quantile of E(d1) at full scale
  const floor = Math.log(1e-3);
  // two thirds of the patches on a white (255) or black (0) backdrop: left out, so the lowest
  // energies are still the photograph's
  for (const value of [255, 0]) {
    const g = profileFeatures(onCanvas(img, value));
    assert.ok(
      Math.abs(g[E_D1_LOW] - f[E_D1_LOW]) < 0.5,
      `backdrop ${value}: ${g[E_D1_LOW]} vs ${f[E_D1_LOW]}`,
    );
    assert.ok(g[E_D1_LOW] > floor + 3, `backdrop ${value}`);
  }
  // a flat grey (128) backdrop is not clipped: its patches count, and have no energy
  const grey = profileFeatures(onCanvas(img, 128));
  assert.ok(Math.abs(grey[E_D1_LOW] - floor) < 1e-6, `grey backdrop: ${grey[E_D1_LOW]}`);
  // every patch clipped: all are kept (no energy), not none
  const white = profileFeatures({
    width: 64,
    height: 64,
    data: new Uint8Array(64 * 64 * 3).fill(255),
  });
  assert.ok(white.every(Number.isFinite));
  assert.ok(Math.abs(white[E_D1_LOW] - floor) < 1e-6);
});

Deno.test("profile: its patch tables, one per scale, nine columns over the lit patches, whose quantiles are the features", async () => {
  const img = await readImage(`${SHIPPED}/Photos/photo_00010.png`);
  const tables = profilePatches(img), f = profileFeatures(img);
  assert.equal(tables.length, 3);
  const im = fitShortSide(img, 512);
  tables.forEach((cols, s) => {
    assert.equal(cols.length, 9);
    // at most the grid's patches (stride 16, side 32) of the plane at this scale
    const w = Math.floor(im.width / 2 ** s), h = Math.floor(im.height / 2 ** s);
    const grid = (Math.floor((w - 32) / 16) + 1) * (Math.floor((h - 32) / 16) + 1);
    assert.ok(cols[0].length > 0 && cols[0].length <= grid, `scale ${s}: ${cols[0].length}`);
    cols.forEach((col, c) => {
      assert.equal(col.length, cols[0].length);
      const sorted = Float64Array.from(col).sort(), median = (sorted.length - 1) / 2;
      const q50 = (sorted[Math.floor(median)] + sorted[Math.ceil(median)]) / 2;
      assert.ok(Math.abs(f[s * 27 + 9 + c] - q50) < 1e-5, `scale ${s} column ${c}`);
      // E − C is the energy less the contrast, patch by patch
      if (c >= 4 && c < 8) {
        col.forEach((v, p) => assert.ok(Math.abs(v - (cols[c - 4][p] - cols[8][p])) < 1e-12));
      }
    });
  });
});

Deno.test("profile: version 2's numbers for a shipped photograph, to the bit (what saved models were fitted on)", async () => {
  // a change to the features that keeps every other test green must still change the version
  const f = profileFeatures(await readImage(`${SHIPPED}/Photos/photo_00010.png`));
  const digest = createHash("sha256").update(new Uint8Array(f.buffer)).digest("hex");
  assert.equal(digest, "c359d5c0325555d4d6e3cae9b722a140f575e7fd73f9c1cb215d3256eaa4e737");
  assert.equal(sourceSpec("profile")?.version, 2);
});
