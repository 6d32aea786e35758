/**
 * A JPEG round trip without the bytes: what libjpeg-turbo (and mozjpeg in its libjpeg-turbo
 * mode, as libvips uses it) gives when it saves an 8-bit RGB image as baseline JPEG with
 * 4:4:4 sampling, the standard (Annex K) tables scaled to `quality`, and the `islow` DCT, and
 * then decodes that file. Entropy coding is lossless, so it is skipped: colour conversion,
 * forward DCT, quantisation, dequantisation, inverse DCT and colour conversion back, each
 * ported from libjpeg-turbo's C (jccolor.c, jfdctint.c, jcdctmgr.c with its SIMD reciprocal
 * quantiser, jidctint.c, jdcolor.c) in integer arithmetic, so the pixels are the library's to
 * the bit. 4:4:4 keeps every 8x8 block independent of the others.
 *
 * @module
 */

/** The Annex K luminance table (jcparam.c), natural order. */
const LUMA = [
  16,
  11,
  10,
  16,
  24,
  40,
  51,
  61,
  12,
  12,
  14,
  19,
  26,
  58,
  60,
  55,
  14,
  13,
  16,
  24,
  40,
  57,
  69,
  56,
  14,
  17,
  22,
  29,
  51,
  87,
  80,
  62,
  18,
  22,
  37,
  56,
  68,
  109,
  103,
  77,
  24,
  35,
  55,
  64,
  81,
  104,
  113,
  92,
  49,
  64,
  78,
  87,
  103,
  121,
  120,
  101,
  72,
  92,
  95,
  98,
  112,
  100,
  103,
  99,
];
/** The Annex K chrominance table. */
const CHROMA = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  99,
  99,
  99,
  99,
  99,
  ...new Array(32).fill(99),
];

/** A component's quantiser: the table, and libjpeg-turbo's reciprocal, correction and shift. */
interface Quantiser {
  q: Int32Array;
  recip: Float64Array;
  corr: Float64Array;
  div: Float64Array;
}

/** jpeg_quality_scaling + jpeg_add_quant_table (force_baseline) + compute_reciprocal. */
function quantiser(base: number[], quality: number): Quantiser {
  const qual = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = qual < 50 ? Math.floor(5000 / qual) : 200 - qual * 2;
  const q = new Int32Array(64), recip = new Float64Array(64), corr = new Float64Array(64);
  const div = new Float64Array(64);
  for (let i = 0; i < 64; i++) {
    q[i] = Math.min(255, Math.max(1, Math.floor((base[i] * scale + 50) / 100)));
    // the islow DCT leaves a factor 8 in its output, so the divisor is q << 3 (>= 8)
    const divisor = q[i] << 3;
    let r = 16 + (31 - Math.clz32(divisor));
    let fq = Math.floor(2 ** r / divisor);
    const fr = 2 ** r % divisor;
    let c = divisor >> 1;
    if (fr === 0) {
      fq = Math.floor(fq / 2);
      r--;
    } else if (fr <= divisor >> 1) c++;
    else fq++;
    recip[i] = fq;
    corr[i] = c;
    div[i] = 2 ** r;
  }
  return { q, recip, corr, div };
}

// jfdctint.c / jidctint.c constants (CONST_BITS 13, PASS1_BITS 2)
const F0298 = 2446, F0390 = 3196, F0541 = 4433, F0765 = 6270, F0899 = 7373, F1175 = 9633;
const F1501 = 12299, F1847 = 15137, F1961 = 16069, F2053 = 16819, F2562 = 20995, F3072 = 25172;

/**
 * An arithmetic right shift of an integer-valued number, as C's on a 64-bit `JLONG` (JavaScript's
 * `>>` would wrap values beyond 32 bits, which only corrupt data can reach).
 */
function sar(v: number, sh: number): number {
  return v >= -2147483648 && v <= 2147483647 ? v >> sh : Math.floor(v / 2 ** sh);
}

