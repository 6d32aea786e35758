/**
 * `mobilenet`: early activations of a pretrained natural-image CNN, with no map and no render
 * seen in training. The network is the MobileNetV2 (224 × 224 input) of the `nsfwjs` npm
 * package, version 4.4.0 (MIT): MobileNetV2's ImageNet features, fine-tuned by
 * GantMan/nsfw_model on web images in five classes (drawings, hentai, neutral, porn, sexy). Its
 * weights are inside the package (Deno's npm cache): nothing is fetched at run time. Exactly:
 *
 * 1. nine 224 × 224 crops of the image at its own resolution, on a 3 × 3 grid: the crops' top
 *    left corners at a quarter, half and three quarters of the free width and height (an image
 *    with a side under 224 px is first resized, bilinear, so that its short side is 224);
 * 2. each crop's values divided by 255, as nsfwjs feeds the network;
 * 3. the activations of layer `block_6_expand_relu` (28 × 28 positions, 192 channels: the
 *    expansion of the sixth inverted-residual block, after its ReLU6);
 * 4. per channel, the mean and the maximum over the positions: 384 numbers per crop;
 * 5. averaged over the nine crops.
 *
 * Why an early layer and native resolution: the network's last block, on the whole image
 * resized to 224 (as nsfwjs classifies), describes what an image shows, and a one-class model
 * on it ranks cgbench's renders barely above chance (docs/results-cgbench.md, "A pretrained
 * CNN's features"). Its early layers, on pixels as the camera or the renderer left them,
 * describe local texture and noise, like the `residual` source but learned from photographs.
 *
 * @module
 */

import { type Tensor, tf } from "../core/deps.ts";
import type { RgbImage } from "../data/image.ts";

/** What defines the features, saved with models fitted on them. */
export const PRETRAINED_SPEC = {
  version: 1,
  network: "nsfwjs@4.4.0 MobileNetV2 224",
  layer: "block_6_expand_relu",
  input: "RGB / 255",
  crops: { size: 224, grid: 3, at: "1/4, 1/2, 3/4 of the free width and height" },
  pooling: "mean and max over positions per channel, averaged over the crops",
} as const;

/** Length of the feature vector (384). */
export const PRETRAINED_DIM = 384;

/** The whole network (which owns every weight) and its part up to the chosen layer. */
interface Network {
  full: tf.LayersModel;
  net: tf.LayersModel;
}

let network: Promise<Network> | undefined;

/** The network up to {@link PRETRAINED_SPEC}'s layer, loaded once per process. */
function loadNetwork(): Promise<Network> {
  network ??= (async () => {
    const { MobileNetV2Model } = await import("npm:nsfwjs@4.4.0/models/mobilenet_v2");
    const json = (await MobileNetV2Model.modelJson()).default as {
      modelTopology: object;
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const base64 = (await MobileNetV2Model.weightBundles[0]()).default as string;
    const bin = atob(base64), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const full = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: bytes.buffer,
    }));
    const out = full.getLayer(PRETRAINED_SPEC.layer).output as tf.SymbolicTensor;
    // the truncated model shares the full model's weights; layers past `out` are never run
    return { full, net: tf.model({ inputs: full.inputs, outputs: out }) };
  })();
  network.catch(() => network = undefined);
  return network;
}

/**
 * Frees the network's weights (it loads again on next use). For tests that count tensors, and
 * for long-lived processes that are done with the `mobilenet` source.
 */
export async function releasePretrained(): Promise<void> {
  const n = network;
  network = undefined;
  // disposing the whole network frees every weight, those the truncated part shares included
  if (n) (await n.catch(() => undefined))?.full.dispose();
}

/** Top-left corners of the crops along one side of length `len`. */
function cropStarts(len: number, size: number, grid: number): number[] {
  return Array.from({ length: grid }, (_, i) => Math.round((len - size) * (i + 1) / (grid + 1)));
}

/**
 * The 384 `mobilenet` features of an image (see the module documentation).
 *
 * @example The features of a photograph
 * ```ts
 * import { pretrainedFeatures, releasePretrained } from "./pretrained.ts";
 * import { readImage } from "../data/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const f = await pretrainedFeatures(await readImage("dataset/Photos/photo_00001.png"));
 * console.log(f.length); // 384
 * await releasePretrained();
 * ```
 */
export async function pretrainedFeatures(img: RgbImage): Promise<Float32Array> {
  const { net } = await loadNetwork();
  const { size, grid } = PRETRAINED_SPEC.crops;
  const out = tf.tidy(() => {
    let x = tf.tensor3d(img.data, [img.height, img.width, 3], "int32").toFloat().div(255);
    const short = Math.min(img.width, img.height);
    if (short < size) {
      const k = size / short;
      x = tf.image.resizeBilinear(x as tf.Tensor3D, [
        Math.max(size, Math.round(img.height * k)),
        Math.max(size, Math.round(img.width * k)),
      ], true);
    }
    const [h, w] = x.shape as [number, number, number];
    const crops: Tensor[] = [];
    for (const y of cropStarts(h, size, grid)) {
      for (const c of cropStarts(w, size, grid)) {
        crops.push(tf.slice(x, [y, c, 0], [size, size, 3]));
      }
    }
    const a = net.predict(tf.stack(crops)) as tf.Tensor4D;
    return tf.concat([a.mean([1, 2]), a.max([1, 2])], 1).mean(0);
  });
  const v = new Float32Array(await out.data());
  out.dispose();
  return v;
}
