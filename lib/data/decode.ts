/**
 * Reading image files as 8-bit RGB. The decoder is part of the feature definition (residual
 * statistics see the IDCT), so what it does is fixed here and recorded with every model and
 * cache ({@link PIXELS}):
 *
 * - **Formats.** JPEG (baseline, progressive, greyscale, CMYK; truncated or damaged files are
 *   decoded as libjpeg decodes them, with a warning), PNG (8/16-bit, palette, alpha), TIFF
 *   (8/16-bit, strips or tiles, none/LZW/Deflate/PackBits), GIF (first frame), WebP, AVIF
 *   (HEIF with AV1; the prebuilt libvips has no HEVC), BMP and PBM/PGM/PPM.
 * - **Every image** is turned upright by its EXIF orientation; 16-bit samples keep their high
 *   byte; alpha is dropped; grey is repeated to three channels; an embedded ICC profile is
 *   converted to sRGB, unless it describes sRGB (the pixels are taken as stored).
 * - **Two paths, one set of pixels.** `libvips` (through `sharp`; needs FFI, as the native
 *   backend does) and `wasm` (the strict sandbox: libjpeg-turbo's own decoder compiled to
 *   WebAssembly, imagescript for PNG and GIF, our TIFF, BMP and Netpbm readers). They give the
 *   same pixels, bit for bit, for every format the `wasm` path reads (tested format by format),
 *   except two cases it warns about: a colour profile other than sRGB (not converted) and CMYK
 *   JPEG (converted without a profile). WebP, AVIF and JPEG-compressed TIFF need libvips.
 * - **Bounded memory.** The header is read first (for GIF, the first frame's too), and an image of
 *   more than `maxPixels` pixels ({@link DEFAULT_MAX_PIXELS}; `--max-pixels`) is refused before
 *   any pixel is decoded.
 *
 * @module
 */

import { DECODER_PACKAGES } from "../core/deps.ts";
import { ImageError, UsageError } from "../core/errors.ts";
import { tiffTags } from "./_meta.ts";
import { bmpSize, decodeBmp, decodePnm, pnmHeader } from "./_raster.ts";
import { loadSharp, vipsDecode, vipsSize, vipsUnavailable, vipsVersion } from "./_vips.ts";
import { type Decoded, wasmDecode } from "./_wasm.ts";
import type { RgbImage } from "./image.ts";

/** The image formats the toolkit recognises. */
export type ImageFormat = "png" | "jpeg" | "tiff" | "gif" | "webp" | "heif" | "bmp" | "pnm";

