/**
 * The crop cache: each image is decoded once, and the pixels a stage needs (the centre crop, or
 * the whole image for random crops, or a grid of tiles) are kept as raw 8-bit RGB on disk and,
 * up to a byte budget, in memory. A cached file is keyed by the image's path and content
 * (`fingerprint.ts`), the view and the decoder, so an edited image (or another decoder's pixels)
 * is decoded again.
 *
 * @module
 */

import { join } from "node:path";
import { ImageError } from "../core/errors.ts";
import { hashString, Rng } from "../core/rng.ts";
import { atomicWrite } from "../core/files.ts";
import {
  fitShortSide,
  formatPerturbation,
  jpegRoundTrip,
  perturb,
  type Perturbation,
} from "./perturb.ts";
import { activeDecoder, type DecodeOptions, PIXELS, readImage } from "./decode.ts";
import { fileFingerprint } from "./fingerprint.ts";
import {
  assertCroppable,
  centerCrop,
  cropAt,
  flipHorizontal,
  type RgbImage,
  tileOrigins,
} from "./image.ts";

/**
 * Which pixels of an image to keep: the centre crop, the whole image, or a grid of up to
 * `perSide` x `perSide` crops spread evenly over the image (stacked vertically in one
 * `size`-wide strip; see {@link tile}). A whole-image view may name the grid its samples are
 * cut from (for crops augmented on the fly); the cached pixels are the same.
 */
export type View =
  | { kind: "center"; size: number }
  | { kind: "full"; tiles?: { size: number; perSide: number } }
  | { kind: "tiles"; size: number; perSide: number }
  | { kind: "ten"; size: number };

/** A short text key for a view (`center233`, `full`, `tiles96x4`). */
export function viewKey(v: View): string {
  return v.kind === "center"
    ? `center${v.size}`
    : v.kind === "tiles"
    ? `tiles${v.size}x${v.perSide}`
    : "full";
}

/** Number of tiles in a strip returned for a `tiles` view. */
export function tileCount(strip: RgbImage): number {
  return strip.height / strip.width;
}

/** Tile `i` of a strip (a view on its pixels, not a copy). */
export function tile(strip: RgbImage, i: number): RgbImage {
  const n = strip.width * strip.width * 3;
  return { width: strip.width, height: strip.width, data: strip.data.subarray(i * n, (i + 1) * n) };
}

/** Applies a view to a decoded image. */
export function applyView(img: RgbImage, view: View, path: string): RgbImage {
  if (view.kind === "full") return img;
  if (view.kind === "center") return centerCrop(img, view.size, path);
  assertCroppable(img, view.size, path);
  const s = view.size, n = s * s * 3;
  let crops: RgbImage[];
  if (view.kind === "tiles") {
    crops = tileOrigins(img.width, img.height, s, view.perSide).map(([x, y]) =>
      cropAt(img, x, y, s, s)
    );
  } else {
    // TenCrop: the four corners and the centre, and their mirror images
    const [w, h] = [img.width - s, img.height - s];
    const five = [[0, 0], [w, 0], [0, h], [w, h], [w >> 1, h >> 1]].map(([x, y]) =>
      cropAt(img, x, y, s, s)
    );
    crops = [...five, ...five.map(flipHorizontal)];
  }
  const data = new Uint8Array(n * crops.length);
  crops.forEach((c, i) => data.set(c.data, i * n));
  return { width: s, height: s * crops.length, data };
}

/** Options for {@link ImageStore}. */
export interface ImageStoreOptions extends DecodeOptions {
  /** Folder for cached crops; none = memory only. */
  dir?: string;
  /** In-memory budget in bytes (default 512 MiB). */
  memoryBytes?: number;
  /**
   * Re-encode every image as JPEG at this quality right after decoding, before any crop
   * (`--match-compression`): the cache then holds the re-encoded pixels.
   */
  jpegQuality?: number;
  /**
   * Perturb every image right after decoding, before the re-encoding and any crop (the
   * robustness grid, or `loso --set natural-copies=SPEC`); strengths given as ranges, then the
   * noise, are drawn from a generator seeded by the image's path as given (so a folder named
   * another way draws other strengths; cached feature lists are matched by name and file
   * fingerprint, not path).
   */
  perturbation?: Perturbation;
  /**
   * Downscale every image so that its short side is at most this many pixels (see
   * `fitShortSide`), after the perturbation and before the re-encoding: whole-image features
   * then read every image at one scale.
   */
  shortSide?: number;
}

const MAGIC = 0x43475643; // "CGVC"

/**
 * Decoded-and-cropped images, computed once, served from memory or disk afterwards.
 *
 * @example Decode once, serve crops from memory
 * ```ts
 * import { ImageStore } from "./mod.ts";
 * const store = new ImageStore({ jpegQuality: 75 }); // every image re-encoded as JPEG 75 first
 * const tiles = await store.get("dataset/Photos/photo_00001.png", { kind: "tiles", size: 96, perSide: 2 });
 * console.log(tiles.width, tiles.height, store.decodes); // 96 384 1
 * ```
 */
