import assert from "node:assert/strict";
import { Rng } from "../../../lib/core/rng.ts";
import { augmentedCrop, parseAugment } from "../../../lib/data/augment.ts";
import type { RgbImage } from "../../../lib/data/image.ts";
import { decodeImage, readImage } from "../../../lib/data/decode.ts";
import {
  addNoise,
  checkPerturbation,
  fitShortSide,
  formatPerturbation,
  gaussianBlur,
  gaussianKernel,
  jpegRoundTrip,
  parsePerturbation,
  perturb,
  resize,
  webpRoundTrip,
} from "../../../lib/data/perturb.ts";
import { sharpModule } from "../../../lib/core/deps.ts";
import {
  RESIDUAL_DIM,
  RESIDUAL_PARTS,
  residualFeatures,
  texturedPatches,
} from "../../../lib/features/residual.ts";
import { SHIPPED } from "../../_helpers.ts";

const photo = () => readImage(`${SHIPPED}/Photos/photo_00010.png`);

Deno.test("perturb: JPEG re-encoding at quality Q changes the pixels and keeps the size", async () => {
  const img = await photo();
  for (const q of [95, 75, 30]) {
    const j = await jpegRoundTrip(img, q);
    assert.equal(j.width, img.width);
    assert.equal(j.height, img.height);
    let diff = 0;
    for (let i = 0; i < img.data.length; i++) diff += Math.abs(j.data[i] - img.data[i]);
    assert.ok(diff / img.data.length > 0.3, `q${q}: mean |diff| ${diff / img.data.length}`);
  }
  // lower quality, larger change
  const err = async (q: number) => {
    const j = await jpegRoundTrip(img, q);
    return j.data.reduce((s, v, i) => s + Math.abs(v - img.data[i]), 0);
  };
  assert.ok(await err(30) > await err(90));
});

Deno.test("perturb: WebP re-encoding is what the toolkit reads from a WebP file libvips wrote; refused without libvips", async () => {
  const img = await photo();
  const err = async (q: number) => {
    const w = await webpRoundTrip(img, q);
    assert.equal(w.width, img.width);
    assert.equal(w.height, img.height);
    return w.data.reduce((s, v, i) => s + Math.abs(v - img.data[i]), 0) / img.data.length;
  };
  const [e30, e90] = [await err(30), await err(90)];
  assert.ok(e90 > 0.3 && e30 > e90, `mean |diff| ${e30} at 30, ${e90} at 90`);
  // the same pixels as a file written at that quality and decoded by the toolkit
  const sharp = await sharpModule();
  const raw = { raw: { width: img.width, height: img.height, channels: 3 as const } };
  const bytes = new Uint8Array(await sharp(img.data, raw).webp({ quality: 60 }).toBuffer());
  assert.deepEqual(
    (await decodeImage(bytes, "q60.webp")).data,
    (await webpRoundTrip(img, 60)).data,
  );
  assert.deepEqual(
    (await perturb(img, parsePerturbation("webp:60"), new Rng(0))).data,
    (await webpRoundTrip(img, 60)).data,
  );
  await assert.rejects(webpRoundTrip(img, 60, "wasm"), /WebAssembly decoder was chosen/);
  // checked up front, before any image: only a spec with a WebP step needs libvips
  await assert.rejects(
    checkPerturbation(parsePerturbation("long:400+webp:50..90"), "wasm"),
    /no WebP encoder/,
  );
  await checkPerturbation(parsePerturbation("long:400..1600+jpeg:50..95"), "wasm");
  await checkPerturbation(parsePerturbation("webp:75"), "libvips");
  for (const bad of ["webp:0", "webp:7.5", "webp:101"]) {
    assert.throws(() => parsePerturbation(bad), /WebP quality/, bad);
  }
  // a range: an integer quality drawn in it, each end included
  assert.equal(formatPerturbation(parsePerturbation("webp:50..95")), "webp:50..95");
  const at = new Map<number, Uint8Array>();
  for (const q of [50, 51, 52]) at.set(q, (await webpRoundTrip(img, q)).data);
  const drawn = new Set<number>();
  for (let seed = 0; seed < 30; seed++) {
    const got = (await perturb(img, parsePerturbation("webp:50..52"), new Rng(seed))).data;
    const q = [...at].find(([, d]) => d.every((v, i) => v === got[i]))?.[0];
    assert.ok(q !== undefined, `seed ${seed}: not the pixels of any integer quality in 50..52`);
    drawn.add(q);
  }
  assert.deepEqual([...drawn].sort(), [50, 51, 52]);
});

