/**
 * A LOSO run's cached feature lists (`runs/NAME/features/`), read the way `loso` fits them: what
 * the diagnostics that repeat its fits (gmm_gap.ts, mondrian_check.ts) share.
 *
 * @module
 */

import { loadBundle } from "../lib/core/bundle.ts";

/** A cached feature list: its vectors, image names (less `#0`) and each image's first folder. */
export interface CachedList {
  data: Float32Array;
  n: number;
  d: number;
  names: string[];
  /** The photograph source (or renderer): the name's first folder. */
  folder: string[];
}

/** Reads the list `stem` (e.g. `natural-profile`) of the features folder `dir`. */
export async function cachedList(dir: string, stem: string): Promise<CachedList> {
  const { manifest, arrays } = await loadBundle(dir, stem);
  const x = arrays.get("features")!;
  const names = (manifest.names as string[]).map((s) => s.replace(/#0$/, ""));
  return {
    data: x.data,
    n: x.shape[0],
    d: x.shape[1],
    names,
    folder: names.map((s) => s.split("/")[0]),
  };
}

/** Sources numbered as `loso` numbers them (sorted by name), so that a seed draws its folds. */
export function losoIds(sources: string[]): Map<string, number> {
  return new Map([...new Set(sources)].sort().map((s, i) => [s, i]));
}

/** Rows `idx` of a list, as one row-major array. */
export function pickRows(list: CachedList, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * list.d);
  idx.forEach((i, k) => out.set(list.data.subarray(i * list.d, (i + 1) * list.d), k * list.d));
  return out;
}
