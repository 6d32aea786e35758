/**
 * Augmentation of the map's training crops, the same for both classes, so that what tells
 * natural from rendered cannot be compression, blur or scale (CNNDetection, Wang et al. 2020,
 * found blur + JPEG augmentation to be what made detectors transfer):
 *
 * - `random-crop-flip`: a new random crop each epoch, mirrored with probability 1/2;
 * - `resize`: the image rescaled by a factor uniform in [0.5, 1.5] (antialiased) before cropping;
 * - `blur`: Gaussian blur, σ uniform in [0, 3];
 * - `noise`: additive Gaussian noise, σ uniform in [0, 5] (0–255 scale);
 * - `jpeg`: JPEG re-compression, quality uniform in 30..100.
 *
 * Each pixel augmentation is applied with probability `p`, in the order resize, blur, noise,
 * jpeg, to a region of the decoded image around the crop (large enough that no edge effect
 * reaches the crop), and the crop is cut from its middle; the JPEG block grid falls at a random
 * offset. Draws come from a seeded generator: the same seed and epoch give the same crops.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { cropAt, flipHorizontal, type RgbImage } from "./image.ts";
import { addNoise, gaussianBlur, jpegRoundTrip, resize } from "./perturb.ts";

/** The augmentations `--augment` accepts. */
export const AUGMENTATIONS = ["random-crop-flip", "jpeg", "blur", "resize", "noise"] as const;

/** One augmentation. */
export type Augmentation = typeof AUGMENTATIONS[number];

/** Ranges the augmentations draw from. */
export const AUGMENT_RANGES = {
  jpeg: [30, 100],
  blur: [0, 3],
  resize: [0.5, 1.5],
  noise: [0, 5],
} as const;

/**
 * Parses `--augment` (`none`, or a comma-separated list).
 *
 * @example `--augment` as a list
 * ```ts
 * import { parseAugment } from "./mod.ts";
 * console.log(parseAugment("jpeg,blur"), parseAugment("none")); // ["jpeg", "blur"] []
 * ```
 */
export function parseAugment(text: string): Augmentation[] {
  if (text.trim() === "" || text.trim() === "none") return [];
  const out = text.split(",").map((s) => s.trim());
  for (const a of out) {
    if (!(AUGMENTATIONS as readonly string[]).includes(a)) {
      throw new UsageError(
        `augment must be none or a list of ${AUGMENTATIONS.join(", ")}; "${a}" is unknown`,
      );
    }
  }
  return [...new Set(out)] as Augmentation[];
}

/** Checks `--augment-p`. */
export function checkAugmentP(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new UsageError(`augmentP must be in [0, 1], got ${p}`);
  return p;
}

/**
 * An augmented `crop`x`crop` training crop of a decoded image. `origin` is where the crop
 * would be without augmentation (its tile); with `random-crop-flip` it is drawn instead.
 *
 * @example A JPEG- and blur-augmented training crop
 * ```ts
 * import { augmentedCrop, parseAugment, readImage } from "./mod.ts";
 * import { Rng } from "../core/rng.ts";
 * const img = await readImage("dataset/Photos/photo_00001.png");
 * const crop = await augmentedCrop(img, 96, [80, 80], parseAugment("jpeg,blur"), 1, new Rng(0));
 * console.log(crop.width, crop.height); // 96 96
 * ```
 */
export async function augmentedCrop(
  img: RgbImage,
  crop: number,
  origin: [number, number],
  kinds: readonly Augmentation[],
  p: number,
  rng: Rng,
): Promise<RgbImage> {
  const randomCrop = kinds.includes("random-crop-flip");
  const pixels = kinds.filter((k) => k !== "random-crop-flip");
  if (pixels.length === 0) { // the paper protocol's crop: draws as its reference code does
    if (!randomCrop) return cropAt(img, origin[0], origin[1], crop, crop);
    const c = cropAt(
      img,
      rng.int(img.width - crop + 1),
      rng.int(img.height - crop + 1),
      crop,
      crop,
    );
    return rng.next() < 0.5 ? flipHorizontal(c) : c;
  }
  const on = (k: Augmentation) => kinds.includes(k) && rng.next() < p;
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  const factor = on("resize") ? u(...AUGMENT_RANGES.resize) : 1;
  const sigma = on("blur") ? u(...AUGMENT_RANGES.blur) : 0;
  const noise = on("noise") ? u(...AUGMENT_RANGES.noise) : 0;
  const quality = on("jpeg") ? Math.round(u(...AUGMENT_RANGES.jpeg)) : 0;
  // the square of the original that, once resized, covers the crop plus a margin for the blur
  // kernel and the JPEG block offset (clipped to the image; scaled back up below if short)
  const margin = Math.ceil(3 * sigma) + (quality ? 8 : 0) + (factor !== 1 ? 2 : 0);
  const side = Math.min(Math.ceil((crop + 2 * margin) / factor), img.width, img.height);
  let x0: number, y0: number;
  if (randomCrop) {
    x0 = rng.int(Math.max(1, img.width - side + 1));
    y0 = rng.int(Math.max(1, img.height - side + 1));
  } else {
    // centred on the tile, kept inside the image
    const cx = origin[0] + crop / 2, cy = origin[1] + crop / 2;
    x0 = Math.min(Math.max(0, Math.round(cx - side / 2)), img.width - side);
    y0 = Math.min(Math.max(0, Math.round(cy - side / 2)), img.height - side);
  }
  let r = cropAt(img, x0, y0, side, side);
  if (factor !== 1) r = resize(r, factor);
  if (sigma > 0) r = gaussianBlur(r, sigma);
  if (noise > 0) r = addNoise(r, noise, rng);
  if (quality) r = await jpegRoundTrip(r, quality);
  // never smaller than the crop: a shrunk region of a small image is scaled back up
  if (r.width < crop || r.height < crop) r = resize(r, crop / Math.min(r.width, r.height));
  const ox = randomCrop ? rng.int(r.width - crop + 1) : (r.width - crop) >> 1;
  const oy = randomCrop ? rng.int(r.height - crop + 1) : (r.height - crop) >> 1;
  const c = cropAt(r, ox, oy, crop, crop);
  return randomCrop && rng.next() < 0.5 ? flipHorizontal(c) : c;
}
