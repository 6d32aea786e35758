/**
 * Image decoding and cropping. Files are sniffed first (format and dimensions from the header),
 * so a decompression bomb is refused before any pixel buffer is allocated; then decoded with
 * `imagescript` (PNG, JPEG, little-endian TIFF) to 8-bit RGB: grayscale is repeated to three
 * channels, alpha and palettes are resolved by the decoder and alpha is dropped, 16-bit samples
 * keep their high byte. EXIF orientation is deliberately ignored: forensic statistics live on
 * the stored pixel grid.
 *
 * @module
 */

import { imageCodecs } from "../core/deps.ts";
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

/** What the header says about an image file. */
export interface ImageInfo {
  /** File format. */
  format: "png" | "jpeg" | "tiff";
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/** Default pixel limit: images with more pixels are refused before decoding. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Extensions the toolkit treats as images when it walks a folder. */
export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".tif", ".tiff"];

/** True if `name` ends with a known image extension (case-insensitive). */
export function hasImageExtension(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/**
 * Reads format and dimensions from the header without decoding. Throws {@link ImageError} for
 * empty, truncated or unknown files.
 *
 * @example Format and size from the header, no decoding
 * ```ts
 * import { sniffImage } from "./mod.ts";
 * console.log(sniffImage(await Deno.readFile("dataset/Photos/photo_00001.png"))); // { format: "png", ... }
 * ```
 */
export function sniffImage(bytes: Uint8Array, path = "<image>"): ImageInfo {
  if (bytes.length === 0) throw new ImageError(path, "empty file (0 bytes)");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number, le = false) => (o + 4 <= bytes.length ? v.getUint32(o, le) : -1);
  const u16 = (o: number, le = false) => (o + 2 <= bytes.length ? v.getUint16(o, le) : -1);
  // PNG
  if (bytes.length >= 8 && u32(0) === 0x89504e47 && u32(4) === 0x0d0a1a0a) {
    if (bytes.length < 33 || u32(12) !== 0x49484452) {
      throw new ImageError(path, "truncated PNG (no IHDR header)");
    }
    return { format: "png", width: u32(16), height: u32(20) };
  }
  // JPEG: walk the markers to the first start-of-frame
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    let o = 2;
    while (o + 4 <= bytes.length) {
      if (bytes[o] !== 0xff) throw new ImageError(path, `corrupt JPEG (bad marker at byte ${o})`);
      const marker = bytes[o + 1];
      if (marker === 0xff) {
        o++;
        continue;
      }
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        o += 2;
        continue;
      }
      const len = u16(o + 2);
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
        marker !== 0xcc;
      if (isSof) {
        if (o + 9 > bytes.length) break;
        if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) {
          throw new ImageError(
            path,
            `unsupported JPEG coding (SOF${marker - 0xc0}: lossless/arithmetic)`,
          );
        }
        return { format: "jpeg", width: u16(o + 7), height: u16(o + 5) };
      }
      if (marker === 0xd9 || marker === 0xda) break;
      o += 2 + len;
    }
    throw new ImageError(path, "truncated JPEG (no frame header)");
  }
  // TIFF (imagescript reads little-endian TIFF only)
  if (bytes.length >= 4 && u32(0) === 0x49492a00) {
    const ifd = u32(4, true);
    const n = u16(ifd, true);
    if (ifd < 8 || n < 0) throw new ImageError(path, "truncated TIFF (no image directory)");
    let width = -1, height = -1;
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + i * 12;
      const tag = u16(e, true), type = u16(e + 2, true);
      const value = type === 3 ? u16(e + 8, true) : u32(e + 8, true);
      if (tag === 256) width = value;
      if (tag === 257) height = value;
    }
    if (width < 0 || height < 0) {
      throw new ImageError(path, "truncated TIFF (no width/height tags)");
    }
    return { format: "tiff", width, height };
  }
  if (bytes.length >= 4 && u32(0) === 0x4d4d002a) {
    throw new ImageError(path, "unsupported TIFF (big-endian)");
  }
  const head = new TextDecoder().decode(bytes.subarray(0, 12));
  if (head.startsWith("GIF8")) throw new ImageError(path, "unsupported format (GIF)");
  if (head.startsWith("BM")) throw new ImageError(path, "unsupported format (BMP)");
  if (head.startsWith("RIFF") && head.slice(8, 12) === "WEBP") {
    throw new ImageError(path, "unsupported format (WebP)");
  }
  throw new ImageError(
    path,
    "not an image (unknown file signature; PNG, JPEG and TIFF are supported)",
  );
}

/** Options for {@link decodeImage}. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (default {@link DEFAULT_MAX_PIXELS}). */
  maxPixels?: number;
}

