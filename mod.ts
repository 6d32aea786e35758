/**
 * cgvsni: tell computer-generated (rendered) images from natural photographs, with a two-stage
 * method that is meant to keep working on renderers it never saw in training:
 *
 * 1. an image map, ENet (a two-branch CNN with fixed SRM high-pass filters), trained
 *    supervised on natural images and the images of one renderer; its L9 layer is a 4096-d
 *    feature of an image;
 * 2. a one-class model on those features of natural images only (a volume-preserving flow
 *    with an SVDD objective), which flags anything outside its ball as computer-generated.
 *
 * Everything runs on tfjs: on a native oneDNN backend (Debian `libdnnl2`, through Deno FFI)
 * when present, else WebAssembly, else plain JavaScript; on WebGPU when a real adapter exists.
 *
 * @example Score an image with the detector shipped in `models/` (works when imported by URL)
 * ```ts
 * import { initBackend, loadDetector } from "./mod.ts";
 * await initBackend("auto");
 * const detector = await loadDetector(new URL("./models/cgbench-small/", import.meta.url));
 * const d = await detector.score(await Deno.readFile("dataset/POVRay/povray_00001.png"));
 * console.log(d.verdict, d.pCg.toFixed(3), d.score.toFixed(3));
 * ```
 *
 * @example Train an image map on the dataset shipped with the repository
 * ```ts
 * import { initBackend, trainMap } from "./mod.ts";
 * await initBackend("auto");
 * const run = await trainMap({ data: "dataset", renderer: "POVRay", epochs: 30, lr: 0.01 });
 * console.log(run.run, run.epochs.at(-1)?.val_acc);
 * ```
 *
 * @example Read an image as the toolkit sees it
 * ```ts
 * import { centerCrop, readImage } from "./mod.ts";
 * const img = centerCrop(await readImage("dataset/POVRay/povray_00001.png"), 233);
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
export * from "./lib/eval/mod.ts";
export * from "./lib/detect/mod.ts";
export * from "./lib/runs/mod.ts";
