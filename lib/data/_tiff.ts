/**
 * A baseline TIFF decoder for the WebAssembly path (libvips reads TIFF on the other): the first
 * image of little- or big-endian files; strips or tiles; uncompressed, LZW, Deflate or
 * PackBits; horizontal predictor; 8 or 16 bits per sample; greyscale (either polarity), RGB
 * and palette, with extra samples dropped; chunky or planar. 16-bit samples keep their high
 * byte, as libvips does. Anything else is refused with the reason.
 *
 * @module
 */

import { inflateSync } from "node:zlib";
import { tiffTags } from "./_meta.ts";
import type { RgbImage } from "./image.ts";

/** Decodes the first image of a TIFF file to 8-bit RGB; throws an Error saying why it cannot. */
export function decodeTiff(b: Uint8Array): RgbImage {
  if (b.length < 8) throw new Error("truncated header");
  const t = tiffTags(b), le = t.le, values = t.values;
  if (new DataView(b.buffer, b.byteOffset).getUint16(2, le) === 43) {
    throw new Error("BigTIFF is not supported");
  }
  const one = (id: number, dflt?: number) => {
    const x = values(id)?.[0] ?? dflt;
    if (x === undefined) throw new Error(`missing tag ${id}`);
    return x;
  };
  const width = one(256), height = one(257), spp = one(277, 1);
  const bits = values(258) ?? [1];
  const bps = bits[0], compression = one(259, 1), photometric = one(262);
  const planar = one(284, 1), predictor = one(317, 1), format = one(339, 1);
  if (bits.some((x) => x !== bps) || (bps !== 8 && bps !== 16)) {
    throw new Error(`unsupported bit depth ${bits.join(",")} (8 or 16 only)`);
  }
  if (format !== 1) throw new Error("unsupported sample format (unsigned integers only)");
  if (![0, 1, 2, 3].includes(photometric)) {
    throw new Error(`unsupported photometric interpretation ${photometric} (CMYK, YCbCr, Lab…)`);
  }
  const colours = photometric === 2 ? 3 : 1;
  if (spp < colours || spp > colours + 4) {
    throw new Error(`${spp} samples per pixel for photometric ${photometric}`);
  }
  if (predictor !== 1 && predictor !== 2) throw new Error(`unsupported predictor ${predictor}`);
  const tiled = t.tag(322) !== undefined;
  const tw = tiled ? one(322) : width, th = tiled ? one(323) : Math.min(one(278, height), height);
  // a tile is at most the image rounded up to 16, so no header can ask for more memory
  if (tw < 1 || th < 1 || tw > width + 15 || th > height + 15) {
    throw new Error(`tile or strip of ${tw}x${th} for a ${width}x${height} image`);
  }
  const offsets = values(tiled ? 324 : 273), counts = values(tiled ? 325 : 279);
  if (!offsets || !counts || offsets.length !== counts.length) throw new Error("bad strip table");
  const across = Math.ceil(width / tw), down = Math.ceil(height / th);
  const planes = planar === 2 ? spp : 1, perChunk = planar === 2 ? 1 : spp;
  if (offsets.length < across * down * planes) throw new Error("too few strips or tiles");
  const bytesPer = bps / 8;
  const out = new Uint8Array(width * height * 3);
  const map = photometric === 3 ? values(320) : undefined;
  if (photometric === 3 && (!map || map.length < 3 << bps)) throw new Error("bad colour map");
  const hi = bps === 16 ? 8 : 0, n = 1 << bps;
  // planar files gather their colour planes first (extra planes are never read); chunky ones
  // convert row by row
  const staged = planar === 2 ? new Uint16Array(width * height * colours) : undefined;
  const pixel = (i: number, s: ArrayLike<number>, at: number) => {
    if (photometric === 2) {
      out[3 * i] = s[at] >> hi;
      out[3 * i + 1] = s[at + 1] >> hi;
      out[3 * i + 2] = s[at + 2] >> hi;
    } else if (photometric === 3) {
      out[3 * i] = map![s[at]] >> 8;
      out[3 * i + 1] = map![n + s[at]] >> 8;
      out[3 * i + 2] = map![2 * n + s[at]] >> 8;
    } else {
      const g = photometric === 0 ? 255 - (s[at] >> hi) : s[at] >> hi;
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = g;
    }
  };
  const row = new Uint16Array(tw * perChunk);
  for (let p = 0; p < Math.min(planes, colours); p++) {
    for (let ty = 0; ty < down; ty++) {
      for (let tx = 0; tx < across; tx++) {
        const k = p * across * down + ty * across + tx;
        const rowLen = tw * perChunk * bytesPer, rows = tiled ? th : Math.min(th, height - ty * th);
        const raw = inflate(compression, b, offsets[k], counts[k], rowLen * rows);
        if (raw.length < rowLen * rows) throw new Error("truncated image data");
        const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        for (let r = 0; r < rows; r++) {
          const y = ty * th + r;
          if (y >= height) break;
          for (let i = 0; i < row.length; i++) {
            row[i] = bytesPer === 1 ? raw[r * rowLen + i] : rv.getUint16(r * rowLen + 2 * i, le);
          }
          // libtiff applies the predictor with the LZW and Deflate codecs only, and so do we
          if (predictor === 2 && compression !== 1 && compression !== 32773) {
            const mask = bps === 8 ? 0xff : 0xffff;
            for (let i = perChunk; i < row.length; i++) {
              row[i] = (row[i] + row[i - perChunk]) & mask;
            }
          }
          const cols = Math.min(tw, width - tx * tw);
          for (let c = 0; c < cols; c++) {
            const i = y * width + tx * tw + c;
            if (staged) staged[i * colours + p] = row[c];
            else pixel(i, row, c * spp);
          }
        }
      }
    }
  }
  if (staged) { for (let i = 0; i < width * height; i++) pixel(i, staged, i * colours); }
  return { width, height, data: out };
}

