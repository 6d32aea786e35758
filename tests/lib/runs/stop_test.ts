/**
 * Preemption: a stop request (SIGTERM) mid-epoch writes a checkpoint of where training stood and
 * ends with Preempted (exit 75 from the CLI); resuming goes on from the next batch, and the final
 * weights equal an uninterrupted run's, bit for bit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Preempted, PREEMPTED_EXIT } from "../../../lib/core/errors.ts";
import { makeProgress, type Progress } from "../../../lib/core/progress.ts";
import { experimentPlan } from "../../../lib/eval/experiment.ts";
import { trainMap, type TrainMapOptions } from "../../../lib/map/train.ts";
import { readMetrics } from "../../../lib/runs/folder.ts";
import { trainLoop } from "../../../lib/runs/loop.ts";
import { clearStop, requestStop } from "../../../lib/runs/stop.ts";
import { SHIPPED, testBackend, withTempDir } from "../../_helpers.ts";

const quiet = makeProgress({ quiet: true });
const ROOT = new URL("../../../", import.meta.url).pathname;

/** A progress sink that asks training to stop after `at` batches of the bar labelled `label`. */
function stopAt(label: string, at: number): Progress {
  let current = "", n = 0;
  return {
    start(l) {
      current = l;
      n = 0;
    },
    tick(k = 1) {
      n += k;
      if (current === label && n === at) requestStop("test");
    },
    end() {},
    log() {},
  };
}

Deno.test("stop: the loop checkpoints mid-epoch, and resuming gives the uninterrupted result", async () => {
  const run = (dir: string, resume: boolean, stopAfterBatch?: number) => {
    let w = 1;
    return trainLoop({
      run: dir,
      epochs: 3,
      resume,
      log: quiet,
      restore: async (d) => void (w = JSON.parse(await Deno.readTextFile(`${d}/w.json`))),
      save: (d) => Deno.writeTextFile(`${d}/w.json`, JSON.stringify(w)),
      epoch: (epoch, _guard, at) => {
        let sum = (at.from?.carry as number | undefined) ?? 0;
        for (let b = at.from?.batch ?? 0; b < 5; b++) {
          w = w * 0.9 + epoch * b; // depends on the order of every batch
          sum += w;
          if (epoch === 2 && b === stopAfterBatch) requestStop("test");
          if (at.stop() && b + 1 < 5) {
            return Promise.resolve({ interrupted: { batch: b + 1, carry: sum } });
          }
        }
        return Promise.resolve({ epoch, w, sum });
      },
      plot: () => "<svg/>",
      line: () => "",
    });
  };
  await withTempDir(async (dir) => {
    for (const d of ["clean", "cut"]) await Deno.mkdir(join(dir, d));
    const clean = await run(join(dir, "clean"), false);
    try {
      await assert.rejects(run(join(dir, "cut"), false, 2), Preempted);
    } finally {
      clearStop();
    }
    const state = JSON.parse(
      await Deno.readTextFile(join(dir, "cut/checkpoints/interrupted/state.json")),
    );
    assert.deepEqual([state.epoch, state.at.batch], [2, 3]);
    assert.deepEqual((await readMetrics(join(dir, "cut"))).map((m) => m.epoch), [1]);
    const resumed = await run(join(dir, "cut"), true);
    assert.deepEqual(resumed.history, clean.history);
    await assert.rejects(Deno.stat(join(dir, "cut/checkpoints/interrupted")), Deno.errors.NotFound);
  });
});

function mapOptions(dir: string, name: string, extra: Partial<TrainMapOptions> = {}) {
  return {
    data: SHIPPED,
    runs: join(dir, "runs"),
    name,
    renderer: "Cycles",
    crop: 80,
    width: 4,
    fc: 16,
    epochs: 3,
    batchSize: 4,
    augment: "random-crop-flip,noise", // the augmentation draws replayed on resume
    progress: quiet,
    ...extra,
  } satisfies TrainMapOptions;
}

Deno.test("stop: a map stopped mid-epoch and resumed ends with the same weights, bit for bit", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    await trainMap(mapOptions(dir, "clean"));
    try {
      await assert.rejects(
        trainMap(mapOptions(dir, "cut", { progress: stopAt("epoch 2/3", 3) })),
        /stopped by test in epoch 2 before batch 4/,
      );
    } finally {
      clearStop();
    }
    await trainMap({ ...mapOptions(dir, "cut"), resume: true });
    const a = await Deno.readFile(join(dir, "runs/clean/model/model.bin"));
    const b = await Deno.readFile(join(dir, "runs/cut/model/model.bin"));
    assert.ok(a.length > 0 && a.every((x, i) => x === b[i]) && a.length === b.length);
  });
});

Deno.test("stop: SIGTERM to run-unit mid-epoch exits 75 with a checkpoint; running it again resumes to the same weights", async () => {
  await withTempDir(async (dir) => {
    const plan = (name: string) =>
      experimentPlan({
        data: SHIPPED,
        runs: join(dir, name),
        name: "p",
        renderers: ["Cycles"],
        map: { crop: 96, width: 4, fc: 16, epochs: 4, batchSize: 2 },
        oneclass: { features: "residual", oneclass: "gauss" },
      });
    const unit = (g: string, onLine?: (text: string, kill: () => void) => void) =>
      runUnit(join(dir, g, "p"), "map-Cycles", onLine);
    await plan("clean");
    await plan("cut");
    assert.equal((await unit("clean")).code, 0);
    let signalled = false;
    const cut = await unit("cut", (text, kill) => {
      if (!signalled && /epoch 2\/4/.test(text)) {
        signalled = true;
        kill();
      }
    });
    assert.ok(signalled, "training reached epoch 2");
    assert.equal(cut.code, PREEMPTED_EXIT, cut.err);
    assert.match(cut.err, /stopped: .*stopped by SIGTERM/);
    const again = await unit("cut");
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /resuming (epoch \d at batch \d+|after epoch \d)/);
    const a = await Deno.readFile(join(dir, "clean/p-Cycles/model/model.bin"));
    const b = await Deno.readFile(join(dir, "cut/p-Cycles/model/model.bin"));
    assert.ok(a.length === b.length && a.every((x, i) => x === b[i]), "the same weights");
  });
});

/** Runs `cgvsni run-unit DIR UNIT` on one thread; `onLine` sees its stderr and may SIGTERM it. */
async function runUnit(
  dir: string,
  unit: string,
  onLine?: (text: string, kill: () => void) => void,
): Promise<{ code: number; err: string }> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "cli/main.ts"), "run-unit", dir, unit, "--threads", "1"],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let err = "";
  const dec = new TextDecoder();
  for await (const chunk of p.stderr) {
    err += dec.decode(chunk);
    onLine?.(err, () => p.kill("SIGTERM"));
  }
  return { code: (await p.status).code, err };
}
