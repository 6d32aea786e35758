/**
 * Progress reporting: a one-line bar with ETA, redrawn in place, when stderr is a terminal;
 * plain lines otherwise (logs, CI, batch jobs): one when a bar starts, one a minute at most while
 * it runs, one when it ends, so a job in the background still says how far it is.
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
export function makeProgress(
  opts: {
    quiet?: boolean;
    tty?: boolean;
    /** Where the text goes (default stderr). */
    write?: (s: string) => void;
    /** Seconds between plain lines while a bar runs, off a terminal (default 60). */
    every?: number;
  } = {},
): Progress {
  const tty = opts.tty ?? Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  const write = opts.write ?? ((s: string) => Deno.stderr.writeSync(enc.encode(s)));
  const every = (opts.every ?? 60) * 1000;
  let label = "", total = 0, done = 0, t0 = 0, drawn = false, lastDraw = 0;
  // off a terminal: plain lines, at most one per `every`
  const plain = (info = "", force = false) => {
    const now = performance.now();
    if (!force && now - lastDraw < every) return;
    lastDraw = now;
    const el = (now - t0) / 1000;
    const eta = done > 0 && done < total
      ? `, ETA ${formatDuration((el / done) * (total - done))}`
      : "";
    write(`${label}: ${done}/${total}${info ? ` (${info})` : ""}, ${formatDuration(el)}${eta}\n`);
  };
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
      else if (!opts.quiet) plain("", true);
    },
    tick(n = 1, info = "") {
      done += n;
      if (tty && !opts.quiet) draw(info);
      else if (!opts.quiet) plain(info);
    },
    end() {
      if (tty) clear();
      else if (!opts.quiet && total > 0) plain("done", true);
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