/** The decompressed bytes of one strip or tile. */
function inflate(
  compression: number,
  b: Uint8Array,
  offset: number,
  count: number,
  expect: number,
): Uint8Array {
  if (offset + count > b.length) throw new Error("truncated image data");
  const src = b.subarray(offset, offset + count);
  switch (compression) {
    case 1:
      return src;
    case 5:
      return lzw(src, expect);
    case 8:
    case 32946:
      return new Uint8Array(inflateSync(src, { maxOutputLength: expect + 65536 }));
    case 32773:
      return packBits(src, expect);
    default:
      throw new Error(`unsupported compression ${compression} (none, LZW, Deflate, PackBits)`);
  }
}

/** TIFF's LZW (MSB-first codes, 9–12 bits, the width growing one code early). */
function lzw(src: Uint8Array, expect: number): Uint8Array {
  const out = new Uint8Array(expect);
  const prefix = new Int32Array(4096), suffix = new Uint8Array(4096), len = new Int32Array(4096);
  for (let i = 0; i < 256; i++) {
    suffix[i] = i;
    len[i] = 1;
    prefix[i] = -1;
  }
  let pos = 0, width = 9, next = 258, prev = -1, acc = 0, have = 0, at = 0;
  const read = () => {
    while (have < width) {
      if (at >= src.length) return 257;
      acc = ((acc & ((1 << have) - 1)) << 8) | src[at++];
      have += 8;
    }
    have -= width;
    return (acc >> have) & ((1 << width) - 1);
  };
  const emit = (code: number) => {
    const l = len[code];
    let c = code;
    for (let i = l - 1; i >= 0; i--) {
      if (pos + i < expect) out[pos + i] = suffix[c];
      c = prefix[c];
    }
    pos += l;
  };
  const first = (code: number) => {
    while (prefix[code] >= 0) code = prefix[code];
    return suffix[code];
  };
  while (pos < expect) {
    const code = read();
    if (code === 257) break;
    if (code === 256) {
      width = 9;
      next = 258;
      prev = -1;
      continue;
    }
    if (prev < 0) {
      if (code > 255) throw new Error("corrupt LZW data");
      emit(code);
      prev = code;
      continue;
    }
    if (code > next) throw new Error("corrupt LZW data");
    if (next < 4096) {
      prefix[next] = prev;
      suffix[next] = first(code < next ? code : prev);
      len[next] = len[prev] + 1;
      next++;
    }
    emit(code);
    prev = code;
    if (next + 1 >= 1 << width && width < 12) width++;
  }
  return out.subarray(0, Math.min(pos, expect));
}

/** PackBits run-length decoding. */
function packBits(src: Uint8Array, expect: number): Uint8Array {
  const out = new Uint8Array(expect);
  let i = 0, o = 0;
  while (i < src.length && o < expect) {
    const n = (src[i++] << 24) >> 24;
    if (n >= 0) {
      out.set(src.subarray(i, i + n + 1).subarray(0, expect - o), o);
      i += n + 1;
      o += n + 1;
    } else if (n !== -128) {
      out.fill(src[i++], o, Math.min(expect, o + 1 - n));
      o += 1 - n;
    }
  }
  return out.subarray(0, Math.min(o, expect));
}
