/**
 * A heatmap of per-tile scores as a PNG: blue for natural (score < 0), white at the decision
 * threshold, red for computer-generated; pixels covered by no tile are grey.
 *
 * @module
 */

import type { TileScore } from "./detector.ts";
import { encodePng } from "../data/png.ts";

/** Renders tiles of side `crop` over an image of `width`x`height`, at most `maxSide` px wide. */
export async function heatmapPng(
  tiles: TileScore[],
  width: number,
  height: number,
  crop: number,
  maxSide = 512,
): Promise<Uint8Array> {
  const k = Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
  const w = Math.ceil(width / k), h = Math.ceil(height / k);
  const sum = new Float64Array(w * h), cnt = new Uint16Array(w * h);
  for (const t of tiles) {
    for (let y = Math.floor(t.y / k); y < Math.min(h, Math.ceil((t.y + crop) / k)); y++) {
      for (let x = Math.floor(t.x / k); x < Math.min(w, Math.ceil((t.x + crop) / k)); x++) {
        sum[y * w + x] += t.score;
        cnt[y * w + x]++;
      }
    }
  }
  const scale = Math.max(1e-12, ...tiles.map((t) => Math.abs(t.score)));
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    if (!cnt[i]) {
      data.set([128, 128, 128], 3 * i);
      continue;
    }
    const v = Math.max(-1, Math.min(1, sum[i] / cnt[i] / scale));
    const fade = Math.round(255 * (1 - Math.abs(v)));
    data.set(v >= 0 ? [255, fade, fade] : [fade, fade, 255], 3 * i);
  }
  return await encodePng({ width: w, height: h, channels: 3, data });
}
