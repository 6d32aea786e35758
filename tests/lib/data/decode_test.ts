/**
 * The two decoding paths against each other and against the pixels each file was written from:
 * every format (files written here by libvips or by hand), EXIF orientation, CMYK, 16-bit,
 * colour profiles, truncated JPEG, the pixel limit, and the JPEG round trip of
 * `--match-compression`, which `_jpeg.ts` must reproduce from libjpeg-turbo bit for bit.
 */
import assert from "node:assert/strict";
import { crc32, deflateSync } from "node:zlib";
import { sharpModule } from "../../../lib/core/deps.ts";
import { jpegRoundTrip444 } from "../../../lib/data/_jpeg.ts";
import { orient } from "../../../lib/data/_meta.ts";
import {
  decodeImage,
  decoderMismatch,
  type DecoderName,
  readImage,
} from "../../../lib/data/decode.ts";
import type { RgbImage } from "../../../lib/data/image.ts";
import { jpegRoundTrip } from "../../../lib/data/perturb.ts";
import { encodePng } from "../../../lib/data/png.ts";
import { rgbImage, SHIPPED } from "../../_helpers.ts";

const sharp = await sharpModule();
const PATHS: DecoderName[] = ["libvips", "wasm"];

/** A textured test image (odd size, so no format gets whole blocks for free). */
const SRC = rgbImage(45, 31, (x, y, c) => [x * 5 + y, (x * y) & 255, 255 - x * 3 - y * 2][c] & 255);
const raw = (img: RgbImage, channels: 1 | 3 | 4 = 3) => ({
  raw: { width: img.width, height: img.height, channels },
});

async function decodeBoth(bytes: Uint8Array, name: string) {
  const warnings: Record<string, string[]> = { libvips: [], wasm: [] };
  const out: Record<string, RgbImage> = {};
  for (const d of PATHS) {
    out[d] = await decodeImage(bytes, name, {
      decoder: d,
      onWarning: (_p, m) => warnings[d].push(m),
    });
  }
  return { vips: out.libvips, wasm: out.wasm, warnings };
}

