/**
 * Computing feature vectors for a list of samples, from any source, cached on disk
 * (`<dir>/<key>.json` + `.bin`) with the map's checksum, the source, the decoder, the JPEG
 * re-encoding and the exact list of samples (each image's name, crop and file fingerprint), so a
 * second run reuses them and a retrained map, or a file replaced under the same name, never does.
 *
 * Vectors may also be computed ahead, a slice of the images at a time and on as many machines
 * ({@link extractFeatureShard}, the `features --shard i/N` unit): each slice is saved under
 * `<dir>/shards/<what defines them>/shard-i-of-N`, and a list whose every sample some slice holds
 * is assembled from them, row for row what one process computes (a sample's vector does not depend
 * on the batch it was computed in).
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { type Shard, shardName } from "../cluster/shard.ts";
import { loadBundle, readManifest, saveBundle } from "../core/bundle.ts";
import { prefetch } from "../core/prefetch.ts";
import { hashString } from "../core/rng.ts";
import type { ImageStore, View } from "../data/cache.ts";
import { decoderInfo } from "../data/decode.ts";
import { fileFingerprints } from "../data/fingerprint.ts";
import { formatPerturbation } from "../data/perturb.ts";
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

/** A list of samples as the caches record it: names with crops, and their files' fingerprints. */
interface Listed {
  names: string[];
  files: string[];
}

/** The samples' names and their files' fingerprints ({@link fileFingerprints}), in order. */
async function listOf(samples: Sample[]): Promise<Listed> {
  const fp = await fileFingerprints(samples.map((s) => s.entry.path));
  return { names: samples.map(sampleName), files: samples.map((s) => fp.get(s.entry.path)!) };
}

/** Cache key of a list of samples (names, crops and file fingerprints, order included). */
function samplesKey(l: Listed): string {
  const lines = l.names.map((n, i) => `${n}\0${l.files[i]}`);
  return hashString(lines.join("\n")).map((h) => h.toString(16)).join("");
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
  if (!o.cache) return { ...(await compute(o)), cached: false };
  // the files are fingerprinted before they are read, so a file changed meanwhile is recomputed
  // next time rather than served stale
  const listed = await listOf(o.samples);
  const identity = await identityOf(o, listed);
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
  // slices are of unperturbed pixels only
  const assembled = o.store.perturbation ? undefined : await fromShards(o, identity, listed);
  if (assembled) return { ...assembled, cached: true };
  const out = await compute(o);
  await ensureDir(o.cache.dir);
  await saveBundle(o.cache.dir, o.cache.key, FORMAT, [
    { name: "features", shape: [out.n, out.dim], data: out.data },
    ...(out.pCg ? [{ name: "p_cg", shape: [out.n], data: out.pCg }] : []),
  ], { ...identity, ...listed });
  return { ...out, cached: false };
}

/**
 * Computes the vectors of one slice of the work ahead (`o.samples` are that slice's) and saves
 * them as `<dir>/shards/<what defines them>/shard-i-of-N`, where {@link extractFeatures} finds
 * them for any list of samples they cover. Returns that file's path (without extension).
 *
 * @example Two slices of three photographs' residual features, then the list from them
 * ```ts
 * import { extractFeatureShard, extractFeatures } from "./mod.ts";
 * import { ImageStore, loadDataset } from "../data/mod.ts";
 * const ds = await loadDataset("dataset");
 * const samples = ds.images.slice(0, 3).map((e) => ({ entry: { ...e, role: "test" as const }, tile: 0 }));
 * const dir = await Deno.makeTempDir(), store = new ImageStore(), view = { kind: "full" as const };
 * await extractFeatureShard({ source: "residual", samples: samples.slice(0, 2), store, view, dir, shard: { index: 1, count: 2 } });
 * await extractFeatureShard({ source: "residual", samples: samples.slice(2), store, view, dir, shard: { index: 2, count: 2 } });
 * const f = await extractFeatures({ source: "residual", samples, store, view, cache: { dir, key: "all" } });
 * console.log(f.cached, f.n); // true 3
 * ```
 */
