/**
 * Decoders of our own for BMP and the Netpbm formats (PBM, PGM, PPM; ASCII and binary), used on
 * both decoding paths (libvips reads neither from memory), so both give the same pixels.
 *
 * - BMP: 1, 4, 8-bit palettes; 16 and 32-bit with bit fields (default 5-5-5 and 8-8-8); 24-bit;
 *   bottom-up or top-down; RLE compression is refused.
 * - Netpbm: P1–P6, any maxval up to 65535.
 * - To 8 bits, one rule for every sample of n bits or maxval M: 16-bit samples (M = 65535) keep
 *   their high byte, as PNG and TIFF do; other ranges are scaled, round(v · 255 / M).
 *
 * @module
 */

import type { RgbImage } from "./image.ts";

/** A sample `v` of range 0..`max` as 8 bits (the module's rule). */
function to8(v: number, max: number): number {
  return max === 255 ? v : max === 65535 ? v >> 8 : Math.round((v * 255) / max);
}

/** Width and height of a BMP header (height positive); undefined if it is not one. */
export function bmpSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 26 || b[0] !== 0x42 || b[1] !== 0x4d) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dib = v.getUint32(14, true);
  if (dib === 12) return { width: v.getUint16(18, true), height: Math.abs(v.getInt16(20, true)) };
  return { width: v.getInt32(18, true), height: Math.abs(v.getInt32(22, true)) };
}

/** Decodes a BMP file; throws an Error saying why it cannot. */
export function decodeBmp(b: Uint8Array): RgbImage {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 30) throw new Error("truncated header");
  const dataAt = v.getUint32(10, true), dib = v.getUint32(14, true);
  const core = dib === 12;
  const width = core ? v.getUint16(18, true) : v.getInt32(18, true);
  const rawH = core ? v.getInt16(20, true) : v.getInt32(22, true);
  const bpp = v.getUint16(core ? 24 : 28, true);
  const compression = core ? 0 : v.getUint32(30, true);
  const height = Math.abs(rawH), topDown = rawH < 0;
  if (width <= 0 || height <= 0) throw new Error(`invalid dimensions ${width}x${rawH}`);
  if (compression !== 0 && compression !== 3 && compression !== 6) {
    throw new Error(`unsupported BMP compression ${compression} (RLE or embedded JPEG/PNG)`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`unsupported ${bpp} bits per pixel`);
  // channel masks: from the header (bit fields) or the defaults
  let masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
  if (compression !== 0) {
    const at = 54; // right after the 40-byte header, inside the larger ones
    if (at + 12 > b.length) throw new Error("truncated bit fields");
    masks = [0, 4, 8].map((k) => v.getUint32(at + k, true));
  }
  const palette: number[][] = [];
  if (bpp <= 8) {
    const entry = core ? 3 : 4, at = 14 + dib;
    const colours = (core ? 0 : v.getUint32(46, true)) || 1 << bpp;
    for (let i = 0; i < colours && at + entry * i + 3 <= b.length; i++) {
      const o = at + entry * i;
      palette.push([b[o + 2], b[o + 1], b[o]]);
    }
  }
  const stride = Math.ceil((bpp * width) / 32) * 4;
  if (dataAt + stride * height > b.length) throw new Error("truncated pixel data");
  const field = masks.map((m) => {
    const shift = m ? 31 - Math.clz32(m & -m) : 0;
    return { m, shift, max: m ? (m >>> shift) : 1 };
  });
  const out = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++) {
    const src = dataAt + (topDown ? r : height - 1 - r) * stride;
    for (let x = 0; x < width; x++) {
      const d = 3 * (r * width + x);
      if (bpp <= 8) {
        const bit = x * bpp, byte = b[src + (bit >> 3)];
        const idx = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const c = palette[idx];
        if (!c) throw new Error(`colour ${idx} outside the palette`);
        out[d] = c[0];
        out[d + 1] = c[1];
        out[d + 2] = c[2];
      } else if (bpp === 24) {
        out[d] = b[src + 3 * x + 2];
        out[d + 1] = b[src + 3 * x + 1];
        out[d + 2] = b[src + 3 * x];
      } else {
        const p = bpp === 16 ? v.getUint16(src + 2 * x, true) : v.getUint32(src + 4 * x, true);
        for (let c = 0; c < 3; c++) {
          const f = field[c];
          out[d + c] = f.m ? to8(((p & f.m) >>> 0) >>> f.shift, f.max) : 0;
        }
      }
    }
  }
  return { width, height, data: out };
}