function maxDiff(a: RgbImage, b: RgbImage): number {
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** The image as 16-bit samples whose high byte is the 8-bit value and low byte is noise. */
function deep(img: RgbImage): Uint16Array {
  return Uint16Array.from(img.data, (v, i) => v * 256 + ((i * 37) & 255));
}

Deno.test("decode: lossless formats give the written pixels, the same on both paths", async () => {
  const files: [string, Uint8Array][] = [
    ["png", await sharp(SRC.data, raw(SRC)).png().toBuffer()],
    ["png with alpha", await sharp(SRC.data, raw(SRC)).ensureAlpha(0.5).png().toBuffer()],
    ["tiff", await sharp(SRC.data, raw(SRC)).tiff({ compression: "none" }).toBuffer()],
    ["tiff lzw", await sharp(SRC.data, raw(SRC)).tiff({ compression: "lzw" }).toBuffer()],
    [
      "tiff lzw, predictor",
      await sharp(SRC.data, raw(SRC)).tiff({ compression: "lzw", predictor: "horizontal" })
        .toBuffer(),
    ],
    [
      "tiff deflate, tiles",
      await sharp(SRC.data, raw(SRC))
        .tiff({ compression: "deflate", tile: true, tileWidth: 16, tileHeight: 16 }).toBuffer(),
    ],
    ["bmp 24-bit", bmp24(SRC)],
    ["ppm", ppm(SRC)],
    ["ppm ascii", ppm(SRC, true)],
  ];
  for (const [name, bytes] of files) {
    const { vips, wasm } = await decodeBoth(bytes, name);
    assert.deepEqual(vips, SRC, name);
    assert.deepEqual(wasm, SRC, name);
  }
});

Deno.test("decode: 16-bit samples keep their high byte (PNG, TIFF, PPM), on both paths", async () => {
  const d = deep(SRC);
  const r16 = { raw: { width: SRC.width, height: SRC.height, channels: 3 as const } };
  const asRgb16 = () => sharp(d, r16).toColourspace("rgb16");
  for (
    const [name, bytes] of [
      ["png 16", await asRgb16().png().toBuffer()],
      ["tiff 16", await asRgb16().tiff({ compression: "deflate" }).toBuffer()],
      ["ppm 16", ppm16(SRC.width, SRC.height, d)],
    ] as [string, Uint8Array][]
  ) {
    const { vips, wasm } = await decodeBoth(bytes, name);
    assert.deepEqual(vips, SRC, name);
    assert.deepEqual(wasm, SRC, name);
  }
});

Deno.test("decode: JPEG, greyscale and progressive give identical pixels on both paths", async () => {
  const img = await readImage(`${SHIPPED}/Photos/photo_00001.png`);
  for (
    const [name, bytes] of [
      ["baseline", await sharp(img.data, raw(img)).jpeg({ quality: 90 }).toBuffer()],
      ["progressive", await sharp(img.data, raw(img)).jpeg({ progressive: true }).toBuffer()],
      ["4:4:4", await sharp(img.data, raw(img)).jpeg({ chromaSubsampling: "4:4:4" }).toBuffer()],
      ["grey", await sharp(img.data, raw(img)).greyscale().jpeg().toBuffer()],
    ] as [string, Uint8Array][]
  ) {
    const { vips, wasm } = await decodeBoth(bytes, name);
    assert.equal(maxDiff(vips, wasm), 0, name);
    // lossy, but close to what was written (greyscale aside)
    if (name !== "grey") assert.ok(maxDiff(vips, img) < 80, name);
  }
});

Deno.test("decode: a truncated JPEG is decoded as libjpeg decodes it, with a warning", async () => {
  const img = await readImage(`${SHIPPED}/Photos/photo_00001.png`);
  const jpeg = await sharp(img.data, raw(img)).jpeg({ quality: 90 }).toBuffer();
  const cut = jpeg.subarray(0, Math.floor(jpeg.length / 2));
  const { vips, wasm, warnings } = await decodeBoth(cut, "cut.jpg");
  assert.equal(maxDiff(vips, wasm), 0);
  assert.match(warnings.libvips.join(), /premature end/i);
  assert.match(warnings.wasm.join(), /premature end/i);
  // the part that was there is the image's; the rest is libjpeg's grey
  assert.equal(
    maxDiff({ ...vips, height: 8, data: vips.data.subarray(0, 8 * 256 * 3) }, {
      ...vips,
      height: 8,
      data: (await decodeImage(jpeg, "whole.jpg")).data.subarray(0, 8 * 256 * 3),
    }),
    0,
  );
});

Deno.test("decode: GIF's first frame, WebP and AVIF (libvips; the wasm path says it needs it)", async () => {
  // an image of few colours, so the GIF palette is exact
  const few = rgbImage(40, 24, (x, y, c) => [(x >> 3) * 60, (y >> 3) * 80, 200][c]);
  const gif = await sharp(few.data, raw(few)).gif().toBuffer();
  const g = await decodeBoth(gif, "a.gif");
  assert.deepEqual(g.vips, few);
  assert.deepEqual(g.wasm, few);
  for (
    const [name, bytes] of [
      ["webp", await sharp(SRC.data, raw(SRC)).webp({ lossless: true }).toBuffer()],
      ["avif", await sharp(SRC.data, raw(SRC)).avif({ lossless: true }).toBuffer()],
    ] as [string, Uint8Array][]
  ) {
    const v = await decodeImage(bytes, name, { decoder: "libvips" });
    assert.ok(maxDiff(v, SRC) <= (name === "avif" ? 2 : 0), name);
    await assert.rejects(
      decodeImage(bytes, name, { decoder: "wasm" }),
      /needs the libvips decoder/,
    );
  }
});

Deno.test("decode: big-endian, planar and 16-bit-predictor TIFFs written by hand read the same on both paths", async () => {
  const d = deep(SRC);
  for (
    const o of [
      { le: false, planar: false, bits: 8, predictor: false },
      { le: false, planar: true, bits: 16, predictor: false },
      { le: true, planar: true, bits: 8, predictor: false },
      { le: true, planar: false, bits: 16, predictor: true },
    ]
  ) {
    const bytes = tiff(SRC.width, SRC.height, o.bits === 8 ? SRC.data : d, o);
    const { vips, wasm } = await decodeBoth(bytes, JSON.stringify(o));
    assert.deepEqual(vips, SRC, JSON.stringify(o));
    assert.deepEqual(wasm, SRC, JSON.stringify(o));
  }
});

Deno.test("decode: BMP palettes and bit fields, PGM and PBM", async () => {
  const grey = rgbImage(13, 9, (x, y) => (x * 19 + y * 7) & 255);
  assert.deepEqual(await decodeImage(bmp8(grey), "p.bmp"), grey);
  assert.deepEqual(await decodeImage(bmp32(SRC, true), "t.bmp"), SRC);
  const pgm = new TextEncoder().encode(`P5\n# a comment\n13 9\n255\n`);
  const g = new Uint8Array(pgm.length + 13 * 9);
  g.set(pgm);
  for (let i = 0; i < 13 * 9; i++) g[pgm.length + i] = grey.data[3 * i];
  assert.deepEqual(await decodeImage(g, "g.pgm"), grey);
  const pbm = await decodeImage(new TextEncoder().encode("P1\n3 1\n1 0 1\n"), "b.pbm");
  assert.deepEqual([...pbm.data], [0, 0, 0, 255, 255, 255, 0, 0, 0]);
});

Deno.test("decode: EXIF orientation 1-8 is applied as libvips applies it, on both paths", async () => {
  const img = rgbImage(6, 4, (x, y, c) => [x * 40, y * 60, c * 90][c]);
  for (let o = 1; o <= 8; o++) {
    const bytes = await sharp(img.data, raw(img)).withMetadata({ orientation: o }).png()
      .toBuffer();
    const { vips, wasm } = await decodeBoth(bytes, `o${o}.png`);
    assert.deepEqual(wasm, vips, `orientation ${o}`);
    assert.deepEqual(vips, orient(img, o), `orientation ${o}`);
  }
  // 6: the stored top row is the upright right column
  const six = orient(img, 6);
  assert.deepEqual([six.width, six.height], [4, 6]);
  assert.deepEqual([...six.data.subarray(9, 12)], [...img.data.subarray(0, 3)]);
});

Deno.test("decode: CMYK and colour profiles: libvips converts, the wasm path warns", async () => {
  const img = await readImage(`${SHIPPED}/Photos/photo_00001.png`);
  const cmyk = await sharp(img.data, raw(img)).toColourspace("cmyk").jpeg().toBuffer();
  const c = await decodeBoth(cmyk, "cmyk.jpg");
  assert.ok(maxDiff(c.vips, img) < 60);
  assert.match(c.warnings.wasm.join(), /CMYK/);
  assert.deepEqual(c.warnings.libvips, []);
  // libvips' built-in Display P3 profile, whose description is "sP3C"
  const p3 = await sharp(SRC.data, raw(SRC)).withIccProfile("p3").png().toBuffer();
  const p = await decodeBoth(p3, "p3.png");
  assert.ok(maxDiff(p.vips, SRC) <= 6); // back to sRGB
  assert.ok(maxDiff(p.wasm, SRC) > 20); // the stored P3 values
  assert.match(p.warnings.wasm.join(), /colour profile "sP3C" not converted/);
  // an sRGB profile changes nothing, so nothing is said
  const srgb = await sharp(SRC.data, raw(SRC)).withIccProfile("srgb").png().toBuffer();
  const s = await decodeBoth(srgb, "srgb.png");
  assert.deepEqual([s.vips, s.wasm], [SRC, SRC]);
  assert.deepEqual(s.warnings, { libvips: [], wasm: [] });
});

Deno.test("decode: 16-bit images with a colour profile: sRGB kept as stored, P3 converted like 8-bit", async () => {
  // an 8-bit file holding P3 values with libvips' P3 profile, and the sRGB profile's bytes
  const p3png = await sharp(SRC.data, raw(SRC)).withIccProfile("p3").png().toBuffer();
  const p3 = await decodeImage(p3png, "p3.png", { decoder: "wasm", onWarning: () => {} });
  const p3icc = (await sharp(p3png).metadata()).icc!;
  const srgbIcc = (await sharp(
    await sharp(SRC.data, raw(SRC)).withIccProfile("srgb").png()
      .toBuffer(),
  ).metadata()).icc!;
  const as16 = (img: RgbImage) => Uint16Array.from(img.data, (v, i) => v * 256 + (i % 200));
  const png16 = async (img: RgbImage, icc: Uint8Array) =>
    withIccp(
      await encodePng({
        width: img.width,
        height: img.height,
        channels: 3,
        depth: 16,
        data: as16(img),
      }),
      icc,
    );
  // sRGB-tagged: both paths give the stored values, and nothing is said
  const s = await decodeBoth(await png16(SRC, srgbIcc), "srgb16.png");
  assert.deepEqual([s.vips, s.wasm], [SRC, SRC]);
  assert.deepEqual(s.warnings, { libvips: [], wasm: [] });
  // P3-tagged: libvips converts to sRGB as it does the 8-bit file; the wasm path keeps and warns
  const q = await decodeBoth(await png16(p3, p3icc), "p3-16.png");
  const eight = await decodeImage(p3png, "p3.png", { decoder: "libvips" });
  assert.ok(maxDiff(q.vips, eight) <= 1, `16-bit P3 vs 8-bit P3: ${maxDiff(q.vips, eight)}`);
  assert.ok(maxDiff(q.vips, SRC) <= 6);
  assert.deepEqual(q.wasm, p3);
  assert.match(q.warnings.wasm.join(), /not converted to sRGB/);
});

Deno.test("decode: a transparent GIF and a first frame larger than its screen read alike on both paths", async () => {
  const rgba = new Uint8Array(SRC.width * SRC.height * 4);
  for (let i = 0; i < SRC.width * SRC.height; i++) {
    rgba.set([200, (i % 5) * 40, 10, i % 7 === 0 ? 0 : 255], 4 * i);
  }
  const gif = await sharp(rgba, { raw: { width: SRC.width, height: SRC.height, channels: 4 } })
    .gif().toBuffer();
  const small = gif.slice();
  small.set([20, 0, 15, 0], 6); // a logical screen of 20x15 for a 45x31 frame
  for (const [name, bytes] of [["transparent.gif", gif], ["small-screen.gif", small]] as const) {
    const { vips, wasm } = await decodeBoth(bytes, name);
    assert.deepEqual(wasm, vips, name);
    assert.deepEqual([vips.width, vips.height], [SRC.width, SRC.height], name);
    assert.deepEqual([...vips.data.subarray(0, 3)], [0, 0, 0], name); // pixel 0 is transparent
  }
});

Deno.test("decode: EXIF orientation of JPEG and TIFF files, on both paths", async () => {
  const img = rgbImage(40, 24, (x, y, c) => [x * 6, y * 10, 128][c]);
  for (const o of [3, 6, 8]) {
    for (
      const [name, bytes] of [
        ["jpg", await sharp(img.data, raw(img)).withMetadata({ orientation: o }).jpeg().toBuffer()],
        [
          "tif",
          await sharp(img.data, raw(img)).withMetadata({ orientation: o }).tiff({
            compression: "lzw",
          }).toBuffer(),
        ],
      ] as const
    ) {
      const { vips, wasm } = await decodeBoth(bytes, `o${o}.${name}`);
      assert.deepEqual(wasm, vips, `${name} orientation ${o}`);
      const upright = orient(
        await decodeImage(
          name === "jpg"
            ? await sharp(img.data, raw(img)).jpeg().toBuffer()
            : await sharp(img.data, raw(img)).tiff({ compression: "lzw" }).toBuffer(),
          "plain",
        ),
        o,
      );
      assert.deepEqual(vips, upright, `${name} orientation ${o}`);
    }
  }
});

Deno.test("decode: a 12000x12000 image is refused before decoding, on both paths", async () => {
  const png = await sharp(SRC.data, raw(SRC)).png().toBuffer();
  const big = png.slice();
  new DataView(big.buffer, big.byteOffset).setUint32(16, 12000);
  new DataView(big.buffer, big.byteOffset).setUint32(20, 12000);
  for (const d of PATHS) {
    await assert.rejects(
      decodeImage(big, "big.png", { decoder: d }),
      /big\.png: 12000x12000 is over the 100000000-pixel limit \(raise it with/,
    );
  }
});

Deno.test("decode: a TIFF header asking for a huge tile is refused, not allocated", async () => {
  const tif = await sharp(SRC.data, raw(SRC))
    .tiff({ compression: "deflate", tile: true, tileWidth: 16, tileHeight: 16 }).toBuffer();
  const v = new DataView(tif.buffer, tif.byteOffset, tif.byteLength);
  const le = tif[0] === 0x49, ifd = v.getUint32(4, le);
  for (let i = 0; i < v.getUint16(ifd, le); i++) {
    const e = ifd + 2 + 12 * i;
    if (v.getUint16(e, le) !== 322) continue; // TileWidth, SHORT or LONG
    if (v.getUint16(e + 2, le) === 3) v.setUint16(e + 8, 0xfff0, le);
    else v.setUint32(e + 8, 0x40000000, le);
  }
  for (const d of PATHS) {
    await assert.rejects(
      decodeImage(tif, "tile.tif", { decoder: d }),
      (e) => e instanceof Error && /^tile\.tif: cannot decode TIFF/.test(e.message),
    );
  }
});

Deno.test("jpeg round trip: our libjpeg-turbo model equals libvips' to the bit", async () => {
  const names = ["Photos/photo_00001.png", "Cycles/cycles_00000.png", "POVRay/povray_00003.png"];
  for (const [k, name] of names.entries()) {
    const full = await readImage(`${SHIPPED}/${name}`);
    // odd sizes: partial blocks at the right and bottom edges
    const img = { ...full, width: 256 - k * 3, height: 256 - k * 5 };
    img.data = new Uint8Array(img.width * img.height * 3);
    for (let y = 0; y < img.height; y++) {
      img.data.set(full.data.subarray(y * 768, y * 768 + img.width * 3), y * img.width * 3);
    }
    for (const q of [100, 90, 75, 50, 30, 5]) {
      const vips = await jpegRoundTrip(img, q, "libvips");
      assert.deepEqual(
        jpegRoundTrip444(img.data, img.width, img.height, q),
        vips.data,
        `${name} at ${q}`,
      );
      assert.deepEqual(await jpegRoundTrip(img, q, "wasm"), vips, `${name} at ${q}`);
    }
  }
});

Deno.test("decoder mismatch: named when the pixels' version or the path differs", () => {
  const now = { pixels: 2, decoder: "libvips" as const, detail: "libvips 8" };
  assert.match(decoderMismatch(undefined, now)!, /pixels version 1/);
  assert.match(decoderMismatch({ ...now, decoder: "wasm" }, now)!, /colour profile/);
  assert.equal(decoderMismatch(now, now), undefined);
});

// --- files written by hand (libvips writes neither BMP nor Netpbm)

function bmpHeader(w: number, h: number, bpp: number, extra: number, compression = 0) {
  const stride = Math.ceil((bpp * w) / 32) * 4, at = 54 + extra;
  const b = new Uint8Array(at + stride * h), v = new DataView(b.buffer);
  b.set([0x42, 0x4d]);
  v.setUint32(2, b.length, true);
  v.setUint32(10, at, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, w, true);
  v.setInt32(22, h, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, bpp, true);
  v.setUint32(30, compression, true);
  return { b, v, stride, at };
}

function bmp24(img: RgbImage): Uint8Array {
  const { b, stride, at } = bmpHeader(img.width, img.height, 24, 0);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = 3 * (y * img.width + x), d = at + (img.height - 1 - y) * stride + 3 * x;
      b.set([img.data[s + 2], img.data[s + 1], img.data[s]], d);
    }
  }
  return b;
}