Deno.test("perturb: blur with sigma 0 is the identity; blur equals a direct 2-D Gaussian convolution", async () => {
  const img = await photo();
  assert.deepEqual(gaussianBlur(img, 0).data, img.data);
  // reference: the 2-D kernel applied directly, edges clamped, on a small patch
  const w = 20, h = 15;
  const patch: RgbImage = { width: w, height: h, data: img.data.subarray(0, w * h * 3).slice() };
  const sigma = 1.3, k = gaussianKernel(sigma), r = (k.length - 1) / 2;
  const got = gaussianBlur(patch, sigma);
  for (let y = 0; y < h; y += 3) {
    for (let x = 0; x < w; x += 4) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) {
            const yy = Math.min(h - 1, Math.max(0, y + dy)),
              xx = Math.min(w - 1, Math.max(0, x + dx));
            s += k[dy + r] * k[dx + r] * patch.data[(yy * w + xx) * 3 + c];
          }
        }
        // the separable version rounds once between the passes: within one grey level
        assert.ok(
          Math.abs(got.data[(y * w + x) * 3 + c] - s) <= 1,
          `${x},${y},${c}: ${got.data[(y * w + x) * 3 + c]} vs ${s}`,
        );
      }
    }
  }
});

Deno.test("perturb: resize x1 is the identity, x0.5 halves the size and averages 2x2 blocks of a smooth image", async () => {
  const img = await photo();
  assert.deepEqual(resize(img, 1).data, img.data);
  const half = resize(img, 0.5);
  assert.deepEqual([half.width, half.height], [img.width / 2, img.height / 2]);
  const up = resize(img, 1.5);
  assert.deepEqual([up.width, up.height], [384, 384]);
  // a constant image stays constant at any scale
  const flat: RgbImage = { width: 10, height: 6, data: new Uint8Array(180).fill(77) };
  assert.ok(resize(flat, 0.7).data.every((v) => v === 77));
  assert.ok(resize(flat, 1.9).data.every((v) => v === 77));
});

