/**
 * The permissions each kind of task runs with, stated once: `deno.json` grants exactly these
 * (a test checks), and `--help` prints them.
 *
 * @module
 */

import { SLURM_PROGRAMS } from "../lib/cluster/slurm.ts";

/** Environment variables the model-running tasks read (sharp, libvips's loader, reads one). */
export const ENV =
  "IMAGESCRIPT_WASM_SIMD,npm_package_config_libvips,CGVSNI_DNNL,CGVSNI_POOL_MB,CGVSNI_THREADS,OMP_NUM_THREADS,OMP_WAIT_POLICY";

/** Tasks that run a model: read anything (data, npm cache), write runs/, the native backend. */
export const MODEL_TASK =
  `--allow-read --allow-write=runs --allow-env=${ENV} --allow-ffi --allow-sys=systemMemoryInfo,osRelease,loadavg`;

/** Where tasks that train or evaluate write. */
export const WRITES_RUNS = "runs/ (or --runs DIR; elsewhere needs --allow-write=DIR)";

/** The Slurm programs the tasks that submit and follow jobs may run (submit, status). */
export const SLURM_RUN = `--allow-run=${SLURM_PROGRAMS.join(",")}`;
