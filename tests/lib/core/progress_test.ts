/**
 * Progress off a terminal (a log file, a batch job): a plain line when a bar starts, at most one
 * per interval while it runs, one when it ends; nothing when quiet.
 */
import assert from "node:assert/strict";
import { makeProgress } from "../../../lib/core/progress.ts";

Deno.test("progress: plain lines off a terminal, at most one per interval; none when quiet", () => {
  const out: string[] = [];
  const p = makeProgress({ tty: false, write: (s) => out.push(s), every: 3600 });
  p.start("features", 4);
  for (let i = 0; i < 4; i++) p.tick(1, `image ${i}`);
  p.end();
  assert.equal(out.length, 2, out.join(""));
  assert.match(out[0], /^features: 0\/4, 0s\n$/);
  assert.match(out[1], /^features: 4\/4 \(done\), \d+s\n$/);
  const often: string[] = [];
  const q = makeProgress({ tty: false, write: (s) => often.push(s), every: 0 });
  q.start("fits", 2);
  q.tick(1, "bsds500");
  assert.match(often[1], /^fits: 1\/2 \(bsds500\), \d+s, ETA /);
  const none: string[] = [];
  const r = makeProgress({ tty: false, quiet: true, write: (s) => none.push(s) });
  r.start("x", 1);
  r.tick();
  r.end();
  assert.deepEqual(none, []);
});
