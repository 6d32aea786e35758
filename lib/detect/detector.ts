/**
 * A detector: a trained ENet (the supervised head, and the L9 features) with its one-class model,
 * ready to score images. Whole images are tiled: the crop size of the map is laid over the image
 * in a grid (up to `maxTilesPerSide` per side, evenly spread), each tile is scored, and the image
 * gets the mean p(CG) and the mean flow score of its tiles.
 *
 * Decisions: the head calls an image rendered when p(CG) ≥ 0.5; the flow when its score > 0.
 * The verdict (rule `both`, the default) is "computer-generated" or "natural" only when head and
 * flow agree, each outside its unsure band (|p − 0.5| ≤ unsureP for the head, |score| ≤
 * unsure · R² for the flow), and "unsure" otherwise: a forensic tool should not claim what its
 * two stages dispute. Rules `head` and `flow` use one stage alone.
 *
 * Saved as a folder (`detector.json` + the map's `model.json/.bin` + `oneclass.json/.bin`),
 * loadable from disk or a URL.
 *
 * @module
 */

import { at, type Location, readAt } from "../core/bundle.ts";
import type { ChannelStats } from "../data/batch.ts";
import {
  cropAt,
  decodeImage,
  type DecodeOptions,
  type RgbImage,
  tileOrigins,
} from "../data/image.ts";
import type { ENet } from "../map/enet.ts";
import { ImageError, ModelError } from "../core/errors.ts";
import { writeJson } from "../core/files.ts";
import { loadENet, saveENet } from "../map/io.ts";
import { OneClassModel } from "../oneclass/model.ts";
import { predict } from "../map/predict.ts";

/** Format tag of `detector.json`. */
export const DETECTOR_FORMAT = "cgvsni-detector/1";

/** What the detector says about one image. */
export type Verdict = "computer-generated" | "natural" | "unsure";

/** Which stage decides: both must agree (default), or one alone. */
export type VerdictRule = "both" | "head" | "flow";

/** The score of one tile. */
export interface TileScore {
  /** Left edge of the tile in the image. */
  x: number;
  /** Top edge. */
  y: number;
  /** Head's softmax p(CG). */
  pCg: number;
  /** Flow score ‖f(x) − c‖² − R². */
  score: number;
}

/** The result for one image. */
export interface Detection {
  /** Mean p(CG) of the tiles (the supervised head). */
  pCg: number;
  /** Mean flow score of the tiles (> 0: computer-generated). */
  score: number;
  /** Verdict (see {@link VerdictRule}). */
  verdict: Verdict;
  /** Whether head (p ≥ 0.5) and flow (score > 0) call the image differently. */
  disagree: boolean;
  /** Number of crops scored. */
  crops: number;
  /** Image size. */
  width: number;
  /** Image size. */
  height: number;
  /** Per-tile scores. */
  tiles: TileScore[];
}

/** Pixels in the browser's `ImageData` shape (RGBA, 8 bits per channel). */
export interface ImageDataLike {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** `width * height * 4` bytes, RGBA. */
  data: Uint8ClampedArray | Uint8Array;
}

/** Metadata in `detector.json`. */
export interface DetectorInfo {
  /** Format tag. */
  format: string;
  /** Name of this detector. */
  name: string;
  /** The renderer the map was trained against. */
  renderer: { label: number; name: string };
  /** Unsure band of the flow score, as a fraction of R². */
  unsure: number;
  /** Unsure band of the head: |p(CG) − 0.5| ≤ unsureP (default 0.1). */
  unsureP?: number;
  /** Verdict rule (default `both`). */
  rule?: VerdictRule;
  /** Most tiles per image side when scoring whole images. */
  maxTilesPerSide: number;
  /** Where it came from (map run, one-class run, dataset, commands). */
  provenance?: Record<string, unknown>;
}

/** Options of {@link Detector.score}. */
export interface ScoreOptions extends DecodeOptions {
  /** Most tiles per side (default: the detector's). */
  maxTilesPerSide?: number;
  /** Name used in error messages. */
  name?: string;
}

