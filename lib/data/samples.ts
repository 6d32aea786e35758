/**
 * Samples: the crops a stage works on. A sample is one crop of one image, the tile `tile` of
 * the image's `tiles` view (with one tile per side, the centre crop).
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError, ImageError } from "../core/errors.ts";
import { atomicWrite } from "../core/files.ts";
import type { Progress } from "../core/progress.ts";
import { ImageStore, tile, tileCount, type View } from "./cache.ts";
import { cropAt, type RgbImage, tileOrigins } from "./image.ts";
import type { Dataset } from "./dataset.ts";
import { DEFAULT_MAX_PIXELS, readImageFile, sniffImage } from "./decode.ts";
import type { Role, SplitEntry } from "./split.ts";

/** One crop of one image. */
export interface Sample {
  /** The image. */
  entry: SplitEntry;
  /** Index of the crop within the image's view. */
  tile: number;
}

/** The view of `tiles` x `tiles` crops of side `crop` (1: the centre crop). */
export function tilesView(crop: number, tiles: number): View {
  return { kind: "tiles", size: crop, perSide: tiles };
}

/** One sample per crop of every entry (entries must decode; see {@link ImageStore.get}). */
export async function samplesOf(
  entries: SplitEntry[],
  store: ImageStore,
  view: View,
): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const e of entries) {
    const n = view.kind === "tiles" || view.kind === "ten"
      ? tileCount(await store.get(e.path, view))
      : view.kind === "full" && view.tiles
      ? gridOf(await store.get(e.path, view), view.tiles).length
      : 1;
    for (let t = 0; t < n; t++) out.push({ entry: e, tile: t });
  }
  return out;
}

/** The top-left corners of a whole image's grid of tiles. */
export function gridOf(
  img: RgbImage,
  tiles: { size: number; perSide: number },
): [number, number][] {
  return tileOrigins(img.width, img.height, tiles.size, tiles.perSide);
}

/**
 * Where a sample's crop sits in the whole image of a `full` view: its tile of the view's grid,
 * else the centre.
 */
export function originOf(s: Sample, img: RgbImage, view: View, crop: number): [number, number] {
  if (view.kind === "full" && view.tiles) return gridOf(img, view.tiles)[s.tile];
  return [(img.width - crop) >> 1, (img.height - crop) >> 1];
}

/** The pixels of a sample: its tile, or its crop of a whole-image view. */
export async function cropOf(
  s: Sample,
  store: ImageStore,
  view: View,
  crop: number,
): Promise<RgbImage> {
  const img = await store.get(s.entry.path, view);
  if (view.kind === "tiles" || view.kind === "ten") return tile(img, s.tile);
  if (view.kind === "center") return img;
  const [x, y] = originOf(s, img, view, crop);
  return cropAt(img, x, y, crop, crop);
}

/**
 * Decodes every entry once (filling the cache; but see `vouched`) and sorts out the unusable
 * ones: undecodable, smaller than `crop`, over the pixel limit. With `skipBad` they are dropped and listed in
 * `<run>/skipped.txt`; without, the first few are reported in one error, before any training
 * step. Entries whose paths are in `vouched` (decoded before, as the caller knows: their vectors
 * cached from the same files) are only measured from their headers (read as decoding reads them,
 * links checked), and decoded if that fails, falls short of `crop` or exceeds the pixel limit; a
 * decoder's warnings about them (a truncated JPEG, say) are then not given again. Returns the
 * usable entries, in order.
 */
export async function usable(
  entries: SplitEntry[],
  store: ImageStore,
  view: View,
  crop: number,
  o: {
    skipBad: boolean;
    run: string;
    log: Progress;
    what: string;
    listName?: string;
    vouched?: ReadonlySet<string>;
  },
): Promise<SplitEntry[]> {
  const bad: ImageError[] = [];
  o.log.start("decoding", entries.length);
  for (const e of entries) {
    try {
      if (o.vouched?.has(e.path) && await bigEnough(e.path, crop, store)) {
        o.log.tick();
        continue;
      }
      const img = await store.get(e.path, view);
      if (img.width < crop || img.height < crop) {
        throw new ImageError(
          e.path,
          `${img.width}x${img.height} is smaller than the ${crop}x${crop} crop`,
        );
      }
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      bad.push(err);
    }
    o.log.tick();
  }
  o.log.end();
  if (bad.length === 0) return entries;
  const list = join(o.run, o.listName ?? "skipped.txt");
  await atomicWrite(list, bad.map((b) => b.message).join("\n") + "\n");
  if (!o.skipBad) {
    const more = bad.length > 5 ? ` (and ${bad.length - 5} more; all in ${list})` : "";
    throw new CgvsniError(
      `${bad.length} unusable image(s), stopping before ${o.what} (skipBad: --skip-bad, or --set skip-bad=true in experiment, skips them): ` +
        bad.slice(0, 5).map((b) => b.message).join("; ") + more,
    );
  }
  o.log.log(`skipped ${bad.length} unusable image(s), listed in ${list}`);
  const badPaths = new Set(bad.map((b) => b.path));
  return entries.filter((e) => !badPaths.has(e.path));
}

/**
 * Whether the header of the image at `path` gives both sides at least `side`, and no more pixels
 * than `store` decodes (false if unread).
 */
async function bigEnough(path: string, side: number, store: ImageStore): Promise<boolean> {
  try {
    const { width, height } = sniffImage(await readImageFile(path), path);
    const limit = store.decodeOptions.maxPixels ?? DEFAULT_MAX_PIXELS;
    return width >= side && height >= side && width * height <= limit;
  } catch {
    return false;
  }
}

/**
 * The photographs (label 0) of a corpus and the renders (labels 1..K) of a render dataset that
 * decode and take a `side`-pixel crop, as `role`; the others are skipped and named in the run's
 * `skipped-natural.txt` and `skipped-renders.txt` (`skipped`: their paths); `vouched` as
 * {@link usable} takes it. What `loso` and `train-head` read.
 *
 * @example The shipped images as photographs and renders, every one usable
 * ```ts
 * import { ImageStore, loadDataset } from "./mod.ts";
 * import { photographsAndRenders } from "./samples.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const ds = await loadDataset("dataset"), run = await Deno.makeTempDir();
 * const r = await photographsAndRenders(ds, ds, new ImageStore(), 16, {
 *   run, log: makeProgress({ quiet: true }), role: "test",
 * });
 * console.log(r.photos.length, r.renders.length, r.skipped); // 40 120 []
 * ```
 */
export async function photographsAndRenders(
  natural: Dataset,
  renders: Dataset,
  store: ImageStore,
  side: number,
  o: { run: string; log: Progress; role: Role; vouched?: ReadonlySet<string> },
): Promise<{ photos: SplitEntry[]; renders: SplitEntry[]; skipped: string[] }> {
  const check = async (images: Dataset["images"], what: string) =>
    await usable(
      images.map((e) => ({ ...e, role: o.role })),
      store,
      {
        kind: "center",
        size: side,
      },
      side,
      {
        skipBad: true,
        run: o.run,
        log: o.log,
        what,
        listName: `skipped-${what}.txt`,
        ...(o.vouched ? { vouched: o.vouched } : {}),
      },
    );
  const photos = await check(natural.images.filter((e) => e.label === 0), "natural");
  const rendered = renders.images.filter((e) => e.label > 0);
  const kept = await check(rendered, "renders");
  const ok = new Set([...photos, ...kept].map((e) => e.path));
  const skipped = [...natural.images, ...rendered].filter((e) => !ok.has(e.path))
    .map((e) => e.path);
  return { photos, renders: kept, skipped };
}
