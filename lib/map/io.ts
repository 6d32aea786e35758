/**
 * Saving and loading a trained ENet: weights in the tfjs weights format plus the architecture
 * and the normalisation statistics it was trained with, so a loaded model sees its inputs
 * exactly as during training.
 *
 * @module
 */

import { at, loadBundle, type Location, readManifest, saveBundle } from "../core/bundle.ts";
import type { ChannelStats } from "../data/batch.ts";
import { ENet, type ENetConfig, paramSpecs } from "./enet.ts";
import { ModelError } from "../core/errors.ts";

/** Format tag of saved ENets. */
export const ENET_FORMAT = "cgvsni-enet/1";

/**
 * Writes `<dir>/<stem>.json` and `<dir>/<stem>.bin`.
 *
 * @example Write a map as model.json + model.bin
 * ```ts
 * import { ENet, saveENet, SMALL } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const dir = await Deno.makeTempDir();
 * const net = ENet.create(SMALL, 0);
 * await saveENet(dir, net, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
 * console.log([...Deno.readDirSync(dir)].map((e) => e.name).sort()); // ["model.bin", "model.json"]
 * net.dispose();
 * ```
 */
export async function saveENet(
  dir: string,
  net: ENet,
  norm: ChannelStats,
  stem = "model",
  extra: Record<string, unknown> = {},
): Promise<void> {
  const values = await net.values();
  await saveBundle(
    dir,
    stem,
    ENET_FORMAT,
    net.specs.map((s) => ({ name: s.name, shape: s.shape, data: values.get(s.name)! })),
    { config: net.cfg, norm, ...extra },
  );
}

function checkConfig(c: unknown, where: string): ENetConfig {
  const x = c as ENetConfig;
  const ints = [
    x?.crop,
    x?.conv0,
    x?.width,
    x?.fc,
    x?.classes,
    ...(Array.isArray(x?.trunk) ? x.trunk : [NaN]),
  ];
  if (!x || !ints.every((v) => Number.isInteger(v) && v > 0) || x.trunk.length !== 3) {
    throw new ModelError(`${where}: bad ENet config ${JSON.stringify(c)?.slice(0, 120)}`);
  }
  return {
    crop: x.crop,
    conv0: x.conv0,
    width: x.width,
    trunk: [...x.trunk] as [number, number, number],
    fc: x.fc,
    classes: x.classes,
    dropout: Number(x.dropout) || 0,
    trainSrm: !!x.trainSrm,
  };
}

function checkNorm(n: unknown, where: string): ChannelStats {
  const s = n as ChannelStats;
  const ok = (a: unknown) =>
    Array.isArray(a) && a.length === 3 && a.every((v) => Number.isFinite(v));
  if (!s || !ok(s.mean) || !ok(s.std) || s.std.some((v) => v <= 0)) {
    throw new ModelError(`${where}: bad normalisation statistics`);
  }
  return { mean: [...s.mean] as ChannelStats["mean"], std: [...s.std] as ChannelStats["std"] };
}

/**
 * Loads a saved ENet, checking format, config, every shape, byte size and checksum.
 *
 * @example Save and load a map
 * ```ts
 * import { ENet, loadENet, saveENet, SMALL } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const dir = await Deno.makeTempDir();
 * const net = ENet.create(SMALL, 0);
 * await saveENet(dir, net, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
 * const { net: back, norm } = await loadENet(dir);
 * console.log(back.cfg.crop, norm.mean);
 * net.dispose();
 * back.dispose();
 * ```
 */
export async function loadENet(dir: Location, stem = "model"): Promise<{
  net: ENet;
  norm: ChannelStats;
  manifest: Record<string, unknown>;
}> {
  const where = at(dir, `${stem}.json`);
  const head = await readManifest(dir, stem);
  if (head.format !== ENET_FORMAT) {
    throw new ModelError(`${where}: format is "${head.format}", expected "${ENET_FORMAT}"`);
  }
  const cfg = checkConfig(head.config, where);
  const norm = checkNorm(head.norm, where);
  let specs;
  try {
    specs = paramSpecs(cfg);
  } catch (e) {
    throw new ModelError(`${where}: ${(e as Error).message}`);
  }
  const { arrays, manifest } = await loadBundle(dir, stem, {
    format: ENET_FORMAT,
    shapes: new Map(specs.map((s) => [s.name, s.shape])),
  });
  const values = new Map([...arrays].map(([k, v]) => [k, v.data]));
  return { net: new ENet(cfg, values), norm, manifest };
}