/** A loaded detector. */
export class Detector {
  /** The image map. */
  readonly net: ENet;
  /** Normalisation the map was trained with. */
  readonly norm: ChannelStats;
  /** The one-class model on the map's features. */
  readonly oneClass: OneClassModel;
  /** Metadata. */
  readonly info: DetectorInfo;

  /** A detector from its parts. */
  constructor(net: ENet, norm: ChannelStats, oneClass: OneClassModel, info: DetectorInfo) {
    this.net = net;
    this.norm = norm;
    this.oneClass = oneClass;
    this.info = info;
  }

  /** Crop side the map reads. */
  get crop(): number {
    return this.net.cfg.crop;
  }

  /** The verdict for a head probability and a flow score. */
  verdict(pCg: number, score: number): Verdict {
    const bandF = this.info.unsure * this.oneClass.radius ** 2,
      bandP = this.info.unsureP ?? DEFAULT_UNSURE_P;
    const flow: Verdict = score > bandF
      ? "computer-generated"
      : score < -bandF
      ? "natural"
      : "unsure";
    const head: Verdict = pCg > 0.5 + bandP
      ? "computer-generated"
      : pCg < 0.5 - bandP
      ? "natural"
      : "unsure";
    const rule = this.info.rule ?? "both";
    if (rule === "head") return head;
    if (rule === "flow") return flow;
    return head === flow ? head : "unsure";
  }

  /** p(CG) and flow score of each crop (all `crop`x`crop`). */
  async scoreCrops(crops: RgbImage[]): Promise<{ pCg: Float32Array; score: Float32Array }> {
    const { pCg, features } = await predict(
      this.net,
      crops.length,
      (i) => Promise.resolve(crops[i]),
      this.norm,
      {
        features: true,
      },
    );
    return { pCg, score: this.oneClass.score(features!, crops.length) };
  }

  /**
   * Scores an image given as encoded bytes (PNG, JPEG, TIFF) or decoded RGBA pixels. The image
   * is tiled with the map's crop size; an image smaller than the crop is an {@link ImageError}.
   */
  async score(input: Uint8Array | ImageDataLike, opts: ScoreOptions = {}): Promise<Detection> {
    const img = input instanceof Uint8Array
      ? await decodeImage(input, opts.name ?? "<image>", opts)
      : fromRgba(input);
    const s = this.crop;
    if (img.width < s || img.height < s) {
      throw new ImageError(
        opts.name ?? "<image>",
        `${img.width}x${img.height} is smaller than the ${s}x${s} crop`,
      );
    }
    const origins = tileOrigins(
      img.width,
      img.height,
      s,
      opts.maxTilesPerSide ?? this.info.maxTilesPerSide,
    );
    const { pCg, score } = await this.scoreCrops(origins.map(([x, y]) => cropAt(img, x, y, s, s)));
    const mean = (a: Float32Array) => a.reduce((p, v) => p + v, 0) / a.length;
    const p = mean(pCg), sc = mean(score);
    return {
      pCg: p,
      score: sc,
      verdict: this.verdict(p, sc),
      disagree: (p >= 0.5) !== (sc > 0),
      crops: origins.length,
      width: img.width,
      height: img.height,
      tiles: origins.map(([x, y], i) => ({ x, y, pCg: pCg[i], score: score[i] })),
    };
  }

  /** Writes the detector to a folder (`detector.json`, `model.*`, `oneclass.*`). */
  async save(dir: string): Promise<void> {
    await Deno.mkdir(dir, { recursive: true });
    await saveENet(dir, this.net, this.norm, "model");
    await this.oneClass.save(dir, "oneclass");
    await writeJson(`${dir}/detector.json`, this.info);
  }

  /** Frees the tensors. */
  dispose(): void {
    this.net.dispose();
    this.oneClass.dispose();
  }
}