/** What the header says about an image file (size 0 when the header does not say). */
export interface ImageInfo {
  /** File format. */
  format: ImageFormat;
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/** Default pixel limit: images with more pixels are refused before decoding. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Extensions the toolkit treats as images when it walks a folder. */
export const IMAGE_EXTENSIONS = [
  ".png",
  ".jpg",
  ".jpeg",
  ".tif",
  ".tiff",
  ".gif",
  ".webp",
  ".avif",
  ".heic",
  ".heif",
  ".bmp",
  ".ppm",
  ".pgm",
  ".pbm",
  ".pnm",
];

/** The decoding paths, and `auto`: libvips where it loads, else WebAssembly. */
export const DECODERS = ["auto", "libvips", "wasm"] as const;
/** A decoding path (see the module documentation). */
export type DecoderName = typeof DECODERS[number];

/**
 * What defines the decoded pixels, saved with models and caches: version 2 is this module
 * (libjpeg-turbo's IDCT, EXIF orientation applied, profiles converted to sRGB; the JPEG round
 * trip of `--match-compression` is libjpeg-turbo's too). Version 1, which models saved before
 * it do not record, was imagescript's decoders with `jpeg-js` for the round trip and no
 * orientation: its JPEG pixels differ.
 */
export const PIXELS = 2;

/** True if `name` ends with a known image extension (case-insensitive). */
export function hasImageExtension(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

let chosen: DecoderName = "auto";

/**
 * Sets the decoding path of this process (`--decoder`; default `auto`).
 *
 * @example Decode on the WebAssembly path, as the strict sandbox does
 * ```ts
 * import { activeDecoder, setDecoder } from "./decode.ts";
 * setDecoder("wasm");
 * console.log(await activeDecoder()); // wasm
 * setDecoder("auto");
 * ```
 */
export function setDecoder(name: DecoderName): void {
  if (!(DECODERS as readonly string[]).includes(name)) {
    throw new UsageError(`decoder must be one of ${DECODERS.join(", ")}, got "${name}"`);
  }
  chosen = name;
}

/** The path `name` (default: the process's) resolves to; `libvips` without it is a UsageError. */
export async function activeDecoder(name: DecoderName = chosen): Promise<"libvips" | "wasm"> {
  if (name === "wasm") return "wasm";
  const vips = await loadSharp();
  if (vips) return "libvips";
  if (name === "libvips") throw new UsageError(`--decoder libvips: ${vipsUnavailable()}`);
  return "wasm";
}

/**
 * The decoder that reads images here, as recorded with models and caches:
 * `{ pixels: 2, decoder: "libvips" | "wasm", detail }`.
 *
 * @example Which decoder this process uses
 * ```ts
 * import { decoderInfo } from "./decode.ts";
 * const d = await decoderInfo();
 * console.log(d.pixels, d.decoder, d.detail); // 2 libvips libvips 8.17.3 (sharp 0.34.5)
 * ```
 */
export async function decoderInfo(name: DecoderName = chosen): Promise<DecoderRecord> {
  const decoder = await activeDecoder(name);
  return {
    pixels: PIXELS,
    decoder,
    detail: decoder === "libvips"
      ? await vipsVersion()
      : `libjpeg-turbo (mozjpeg, @jsquash/jpeg ${DECODER_PACKAGES.jsquashJpeg}), imagescript ${DECODER_PACKAGES.imagescript}, own TIFF/BMP/Netpbm`,
  };
}

/** The decoder a model was fitted with, or an image decoded by. */
export interface DecoderRecord {
  /** {@link PIXELS} of the toolkit that decoded. */
  pixels: number;
  /** Which path. */
  decoder: "libvips" | "wasm";
  /** Library versions. */
  detail: string;
}

/**
 * Why scores made with decoder `now` may differ from a model fitted with `fitted`, or undefined
 * when they cannot (`fitted` undefined: a model from before decoders were recorded, version 1).
 *
 * @example A model fitted on the old pixels, scored on the new ones
 * ```ts
 * import { decoderMismatch } from "./decode.ts";
 * const now = { pixels: 2, decoder: "libvips" as const, detail: "" };
 * console.log(decoderMismatch(undefined, now)); // fitted on pixels version 1 ...
 * console.log(decoderMismatch(now, now)); // undefined
 * ```
 */
export function decoderMismatch(
  fitted: DecoderRecord | undefined,
  now: DecoderRecord,
): string | undefined {
  const was = fitted?.pixels ?? 1;
  if (was !== now.pixels) {
    return `fitted on pixels version ${was} (${
      fitted?.detail ?? "imagescript, jpeg-js round trip"
    }), scored with version ${now.pixels} (${now.detail}): JPEG pixels and re-encodings differ, so scores shift`;
  }
  if (fitted!.decoder !== now.decoder) {
    return `fitted with the ${
      fitted!.decoder
    } decoder, scored with ${now.decoder}: the same pixels except images with a non-sRGB colour profile and CMYK JPEGs`;
  }
  return undefined;
}

const warnedModels = new Set<string>();

/**
 * Warns once per model (named by `where`) when it was fitted on other pixels than this process
 * decodes ({@link decoderMismatch}); returns the reason, or undefined.
 */
export async function warnOtherDecoder(
  fitted: DecoderRecord | undefined,
  where: string,
): Promise<string | undefined> {
  const why = decoderMismatch(fitted, await decoderInfo());
  if (why && !warnedModels.has(where)) {
    warnedModels.add(where);
    console.error(`warning: ${where}: ${why}`);
  }
  return why;
}

/**
 * Reads format and dimensions from the header without decoding. Throws {@link ImageError} for
 * empty, truncated or unknown files.
 *
 * @example Format and size from the header, no decoding
 * ```ts
 * import { sniffImage } from "./decode.ts";
 * console.log(sniffImage(await Deno.readFile("dataset/Photos/photo_00001.png"))); // { format: "png", ... }
 * ```
 */
export function sniffImage(bytes: Uint8Array, path = "<image>"): ImageInfo {
  if (bytes.length === 0) throw new ImageError(path, "empty file (0 bytes)");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number, le = false) => (o + 4 <= bytes.length ? v.getUint32(o, le) : -1);
  const u16 = (o: number, le = false) => (o + 2 <= bytes.length ? v.getUint16(o, le) : -1);
  const text = (o: number, n: number) => String.fromCharCode(...bytes.subarray(o, o + n));
  if (bytes.length >= 8 && u32(0) === 0x89504e47 && u32(4) === 0x0d0a1a0a) {
    if (bytes.length < 33 || u32(12) !== 0x49484452) {
      throw new ImageError(path, "truncated PNG (no IHDR header)");
    }
    return { format: "png", width: u32(16), height: u32(20) };
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return { format: "jpeg", ...jpegSize(bytes, path) };
  }
  const tiffLe = u32(0) === 0x49492a00, tiffBe = u32(0) === 0x4d4d002a;
  if (tiffLe || tiffBe) {
    const ifd = u32(4, tiffLe), n = u16(ifd, tiffLe);
    if (ifd < 8 || n < 0) throw new ImageError(path, "truncated TIFF (no image directory)");
    // the first occurrence of a tag, as the TIFF reader takes it, so the limit sees its size
    const tags = tiffTags(bytes);
    const read = (id: number) => {
      try {
        return tags.values(id)?.[0] ?? -1;
      } catch {
        return -1; // a tag of another type, or past the end: as if absent
      }
    };
    const width = read(256), height = read(257);
    if (width < 0 || height < 0) {
      throw new ImageError(path, "truncated TIFF (no width/height tags)");
    }
    return { format: "tiff", width, height };
  }
  if (text(0, 4) === "GIF8") {
    if (bytes.length < 10) throw new ImageError(path, "truncated GIF (no screen descriptor)");
    // a first frame reaching past the screen grows the canvas: the limit sees the grown size
    const frame = gifFrameSize(bytes);
    return {
      format: "gif",
      width: Math.max(u16(6, true), frame.width),
      height: Math.max(u16(8, true), frame.height),
    };
  }
  if (text(0, 4) === "RIFF" && text(8, 4) === "WEBP") return { format: "webp", ...webpSize(v) };
  if (text(4, 4) === "ftyp" && /^(avif|avis|heic|heix|heim|heis|hevc|mif1|msf1)/.test(text(8, 4))) {
    return { format: "heif", width: 0, height: 0 };
  }
  const bmp = bmpSize(bytes);
  if (bmp) return { format: "bmp", ...bmp };
  const pnm = pnmHeader(bytes);
  if (pnm) return { format: "pnm", width: pnm.width, height: pnm.height };
  throw new ImageError(
    path,
    "not an image (unknown file signature; JPEG, PNG, TIFF, GIF, WebP, AVIF, BMP and PPM are read)",
  );
}

/** Walks a JPEG's markers to its frame header. */
function jpegSize(bytes: Uint8Array, path: string): { width: number; height: number } {
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
    const len = (bytes[o + 2] << 8) | bytes[o + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
      marker !== 0xcc;
    if (isSof) {
      if (o + 9 > bytes.length) break;
      if (![0xc0, 0xc1, 0xc2].includes(marker)) {
        throw new ImageError(
          path,
          `unsupported JPEG coding (SOF${marker - 0xc0}: lossless/arithmetic)`,
        );
      }
      return {
        width: (bytes[o + 7] << 8) | bytes[o + 8],
        height: (bytes[o + 5] << 8) | bytes[o + 6],
      };
    }
    if (marker === 0xd9 || marker === 0xda) break;
    o += 2 + len;
  }
  throw new ImageError(path, "truncated JPEG (no frame header)");
}

/** Where a GIF's first image ends, right and bottom (0 when the file ends before it). */
function gifFrameSize(b: Uint8Array): { width: number; height: number } {
  let o = 13;
  if (b[10] & 0x80) o += 3 << ((b[10] & 7) + 1); // the global colour table
  while (o < b.length) {
    if (b[o] === 0x2c) {
      if (o + 9 > b.length) break;
      const u16 = (k: number) => b[o + k] | (b[o + k + 1] << 8);
      return { width: u16(1) + u16(5), height: u16(3) + u16(7) }; // left + width, top + height
    }
    if (b[o] !== 0x21) break; // not an extension: no image
    o += 2; // introducer and label, then sub-blocks to a zero length
    while (o < b.length && b[o] !== 0) o += b[o] + 1;
    o++;
  }
  return { width: 0, height: 0 };
}

/** The canvas size of a WebP (VP8, VP8L or VP8X); 0 when the header is cut short. */
function webpSize(v: DataView): { width: number; height: number } {
  if (v.byteLength < 30) return { width: 0, height: 0 };
  const chunk = String.fromCharCode(v.getUint8(12), v.getUint8(13), v.getUint8(14), v.getUint8(15));
  if (chunk === "VP8X") {
    const u24 = (o: number) => v.getUint8(o) | (v.getUint8(o + 1) << 8) | (v.getUint8(o + 2) << 16);
    return { width: u24(24) + 1, height: u24(27) + 1 };
  }
  if (chunk === "VP8L") {
    const b = v.getUint32(21, true);
    return { width: (b & 0x3fff) + 1, height: ((b >> 14) & 0x3fff) + 1 };
  }
  return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
}

/** Options for {@link decodeImage}. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (default {@link DEFAULT_MAX_PIXELS}). */
  maxPixels?: number;
  /** The decoding path (default: the process's, {@link setDecoder}). */
  decoder?: DecoderName;
  /** Called with each recoverable problem (default: printed to standard error). */
  onWarning?: (path: string, message: string) => void;
}

