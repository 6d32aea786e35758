/**
 * The controls of an evaluation: the **positive control** (the natural test images made too
 * clean, blurred by {@link TOO_CLEAN}, which a model of natural image statistics must not call
 * natural) and the **negative control** (the natural test images of each source folder, which
 * must score inside at about 1 − ν).
 *
 * @module
 */

import type { Progress } from "../core/progress.ts";
import { Rng } from "../core/rng.ts";
import { quantile } from "../core/stats.ts";
import { parsePerturbation } from "../data/perturb.ts";
import type { SplitEntry } from "../data/split.ts";
import type { WithCi } from "./metrics.ts";
import type { Controls, CropMode, ImageScore } from "./evaluation.ts";
import { scoreImages, type Scorer } from "./scoring.ts";

/** The perturbation of the positive control. */
export const TOO_CLEAN = "blur:1.5";

/** A proportion with a seeded bootstrap interval. */
function share(xs: boolean[], reps: number, seed: number): WithCi {
  if (xs.length === 0) return { value: NaN, lo: NaN, hi: NaN };
  const rng = new Rng(`share:${seed}`), boots: number[] = [];
  for (let r = 0; r < reps; r++) {
    let k = 0;
    for (let i = 0; i < xs.length; i++) k += +xs[rng.int(xs.length)];
    boots.push(k / xs.length);
  }
  const v = xs.filter(Boolean).length / xs.length;
  return { value: v, lo: quantile(boots, 0.025), hi: quantile(boots, 0.975) };
}

/** The positive and negative controls (see the module documentation). */
export async function runControls(
  sc: Scorer,
  naturals: SplitEntry[],
  images: ImageScore[],
  o: { mode: CropMode; tiles: number; cacheDir: string; reps: number; seed: number; log: Progress },
): Promise<Controls> {
  const blurred = naturals.length > 0
    ? (await scoreImages(sc, naturals, {
      ...o,
      perturbation: parsePerturbation(TOO_CLEAN),
      skipList: sc.info.dir,
    })).images
    : undefined;
  return controlsOf(images, blurred, {
    headAt: sc.detector.map ? sc.detector.headAt : undefined,
    nu: sc.detector.oneClass.nu,
    ...o,
  });
}

/**
 * The controls from scored images: the negative control per source folder of the natural
 * images in `images`, the positive control from `blurred` (the natural images perturbed by
 * {@link TOO_CLEAN}), if given.
 */
export function controlsOf(
  images: ImageScore[],
  blurred: ImageScore[] | undefined,
  o: { headAt?: number; nu: number; reps: number; seed: number },
): Controls {
  const naturals = images.filter((i) => i.label === 0);
  const negative = [...new Set(naturals.map((i) => i.source))].sort().map((source) => {
    const xs = naturals.filter((i) => i.source === source).map((i) => i.score <= 0);
    return { source, n: xs.length, inside: share(xs, o.reps, o.seed) };
  });
  const positive: Controls["positive"] = blurred?.length
    ? {
      perturbation: TOO_CLEAN,
      n: blurred.length,
      oneclassOutside: share(blurred.map((i) => i.score > 0), o.reps, o.seed),
      ...(blurred.some((i) => i.failsCheck !== undefined)
        ? {
          oneclassNotNatural: share(
            blurred.map((i) => i.score > 0 || !!i.failsCheck),
            o.reps,
            o.seed,
          ),
        }
        : {}),
      headCg: o.headAt !== undefined
        ? share(blurred.map((i) => i.pCg >= o.headAt!), o.reps, o.seed)
        : undefined,
      ...(blurred.every((i) => i.fused !== undefined)
        ? { fusedCg: share(blurred.map((i) => i.fused! > 0), o.reps, o.seed) }
        : {}),
    }
    : undefined;
  return { positive, negative, target: +(1 - o.nu).toFixed(6) };
}