/** jpeg_fdct_islow on a block, in place (rows then columns; output scaled by 8). */
function fdct(d: Int32Array): void {
  for (let p = 0; p < 2; p++) {
    const step = p === 0 ? 1 : 8, next = p === 0 ? 8 : 1;
    for (let k = 0, o = 0; k < 8; k++, o += next) {
      const a0 = d[o], a1 = d[o + step], a2 = d[o + 2 * step], a3 = d[o + 3 * step];
      const a4 = d[o + 4 * step], a5 = d[o + 5 * step], a6 = d[o + 6 * step];
      const a7 = d[o + 7 * step];
      const t0 = a0 + a7, t7 = a0 - a7, t1 = a1 + a6, t6 = a1 - a6;
      const t2 = a2 + a5, t5 = a2 - a5, t3 = a3 + a4, t4 = a3 - a4;
      const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
      // pass 1 keeps 2 extra bits; pass 2 removes them and descales the products by 15
      const sh = p === 0 ? 11 : 15, half = 1 << (sh - 1);
      if (p === 0) {
        d[o] = (t10 + t11) << 2;
        d[o + 4 * step] = (t10 - t11) << 2;
      } else {
        d[o] = (t10 + t11 + 2) >> 2;
        d[o + 4 * step] = (t10 - t11 + 2) >> 2;
      }
      let z1 = (t12 + t13) * F0541;
      d[o + 2 * step] = sar(z1 + t13 * F0765 + half, sh);
      d[o + 6 * step] = sar(z1 - t12 * F1847 + half, sh);
      z1 = t4 + t7;
      let z2 = t5 + t6, z3 = t4 + t6, z4 = t5 + t7;
      const z5 = (z3 + z4) * F1175;
      const u4 = t4 * F0298, u5 = t5 * F2053, u6 = t6 * F3072, u7 = t7 * F1501;
      z1 *= -F0899;
      z2 *= -F2562;
      z3 = z3 * -F1961 + z5;
      z4 = z4 * -F0390 + z5;
      d[o + 7 * step] = sar(u4 + z1 + z3 + half, sh);
      d[o + 5 * step] = sar(u5 + z2 + z4 + half, sh);
      d[o + 3 * step] = sar(u6 + z2 + z3 + half, sh);
      d[o + step] = sar(u7 + z1 + z4 + half, sh);
    }
  }
}

/** quantize() of jcdctmgr.c with the SIMD build's 16-bit reciprocals, then DEQUANTIZE. */
function quantise(d: Int32Array, z: Quantiser): void {
  for (let i = 0; i < 64; i++) {
    const t = d[i], a = t < 0 ? -t : t;
    const v = Math.floor(((a + z.corr[i]) * z.recip[i]) / z.div[i]);
    d[i] = (t < 0 ? -v : v) * z.q[i];
  }
}

/** The post-IDCT range limit of jdmaster.c: index & 1023, with its wrap for corrupt data. */
const LIMIT = (() => {
  const t = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) t[i] = i < 128 ? i + 128 : i < 512 ? 255 : i < 896 ? 0 : i - 896;
  return t;
})();

/** jpeg_idct_islow on dequantised coefficients `d` (uses `ws`), samples into `out`. */
function idct(d: Int32Array, ws: Int32Array, out: Uint8Array): void {
  for (let c = 0; c < 8; c++) {
    if (
      d[8 + c] === 0 && d[16 + c] === 0 && d[24 + c] === 0 && d[32 + c] === 0 &&
      d[40 + c] === 0 && d[48 + c] === 0 && d[56 + c] === 0
    ) {
      const dc = d[c] << 2;
      for (let r = 0; r < 8; r++) ws[8 * r + c] = dc;
      continue;
    }
    odd8(d, c, 8, ws, 11, 1 << 10, false);
  }
  for (let r = 0; r < 8; r++) {
    const o = 8 * r;
    if (
      ws[o + 1] === 0 && ws[o + 2] === 0 && ws[o + 3] === 0 && ws[o + 4] === 0 &&
      ws[o + 5] === 0 && ws[o + 6] === 0 && ws[o + 7] === 0
    ) {
      out.fill(LIMIT[((ws[o] + 16) >> 5) & 1023], o, o + 8);
      continue;
    }
    odd8(ws, o, 1, out, 18, 1 << 17, true);
  }
}

/** One 1-D pass of jpeg_idct_islow: 8 values from `src` at `o`, `step` apart. */
function odd8(
  src: Int32Array,
  o: number,
  step: number,
  dst: Int32Array | Uint8Array,
  sh: number,
  half: number,
  limit: boolean,
): void {
  let z2 = src[o + 2 * step], z3 = src[o + 6 * step];
  let z1 = (z2 + z3) * F0541;
  let t2 = z1 - z3 * F1847, t3 = z1 + z2 * F0765;
  z2 = src[o];
  z3 = src[o + 4 * step];
  let t0 = (z2 + z3) * 8192, t1 = (z2 - z3) * 8192;
  const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
  t0 = src[o + 7 * step];
  t1 = src[o + 5 * step];
  t2 = src[o + 3 * step];
  t3 = src[o + step];
  z1 = t0 + t3;
  z2 = t1 + t2;
  z3 = t0 + t2;
  let z4 = t1 + t3;
  const z5 = (z3 + z4) * F1175;
  t0 *= F0298;
  t1 *= F2053;
  t2 *= F3072;
  t3 *= F1501;
  z1 *= -F0899;
  z2 *= -F2562;
  z3 = z3 * -F1961 + z5;
  z4 = z4 * -F0390 + z5;
  t0 += z1 + z3;
  t1 += z2 + z4;
  t2 += z2 + z3;
  t3 += z1 + z4;
  const put = (i: number, v: number) => {
    const s = sar(v + half, sh);
    if (limit) dst[o + i] = LIMIT[s & 1023];
    else dst[o + i * 8] = s; // pass 1 writes a column of the workspace
  };
  put(0, t10 + t3);
  put(7, t10 - t3);
  put(1, t11 + t2);
  put(6, t11 - t2);
  put(2, t12 + t1);
  put(5, t12 - t1);
  put(3, t13 + t0);
  put(4, t13 - t0);
}