/**
 * Decodes PNG/JPEG/TIFF bytes to 8-bit RGB. Throws {@link ImageError} naming `path` for any
 * file that cannot be used, and never returns a partial image.
 *
 * @example Bytes to 8-bit RGB
 * ```ts
 * import { decodeImage } from "./mod.ts";
 * const img = await decodeImage(await Deno.readFile("dataset/Photos/photo_00001.png"), "photo_00001.png");
 * console.log(img.width, img.height, img.data.length);
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  path = "<image>",
  opts: DecodeOptions = {},
): Promise<RgbImage> {
  const info = sniffImage(bytes, path);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (info.width <= 0 || info.height <= 0) {
    throw new ImageError(
      path,
      `invalid ${info.format.toUpperCase()} dimensions ${info.width}x${info.height}`,
    );
  }
  if (info.width * info.height > maxPixels) {
    throw new ImageError(
      path,
      `${info.width}x${info.height} is over the ${maxPixels}-pixel limit (raise it with maxPixels / --max-pixels)`,
    );
  }
  const codecs = await imageCodecs(); // outside the try: a setup failure is not this image's fault
  let rgb: Uint8Array, w: number, h: number;
  try {
    ({ data: rgb, width: w, height: h } = await decodePixels(codecs, info.format, bytes));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ImageError(
      path,
      `cannot decode ${info.format.toUpperCase()}: ${msg || "corrupt or truncated data"}`,
    );
  }
  if (w !== info.width || h !== info.height) {
    throw new ImageError(
      path,
      `cannot decode ${info.format.toUpperCase()}: decoded ${w}x${h}, header says ${info.width}x${info.height}`,
    );
  }
  return { width: w, height: h, data: rgb };
}

/**
 * Runs imagescript's WebAssembly decoder for `format` (a fresh instance per image, so a trap on
 * one corrupt file cannot poison the next) and converts its output to RGB.
 */
async function decodePixels(
  codecs: Awaited<ReturnType<typeof imageCodecs>>,
  format: ImageInfo["format"],
  bytes: Uint8Array,
): Promise<RgbImage> {
  if (format === "png") {
    const out = (await codecs.png.init()).decode(bytes) as {
      width: number;
      height: number;
      framebuffer: Uint8Array;
    };
    return {
      width: out.width,
      height: out.height,
      data: rgbaToRgb(out.framebuffer, out.width * out.height),
    };
  }
  if (format === "tiff") {
    const out = (await codecs.tiff.init()).decode(bytes) as {
      width: number;
      height: number;
      buffer: Uint8Array;
    };
    return {
      width: out.width,
      height: out.height,
      data: rgbaToRgb(out.buffer, out.width * out.height),
    };
  }
  const fb = (await codecs.jpeg.init()).decode(bytes) as {
    width: number;
    height: number;
    format: number;
    buffer: Uint8Array;
  };
  const n = fb.width * fb.height, src = fb.buffer, data = new Uint8Array(n * 3);
  if (fb.format === 0) { // grayscale
    if (src.length < n) throw new Error("truncated pixel data");
    for (let i = 0; i < n; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = src[i];
  } else if (fb.format === 1) { // RGB
    if (src.length < 3 * n) throw new Error("truncated pixel data");
    data.set(src.subarray(0, 3 * n));
  } else if (fb.format === 2) { // CMYK, converted as imagescript does
    if (src.length < 4 * n) throw new Error("truncated pixel data");
    for (let i = 0; i < n; i++) {
      const k = 1 - src[4 * i + 3] / 255;
      for (let c = 0; c < 3; c++) {
        data[3 * i + c] = Math.round(255 * (1 - src[4 * i + c] / 255) * k);
      }
    }
  } else throw new Error(`unsupported JPEG pixel format ${fb.format}`);
  return { width: fb.width, height: fb.height, data };
}

function rgbaToRgb(rgba: Uint8Array, n: number): Uint8Array {
  if (rgba.length < 4 * n) throw new Error("truncated pixel data");
  const data = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    data[i * 3] = rgba[j];
    data[i * 3 + 1] = rgba[j + 1];
    data[i * 3 + 2] = rgba[j + 2];
  }
  return data;
}

/**
 * Reads and decodes an image file; every failure is an {@link ImageError} naming the file.
 *
 * @example Read and decode a file
 * ```ts
 * import { readImage } from "./mod.ts";
 * const img = await readImage("dataset/Cycles/cycles_00000.png");
 * console.log(img.width, img.height);
 * ```
 */
export async function readImage(path: string, opts: DecodeOptions = {}): Promise<RgbImage> {
  return await decodeImage(await readImageFile(path), path, opts);
}

/**
 * The bytes of an image file; every failure is an {@link ImageError} naming the file. Deno
 * checks read permission on the path given, not on where a symbolic link points: a link whose
 * target lies outside the paths this process may read is refused here, so a folder handed to a
 * sandboxed run cannot make it read anything else.
 */
export async function readImageFile(path: string): Promise<Uint8Array> {
  await checkLinkTarget(path);
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ImageError(path, "file not found");
    if (e instanceof Deno.errors.IsADirectory) throw new ImageError(path, "is a directory");
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      throw new ImageError(path, `cannot read: ${(e as Error).message.split("\n")[0]}`);
    }
    throw new ImageError(path, `cannot read: ${(e as Error).message}`);
  }
}

/** Refuses a symbolic link whose target this process may not read (see {@link readImageFile}). */
export async function checkLinkTarget(path: string): Promise<void> {
  let link = false;
  try {
    link = (await Deno.lstat(path)).isSymlink;
  } catch {
    return; // missing: reading it reports that
  }
  if (!link) return;
  let target: string;
  try {
    target = await Deno.realPath(path);
  } catch {
    throw new ImageError(path, "broken symbolic link");
  }
  if (Deno.permissions.querySync({ name: "read", path: target }).state !== "granted") {
    throw new ImageError(
      path,
      `permission denied: a symbolic link to ${target}, outside the paths this run may read`,
    );
  }
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
