/**
 * The WebAssembly decoding path (the strict sandbox, or wherever FFI is not granted): JPEG by
 * libjpeg-turbo's decoder as mozjpeg builds it (`@jsquash/jpeg`: the pixels libvips gives, to
 * the bit), PNG and GIF by imagescript, CMYK JPEG by imagescript's decoder (no colour profile),
 * TIFF by our own decoder; EXIF orientation applied here; embedded ICC profiles that are not
 * sRGB reported, not converted. WebP, AVIF and HEIF need libvips.
 *
 * @module
 */

import { imageCodecs, mozjpegFactory } from "../core/deps.ts";
import { fileMeta, isSrgb, orient } from "./_meta.ts";
import { decodeTiff } from "./_tiff.ts";
import { rgbaToRgb, type RgbImage } from "./image.ts";

/** Pixels and what the decoder had to say about them. */
export interface Decoded extends RgbImage {
  /** Recoverable problems (a truncated JPEG, a colour profile not applied). */
  warnings: string[];
}

let jpegModule: Promise<WebAssembly.Module> | undefined;

/** libjpeg-turbo in WebAssembly: a fresh instance per image, its messages collected. */
async function mozjpeg(bytes: Uint8Array, messages: string[]): Promise<RgbImage | "cmyk"> {
  const { factory, wasm } = await mozjpegFactory();
  jpegModule ??= Deno.readFile(wasm).then((b) => WebAssembly.compile(b));
  const compiled = await jpegModule;
  const m = await factory({
    noInitialRun: true,
    instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(compiled, imports);
      done(instance);
      return instance.exports;
    },
    print: (s: string) => messages.push(s),
    printErr: (s: string) => messages.push(s),
  });
  let out: { width: number; height: number; data: Uint8ClampedArray };
  try {
    out = m.decode(bytes, false);
  } catch {
    if (messages.some((s) => /color conversion/i.test(s))) return "cmyk";
    throw new Error(messages.at(-1) ?? "corrupt or truncated data");
  }
  if (!out) throw new Error(messages.at(-1) ?? "corrupt or truncated data");
  return {
    width: out.width,
    height: out.height,
    data: rgbaToRgb(out.data, out.width * out.height),
  };
}

/** Decodes `bytes` of `format` (as `sniffImage` names it) on the WebAssembly path. */
export async function wasmDecode(bytes: Uint8Array, format: string): Promise<Decoded> {
  const warnings: string[] = [];
  let img: RgbImage;
  switch (format) {
    case "jpeg": {
      const messages: string[] = [];
      const r = await mozjpeg(bytes, messages);
      if (r === "cmyk") {
        img = await imagescriptCmyk(bytes);
        warnings.push("CMYK JPEG converted without a colour profile (libvips would use one)");
      } else {
        img = r;
        warnings.push(...messages.filter((s) => s.trim()));
      }
      break;
    }
    case "png": {
      const out = (await (await imageCodecs()).png.init()).decode(bytes) as {
        width: number;
        height: number;
        framebuffer: Uint8Array;
      };
      img = {
        width: out.width,
        height: out.height,
        data: rgbaToRgb(out.framebuffer, out.width * out.height),
      };
      break;
    }
    case "gif":
      img = await gifFirstFrame(bytes);
      break;
    case "tiff":
      img = decodeTiff(bytes);
      break;
    default:
      throw new Error(
        `${format.toUpperCase()} needs the libvips decoder (not available without FFI)`,
      );
  }
  const meta = fileMeta(bytes, format);
  if (meta.icc && !isSrgb(meta.icc)) {
    warnings.push(`colour profile "${meta.icc}" not converted to sRGB (libvips would)`);
  }
  return { ...orient(img, meta.orientation), warnings };
}

/** A CMYK JPEG through imagescript's decoder, converted as imagescript does. */
async function imagescriptCmyk(bytes: Uint8Array): Promise<RgbImage> {
  const fb = (await (await imageCodecs()).jpeg.init()).decode(bytes) as {
    width: number;
    height: number;
    format: number;
    buffer: Uint8Array;
  };
  const n = fb.width * fb.height, src = fb.buffer, data = new Uint8Array(n * 3);
  if (fb.format !== 2 || src.length < 4 * n) throw new Error("unsupported JPEG colour space");
  for (let i = 0; i < n; i++) {
    const k = 1 - src[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) data[3 * i + c] = Math.round(255 * (1 - src[4 * i + c] / 255) * k);
  }
  return { width: fb.width, height: fb.height, data };
}

/**
 * The first frame of a GIF, placed on its logical screen (grown to hold the frame): black where
 * it does not cover it and where it is transparent, as libvips gives it once alpha is dropped.
 */
async function gifFirstFrame(bytes: Uint8Array): Promise<RgbImage> {
  const gif = (await (await imageCodecs()).gif.init()) as unknown as {
    Decoder: new (b: Uint8Array) => {
      width: number;
      height: number;
      frame(): { x: number; y: number; width: number; height: number; buffer: Uint8Array } | null;
      free(): void;
    };
  };
  const d = new gif.Decoder(bytes);
  try {
    const f = d.frame();
    if (!f) throw new Error("no frame");
    // a frame reaching past the logical screen grows it, as libvips (libnsgif) does
    const w = Math.max(d.width, f.x + f.width), h = Math.max(d.height, f.y + f.height);
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < f.height; y++) {
      for (let x = 0; x < f.width; x++) {
        const s = 4 * (y * f.width + x), o = 3 * ((f.y + y) * w + f.x + x);
        if (f.buffer[s + 3] === 0) continue; // transparent: black, as libvips leaves it
        data[o] = f.buffer[s];
        data[o + 1] = f.buffer[s + 1];
        data[o + 2] = f.buffer[s + 2];
      }
    }
    return { width: w, height: h, data };
  } finally {
    d.free();
  }
}
