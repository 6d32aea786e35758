/**
 * The toolkit's error types. Each carries a one-line message that names the file (and line)
 * at fault, so the CLI can print it without a stack trace.
 *
 * @module
 */

/**
 * Base class of every error the toolkit raises on purpose (bad input, bad flags, bad state).
 *
 * @example Tell the toolkit's own errors from bugs
 * ```ts
 * import { CgvsniError, ImageError } from "./mod.ts";
 * const e = new ImageError("a.png", "empty file (0 bytes)");
 * console.log(e instanceof CgvsniError, e.message); // true a.png: empty file (0 bytes)
 * ```
 */
export class CgvsniError extends Error {
  /** Error class name. */
  override name = "CgvsniError";
}

/**
 * An image that cannot be used: unreadable, undecodable, too small or too large.
 *
 * @example An image that cannot be used
 * ```ts
 * import { ImageError } from "./mod.ts";
 * const e = new ImageError("photo.jpg", "truncated JPEG (no frame header)");
 * console.log(e.path, e.reason);
 * ```
 */
export class ImageError extends CgvsniError {
  /** Error class name. */
  override name = "ImageError";
  /** Path (or label) of the image. */
  readonly path: string;
  /** Why it cannot be used, without the path. */
  readonly reason: string;
  /** An error about the image at `path`. */
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * A problem in `dataset.csv` or a split file, with its line number when there is one.
 *
 * @example A problem in dataset.csv, with its line
 * ```ts
 * import { DatasetError } from "./mod.ts";
 * console.log(new DatasetError("dataset.csv", "Label must be an integer", 7).message); // dataset.csv:7: ...
 * ```
 */
export class DatasetError extends CgvsniError {
  /** Error class name. */
  override name = "DatasetError";
  /** An error about `file`, at `line` when known. */
  constructor(file: string, message: string, line?: number) {
    super(line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
  }
}

/**
 * A saved model or run folder that is missing, corrupt or does not match what was asked.
 *
 * @example A saved model that does not check out
 * ```ts
 * import { ModelError } from "./mod.ts";
 * console.log(new ModelError("model.bin: checksum mismatch (file corrupt)").name); // ModelError
 * ```
 */
export class ModelError extends CgvsniError {
  /** Error class name. */
  override name = "ModelError";
}

/**
 * Training stopped because the loss or a weight became NaN or infinite.
 *
 * @example Training that went non-finite
 * ```ts
 * import { NumericalError } from "./mod.ts";
 * console.log(new NumericalError("the loss became NaN").name); // NumericalError
 * ```
 */
export class NumericalError extends CgvsniError {
  /** Error class name. */
  override name = "NumericalError";
}

/**
 * A bad command-line flag or combination of flags.
 *
 * @example A bad option (the CLI exits 2 for these)
 * ```ts
 * import { UsageError } from "./mod.ts";
 * console.log(new UsageError("nu must be in (0, 1), got 2").message);
 * ```
 */
export class UsageError extends CgvsniError {
  /** Error class name. */
  override name = "UsageError";
}

/**
 * Training stopped on a termination signal (Slurm sends SIGTERM before a time limit or a
 * preemption) after writing a checkpoint: running the same command again resumes it. The CLI
 * exits with {@link PREEMPTED_EXIT} for it, which the cluster's job scripts requeue on.
 *
 * @example
 * ```ts
 * import { Preempted } from "./mod.ts";
 * console.log(new Preempted("runs/m: stopped at epoch 2, batch 5").name); // "Preempted"
 * ```
 */
export class Preempted extends CgvsniError {
  /** Error class name. */
  override name = "Preempted";
}

/** The exit status for {@link Preempted}: 75, `EX_TEMPFAIL` ("try again later"). */
export const PREEMPTED_EXIT = 75;

/** The message of any thrown value, on one line. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s*\n\s*/g, " ").trim();
}