function bmp8(grey: RgbImage): Uint8Array {
  const { b, stride, at } = bmpHeader(grey.width, grey.height, 8, 1024);
  for (let i = 0; i < 256; i++) b.set([i, i, i, 0], 54 + 4 * i);
  for (let y = 0; y < grey.height; y++) {
    for (let x = 0; x < grey.width; x++) {
      b[at + (grey.height - 1 - y) * stride + x] = grey.data[3 * (y * grey.width + x)];
    }
  }
  return b;
}

/** 32-bit with bit fields (B, G, R in the low three bytes), top-down when `topDown`. */
function bmp32(img: RgbImage, topDown: boolean): Uint8Array {
  const { b, v, stride, at } = bmpHeader(img.width, img.height, 32, 12, 3);
  if (topDown) v.setInt32(22, -img.height, true);
  v.setUint32(54, 0xff0000, true);
  v.setUint32(58, 0x00ff00, true);
  v.setUint32(62, 0x0000ff, true);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = 3 * (y * img.width + x), row = topDown ? y : img.height - 1 - y;
      v.setUint32(
        at + row * stride + 4 * x,
        (img.data[s] << 16) | (img.data[s + 1] << 8) | img.data[s + 2],
        true,
      );
    }
  }
  return b;
}

function ppm(img: RgbImage, ascii = false): Uint8Array {
  const head = `P${ascii ? 3 : 6}\n${img.width} ${img.height}\n255\n`;
  if (ascii) return new TextEncoder().encode(head + [...img.data].join(" ") + "\n");
  const h = new TextEncoder().encode(head), b = new Uint8Array(h.length + img.data.length);
  b.set(h);
  b.set(img.data, h.length);
  return b;
}

