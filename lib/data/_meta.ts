/**
 * What the WebAssembly path reads from a file besides its pixels: the EXIF orientation and
 * whether an embedded ICC profile describes something other than sRGB (libvips converts such
 * profiles to sRGB; this path cannot, and says so). JPEG (APP1 Exif, APP2 ICC_PROFILE), PNG
 * (eXIf, iCCP) and TIFF (tags 274 and 34675).
 *
 * @module
 */

import { inflateSync } from "node:zlib";
import type { RgbImage } from "./image.ts";

/** Orientation and colour profile of a file. */
export interface FileMeta {
  /** EXIF orientation, 1–8 (1: as stored). */
  orientation: number;
  /** The embedded profile's description, when there is one. */
  icc?: string;
  /** The camera's make and model from EXIF (tags 271, 272), when present. */
  camera?: { make: string; model: string };
}

/** A tag of a TIFF directory: its type, count and where its values start. */
export interface TiffTag {
  /** TIFF field type (1 BYTE, 3 SHORT, 4 LONG, ...). */
  type: number;
  /** Number of values. */
  count: number;
  /** Offset of the first value in the file. */
  at: number;
}

/**
 * A TIFF structure (EXIF is one): its byte order, and readers of IFD0's tags (the first
 * occurrence of each): `tag` where it is, `values` its BYTE, SHORT or LONG values (an Error for
 * another type or values past the end; undefined when absent).
 */
export function tiffTags(b: Uint8Array, base = 0): {
  le: boolean;
  tag(id: number): TiffTag | undefined;
  values(id: number): number[] | undefined;
  text(id: number): string | undefined;
} {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[base] === 0x49;
  const u16 = (o: number) => (o + 2 <= b.length ? v.getUint16(o, le) : -1);
  const u32 = (o: number) => (o + 4 <= b.length ? v.getUint32(o, le) : -1);
  const ifd = base + u32(base + 4), n = u16(ifd);
  const tag = (id: number): TiffTag | undefined => {
    if (ifd < base + 8 || n < 0) return undefined;
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + 12 * i;
      if (e + 12 > b.length) return undefined;
      if (u16(e) !== id) continue;
      const type = u16(e + 2), count = u32(e + 4);
      const size = ([0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8][type] ?? 1) * count;
      return { type, count, at: size <= 4 ? e + 8 : base + u32(e + 8) };
    }
    return undefined;
  };
  const values = (id: number): number[] | undefined => {
    const e = tag(id);
    if (!e) return undefined;
    const size = e.type === 3 ? 2 : e.type === 4 ? 4 : e.type === 1 ? 1 : 0;
    if (!size) throw new Error(`tag ${id} has type ${e.type}`);
    if (e.at + e.count * size > b.length) throw new Error(`tag ${id} points past the end`);
    return Array.from(
      { length: e.count },
      (_, i) => size === 1 ? b[e.at + i] : size === 2 ? u16(e.at + 2 * i) : u32(e.at + 4 * i),
    );
  };
  const text = (id: number): string | undefined => {
    const e = tag(id);
    if (!e || e.type !== 2 || e.at + e.count > b.length) return undefined;
    return String.fromCharCode(...b.subarray(e.at, e.at + e.count)).replace(/\0.*$/s, "").trim();
  };
  return { le, tag, values, text };
}

/** The camera's make and model in a TIFF structure's IFD0, when either is there. */
function cameraIn(b: Uint8Array, base: number): FileMeta["camera"] {
  const t = tiffTags(b, base), make = t.text(271) ?? "", model = t.text(272) ?? "";
  return make || model ? { make, model } : undefined;
}

function orientationIn(b: Uint8Array, base: number): number {
  const v = tiffTags(b, base).values(274)?.[0] ?? 1;
  return v >= 1 && v <= 8 ? v : 1;
}

/** The description of an ICC profile ('desc' or 'mluc' tag), or "ICC profile". */
export function iccDescription(p: Uint8Array): string {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  // a description is a short name: longer ones are cut (and cannot overflow the call stack)
  const ascii = (o: number, n: number) =>
    String.fromCharCode(...p.subarray(o, Math.min(p.length, o + Math.min(n, 256))))
      .replace(/\0.*$/s, "");
  if (p.length < 132) return "ICC profile";
  const n = v.getUint32(128);
  for (let i = 0; i < n && 144 + 12 * i <= p.length; i++) {
    const e = 132 + 12 * i;
    if (ascii(e, 4) !== "desc") continue;
    const at = v.getUint32(e + 4);
    if (at + 16 > p.length) break;
    const type = ascii(at, 4);
    if (type === "desc") return ascii(at + 12, v.getUint32(at + 8));
    if (type === "mluc" && at + 28 <= p.length) {
      const len = v.getUint32(at + 20), off = v.getUint32(at + 24);
      let s = "";
      for (let k = 0; k + 1 < Math.min(len, 512) && at + off + k + 1 < p.length; k += 2) {
        s += String.fromCharCode(v.getUint16(at + off + k));
      }
      return s;
    }
  }
  return "ICC profile";
}