// jccolor.c / jdcolor.c fixed-point tables (SCALEBITS 16)
const FIX = (x: number) => Math.floor(x * 65536 + 0.5);
const CR_R = new Int32Array(256), CB_B = new Int32Array(256);
const CR_G = new Int32Array(256), CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX(1.402) * x + 32768) >> 16;
  CB_B[i] = (FIX(1.772) * x + 32768) >> 16;
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + 32768;
}
const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * The pixels libjpeg-turbo decodes from `rgb` (`w` x `h`, interleaved) saved at `quality` as
 * baseline 4:4:4 JPEG with its default (`islow`) DCT.
 */
export function jpegRoundTrip444(
  rgb: Uint8Array,
  w: number,
  h: number,
  quality: number,
): Uint8Array {
  const zs = [quantiser(LUMA, quality), quantiser(CHROMA, quality)];
  const out = new Uint8Array(w * h * 3);
  const bw = (w + 7) >> 3, W = bw * 8;
  // one strip of 8 rows, the three planes, padded to whole blocks by repeating the edge
  const planes = [new Int32Array(W * 8), new Int32Array(W * 8), new Int32Array(W * 8)];
  const back = [new Uint8Array(W * 8), new Uint8Array(W * 8), new Uint8Array(W * 8)];
  const blk = new Int32Array(64), ws = new Int32Array(64), samples = new Uint8Array(64);
  const [yP, cbP, crP] = planes;
  const fyR = FIX(0.299), fyG = FIX(0.587), fyB = FIX(0.114), fcbR = -FIX(0.16874);
  const fcbG = -FIX(0.33126), fHalf = FIX(0.5), fcrG = -FIX(0.41869), fcrB = -FIX(0.08131);
  const off = (128 << 16) + 32768 - 1;
  for (let y0 = 0; y0 < h; y0 += 8) {
    for (let r = 0; r < 8; r++) {
      const y = Math.min(h - 1, y0 + r); // rows past the bottom repeat the last row
      let s = y * w * 3;
      const o = r * W;
      for (let x = 0; x < w; x++, s += 3) {
        const R = rgb[s], G = rgb[s + 1], B = rgb[s + 2];
        yP[o + x] = ((fyR * R + fyG * G + fyB * B + 32768) >> 16) - 128;
        cbP[o + x] = ((fcbR * R + fcbG * G + fHalf * B + off) >> 16) - 128;
        crP[o + x] = ((fHalf * R + fcrG * G + fcrB * B + off) >> 16) - 128;
      }
      for (let x = w; x < W; x++) {
        yP[o + x] = yP[o + w - 1];
        cbP[o + x] = cbP[o + w - 1];
        crP[o + x] = crP[o + w - 1];
      }
    }
    for (let c = 0; c < 3; c++) {
      const p = planes[c], b = back[c], z = zs[c === 0 ? 0 : 1];
      for (let bx = 0; bx < bw; bx++) {
        for (let r = 0; r < 8; r++) {
          for (let k = 0; k < 8; k++) blk[8 * r + k] = p[r * W + bx * 8 + k];
        }
        fdct(blk);
        quantise(blk, z);
        idct(blk, ws, samples);
        for (let r = 0; r < 8; r++) b.set(samples.subarray(8 * r, 8 * r + 8), r * W + bx * 8);
      }
    }
    const [Y, Cb, Cr] = back;
    for (let r = 0; r < 8 && y0 + r < h; r++) {
      let d = (y0 + r) * w * 3;
      const o = r * W;
      for (let x = 0; x < w; x++, d += 3) {
        const yy = Y[o + x], cb = Cb[o + x], cr = Cr[o + x];
        out[d] = clamp255(yy + CR_R[cr]);
        out[d + 1] = clamp255(yy + ((CB_G[cb] + CR_G[cr]) >> 16));
        out[d + 2] = clamp255(yy + CB_B[cb]);
      }
    }
  }
  return out;
}