function ppm16(w: number, h: number, d: Uint16Array): Uint8Array {
  const head = new TextEncoder().encode(`P6\n${w} ${h}\n65535\n`);
  const b = new Uint8Array(head.length + 2 * d.length);
  b.set(head);
  d.forEach((v, i) => b.set([v >> 8, v & 255], head.length + 2 * i));
  return b;
}

/**
 * An RGB TIFF, one strip per plane (planar) or one strip, 8 or 16 bits; uncompressed, or Deflate
 * with the horizontal predictor (libtiff ignores a predictor on uncompressed data).
 */
function tiff(
  w: number,
  h: number,
  samples: Uint8Array | Uint16Array,
  o: { le: boolean; planar: boolean; bits: number; predictor: boolean },
): Uint8Array {
  const size = o.bits / 8, planes = o.planar ? 3 : 1, per = o.planar ? 1 : 3;
  const rawBytes = w * h * per * size;
  const tags: [number, number, number[]][] = [ // tag, type (3 SHORT, 4 LONG), values
    [256, 4, [w]],
    [257, 4, [h]],
    [258, 3, [o.bits, o.bits, o.bits]],
    [259, 3, [o.predictor ? 8 : 1]],
    [262, 3, [2]],
    [273, 4, []], // strip offsets, filled below
    [277, 3, [3]],
    [278, 4, [h]],
    [279, 4, []], // strip byte counts, filled below
    [284, 3, [o.planar ? 2 : 1]],
    [317, 3, [o.predictor ? 2 : 1]],
  ];
  const ifd = 8, extra = ifd + 2 + 12 * tags.length + 4;
  const count = (tag: number, v: number[]) => (tag === 273 || tag === 279 ? planes : v.length);
  const arrays = tags.filter(([tag, t, v]) => count(tag, v) * (t === 3 ? 2 : 4) > 4);
  let at = extra;
  const where = new Map<number, number>();
  for (const [tag, t, v] of arrays) {
    where.set(tag, at);
    at += count(tag, v) * (t === 3 ? 2 : 4);
  }
  // the samples first: planar R..., G..., B...; chunky RGBRGB...; the predictor stores differences
  const strips: Uint8Array[] = [];
  for (let p = 0; p < planes; p++) {
    const strip = new Uint8Array(rawBytes), sv = new DataView(strip.buffer);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w * per; x++) {
        const c = o.planar ? p : x % 3, px = o.planar ? x : Math.floor(x / 3);
        let v = samples[3 * (y * w + px) + c];
        if (o.predictor && x >= per) v -= samples[3 * (y * w + px) + c - 3];
        const i = (y * w * per + x) * size;
        if (size === 1) strip[i] = v & 255;
        else sv.setUint16(i, v & 0xffff, o.le);
      }
    }
    strips.push(o.predictor ? new Uint8Array(deflateSync(strip)) : strip);
  }
  const data = at, out = new Uint8Array(data + strips.reduce((n, b) => n + b.length, 0));
  const view = new DataView(out.buffer);
  const starts = strips.map((_, p) => data + strips.slice(0, p).reduce((n, b) => n + b.length, 0));
  strips.forEach((b, p) => out.set(b, starts[p]));
  out.set(o.le ? [0x49, 0x49, 42, 0] : [0x4d, 0x4d, 0, 42]);
  view.setUint32(4, ifd, o.le);
  view.setUint16(ifd, tags.length, o.le);
  tags.forEach(([tag, t, v], i) => {
    if (tag === 273) v = starts;
    if (tag === 279) v = strips.map((b) => b.length);
    const e = ifd + 2 + 12 * i;
    view.setUint16(e, tag, o.le);
    view.setUint16(e + 2, t, o.le);
    view.setUint32(e + 4, v.length, o.le);
    const put = (off: number, x: number, k: number) =>
      t === 3 ? view.setUint16(off + 2 * k, x, o.le) : view.setUint32(off + 4 * k, x, o.le);
    const off = where.get(tag) ?? e + 8;
    if (where.has(tag)) view.setUint32(e + 8, off, o.le);
    v.forEach((x, k) => put(off, x, k));
  });
  return out;
}

/** A PNG with an iCCP chunk holding `icc`, inserted after its header. */
function withIccp(png: Uint8Array, icc: Uint8Array): Uint8Array {
  const body = new Uint8Array([
    ...new TextEncoder().encode("iCCP"),
    ...new TextEncoder().encode("profile"),
    0,
    0,
    ...deflateSync(icc),
  ]);
  const chunk = new Uint8Array(body.length + 8), v = new DataView(chunk.buffer);
  v.setUint32(0, body.length - 4);
  chunk.set(body, 4);
  v.setUint32(body.length + 4, crc32(body));
  const at = 8 + 25; // signature, IHDR
  return new Uint8Array([...png.subarray(0, at), ...chunk, ...png.subarray(at)]);
}
