/**
 * Computing feature vectors for a list of samples, from any source, cached on disk
 * (`<dir>/<key>.json` + `.bin`) with the map's checksum, the source, the decoder, the JPEG
 * re-encoding and the exact list of samples, so a second run reuses them and a retrained map never does.
 *
 * @module
 */

import { join } from "node:path";
import { loadBundle, saveBundle } from "../core/bundle.ts";
import { prefetch } from "../core/prefetch.ts";
import { hashString } from "../core/rng.ts";
import type { ImageStore, View } from "../data/cache.ts";
import { decoderInfo } from "../data/decode.ts";
import { cropOf, type Sample } from "../data/samples.ts";
import type { ImageMap } from "../map/run.ts";
import { predict } from "../map/predict.ts";
import { ensureDir } from "../runs/folder.ts";
import {
  embedding,
  type FeatureSource,
  needsMap,
  sourceSpec,
  specKey,
  wholeImageFeatures,
} from "./sources.ts";

/** Feature vectors of a list of samples. */
export interface FeatureSet {
  /** One row per sample: `data[i * dim .. (i + 1) * dim]`. */
  data: Float32Array;
  /** Feature dimension. */
  dim: number;
  /** Number of samples. */
  n: number;
  /** The map's softmax p(CG) per sample (map sources only: the supervised head's answer). */
  pCg?: Float32Array;
  /** Whether they came from the cache. */
  cached: boolean;
}

const FORMAT = "cgvsni-features/2";

/** Cache key of a list of samples (names and tiles, order included). */
export function samplesKey(samples: Sample[]): string {
  return hashString(samples.map((s) => `${s.entry.name}#${s.tile}`).join("\n")).map((h) =>
    h.toString(16)
  ).join("");
}

/** What {@link extractFeatures} needs. */
export interface ExtractOptions {
  /** The source. */
  source: FeatureSource;
  /** The image map (map sources). */
  map?: ImageMap;
  /** The samples: crops of a map's view, or whole images for the sources without a map. */
  samples: Sample[];
  /** Decoded (and possibly re-encoded) pixels. */
  store: ImageStore;
  /** The view the samples index (ignored by the sources without a map, which read whole images). */
  view: View;
  /** Cache folder and file stem; none: not cached. */
  cache?: { dir: string; key: string };
  /** Progress: samples done so far. */
  onBatch?: (done: number) => void;
}

/**
 * The feature vectors of `samples`, from the cache when it holds them for these inputs.
 *
 * @example Residual features of three photographs (no map needed)
 * ```ts
 * import { extractFeatures } from "./mod.ts";
 * import { ImageStore, loadDataset } from "../data/mod.ts";
 * const ds = await loadDataset("dataset");
 * const samples = ds.images.slice(0, 3).map((e) => ({ entry: { ...e, role: "test" as const }, tile: 0 }));
 * const f = await extractFeatures({ source: "residual", samples, store: new ImageStore(), view: { kind: "full" } });
 * console.log(f.n, f.dim); // 3 1184
 * ```
 */
export async function extractFeatures(o: ExtractOptions): Promise<FeatureSet> {
  const sig = samplesKey(o.samples);
  const identity = {
    source: o.source,
    model: o.map?.sha ?? "none",
    jpeg: o.store.jpegQuality ?? 0,
    ...(o.store.shortSide ? { shortSide: o.store.shortSide } : {}),
    decoder: await decoderKey(o.store),
    samples: sig,
    ...(needsMap(o.source) ? {} : { [specKey(o.source)!]: JSON.stringify(sourceSpec(o.source)) }),
  };
  if (o.cache) {
    try {
      const { manifest, arrays } = await loadBundle(o.cache.dir, o.cache.key, { format: FORMAT });
      const same = Object.entries(identity).every(([k, v]) => manifest[k] === v);
      if (same) {
        const f = arrays.get("features")!;
        return {
          data: f.data,
          dim: f.shape[1],
          n: f.shape[0],
          pCg: arrays.get("p_cg")?.data,
          cached: true,
        };
      }
    } catch { /* absent or stale: compute */ }
  }
  let out: Omit<FeatureSet, "cached">;
  if (needsMap(o.source)) {
    if (!o.map) throw new RangeError(`the ${o.source} features need an image map`);
    const crop = o.map.net.cfg.crop;
    const r = await predict(
      o.map.net,
      o.samples.length,
      (i) => cropOf(o.samples[i], o.store, o.view, crop),
      o.map.norm,
      {
        embed: embedding(o.source),
        onBatch: o.onBatch,
      },
    );
    out = { data: r.features!, dim: r.dim!, n: o.samples.length, pCg: r.pCg };
  } else {
    // the next image is decoded while this one's features are computed
    const rows: Float32Array[] = [];
    const images = prefetch(o.samples, 1, (s) => o.store.uncached(s.entry.path));
    for await (const [, img] of images) {
      if (img.status === "rejected") throw img.reason;
      rows.push(await wholeImageFeatures(o.source, img.value));
      o.onBatch?.(rows.length);
    }
    const dim = rows[0]?.length ?? 0, data = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => data.set(r, i * dim));
    out = { data, dim, n: rows.length };
  }
  if (o.cache) {
    await ensureDir(o.cache.dir);
    await saveBundle(o.cache.dir, o.cache.key, FORMAT, [
      { name: "features", shape: [out.n, out.dim], data: out.data },
      ...(out.pCg ? [{ name: "p_cg", shape: [out.n], data: out.pCg }] : []),
    ], { ...identity, names: o.samples.map((s) => `${s.entry.name}#${s.tile}`) });
  }
  return { ...out, cached: false };
}

/** The decoder of a store's pixels, as a cache key (`2/libvips`). */
async function decoderKey(store: ImageStore): Promise<string> {
  const d = await decoderInfo(store.decodeOptions.decoder);
  return `${d.pixels}/${d.decoder}`;
}

/** The cache folder of a run. */
export function featureDir(run: string): string {
  return join(run, "features");
}
