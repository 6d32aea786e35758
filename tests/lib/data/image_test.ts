import assert from "node:assert/strict";
import { centerCrop, flipHorizontal, type RgbImage, tileOrigins } from "../../../lib/data/image.ts";
import { decodeImage, readImage, sniffImage } from "../../../lib/data/decode.ts";
import { encodePng } from "../../../lib/data/png.ts";
import { ImageError } from "../../../lib/core/errors.ts";
import { rgbImage, SHIPPED } from "../../_helpers.ts";

function gradient(w: number, h: number): RgbImage {
  return rgbImage(w, h, (x, y, c) => [x * 7 & 255, y * 5 & 255, (x + y) & 255][c]);
}

Deno.test("image: PNG round trip through our encoder and imagescript is exact", async () => {
  const img = gradient(37, 23);
  const back = await decodeImage(await encodePng({ ...img, channels: 3 }), "g.png");
  assert.deepEqual(back, img);
});

Deno.test("image: grayscale becomes 3 equal channels, alpha is dropped, 16-bit keeps the high byte", async () => {
  const gray = new Uint8Array([0, 50, 100, 150, 200, 250]);
  const g = await decodeImage(await encodePng({ width: 3, height: 2, channels: 1, data: gray }));
  assert.deepEqual([...g.data.subarray(0, 6)], [0, 0, 0, 50, 50, 50]);
  const rgba = new Uint8Array([10, 20, 30, 0, 40, 50, 60, 255]);
  const a = await decodeImage(await encodePng({ width: 2, height: 1, channels: 4, data: rgba }));
  assert.deepEqual([...a.data], [10, 20, 30, 40, 50, 60]);
  const deep = new Uint16Array([0x1234, 0xabcd, 0xffff]);
  const d = await decodeImage(
    await encodePng({ width: 1, height: 1, channels: 3, depth: 16, data: deep }),
  );
  assert.deepEqual([...d.data], [0x12, 0xab, 0xff]);
  const pal = await decodeImage(
    await encodePng({
      width: 2,
      height: 1,
      channels: 1,
      data: new Uint8Array([1, 0]),
      palette: new Uint8Array([9, 8, 7, 1, 2, 3]),
    }),
  );
  assert.deepEqual([...pal.data], [1, 2, 3, 9, 8, 7]);
});

Deno.test("image: the shipped PNGs decode at 256x256", async () => {
  const img = await readImage(`${SHIPPED}/Cycles/cycles_00000.png`);
  assert.equal(img.width, 256);
  assert.equal(img.data.length, 256 * 256 * 3);
});

function rejects(bytes: Uint8Array, re: RegExp, opts = {}) {
  return assert.rejects(
    decodeImage(bytes, "bad.png", opts),
    (e) => e instanceof ImageError && e.path === "bad.png" && re.test(e.message),
  );
}

Deno.test("image: bad inputs are ImageErrors naming the file", async () => {
  const png = await encodePng({ width: 8, height: 8, channels: 3, data: gradient(8, 8).data });
  await rejects(new Uint8Array(0), /empty file/);
  await rejects(new TextEncoder().encode("hello, not an image"), /not an image/);
  await rejects(png.subarray(0, 20), /truncated PNG/);
  await rejects(png.subarray(0, png.length - 30), /cannot decode PNG/);
  await rejects(new TextEncoder().encode("GIF89a\x10\x00\x10\x00......"), /cannot decode GIF/);
  await rejects(new TextEncoder().encode("GIF89a"), /truncated GIF/);
  await rejects(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0]), /truncated JPEG/);
  await assert.rejects(readImage("/nonexistent/x.png"), /x\.png: file not found/);
});

Deno.test("image: a header claiming huge dimensions is refused before decoding", async () => {
  const png = await encodePng({ width: 8, height: 8, channels: 3, data: gradient(8, 8).data });
  const bomb = png.slice();
  new DataView(bomb.buffer).setUint32(16, 100000);
  new DataView(bomb.buffer).setUint32(20, 100000);
  assert.deepEqual(sniffImage(bomb), { format: "png", width: 100000, height: 100000 });
  await rejects(bomb, /100000x100000 is over the 100000000-pixel limit/);
  await rejects(png, /8x8 is over the 10-pixel limit/, { maxPixels: 10 });
});

Deno.test("image: centre crop, too-small error, flip, tile grid", () => {
  const img = gradient(10, 7);
  const c = centerCrop(img, 5);
  assert.deepEqual([...c.data.subarray(0, 3)], [
    ...img.data.subarray((1 * 10 + 2) * 3, (1 * 10 + 2) * 3 + 3),
  ]);
  assert.throws(
    () => centerCrop(img, 8, "small.png"),
    /small\.png: 10x7 is smaller than the 8x8 crop/,
  );
  const f = flipHorizontal(img);
  assert.deepEqual([...f.data.subarray(0, 3)], [...img.data.subarray(27, 30)]);
  assert.deepEqual(tileOrigins(10, 7, 5, 1), [[2, 1]]);
  assert.deepEqual(tileOrigins(256, 256, 96, 4), [[0, 0], [160, 0], [0, 160], [160, 160]]);
});