/** The header of a Netpbm file: kind (1–6), size, maxval and where the samples start. */
export function pnmHeader(
  b: Uint8Array,
): { kind: number; width: number; height: number; max: number; at: number } | undefined {
  if (b.length < 3 || b[0] !== 0x50 || b[1] < 0x31 || b[1] > 0x36) return undefined;
  const kind = b[1] - 0x30, fields: number[] = [];
  let o = 2;
  const want = kind === 1 || kind === 4 ? 2 : 3;
  while (fields.length < want && o < b.length) {
    const c = b[o];
    if (c === 0x23) { // comment to the end of the line
      while (o < b.length && b[o] !== 0x0a && b[o] !== 0x0d) o++;
    } else if (c >= 0x30 && c <= 0x39) {
      let n = 0;
      while (o < b.length && b[o] >= 0x30 && b[o] <= 0x39) n = n * 10 + b[o++] - 0x30;
      fields.push(n);
      continue;
    } else if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return undefined;
    o++;
  }
  if (fields.length < want) return undefined;
  // one whitespace byte ends the header
  return {
    kind,
    width: fields[0],
    height: fields[1],
    max: want === 2 ? 1 : fields[2],
    at: o + 1,
  };
}

/** Decodes a PBM, PGM or PPM file; throws an Error saying why it cannot. */
export function decodePnm(b: Uint8Array): RgbImage {
  const h = pnmHeader(b);
  if (!h) throw new Error("bad header");
  const { kind, width, height, max } = h;
  if (width <= 0 || height <= 0) throw new Error(`invalid dimensions ${width}x${height}`);
  if (max < 1 || max > 65535) throw new Error(`maxval ${max} outside 1..65535`);
  const channels = kind === 3 || kind === 6 ? 3 : 1, n = width * height;
  const out = new Uint8Array(n * 3);
  const put = (i: number, c: number, value: number) => {
    const s = to8(Math.min(value, max), max);
    if (channels === 3) out[3 * i + c] = s;
    else out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = s;
  };
  if (kind === 4) { // packed bits, 1 = black
    const stride = Math.ceil(width / 8);
    if (h.at + stride * height > b.length) throw new Error("truncated pixel data");
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = (b[h.at + y * stride + (x >> 3)] >> (7 - (x & 7))) & 1;
        put(y * width + x, 0, bit ? 0 : 1);
      }
    }
  } else if (kind >= 5) {
    const size = max > 255 ? 2 : 1;
    if (h.at + n * channels * size > b.length) throw new Error("truncated pixel data");
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < channels; c++) {
        const o = h.at + (i * channels + c) * size;
        put(i, c, size === 2 ? (b[o] << 8) | b[o + 1] : b[o]);
      }
    }
  } else { // ASCII
    let o = h.at - 1, i = 0;
    const total = n * channels;
    while (i < total) {
      while (o < b.length && (b[o] < 0x30 || b[o] > 0x39)) {
        if (b[o] === 0x23) { while (o < b.length && b[o] !== 0x0a) o++; }
        else o++;
      }
      if (o >= b.length) throw new Error("truncated pixel data");
      let value = 0;
      if (kind === 1) value = b[o++] - 0x30 ? 0 : 1; // one digit per pixel, 1 = black
      else while (o < b.length && b[o] >= 0x30 && b[o] <= 0x39) value = value * 10 + b[o++] - 0x30;
      put(Math.floor(i / channels), i % channels, value);
      i++;
    }
  }
  return { width, height, data: out };
}
