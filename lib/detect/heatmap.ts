/**
 * A heatmap of per-tile scores drawn over a faded grey copy of the image, with a colour bar and
 * its meaning underneath, as a PNG. Blue is the natural side, white the decision threshold, red
 * the computer-generated side: p(CG) of the head (0 to 1, white at the head's threshold), or
 * the one-class score (threshold 0, scaled to the largest |score| of the image).
 *
 * @module
 */

import { encodePng } from "../data/png.ts";
import type { RgbImage } from "../data/image.ts";
import { GLYPH, GLYPHS } from "../core/font.ts";
import { UNSET_HEAD_THRESHOLD } from "../map/threshold.ts";
import type { TileScore } from "./detector.ts";

/** What a heatmap shows. */
export type HeatmapValue = "pCg" | "score";

/** The legend title of each value. */
export const HEATMAP_TITLES: Record<HeatmapValue, string> = {
  pCg: "p(CG) of the head",
  score: "one-class score (> 0: CG)",
};

/** Blue – white – red for t in [−1, 1]. */
export function diverging(t: number): [number, number, number] {
  const v = Math.max(-1, Math.min(1, t)), fade = Math.round(255 * (1 - Math.abs(v)));
  return v >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

/** Draws `text` with the 6x10 bitmap font at (x, y) in an RGB buffer of width `w`. */
export function drawText(
  data: Uint8Array,
  w: number,
  h: number,
  x: number,
  y: number,
  text: string,
  rgb: [number, number, number] = [0, 0, 0],
): void {
  for (const [k, ch] of [...text].entries()) {
    const code = ch.charCodeAt(0);
    const glyph = GLYPHS[code >= 32 && code <= 126 ? code - 32 : 31]; // "?" otherwise
    for (let r = 0; r < GLYPH.height; r++) {
      const bits = parseInt(glyph.slice(2 * r, 2 * r + 2), 16);
      for (let c = 0; c < GLYPH.width; c++) {
        if (!(bits & (1 << (GLYPH.width - 1 - c)))) continue;
        const px = x + k * GLYPH.width + c, py = y + r;
        if (px >= 0 && px < w && py >= 0 && py < h) data.set(rgb, 3 * (py * w + px));
      }
    }
  }
}

/**
 * Renders the tiles (each `crop` x `crop`) of `img` as a PNG at most `maxSide` pixels wide or
 * high (plus the legend), showing `value`.
 *
 * @example A heatmap of tile scores over the image
 * ```ts
 * import { heatmapPng } from "./mod.ts";
 * import { readImage } from "../data/mod.ts";
 * const img = await readImage("dataset/Photos/photo_00001.png");
 * const png = await heatmapPng(img, [{ x: 0, y: 0, pCg: 0.9, score: 1 }], 128, "pCg");
 * await Deno.writeFile(`${await Deno.makeTempDir()}/photo.heatmap.png`, png);
 * ```
 */
export async function heatmapPng(
  img: RgbImage,
  tiles: TileScore[],
  crop: number,
  value: HeatmapValue,
  maxSide = 512,
  headAt = UNSET_HEAD_THRESHOLD,
): Promise<Uint8Array> {
  const k = Math.max(1, Math.ceil(Math.max(img.width, img.height) / maxSide));
  const w = Math.max(240, Math.ceil(img.width / k)), iw = Math.ceil(img.width / k);
  const ih = Math.ceil(img.height / k), legend = 46, h = ih + legend;
  const data = new Uint8Array(w * h * 3).fill(255);
  // the image, grey and faded towards white
  for (let y = 0; y < ih; y++) {
    for (let x = 0; x < iw; x++) {
      const s = 3 * (Math.min(img.height - 1, y * k) * img.width + Math.min(img.width - 1, x * k));
      const g = (img.data[s] + img.data[s + 1] + img.data[s + 2]) / 3;
      data.fill(Math.round(128 + g / 2), 3 * (y * w + x), 3 * (y * w + x) + 3);
    }
  }
  // the tiles, averaged where they overlap, blended over the image
  const vals = tiles.map((t) => (value === "pCg" ? t.pCg : t.score)).filter(Number.isFinite);
  // to [−1, 1], 0 at the threshold: p(CG) piecewise (0 → −1, threshold → 0, 1 → 1; a threshold
  // of 0 or 1 leaves one side empty, which must not divide by 0)
  const scale = Math.max(1e-12, ...vals.map(Math.abs));
  const unit = (v: number) =>
    value === "score"
      ? v / scale
      : v < headAt
      ? (v - headAt) / Math.max(1e-12, headAt)
      : (v - headAt) / Math.max(1e-12, 1 - headAt);
  const sum = new Float64Array(iw * ih), cnt = new Uint16Array(iw * ih);
  for (const t of tiles) {
    const v = value === "pCg" ? t.pCg : t.score;
    if (!Number.isFinite(v)) continue;
    for (let y = Math.floor(t.y / k); y < Math.min(ih, Math.ceil((t.y + crop) / k)); y++) {
      for (let x = Math.floor(t.x / k); x < Math.min(iw, Math.ceil((t.x + crop) / k)); x++) {
        sum[y * iw + x] += v;
        cnt[y * iw + x]++;
      }
    }
  }
  const alpha = 0.6;
  for (let y = 0; y < ih; y++) {
    for (let x = 0; x < iw; x++) {
      if (!cnt[y * iw + x]) continue;
      const c = diverging(unit(sum[y * iw + x] / cnt[y * iw + x])),
        o = 3 * (y * w + x);
      for (let ch = 0; ch < 3; ch++) {
        data[o + ch] = Math.round(alpha * c[ch] + (1 - alpha) * data[o + ch]);
      }
    }
  }
  // the legend: title, colour bar, tick labels
  const top = ih + 4, bx = 4, bw = w - 8;
  drawText(data, w, h, bx, top, HEATMAP_TITLES[value]);
  for (let x = 0; x < bw; x++) {
    const c = diverging((x / (bw - 1)) * 2 - 1);
    for (let y = top + 13; y < top + 25; y++) data.set(c, 3 * (y * w + bx + x));
  }
  const fmt = (
    v: number,
  ) => (Math.abs(v) >= 100 || (v !== 0 && Math.abs(v) < 0.01)
    ? v.toExponential(1)
    : +v.toPrecision(3) + "");
  const ticks: [number, string][] = value === "score"
    ? [[0, fmt(-scale)], [0.5, "0"], [1, fmt(scale)]]
    : [[0, "0"], [0.5, fmt(headAt)], [1, "1"]];
  for (const [f, label] of ticks) {
    const x = Math.round(bx + f * (bw - 1));
    const tx = Math.max(
      0,
      Math.min(w - label.length * GLYPH.width, x - (label.length * GLYPH.width) / 2),
    );
    drawText(data, w, h, tx, top + 28, label);
  }
  return await encodePng({ width: w, height: h, channels: 3, data });
}
