/**
 * The libvips decoding path, through `sharp` (its prebuilt libvips ships inside the npm
 * package; it loads as a Node addon, so it needs the FFI permission the native backend needs
 * anyway, and reads one environment variable, `npm_package_config_libvips`). Every image is
 * turned upright by its EXIF orientation, converted to sRGB through its embedded ICC profile
 * unless that profile is sRGB (CMYK through libvips' own profile), cut to 8 bits (the high byte
 * of 16-bit samples) and to three channels (alpha dropped, grey repeated). The operation cache
 * is off: nothing is kept between images.
 *
 * @module
 */

import { sharpModule } from "../core/deps.ts";
import { iccDescription, isSrgb } from "./_meta.ts";
import type { Decoded } from "./_wasm.ts";
import type { RgbImage } from "./image.ts";

type Sharp = Awaited<ReturnType<typeof sharpModule>>;
let loaded: Promise<Sharp | undefined> | undefined;
let whyNot = "";

/**
 * sharp, when this process may load it (FFI and its one environment variable granted) and it
 * loads; undefined otherwise ({@link vipsUnavailable} says why).
 */
export function loadSharp(): Promise<Sharp | undefined> {
  loaded ??= (async () => {
    const ffi = Deno.permissions.querySync({ name: "ffi" }).state;
    const env = Deno.permissions.querySync({ name: "env", variable: "npm_package_config_libvips" })
      .state;
    if (ffi !== "granted" || env !== "granted") {
      whyNot = ffi !== "granted"
        ? "no FFI permission"
        : "no permission to read npm_package_config_libvips";
      return undefined;
    }
    try {
      const sharp = await sharpModule();
      sharp.cache(false);
      return sharp;
    } catch (e) {
      whyNot = `sharp did not load: ${(e as Error).message.split("\n")[0]}`;
      return undefined;
    }
  })();
  return loaded;
}

/** Why libvips is not available (after {@link loadSharp} returned undefined). */
export function vipsUnavailable(): string {
  return whyNot;
}

/** "libvips 8.17.3 (sharp 0.34.5)". */
export async function vipsVersion(): Promise<string> {
  const sharp = await loadSharp();
  return sharp ? `libvips ${sharp.versions.vips} (sharp ${sharp.versions.sharp})` : "";
}

/** The first error line of a libvips message, without its stack of loaders. */
function firstLine(e: unknown): string {
  const line = String((e as Error)?.message ?? e).split("\n").map((s) => s.trim()).find(Boolean);
  return !line || /failOn/.test(line) ? "corrupt or truncated data" : line;
}

/**
 * Decodes with libvips. A JPEG that libjpeg reads only with a warning (truncated, a damaged
 * segment) is decoded as libjpeg does, and the warning is kept; any other warning is an error.
 */
export async function vipsDecode(
  bytes: Uint8Array,
  format: string,
  maxPixels: number,
): Promise<Decoded> {
  const sharp = (await loadSharp())!;
  // An sRGB profile is left alone (the pixels are sRGB already, as the WebAssembly path reads
  // them); any other is converted to sRGB explicitly: sharp's default would send 16-bit images
  // to Display P3, not sRGB.
  const icc = (await sharp(bytes, { failOn: "none" }).metadata().catch(() => undefined))?.icc;
  const srgb = icc ? isSrgb(iccDescription(new Uint8Array(icc))) : false;
  const run = async (failOn: "warning" | "error" | "none") => {
    const image = sharp(bytes, {
      failOn,
      limitInputPixels: maxPixels,
      sequentialRead: true,
      pages: 1,
      ...(srgb ? { ignoreIcc: true } : {}),
    }).autoOrient().removeAlpha();
    const { data, info: out } = await (icc && !srgb ? image.withIccProfile("srgb") : image)
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (out.channels !== 3) throw new Error(`decoded ${out.channels} channels`);
    return {
      width: out.width,
      height: out.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    } as RgbImage;
  };
  // JPEG: a warning of libjpeg's (a truncated file) is kept and the image decoded as libjpeg
  // does; other formats fail on errors only (libtiff warns of unknown tags in good files)
  try {
    return { ...(await run(format === "jpeg" ? "warning" : "error")), warnings: [] };
  } catch (e) {
    if (format !== "jpeg") throw new Error(firstLine(e));
    try {
      return { ...(await run("none")), warnings: [firstLine(e)] };
    } catch {
      throw new Error(firstLine(e));
    }
  }
}

/** Width and height from the header (for formats whose size our sniffer does not read). */
export async function vipsSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const m = await (await loadSharp())!(bytes, { failOn: "none" }).metadata();
  return { width: m.width ?? 0, height: m.height ?? 0 };
}

/**
 * libwebp's lossy WebP round trip at `quality`; otherwise sharp's defaults, libvips' own (effort 4,
 * no smart subsampling: plain 4:2:0, preset default).
 */
export function vipsWebpRoundTrip(img: RgbImage, quality: number): Promise<RgbImage> {
  return roundTrip(img, (s) => s.webp({ quality }));
}

/** libjpeg-turbo's JPEG round trip (baseline, 4:4:4, Annex K tables at `quality`, islow DCT). */
export function vipsJpegRoundTrip(img: RgbImage, quality: number): Promise<RgbImage> {
  return roundTrip(
    img,
    (s) => s.jpeg({ quality, chromaSubsampling: "4:4:4", mozjpeg: false, optimiseCoding: false }),
  );
}

/** An RGB image encoded by `encode` (a sharp pipeline's output format), then decoded again. */
async function roundTrip(
  img: RgbImage,
  encode: (s: ReturnType<Sharp>) => ReturnType<Sharp>,
): Promise<RgbImage> {
  const sharp = (await loadSharp())!;
  const raw = { raw: { width: img.width, height: img.height, channels: 3 as const } };
  const bytes = await encode(sharp(img.data, raw)).toBuffer();
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}