export async function extractFeatureShard(
  o: Omit<ExtractOptions, "cache"> & { dir: string; shard: Shard },
): Promise<string> {
  if (o.store.perturbation) throw new RangeError("feature slices are of unperturbed pixels only");
  const listed = await listOf(o.samples);
  const identity = await identityOf(o, listed);
  const dir = shardFolder(o.dir, identity, o), stem = shardName(o.shard);
  const extra = { ...slice(identity), ...viewOf(o), ...listed };
  // the same slice computed already (a unit run again): kept
  try {
    const { manifest } = await loadBundle(dir, stem, { format: FORMAT });
    if (
      Object.entries(extra).every(([k, v]) => JSON.stringify(manifest[k]) === JSON.stringify(v))
    ) {
      return join(dir, stem);
    }
  } catch { /* absent or damaged: computed */ }
  const out = await compute(o);
  await ensureDir(dir);
  await saveBundle(dir, stem, FORMAT, [
    { name: "features", shape: [out.n, out.dim], data: out.data },
    ...(out.pCg ? [{ name: "p_cg", shape: [out.n], data: out.pCg }] : []),
  ], extra);
  return join(dir, stem);
}

/**
 * Makes other runs' cached lists of whole-image vectors available, image by image, to lists
 * cached under `dir`: every list in the folders `from` (their `features/`) computed with the
 * same definition (source, pixels, decoder, JPEG re-encoding, the source's version) is copied
 * in as a slice (`<dir>/shards/…/adopted-*`; so are the same definition's slices under their
 * `shards/`, a run's whose lists were put together from slices), which {@link extractFeatures}
 * assembles a list from when those slices hold every image of it. Images are matched by name and
 * file fingerprint (`lib/data/fingerprint.ts`): a file replaced under the same name since is
 * computed again, and so is every image of a list saved before fingerprints were recorded. A list
 * adopted before is not copied again. Returns how many lists were adopted.
 *
 * @example Another run's residual vectors of three photographs, reused by a list of two of them
 * ```ts
 * import { adoptFeatures, extractFeatures } from "./mod.ts";
 * import { ImageStore, loadDataset } from "../data/mod.ts";
 * const ds = await loadDataset("dataset");
 * const samples = ds.images.slice(0, 3).map((e) => ({ entry: { ...e, role: "test" as const }, tile: 0 }));
 * const store = new ImageStore(), view = { kind: "full" as const };
 * const other = await Deno.makeTempDir(), mine = await Deno.makeTempDir();
 * await extractFeatures({ source: "residual", samples, store, view, cache: { dir: other, key: "all" } });
 * console.log(await adoptFeatures([other], mine, { source: "residual", store })); // 1
 * const f = await extractFeatures({ source: "residual", samples: samples.slice(1), store, view, cache: { dir: mine, key: "two" } });
 * console.log(f.cached, f.n); // true 2
 * ```
 */
export async function adoptFeatures(
  from: string[],
  dir: string,
  o: { source: FeatureSource; store: ImageStore },
): Promise<number> {
  if (needsMap(o.source)) throw new RangeError("only whole-image vectors are adopted");
  const want = slice(
    await identityOf({ ...o, samples: [], view: { kind: "full" } }, { names: [], files: [] }),
  );
  const to = shardFolder(dir, want, { source: o.source, view: { kind: "full" } });
  // the lists of each folder, and the whole-image slices under its shards/ (a run whose lists
  // were themselves assembled from slices keeps only those)
  const places: string[] = [];
  for (const folder of from) {
    if (resolve(folder) === resolve(dir)) continue; // its own lists: nothing to adopt
    places.push(folder);
    const shards = join(folder, "shards");
    const subs = await Array.fromAsync(Deno.readDir(shards)).catch(() => []);
    for (const e of subs) {
      if (e.isDirectory && e.name.startsWith(`${o.source}-`)) places.push(join(shards, e.name));
    }
  }
  let adopted = 0;
  for (const place of places) {
    for await (const e of Deno.readDir(place)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const stem = e.name.slice(0, -5);
      // the manifest alone decides; the values are checked (length, checksum) where a list is
      // assembled from the copy, which is not used if damaged
      const manifest = await readManifest(place, stem).catch(() => undefined);
      if (manifest?.format !== FORMAT || !sameDefinition(manifest, want)) continue;
      const bin = manifest.weightsManifest[0].paths[0];
      if (basename(bin) !== bin) continue; // a weights file elsewhere: not a list of ours
      const name = `adopted-${hashString(join(place, stem)).map((h) => h.toString(16)).join("")}`;
      adopted++;
      const had = await readManifest(to, name).catch(() => undefined);
      // adopted before, with the same images and files: not copied again (a list computed again
      // may give the same vectors with other files recorded)
      const same = (k: string) => JSON.stringify(had?.[k]) === JSON.stringify(manifest[k]);
      if (had && had.sha256 === manifest.sha256 && same("names") && same("files")) continue;
      await ensureDir(to);
      manifest.weightsManifest[0].paths = [`${name}.bin`]; // the copy names its own weights file
      await Deno.copyFile(join(place, bin), join(to, `${name}.bin`));
      await Deno.writeTextFile(join(to, `${name}.json`), JSON.stringify(manifest));
    }
  }
  return adopted;
}