/** Prints a decoder warning to standard error (the default of `onWarning`). */
export function printWarning(path: string, message: string): void {
  console.error(`warning: ${path}: ${message}`);
}

/**
 * Decodes image bytes to 8-bit RGB (see the module documentation). Throws {@link ImageError}
 * naming `path` for any file that cannot be used, and never returns a partial image.
 *
 * @example Bytes to 8-bit RGB
 * ```ts
 * import { decodeImage } from "./decode.ts";
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
  const decoder = await activeDecoder(opts.decoder); // outside the try: not this image's fault
  const name = info.format === "pnm" ? "PNM" : info.format.toUpperCase();
  if (info.format === "heif" && decoder === "libvips") {
    try {
      Object.assign(info, await vipsSize(bytes));
    } catch (e) {
      throw new ImageError(path, `cannot decode HEIF: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if ((info.width <= 0 || info.height <= 0) && info.format !== "heif") {
    throw new ImageError(path, `invalid ${name} dimensions ${info.width}x${info.height}`);
  }
  if (info.width * info.height > maxPixels) {
    throw new ImageError(
      path,
      `${info.width}x${info.height} is over the ${maxPixels}-pixel limit (raise it with maxPixels / --max-pixels)`,
    );
  }
  let out: Decoded;
  try {
    out = info.format === "bmp"
      ? { ...decodeBmp(bytes), warnings: [] }
      : info.format === "pnm"
      ? { ...decodePnm(bytes), warnings: [] }
      : decoder === "libvips"
      ? await vipsDecode(bytes, info.format, maxPixels)
      : await wasmDecode(bytes, info.format);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ImageError(path, `cannot decode ${name}: ${msg || "corrupt or truncated data"}`);
  }
  const { width, height, data, warnings } = out;
  if (width * height * 3 !== data.length || width * height > maxPixels) {
    throw new ImageError(path, `cannot decode ${name}: decoded ${width}x${height}`);
  }
  for (const w of warnings) (opts.onWarning ?? printWarning)(path, w);
  return { width, height, data };
}

/**
 * Reads and decodes an image file; every failure is an {@link ImageError} naming the file.
 *
 * @example Read and decode a file
 * ```ts
 * import { readImage } from "./decode.ts";
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
