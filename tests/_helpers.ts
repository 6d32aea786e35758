/**
 * Shared test fixtures: one backend for the whole run, temporary folders, tiny configurations.
 *
 * @module
 */

import { type BackendChoice, initBackend } from "../lib/backends/select.ts";
import { ImageStore } from "../lib/data/cache.ts";
import { loadDataset } from "../lib/data/dataset.ts";
import type { RgbImage } from "../lib/data/image.ts";
import type { FeatureSource } from "../lib/features/sources.ts";
import type { ENetConfig } from "../lib/map/enet.ts";
import type { TrainMapOptions } from "../lib/map/train.ts";
import { join } from "node:path";

let backend: Promise<BackendChoice> | undefined;

/** Starts the backend the tests run on (`CGVSNI_TEST_BACKEND`, default auto) once. */
export function testBackend(): Promise<BackendChoice> {
  backend ??= initBackend((Deno.env.get("CGVSNI_TEST_BACKEND") ?? "auto") as "auto");
  return backend;
}

/** Runs `f` with a fresh temporary folder, removed afterwards. */
export async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "cgvsni-test-" });
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Path of the dataset shipped with the repository. */
export const SHIPPED = new URL("../dataset/", import.meta.url).pathname;

/**
 * What `extractFeatures` needs to compute a whole-image source for the first two images of the
 * shipped dataset, cached in `dir` under `key`.
 */
export async function twoShippedImages(source: FeatureSource, dir: string, key: string) {
  const ds = await loadDataset(SHIPPED);
  const samples = ds.images.slice(0, 2).map((e) => ({
    entry: { ...e, role: "test" as const },
    tile: 0,
  }));
  return {
    source,
    samples,
    store: new ImageStore(),
    view: { kind: "full" as const },
    cache: { dir, key },
  };
}

/** A synthetic RGB image whose channel `c` at column `x`, row `y` is `px(x, y, c)`. */
export function rgbImage(
  w: number,
  h: number,
  px: (x: number, y: number, c: number) => number,
): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = px(x, y, c);
    }
  }
  return { width: w, height: h, data };
}

/** The smallest ENet worth training: every layer present, a few channels each. */
export const TINY: ENetConfig = {
  crop: 77,
  conv0: 4,
  width: 4,
  trunk: [4, 4, 4],
  fc: 8,
  classes: 2,
  dropout: 0.5,
  trainSrm: false,
};

/** Max |a - b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Writes `<dir>/subset.csv`: 12 photographs and 8 images of each renderer of the shipped dataset. */
export async function shippedSubset(dir: string): Promise<string> {
  const ds = await loadDataset(SHIPPED);
  const rows = ds.classes.flatMap((c) =>
    ds.images.filter((i) => i.label === c.label).slice(0, c.label === 0 ? 12 : 8)
  ).map((i) => `${i.name},${i.label}`);
  const csv = join(dir, "subset.csv");
  await Deno.writeTextFile(csv, ["Name,Label", ...rows].join("\n") + "\n");
  return csv;
}

/** A map small enough to train in seconds on {@link shippedSubset}'s images. */
export function tinyRowMap(csv: string): Partial<TrainMapOptions> {
  return {
    csv,
    crop: 80,
    width: 4,
    fc: 16,
    epochs: 2,
    batchSize: 8,
    naturalSplit: "0.25,0.25,0.25,0.25",
    cgSplit: "0.5,0.25,0.25",
  };
}