Deno.test("perturb: fitShortSide brings the short side down to N, keeps the aspect, never enlarges; the store caches each scale apart", async () => {
  const wide: RgbImage = { width: 300, height: 120, data: new Uint8Array(300 * 120 * 3).fill(9) };
  const s = fitShortSide(wide, 48);
  assert.deepEqual([s.width, s.height], [120, 48]);
  const tall = fitShortSide({ width: 61, height: 200, data: new Uint8Array(61 * 200 * 3) }, 30);
  assert.deepEqual([tall.width, tall.height], [30, 98]);
  assert.equal(fitShortSide(wide, 120), wide); // short side already 120: unchanged
  const { ImageStore } = await import("../../../lib/data/cache.ts");
  const path = `${SHIPPED}/Photos/photo_00010.png`;
  const small = await new ImageStore({ shortSide: 128 }).uncached(path);
  assert.deepEqual([small.width, small.height], [128, 128]);
  assert.deepEqual(small.data, resize(await photo(), 0.5).data);
  const dir = await Deno.makeTempDir();
  try {
    // one disk cache: each scale under its own key
    assert.equal(
      (await new ImageStore({ dir, shortSide: 100 }).get(path, { kind: "full" })).width,
      100,
    );
    assert.equal((await new ImageStore({ dir }).get(path, { kind: "full" })).width, 256);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("perturb: specs parse, chain and are checked", async () => {
  assert.deepEqual(parsePerturbation("resize:0.5+jpeg:75"), [
    { kind: "resize", factor: 0.5 },
    { kind: "jpeg", quality: 75 },
  ]);
  for (
    const bad of ["jpeg:0", "jpeg:101", "jpeg:7.5", "blur:-1", "resize:0", "sharpen:2", "jpeg"]
  ) {
    assert.throws(() => parsePerturbation(bad), /bad perturbation/, bad);
  }
  assert.throws(() => parseAugment("jpeg,sharpen"), /"sharpen" is unknown/);
  const img = await photo();
  const a = await perturb(img, parsePerturbation("noise:5"), new Rng(1));
  const b = addNoise(img, 5, new Rng(1));
  assert.deepEqual(a.data, b.data);
});

Deno.test("perturb: a range draws each image's strength, the same for the same seed", async () => {
  const spec = "long:64..128+jpeg:50..95";
  assert.deepEqual(parsePerturbation(spec), [
    { kind: "long", side: 64, to: 128 },
    { kind: "jpeg", quality: 50, to: 95 },
  ]);
  assert.equal(formatPerturbation(parsePerturbation(spec)), spec);
  for (const bad of ["jpeg:95..50", "long:8", "long:100.5", "jpeg:50..95.5", "jpeg:1..2..3"]) {
    assert.throws(() => parsePerturbation(bad), /bad perturbation/, bad);
  }
  const img = await photo(); // 256 x 256
  const sides = new Set<number>();
  for (let seed = 0; seed < 8; seed++) {
    const a = await perturb(img, parsePerturbation(spec), new Rng(seed));
    const b = await perturb(img, parsePerturbation(spec), new Rng(seed));
    assert.deepEqual(a, b);
    assert.ok(a.width >= 64 && a.width <= 128 && a.width === a.height, `${a.width}`);
    sides.add(a.width);
  }
  assert.ok(sides.size >= 4, `drawn sides ${[...sides]}`); // drawn, not fixed
  // a range of one value is that value, and draws nothing (the noise is as without a range)
  assert.deepEqual(
    await perturb(img, parsePerturbation("noise:2..2"), new Rng(1)),
    await perturb(img, parsePerturbation("noise:2"), new Rng(1)),
  );
  // integer strengths: each value of the range alike, the ends too
  const counts = new Map<number, number>();
  for (let seed = 0; seed < 300; seed++) {
    const w = (await perturb(img, parsePerturbation("long:64..66"), new Rng(seed))).width;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [64, 65, 66]);
  for (const c of counts.values()) assert.ok(c > 70 && c < 130, JSON.stringify([...counts]));
  assert.deepEqual(parsePerturbation("jpeg:75.+blur:.5..1"), [
    { kind: "jpeg", quality: 75 },
    { kind: "blur", sigma: 0.5, to: 1 },
  ]);
  assert.throws(() => parsePerturbation("long:1e21"), /16\.\.65536/);
  // long never enlarges
  assert.equal((await perturb(img, parsePerturbation("long:400"), new Rng(0))).width, 256);
  assert.equal((await perturb(img, parsePerturbation("long:128"), new Rng(0))).width, 128);
});

Deno.test("augment: seeded (same seed, same crops) and the crop keeps its size", async () => {
  const img = await photo();
  const kinds = parseAugment("random-crop-flip,jpeg,blur,resize,noise");
  const crop = async (seed: number) =>
    await augmentedCrop(img, 96, [80, 80], kinds, 1, new Rng(seed));
  const [a, b, c] = [await crop(3), await crop(3), await crop(4)];
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.deepEqual([a.width, a.height], [96, 96]);
  // without augmentation the crop is the tile itself
  const plain = await augmentedCrop(img, 96, [80, 80], [], 1, new Rng(0));
  assert.equal(plain.data[0], img.data[(80 * 256 + 80) * 3]);
});

Deno.test("residual features: a constant image puts everything in the zero bin; white noise spreads out", () => {
  const w = 64, h = 48;
  const flat: RgbImage = { width: w, height: h, data: new Uint8Array(w * h * 3).fill(120) };
  const f = residualFeatures(flat);
  assert.equal(f.length, RESIDUAL_DIM);
  assert.equal(RESIDUAL_DIM, 1184);
  assert.equal(RESIDUAL_PARTS.texture + RESIDUAL_PARTS.slope, RESIDUAL_DIM);
  // 3 scales x 8 histograms of 49 bins, each summing to 1, all mass at (0, 0): bin 3 * 7 + 3
  for (let k = 0; k < 24; k++) {
    const hist = f.subarray(k * 49, (k + 1) * 49);
    assert.ok(Math.abs(hist.reduce((s, v) => s + v, 0) - 1) < 1e-6);
    assert.equal(hist[24], 1);
  }
  // no residual at any scale: every slope is log(0.001) - log(0.001)
  assert.deepEqual([...f.subarray(RESIDUAL_PARTS.texture)], new Array(8).fill(0));
  const r = new Rng(7);
  const noise: RgbImage = {
    width: w,
    height: h,
    data: Uint8Array.from({ length: w * h * 3 }, () => r.int(256)),
  };
  const g = residualFeatures(noise);
  // strong noise, at every scale: the truncated bins (|residual| > 3) hold most of the mass, and
  // the zero bin little
  for (let k = 0; k < 24; k++) assert.ok(g[k * 49 + 24] < 0.05, `filter ${k}: ${g[k * 49 + 24]}`);
  const corners = [0, 6, 42, 48].reduce((s, i) => s + g[i], 0);
  assert.ok(corners > 0.5, `corner mass ${corners}`);
  // independent Gaussian pixels: a 2 x 2 mean halves the noise, so every filter's mean |residual|
  // halves from one scale to the next, and every slope is log 2
  // (256 px: 49 patches, enough values at quarter scale for a close estimate)
  const n = 256, gauss: RgbImage = { width: n, height: n, data: new Uint8Array(n * n * 3) };
  for (let i = 0; i < n * n; i++) {
    gauss.data.fill(Math.round(128 + 20 * r.normal()), 3 * i, 3 * i + 3);
  }
  for (const [i, v] of residualFeatures(gauss).subarray(RESIDUAL_PARTS.texture).entries()) {
    assert.ok(Math.abs(v - Math.LN2) < 0.05, `slope ${i}: ${v}`);
  }
});

Deno.test("residual features: the half and quarter scales are the 2 x 2 and 4 x 4 means of the patch", () => {
  const r = new Rng(5);
  // an image made of 2 x 2 blocks of one colour: its half scale is the small image itself
  const n = 30, small: RgbImage = { width: n, height: n, data: new Uint8Array(n * n * 3) };
  for (let i = 0; i < n * n * 3; i++) small.data[i] = 100 + r.int(9);
  const big: RgbImage = { width: 2 * n, height: 2 * n, data: new Uint8Array(4 * n * n * 3) };
  for (let y = 0; y < 2 * n; y++) {
    for (let x = 0; x < 2 * n; x++) {
      const from = ((y >> 1) * n + (x >> 1)) * 3;
      big.data.set(small.data.subarray(from, from + 3), (y * 2 * n + x) * 3);
    }
  }
  const fs = residualFeatures(small), fb = residualFeatures(big);
  // the big image's half and quarter scales are the small one's full and half scales
  for (let i = 0; i < 784; i++) assert.ok(Math.abs(fb[392 + i] - fs[i]) < 1e-6, `bin ${i}`);
  // and so is its second slope (half to quarter) the small one's first (full to half)
  const slope = RESIDUAL_PARTS.texture;
  for (let f = 0; f < 4; f++) assert.ok(Math.abs(fb[slope + 4 + f] - fs[slope + f]) < 1e-5);
  // ...while at full scale every other first-order difference is inside a block, so zero: every
  // horizontal pair of differences has a zero in it (row or column 3 of the 7 x 7 histogram)
  const withZero = (f: Float32Array) =>
    Array.from(f.subarray(0, 49)).reduce(
      (s, v, i) => s + (i % 7 === 3 || i >= 21 && i < 28 ? v : 0),
      0,
    );
  assert.ok(Math.abs(withZero(fb) - 1) < 1e-6, `${withZero(fb)}`);
  assert.ok(withZero(fs) < 0.6, `${withZero(fs)}`);
});

Deno.test("residual features: taken over the 64 most textured 64 px patches, so flat surroundings change nothing", () => {
  const r = new Rng(3);
  // low-amplitude noise around grey 128: residuals inside the truncation range
  const n = 512;
  const tex: RgbImage = { width: n, height: n, data: new Uint8Array(n * n * 3) };
  for (let i = 0; i < n * n; i++) tex.data.fill(126 + r.int(5), 3 * i, 3 * i + 3);
  // the same texture inside a flat frame of grey 128, at an offset on the patch grid (stride 32)
  const w = 1024, h = 896, ox = 256, oy = 160;
  const framed: RgbImage = { width: w, height: h, data: new Uint8Array(w * h * 3).fill(128) };
  for (let y = 0; y < n; y++) {
    framed.data.set(tex.data.subarray(y * n * 3, (y + 1) * n * 3), ((oy + y) * w + ox) * 3);
  }
  const patches = texturedPatches(framed);
  assert.equal(patches.length, 64);
  for (const [x, y, s] of patches) {
    assert.equal(s, 64);
    assert.ok(x >= ox && y >= oy && x + s <= ox + n && y + s <= oy + n, `patch at ${x},${y}`);
  }
  const a = residualFeatures(tex), b = residualFeatures(framed);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `bin ${i}`);
  // counted over the whole frame, the flat area would have filled the zero bins
  const flatShare = 1 - (n * n) / (w * h);
  assert.ok(a[24] < flatShare, `zero bin ${a[24]} vs ${flatShare}`);
  // under 64 px: one patch, the centred square of the short side
  assert.deepEqual(texturedPatches({ width: 80, height: 48, data: new Uint8Array(80 * 48 * 3) }), [[
    16,
    0,
    48,
  ]]);
});