/** RGBA pixels to RGB (alpha dropped). */
export function fromRgba(d: ImageDataLike): RgbImage {
  const n = d.width * d.height;
  if (d.data.length !== n * 4) {
    throw new RangeError(
      `ImageData of ${d.width}x${d.height} needs ${n * 4} bytes, got ${d.data.length}`,
    );
  }
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[3 * i] = d.data[4 * i];
    data[3 * i + 1] = d.data[4 * i + 1];
    data[3 * i + 2] = d.data[4 * i + 2];
  }
  return { width: d.width, height: d.height, data };
}

/**
 * Loads a detector from a folder path or a URL of that folder (`http:`, `https:`, `file:`).
 * Every file is validated (format, shapes, sizes, checksums); nothing in them is executed.
 */
export async function loadDetector(pathOrUrl: string | URL): Promise<Detector> {
  const loc: Location = pathOrUrl instanceof URL
    ? pathOrUrl
    : /^(https?|file):\/\//.test(pathOrUrl)
    ? new URL(pathOrUrl.endsWith("/") ? pathOrUrl : pathOrUrl + "/")
    : pathOrUrl;
  let info: DetectorInfo;
  try {
    info = JSON.parse(new TextDecoder().decode(await readAt(loc, "detector.json")));
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(`${at(loc, "detector.json")}: not valid JSON`);
  }
  if (info?.format !== DETECTOR_FORMAT) {
    throw new ModelError(
      `${at(loc, "detector.json")}: format is "${info?.format}", expected "${DETECTOR_FORMAT}"`,
    );
  }
  if (
    !(info.unsure >= 0) || !Number.isInteger(info.maxTilesPerSide) || info.maxTilesPerSide < 1 ||
    (info.unsureP !== undefined && !(info.unsureP >= 0 && info.unsureP < 0.5)) ||
    (info.rule !== undefined && !["both", "head", "flow"].includes(info.rule))
  ) {
    throw new ModelError(`${at(loc, "detector.json")}: bad unsure band or tile count`);
  }
  const { net, norm } = await loadENet(loc, "model");
  const { model } = await OneClassModel.load(loc, "oneclass");
  if (model.map.cfg.dim !== net.cfg.fc) {
    net.dispose();
    model.dispose();
    throw new ModelError(
      `${
        at(loc, "oneclass.json")
      }: expects ${model.map.cfg.dim}-d features, the map gives ${net.cfg.fc}`,
    );
  }
  return new Detector(net, norm, model, info);
}

/** Default unsure band of the head around p(CG) = 0.5. */
export const DEFAULT_UNSURE_P = 0.1;
/** Default unsure band (fraction of R²) and tile count for detectors built from runs. */
export const DEFAULT_UNSURE = 0.1;
/** Most tiles per side when scoring a whole image. */
export const DEFAULT_MAX_TILES = 4;

/**
 * A detector from a map run and one of its one-class runs (`runs/<map>/<flow>`), with the map's
 * provenance attached.
 */
export async function detectorFromRun(
  mapRun: string,
  flow = "flow",
  unsure = DEFAULT_UNSURE,
): Promise<Detector> {
  const config = JSON.parse(
    await Deno.readTextFile(`${mapRun}/config.json`).catch(() => {
      throw new ModelError(`${mapRun}: not a map run (no config.json)`);
    }),
  );
  const { net, norm } = await loadENet(`${mapRun}/model`);
  const { model } = await OneClassModel.load(`${mapRun}/${flow}`).catch((e) => {
    net.dispose();
    throw e;
  });
  const summary = await Deno.readTextFile(`${mapRun}/${flow}/summary.json`).then(JSON.parse).catch(
    () => undefined,
  );
  return new Detector(net, norm, model, {
    format: DETECTOR_FORMAT,
    name: `${mapRun.split("/").pop()}/${flow}`,
    renderer: config.renderer,
    unsure,
    unsureP: DEFAULT_UNSURE_P,
    rule: "both",
    maxTilesPerSide: DEFAULT_MAX_TILES,
    provenance: {
      mapRun: mapRun.split("/").pop(),
      flow,
      dataset: config.dataset?.root,
      enet: config.enet,
      summary,
    },
  });
}
