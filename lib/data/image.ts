/**
 * Decoded images and where the stages look at them: crops, the tile grid, mirroring. Reading
 * files is `decode.ts`.
 *
 * @module
 */

import { ImageError } from "../core/errors.ts";

/** An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC). */
export interface RgbImage {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** `width * height * 3` bytes. */
  data: Uint8Array;
}

/**
 * The RGB of `n` RGBA pixels (alpha dropped); throws if there are fewer than `n`.
 *
 * @example Two RGBA pixels
 * ```ts
 * import { rgbaToRgb } from "./image.ts";
 * console.log(rgbaToRgb([1, 2, 3, 255, 4, 5, 6, 0], 2)); // Uint8Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export function rgbaToRgb(rgba: ArrayLike<number>, n: number): Uint8Array {
  if (rgba.length < 4 * n) throw new Error("truncated pixel data");
  const data = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    data[i * 3] = rgba[j];
    data[i * 3 + 1] = rgba[j + 1];
    data[i * 3 + 2] = rgba[j + 2];
  }
  return data;
}

/** Copies the `w`x`h` window at (`x`, `y`) out of `img`. */
export function cropAt(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  if (x < 0 || y < 0 || x + w > img.width || y + h > img.height) {
    throw new RangeError(`crop ${w}x${h}+${x}+${y} is outside a ${img.width}x${img.height} image`);
  }
  const data = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) {
    const src = ((y + r) * img.width + x) * 3;
    data.set(img.data.subarray(src, src + w * 3), r * w * 3);
  }
  return { width: w, height: h, data };
}

/**
 * The centred `size`x`size` crop; throws {@link ImageError} if the image is smaller.
 *
 * @example The centred crop
 * ```ts
 * import { centerCrop, readImage } from "./mod.ts";
 * const img = centerCrop(await readImage("dataset/POVRay/povray_00003.png"), 233);
 * console.log(img.width, img.height); // 233 233
 * ```
 */
export function centerCrop(img: RgbImage, size: number, path = "<image>"): RgbImage {
  assertCroppable(img, size, path);
  return cropAt(img, (img.width - size) >> 1, (img.height - size) >> 1, size, size);
}

/** Throws {@link ImageError} if `img` is smaller than `size` on either side. */
export function assertCroppable(
  img: { width: number; height: number },
  size: number,
  path: string,
): void {
  if (img.width < size || img.height < size) {
    throw new ImageError(
      path,
      `${img.width}x${img.height} is smaller than the ${size}x${size} crop`,
    );
  }
}

/** Mirrors an image left-right (a new image). */
export function flipHorizontal(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const data = new Uint8Array(img.data.length);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const s = (r * w + c) * 3, d = (r * w + (w - 1 - c)) * 3;
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
    }
  }
  return { width: w, height: h, data };
}

/**
 * Top-left corners of a grid of `size`x`size` tiles covering the image: as many tiles as fit
 * along each side (at most `maxPerSide`), spread evenly from edge to edge.
 */
export function tileOrigins(
  width: number,
  height: number,
  size: number,
  maxPerSide = 4,
): [number, number][] {
  const along = (len: number) => {
    const n = Math.max(1, Math.min(maxPerSide, Math.floor(len / size)));
    if (n === 1) return [(len - size) >> 1];
    return Array.from({ length: n }, (_, i) => Math.round((i * (len - size)) / (n - 1)));
  };
  const xs = along(width), ys = along(height);
  return ys.flatMap((y) => xs.map((x) => [x, y] as [number, number]));
}
