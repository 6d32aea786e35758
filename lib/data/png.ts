/**
 * A small PNG encoder (all colour types, 8 or 16 bits, optional palette), with per-row
 * adaptive filtering and zlib compression from the platform's `CompressionStream`. Used for
 * the shipped dataset, heatmaps and generated test images; decoding stays with `imagescript`.
 *
 * @module
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as PNG computes it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** zlib-compresses bytes (deflate with zlib header, as PNG's IDAT wants). */
export async function zlibCompress(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** What to encode. */
export interface PngInput {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; with `palette`, 1 (indices). */
  channels: 1 | 2 | 3 | 4;
  /** Samples, interleaved, row-major; `Uint16Array` for 16-bit. */
  data: Uint8Array | Uint16Array;
  /** 8 (default) or 16. */
  depth?: 8 | 16;
  /** RGB palette (3 bytes per entry) for an indexed image. */
  palette?: Uint8Array;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encodes an image as PNG bytes. */
export async function encodePng(img: PngInput): Promise<Uint8Array> {
  const depth = img.depth ?? 8;
  const bpp = img.channels * (depth / 8);
  const rowLen = img.width * bpp;
  const raw = new Uint8Array(img.height * rowLen);
  if (depth === 16) {
    const d = img.data as Uint16Array;
    for (let i = 0; i < d.length; i++) {
      raw[2 * i] = d[i] >> 8;
      raw[2 * i + 1] = d[i] & 0xff;
    }
  } else raw.set(img.data as Uint8Array);
  // Adaptive filtering: per row, the filter with the smallest sum of |signed residuals|.
  const filtered = new Uint8Array(img.height * (rowLen + 1));
  const cand = Array.from({ length: 5 }, () => new Uint8Array(rowLen));
  for (let y = 0; y < img.height; y++) {
    const row = raw.subarray(y * rowLen, (y + 1) * rowLen);
    const up = y > 0 ? raw.subarray((y - 1) * rowLen, y * rowLen) : new Uint8Array(rowLen);
    let best = 0, bestScore = Infinity;
    for (let f = 0; f < 5; f++) {
      const out = cand[f];
      let score = 0;
      for (let i = 0; i < rowLen; i++) {
        const a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
        const pred = f === 0
          ? 0
          : f === 1
          ? a
          : f === 2
          ? b
          : f === 3
          ? (a + b) >> 1
          : paeth(a, b, c);
        const r = (row[i] - pred) & 0xff;
        out[i] = r;
        score += r < 128 ? r : 256 - r;
      }
      if (score < bestScore) [best, bestScore] = [f, score];
    }
    filtered[y * (rowLen + 1)] = best;
    filtered.set(cand[best], y * (rowLen + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, img.width);
  hv.setUint32(4, img.height);
  ihdr[8] = depth;
  ihdr[9] = img.palette ? 3 : ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[img.channels];
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...(img.palette ? [chunk("PLTE", img.palette)] : []),
    chunk("IDAT", await zlibCompress(filtered)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
