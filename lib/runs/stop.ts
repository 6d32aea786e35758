/**
 * Stopping on a termination signal. A scheduler sends SIGTERM some seconds before it kills a job
 * (at its time limit, or to preempt it); training that listens finishes the batch it is on,
 * writes a checkpoint and ends with {@link Preempted}, so that the job can be requeued and
 * resume where it stopped. {@link trainLoop} asks {@link stopRequested} after every batch.
 *
 * @module
 */

let requested: string | undefined;
let listening = 0;
const onTerm = () => void (requested ??= "SIGTERM");

/**
 * Listens for SIGTERM until the returned function is called (nested calls share one listener).
 * Without a listener, SIGTERM ends the process at once, as usual.
 *
 * @example
 * ```ts
 * import { listenForStop, stopRequested } from "./stop.ts";
 * const stop = listenForStop();
 * console.log(stopRequested()); // undefined
 * stop();
 * ```
 */
export function listenForStop(): () => void {
  if (listening++ === 0 && Deno.build.os !== "windows") {
    Deno.addSignalListener("SIGTERM", onTerm);
  }
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    if (--listening === 0 && Deno.build.os !== "windows") {
      Deno.removeSignalListener("SIGTERM", onTerm);
    }
  };
}

/** The signal that asked training to stop, if one did. */
export function stopRequested(): string | undefined {
  return requested;
}

/** Asks training to stop as SIGTERM would (tests, and embedders with their own signals). */
export function requestStop(why = "request"): void {
  requested = why;
}

/** Withdraws a stop request (after the stopped run was handled). */
export function clearStop(): void {
  requested = undefined;
}