/**
 * Which of `o.samples` (whole images) have a vector under `dir` computed as these would be
 * (source, pixels, decoder, JPEG re-encoding, the source's version) from the same file (name and
 * fingerprint): in a list cached there, or in a slice of its `shards/` (another run's, once
 * {@link adoptFeatures} has copied it in). Only the manifests are read. Such an image was decoded
 * and its vector computed before, which a caller may take as proof that it decodes (`loso`, to
 * skip decoding it again only to check it).
 *
 * @example Three photographs' residual vectors cached, and a fourth image not
 * ```ts
 * import { cachedSamples, extractFeatures } from "./mod.ts";
 * import { ImageStore, loadDataset } from "../data/mod.ts";
 * const ds = await loadDataset("dataset");
 * const samples = ds.images.slice(0, 4).map((e) => ({ entry: { ...e, role: "test" as const }, tile: 0 }));
 * const store = new ImageStore(), view = { kind: "full" as const }, dir = await Deno.makeTempDir();
 * await extractFeatures({ source: "residual", samples: samples.slice(0, 3), store, view, cache: { dir, key: "three" } });
 * console.log(await cachedSamples(dir, { source: "residual", store, samples })); // [ true, true, true, false ]
 * ```
 */
export async function cachedSamples(
  dir: string,
  o: { source: FeatureSource; store: ImageStore; samples: Sample[] },
): Promise<boolean[]> {
  if (needsMap(o.source)) throw new RangeError("only whole-image vectors are looked up");
  const listed = await listOf(o.samples);
  const full = { kind: "full" as const };
  const want = slice(await identityOf({ ...o, view: full }, listed));
  const have = new Set<string>();
  for (const place of [dir, shardFolder(dir, want, { source: o.source, view: full })]) {
    const stems = await Array.fromAsync(Deno.readDir(place)).catch(() => []);
    for (const e of stems) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const m = await readManifest(place, e.name.slice(0, -5)).catch(() => undefined);
      const files = m?.files, names = m?.names;
      if (m?.format !== FORMAT || !sameDefinition(m, want)) continue;
      // a damaged manifest lists nothing (as a list that cannot be assembled from is not used)
      if (!Array.isArray(names) || !Array.isArray(files) || names.length !== files.length) continue;
      names.forEach((name, i) => have.add(`${name}\0${files[i]}`));
    }
  }
  return listed.names.map((n, i) => have.has(`${n}\0${listed.files[i]}`));
}

/**
 * Whether a saved list's manifest was computed as `want` defines vectors: every key of the
 * definition equal both ways (a list made with an option `want` lacks, `shortSide` say, is not).
 */
function sameDefinition(manifest: Record<string, unknown>, want: Record<string, unknown>) {
  const saved = Object.keys(manifest).filter((k) => !BUNDLE_KEYS.has(k));
  return saved.every((k) => k in want) &&
    Object.entries(want).every(([k, v]) => manifest[k] === v);
}

/** Manifest keys that say where a list is, not how its vectors were made. */
const BUNDLE_KEYS = new Set([
  "format",
  "weightsManifest",
  "byteLength",
  "sha256",
  "names",
  "files",
  "samples",
]);

/** The crops a map source's slice was computed on, recorded with it (whole images: none). */
function viewOf(o: { source: FeatureSource; view: View }): { view?: string } {
  return needsMap(o.source) ? { view: JSON.stringify(o.view) } : {};
}