/** `f()`, or `fallback` when damaged metadata makes it throw. */
function attempt<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/**
 * Orientation and profile of a JPEG, PNG or TIFF file, each read on its own: damage in one
 * leaves the other (an unreadable orientation is 1; an unreadable profile "ICC profile").
 */
export function fileMeta(b: Uint8Array, format: string): FileMeta {
  if (format === "jpeg") return attempt(() => jpegMeta(b), { orientation: 1 });
  if (format === "png") return attempt(() => pngMeta(b), { orientation: 1 });
  if (format === "tiff") {
    const icc = attempt(() => tiffTags(b).tag(34675), undefined);
    return {
      orientation: attempt(() => orientationIn(b, 0), 1),
      camera: attempt(() => cameraIn(b, 0), undefined),
      icc: icc
        ? attempt(() => iccDescription(b.subarray(icc.at, icc.at + icc.count)), "ICC profile")
        : undefined,
    };
  }
  return { orientation: 1 };
}

function jpegMeta(b: Uint8Array): FileMeta {
  let orientation = 1, o = 2, camera: FileMeta["camera"];
  const icc: Uint8Array[] = [];
  while (o + 4 <= b.length && b[o] === 0xff) {
    const m = b[o + 1], len = (b[o + 2] << 8) | b[o + 3];
    if (m === 0xda || m === 0xd9) break;
    const seg = b.subarray(o + 4, o + 2 + len);
    const tag = String.fromCharCode(...seg.subarray(0, 12));
    if (m === 0xe1 && tag.startsWith("Exif\0\0")) {
      orientation = attempt(() => orientationIn(seg, 6), orientation);
      camera ??= attempt(() => cameraIn(seg, 6), undefined);
    }
    if (m === 0xe2 && tag === "ICC_PROFILE\0") icc[seg[12] - 1] = seg.subarray(14);
    o += 2 + len;
  }
  const all = icc.filter(Boolean);
  if (!all.length) return { orientation, camera };
  const p = new Uint8Array(all.reduce((s, c) => s + c.length, 0));
  all.reduce((at, c) => (p.set(c, at), at + c.length), 0);
  return { orientation, camera, icc: attempt(() => iccDescription(p), "ICC profile") };
}

function pngMeta(b: Uint8Array): FileMeta {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let orientation = 1, icc: string | undefined, camera: FileMeta["camera"], o = 8;
  while (o + 8 <= b.length) {
    const len = v.getUint32(o), type = String.fromCharCode(...b.subarray(o + 4, o + 8));
    const data = b.subarray(o + 8, o + 8 + len);
    if (type === "eXIf") {
      orientation = attempt(() => orientationIn(data, 0), orientation);
      camera = attempt(() => cameraIn(data, 0), undefined);
    }
    if (type === "iCCP") {
      const z = data.indexOf(0);
      // a profile is kilobytes: a larger one is not inflated (a decompression bomb)
      icc = attempt(() =>
        iccDescription(
          new Uint8Array(inflateSync(data.subarray(z + 2), { maxOutputLength: 4 << 20 })),
        ), "ICC profile");
    }
    if (type === "IDAT" || type === "IEND") break;
    o += 12 + len;
  }
  return { orientation, icc, camera };
}

/** Whether a profile description names sRGB (libvips leaves such images as they are). */
export function isSrgb(description: string): boolean {
  // "c2" is Facebook's compact sRGB profile, common in photographs from the web
  return /srgb|iec\s*61966-2[.-]1/i.test(description) || description.trim() === "c2";
}

/**
 * An image turned upright by its EXIF orientation (1–8), as libvips' `autorot` does: 2 mirror,
 * 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 270°.
 */
export function orient(img: RgbImage, orientation: number): RgbImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5, W = swap ? h : w, H = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // the source pixel of output (x, y)
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          [sx, sy] = [w - 1 - x, y];
          break;
        case 3:
          [sx, sy] = [w - 1 - x, h - 1 - y];
          break;
        case 4:
          [sx, sy] = [x, h - 1 - y];
          break;
        case 5:
          [sx, sy] = [y, x];
          break;
        case 6:
          [sx, sy] = [y, h - 1 - x];
          break;
        case 7:
          [sx, sy] = [w - 1 - y, h - 1 - x];
          break;
        default:
          [sx, sy] = [w - 1 - y, x]; // 8
      }
      const s = 3 * (sy * w + sx), d = 3 * (y * W + x);
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width: W, height: H, data: out };
}