export class ImageStore {
  /** Disk cache folder, if any. */
  readonly dir?: string;
  /** In-memory budget in bytes. */
  readonly memoryBytes: number;
  /** Options passed to the decoder. */
  readonly decodeOptions: DecodeOptions;
  /** JPEG quality every image is re-encoded at after decoding (none: kept as decoded). */
  readonly jpegQuality?: number;
  /** Perturbation applied to every image after decoding. */
  readonly perturbation?: Perturbation;
  /** Short side every image is brought down to (none: kept at its size). */
  readonly shortSide?: number;
  #mem = new Map<string, RgbImage>();
  #memUsed = 0;
  /** Number of decodes done (cache misses), for tests and logs. */
  decodes = 0;

  /** A store with the given cache folder and memory budget. */
  constructor(opts: ImageStoreOptions = {}) {
    this.dir = opts.dir;
    this.memoryBytes = opts.memoryBytes ?? 512 * 1024 * 1024;
    this.decodeOptions = {
      maxPixels: opts.maxPixels,
      decoder: opts.decoder,
      onWarning: opts.onWarning,
    };
    this.jpegQuality = opts.jpegQuality;
    this.perturbation = opts.perturbation;
    this.shortSide = opts.shortSide;
  }

  /** The pixels of `view` of the image at `path`; throws {@link ImageError} if unusable. */
  async get(path: string, view: View): Promise<RgbImage> {
    const fp = await fileFingerprint(path);
    if (fp.startsWith("unreadable:")) {
      // absent, or there but unreadable (which decoding below names and explains)
      if (!(await Deno.stat(path).then(() => true, () => false))) {
        throw new ImageError(path, "file not found");
      }
    }
    const decoder = `\0pixels${PIXELS}${await activeDecoder(this.decodeOptions.decoder)}`;
    const prep = decoder + (this.jpegQuality ? `\0jpeg${this.jpegQuality}` : "") +
      (this.perturbation ? `\0${formatPerturbation(this.perturbation)}` : "") +
      (this.shortSide ? `\0short${this.shortSide}` : "");
    const key = hashString(
      `${path}\0${fp}\0${viewKey(view)}${prep}`,
    )
      .map((h) => h.toString(16).padStart(8, "0")).join("");
    const hit = this.#mem.get(key);
    if (hit) {
      this.#mem.delete(key); // refresh its place in the LRU order
      this.#mem.set(key, hit);
      return hit;
    }
    let img = this.dir ? await this.#readDisk(key) : undefined;
    if (!img) {
      this.decodes++;
      img = applyView(
        await this.#prepare(await readImage(path, this.decodeOptions), path),
        view,
        path,
      );
      if (this.dir) await this.#writeDisk(key, img);
    }
    this.#remember(key, img);
    return img;
  }

  /**
   * The whole image, decoded (and re-encoded) as `get` would, but not cached: for whole-image
   * features, which are cached themselves, so a large collection never fills the disk cache
   * with full-size pixels.
   */
  async uncached(path: string): Promise<RgbImage> {
    this.decodes++;
    return await this.#prepare(await readImage(path, this.decodeOptions), path);
  }

  /** The perturbation, the downscaling, then the re-encoding, of a decoded image. */
  async #prepare(img: RgbImage, path: string): Promise<RgbImage> {
    if (this.perturbation) img = await perturb(img, this.perturbation, new Rng(`perturb:${path}`));
    if (this.shortSide) img = fitShortSide(img, this.shortSide);
    return this.jpegQuality
      ? await jpegRoundTrip(img, this.jpegQuality, this.decodeOptions.decoder)
      : img;
  }

  #remember(key: string, img: RgbImage) {
    if (img.data.length > this.memoryBytes) return;
    this.#mem.set(key, img);
    this.#memUsed += img.data.length;
    for (const [k, v] of this.#mem) {
      if (this.#memUsed <= this.memoryBytes) break;
      this.#mem.delete(k);
      this.#memUsed -= v.data.length;
    }
  }

  async #readDisk(key: string): Promise<RgbImage | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(this.dir!, `${key}.rgb`));
    } catch {
      return undefined;
    }
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 12 || v.getUint32(0) !== MAGIC) return undefined;
    const width = v.getUint32(4), height = v.getUint32(8);
    if (bytes.length !== 12 + width * height * 3) return undefined; // torn or foreign: decode again
    return { width, height, data: bytes.subarray(12) };
  }

  async #writeDisk(key: string, img: RgbImage) {
    const out = new Uint8Array(12 + img.data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, MAGIC);
    v.setUint32(4, img.width);
    v.setUint32(8, img.height);
    out.set(img.data, 12);
    try {
      await Deno.mkdir(this.dir!, { recursive: true });
      await atomicWrite(join(this.dir!, `${key}.rgb`), out);
    } catch {
      // A cache that cannot be written only costs time: keep going from memory.
    }
  }
}
