/**
 * cgvsni: tell computer-generated (rendered) images from natural photographs, and keep working
 * on renderers never seen in training. The pipeline, one package per stage:
 *
 * 1. data (`lib/data`): datasets (`dataset.csv`), decoding, splits, JPEG re-encoding and other
 *    perturbations;
 * 2. the image map (`lib/map`): ENet, a two-branch CNN with the 30 SRM high-pass filters,
 *    trained supervised on natural images and the renders of one or more renderers;
 * 3. features (`lib/features`): vectors of an image from the map's layers (L9, the method's),
 *    or, with no map, noise-residual statistics of the image itself or the early activations of
 *    a pretrained CNN (MobileNetV2, its weights inside the `nsfwjs` npm package);
 * 4. one-class models (`lib/oneclass`), fitted on natural images only: Flow-SVDD (the method),
 *    Deep SVDD, a Ledoit-Wolf Gaussian and k-NN, scikit-learn style (settings in the
 *    constructor, `fit`, `scoreSamples`, `decisionFunction` > 0 = computer-generated, `predict`,
 *    `save`/`load`, the threshold saved with the model); and a head (`lib/head`): logistic
 *    regression or an RBF-kernel SVM on whole-image features, photographs against renders, its
 *    threshold set on photographs only, which a detector may carry in place of the map;
 * 5. detection (`lib/detect`: the detector, map + one-class model + thresholds, the one value
 *    that scores files and pixels and gives every consumer its per-image scores; heatmaps);
 * 6. evaluation (`lib/eval`: both stages per renderer with bootstrap intervals, of a run or a
 *    saved detector, leave one renderer out, robustness).
 *
 * Infrastructure every stage uses: `lib/core` (errors, random numbers, progress, files),
 * `lib/backends` (where tfjs runs), `lib/runs` (the run folder) and `lib/cluster` (work as units
 * run here or as Slurm jobs, shards).
 *
 * Everything runs on tfjs: a native oneDNN backend (Debian `libdnnl2`, through Deno FFI) when
 * present, else WebAssembly, else plain JavaScript; WebGPU where a GPU adapter exists.
 * Permissions a script needs: `--allow-read` (images, models and Deno's npm cache),
 * `--allow-env=IMAGESCRIPT_WASM_SIMD` (the image decoders), and for the native backend and the
 * libvips decoder `--allow-ffi --allow-sys --allow-env=npm_package_config_libvips`; `--allow-write` only where it writes; `--allow-net=HOST` only to
 * load a detector from HOST.
 *
 * @example Score an image with the detector shipped in `models/` (works when imported by URL)
 * ```ts
 * import { initBackend, loadDetector } from "./mod.ts";
 * await initBackend("auto");
 * const detector = await loadDetector(new URL("./models/corpus-rbf5/", import.meta.url));
 * const d = await detector.score(await Deno.readFile("dataset/POVRay/povray_00003.png"));
 * console.log(d.verdict, d.pCg.toFixed(3), d.score.toFixed(3));
 * detector.dispose();
 * ```
 *
 * @example A one-class model on your own feature vectors
 * ```ts
 * import { GaussianOneClass } from "./mod.ts";
 * const natural = Float32Array.from({ length: 200 * 8 }, (_, i) => Math.sin(i * 1.7));
 * const model = await new GaussianOneClass().fit(natural, 200, 8); // threshold: natural images only
 * console.log(await model.predict(new Float32Array(8).fill(40), 1)); // [1]: computer-generated
 * ```
 *
 * @example Read an image as the toolkit sees it
 * ```ts
 * import { centerCrop, readImage } from "./mod.ts";
 * const img = centerCrop(await readImage("dataset/POVRay/povray_00003.png"), 233);
 * console.log(img.width, img.height); // 233 233
 * ```
 *
 * @module
 */

export * from "./lib/core/mod.ts";
export * from "./lib/backends/mod.ts";
export * from "./lib/data/mod.ts";
export * from "./lib/map/mod.ts";
export * from "./lib/features/mod.ts";
export * from "./lib/oneclass/mod.ts";
export * from "./lib/head/mod.ts";
export * from "./lib/detect/mod.ts";
export * from "./lib/eval/mod.ts";
export * from "./lib/runs/mod.ts";
export * from "./lib/cluster/mod.ts";
