/**
 * `--threads`: how many CPU threads the native backend may use.
 *
 * @module
 */

import { setThreads as set } from "../lib/backends/select.ts";

/** Applies `--threads N` (undefined: the backend's default) before the backend starts. */
export function setThreads(n: number | undefined): void {
  if (n !== undefined) set(n);
}