/** A sample's name in the caches: the image and its crop. */
function sampleName(s: Sample): string {
  return `${s.entry.name}#${s.tile}`;
}

/** What defines a list's vectors: the source, map, pixels, decoder, samples and their files. */
async function identityOf(
  o: Omit<ExtractOptions, "cache">,
  listed: Listed,
): Promise<Record<string, unknown>> {
  return {
    source: o.source,
    model: o.map?.sha ?? "none",
    jpeg: o.store.jpegQuality ?? 0,
    ...(o.store.shortSide ? { shortSide: o.store.shortSide } : {}),
    ...(o.store.perturbation ? { perturbation: formatPerturbation(o.store.perturbation) } : {}),
    decoder: await decoderKey(o.store),
    samples: samplesKey(listed),
    ...(needsMap(o.source) ? {} : { [specKey(o.source)!]: JSON.stringify(sourceSpec(o.source)) }),
  };
}

/** What defines a slice's vectors: a list's identity but its samples, and the crops' view. */
function slice(identity: Record<string, unknown>): Record<string, unknown> {
  const { samples: _s, ...rest } = identity;
  return rest;
}

/** The folder of the slices computed for one definition of the vectors. */
function shardFolder(
  dir: string,
  identity: Record<string, unknown>,
  o: { source: FeatureSource; view: View },
): string {
  const def = { ...slice(identity), ...viewOf(o) };
  const h = hashString(JSON.stringify(def)).map((x) => x.toString(16).padStart(8, "0")).join("");
  return join(dir, "shards", `${o.source}-${h}`);
}

/**
 * A list's vectors put together from slices computed ahead, when they hold every sample; none
 * when they do not (the caller then computes them).
 */
async function fromShards(
  o: ExtractOptions,
  identity: Record<string, unknown>,
  listed: Listed,
): Promise<Omit<FeatureSet, "cached"> | undefined> {
  const dir = shardFolder(o.cache!.dir, identity, o);
  let stems: string[];
  try {
    stems = (await Array.fromAsync(Deno.readDir(dir)))
      .filter((e) => e.name.endsWith(".json")).map((e) => e.name.slice(0, -5)).sort();
  } catch {
    return undefined;
  }
  const want = { ...slice(identity), ...viewOf(o) };
  const rows = new Map<string, { f: Float32Array; p?: Float32Array; i: number }>();
  let dim = -1;
  for (const stem of stems) {
    try {
      const { manifest, arrays } = await loadBundle(dir, stem, { format: FORMAT });
      if (!Object.entries(want).every(([k, v]) => manifest[k] === v)) continue;
      const f = arrays.get("features")!, p = arrays.get("p_cg")?.data;
      if (dim >= 0 && f.shape[1] !== dim) continue;
      dim = f.shape[1];
      // a row is its image's only if the file is the one it was computed from (a slice saved
      // before fingerprints were recorded has none, and is not used)
      const files = manifest.files as string[] | undefined;
      if (!files) continue;
      (manifest.names as string[]).forEach((name, i) =>
        rows.set(`${name}\0${files[i]}`, { f: f.data, p, i })
      );
    } catch { /* a slice being written, or damaged: not used */ }
  }
  const names = listed.names.map((n, i) => `${n}\0${listed.files[i]}`);
  if (dim < 0 || !names.every((n) => rows.has(n))) return undefined;
  const data = new Float32Array(names.length * dim);
  const withP = names.every((n) => rows.get(n)!.p);
  const pCg = withP ? new Float32Array(names.length) : undefined;
  names.forEach((n, j) => {
    const r = rows.get(n)!;
    data.set(r.f.subarray(r.i * dim, (r.i + 1) * dim), j * dim);
    if (pCg) pCg[j] = r.p![r.i];
  });
  return { data, dim, n: names.length, pCg };
}

/** The vectors of `o.samples`, computed. */
async function compute(o: Omit<ExtractOptions, "cache">): Promise<Omit<FeatureSet, "cached">> {
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
    return { data: r.features!, dim: r.dim!, n: o.samples.length, pCg: r.pCg };
  }
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
  return { data, dim, n: rows.length };
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
