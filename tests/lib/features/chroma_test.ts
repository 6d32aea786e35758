/**
 * The `chroma` features: their layout; channels that move together (a camera's demosaiced detail)
 * against channels with noise of their own (a renderer's); that 4:2:0 subsampling, as a JPEG does
 * it, removes fine colour detail (the shortcut docs/natural-corpus.md measures); that a constant
 * channel gives a correlation of 0, not NaN; and that the source is registered as a whole-image one.
 */
import assert from "node:assert/strict";
import { Rng } from "../../../lib/core/rng.ts";
import { readImage } from "../../../lib/data/decode.ts";
import type { RgbImage } from "../../../lib/data/image.ts";
import { fitShortSide, resize } from "../../../lib/data/perturb.ts";
import { CHROMA_DIM, chromaFeatures } from "../../../lib/features/chroma.ts";
import {
  needsMap,
  sourceSpec,
  specKey,
  wholeImageFeatures,
} from "../../../lib/features/sources.ts";
import { SHIPPED } from "../../_helpers.ts";

// per scale 6 numbers: for the 10, 50, 90 % quantiles, relative colour energy, correlation
const REL_MEDIAN = 2, RHO_MEDIAN = 3;

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** A smooth colour gradient with Gaussian noise of `sd`: one draw for all channels, or one each. */
function noisyGradient(shared: boolean, sd: number, seed: number): RgbImage {
  const w = 96, h = 96, data = new Uint8Array(w * h * 3), rng = new Rng(seed);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const n = rng.normal() * sd, i = 3 * (y * w + x);
      const base = [60 + x, 90 + y / 2, 150 - x / 2];
      for (let c = 0; c < 3; c++) data[i + c] = clamp(base[c] + (shared ? n : rng.normal() * sd));
    }
  }
  return { width: w, height: h, data };
}

/** An image with its colour halved in resolution as 4:2:0 JPEG does (2 x 2 means of Cb and Cr). */
function subsample420(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img, out = new Uint8Array(data.length);
  const ycc = (i: number) => {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    return [
      0.299 * r + 0.587 * g + 0.114 * b,
      -0.168736 * r - 0.331264 * g + 0.5 * b,
      0.5 * r - 0.418688 * g - 0.081312 * b,
    ];
  };
  for (let y = 0; y < h; y += 2) {
    for (let x = 0; x < w; x += 2) {
      const block = [[x, y], [x + 1, y], [x, y + 1], [x + 1, y + 1]]
        .filter(([a, b]) => a < w && b < h).map(([a, b]) => 3 * (b * w + a));
      let cb = 0, cr = 0;
      for (const i of block) {
        const [, b, r] = ycc(i);
        cb += b;
        cr += r;
      }
      cb /= block.length, cr /= block.length;
      for (const i of block) {
        const l = ycc(i)[0];
        out[i] = clamp(l + 1.402 * cr);
        out[i + 1] = clamp(l - 0.344136 * cb - 0.714136 * cr);
        out[i + 2] = clamp(l + 1.772 * cb);
      }
    }
  }
  return { width: w, height: h, data: out };
}

Deno.test("chroma: 12 ordered numbers; shared noise moves the channels together, noise of their own does not", () => {
  const shared = chromaFeatures(noisyGradient(true, 4, 1));
  const own = chromaFeatures(noisyGradient(false, 4, 1));
  assert.equal(CHROMA_DIM, 12);
  for (const f of [shared, own]) {
    assert.equal(f.length, CHROMA_DIM);
    assert.ok(f.every(Number.isFinite));
    for (let s = 0; s < 2; s++) {
      for (let c = 0; c < 2; c++) {
        const q = [0, 1, 2].map((i) => f[s * 6 + i * 2 + c]);
        assert.ok(q[0] <= q[1] && q[1] <= q[2], `scale ${s} column ${c}: ${q}`);
      }
    }
  }
  assert.ok(shared[RHO_MEDIAN] > 0.95, `shared: ${shared[RHO_MEDIAN]}`);
  assert.ok(Math.abs(own[RHO_MEDIAN]) < 0.2, `own: ${own[RHO_MEDIAN]}`);
  // noise of their own puts fine detail in the colour differences; shared noise almost none
  assert.ok(
    own[REL_MEDIAN] > shared[REL_MEDIAN] + 1,
    `${own[REL_MEDIAN]} vs ${shared[REL_MEDIAN]}`,
  );
});

Deno.test("chroma: 4:2:0 subsampling removes fine colour detail and brings the channels into step", () => {
  const own = noisyGradient(false, 4, 2);
  const f = chromaFeatures(own), g = chromaFeatures(subsample420(own));
  assert.ok(g[REL_MEDIAN] < f[REL_MEDIAN] - 0.3, `${g[REL_MEDIAN]} vs ${f[REL_MEDIAN]}`);
  assert.ok(g[RHO_MEDIAN] > f[RHO_MEDIAN] + 0.3, `${g[RHO_MEDIAN]} vs ${f[RHO_MEDIAN]}`);
});

Deno.test("chroma: a constant channel gives a correlation of 0, a flat image zeros (no NaN)", () => {
  const img = noisyGradient(false, 4, 3);
  for (let i = 1; i < img.data.length; i += 3) img.data[i] = 100; // G constant
  const f = chromaFeatures(img);
  assert.ok(f.every(Number.isFinite));
  for (const k of [1, 3, 5, 7, 9, 11]) assert.equal(f[k], 0);
  const flat = chromaFeatures({ width: 40, height: 40, data: new Uint8Array(4800).fill(90) });
  assert.deepEqual(Array.from(flat), new Array(12).fill(0));
});

Deno.test("chroma: an image stored larger than 512 px reads as its 512-px copy; a registered whole-image source", async () => {
  const big = resize(await readImage(`${SHIPPED}/Photos/photo_00010.png`), 2.5); // 640 px
  assert.deepEqual(chromaFeatures(big), chromaFeatures(fitShortSide(big, 512)));
  assert.equal(needsMap("chroma"), false);
  assert.equal(specKey("chroma"), "chroma");
  assert.equal(sourceSpec("chroma")?.version, 1);
  assert.deepEqual(await wholeImageFeatures("chroma", big), chromaFeatures(big));
});
