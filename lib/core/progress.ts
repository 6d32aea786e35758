/**
 * Progress reporting: a one-line bar with ETA, redrawn in place, when stderr is a terminal;
 * plain lines otherwise (logs, CI), so nothing is lost in files.
 *
 * @module
 */

/** Where a long job reports progress and log lines. */
export interface Progress {
  /** Starts a bar of `total` units. */
  start(label: string, total: number): void;
  /** Advances the bar by `n` units, with optional text shown after it. */
  tick(n?: number, info?: string): void;
  /** Ends the bar. */
  end(): void;
  /** Prints a line (clearing the bar first). */
  log(line: string): void;
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  s = Math.round(s);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * A progress reporter writing to stderr: a bar on a terminal, plain lines otherwise.
 *
 * @example A bar on a terminal, plain lines in a log
 * ```ts
 * import { makeProgress } from "./mod.ts";
 * const p = makeProgress({ quiet: true });
 * p.start("work", 3);
 * for (let i = 0; i < 3; i++) p.tick();
 * p.end();
 * ```
 */
export function makeProgress(opts: { quiet?: boolean; tty?: boolean } = {}): Progress {
  const tty = opts.tty ?? Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  const write = (s: string) => Deno.stderr.writeSync(enc.encode(s));
  let label = "", total = 0, done = 0, t0 = 0, drawn = false, lastDraw = 0;
  const draw = (info = "") => {
    const now = performance.now();
    if (now - lastDraw < 100 && done < total) return;
    lastDraw = now;
    const frac = total > 0 ? done / total : 0;
    const width = 24;
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    const el = (now - t0) / 1000;
    const eta = done > 0 ? formatDuration((el / done) * (total - done)) : "?";
    const cols = (() => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 100;
      }
    })();
    const line = `${label} [${bar}] ${done}/${total} ${info} ETA ${eta}`.slice(0, cols - 1);
    write(`\r\x1b[2K${line}`);
    drawn = true;
  };
  const clear = () => {
    if (drawn) write("\r\x1b[2K");
    drawn = false;
  };
  return {
    start(l, n) {
      label = l;
      total = n;
      done = 0;
      t0 = performance.now();
      lastDraw = 0;
      if (tty && !opts.quiet) draw();
    },
    tick(n = 1, info = "") {
      done += n;
      if (tty && !opts.quiet) draw(info);
    },
    end() {
      if (tty) clear();
    },
    log(line) {
      if (opts.quiet) return;
      clear();
      write(line + "\n");
    },
  };
}

/** Adapts a cumulative "done so far" callback to {@link Progress.tick}'s increments. */
export function ticker(p: Progress): (done: number) => void {
  let prev = 0;
  return (done) => {
    p.tick(done - prev);
    prev = done;
  };
}
