/**
 * Runs the two scripts of the production-like render set (issue 27): `render.py` in Debian's
 * Blender, `post.py` in Debian's Python with OpenCV. Used by `make.ts`, `shipped.ts` and the tests.
 *
 * @module
 */

import { dirname, join } from "node:path";

const HERE = dirname(new URL(import.meta.url).pathname);

/** The engines of the set: Blender's two, and POV-Ray. */
export const ENGINES = ["CYCLES", "BLENDER_EEVEE", "POVRAY"] as const;
/** One of {@link ENGINES}. */
export type Engine = typeof ENGINES[number];

/**
 * The scene generators, each with its Blender script: render.py's objects on a ground,
 * render_interior.py's furnished rooms, render_studio.py's still lifes (product shots),
 * render_exterior.py's streets of buildings (architectural exteriors), render_landscape.py's
 * terrain, water and trees under a sky (landscapes), render_archviz.py's modern detached houses
 * on their plots with glass, terrace and garden (architectural visualisation), render_night.py's
 * night-time streets with cars, street lamps, lit windows and wet roads (a film or game frame).
 * `night-by-day` is the night streets by day; `scene-night`, `interior-night`, `studio-night`,
 * `exterior-night` and `landscape-night` are the five training generators' scenes at night, seed
 * for seed (_blender.py `by_night`). render_campsite.py's `campsite` is a night of another kind:
 * tents, camping chairs and lanterns round a campfire in a forest clearing, lit by the fire.
 */
export const GENERATORS = [
  "scene",
  "interior",
  "studio",
  "exterior",
  "landscape",
  "archviz",
  "night",
  "night-by-day",
  "scene-night",
  "interior-night",
  "studio-night",
  "exterior-night",
  "landscape-night",
  "campsite",
] as const;
/** One of {@link GENERATORS}. */
export type Generator = typeof GENERATORS[number];

/** Each generator's Blender script (only `scene` has a POV-Ray twin, render_pov.py). */
const SCRIPTS: Record<Generator, string> = {
  scene: "render.py",
  interior: "render_interior.py",
  studio: "render_studio.py",
  exterior: "render_exterior.py",
  landscape: "render_landscape.py",
  archviz: "render_archviz.py",
  night: "render_night.py",
  "night-by-day": "render_night.py",
  "scene-night": "render.py",
  "interior-night": "render_interior.py",
  "studio-night": "render_studio.py",
  "exterior-night": "render_exterior.py",
  "landscape-night": "render_landscape.py",
  campsite: "render_campsite.py",
};

/** What `render.py` takes (its header documents each). */
export interface SceneArgs {
  /** The scene generator (default `scene`, render.py); the others are Blender's only. */
  generator?: Generator;
  seed: number;
  out: string;
  width: number;
  height: number;
  samples: number;
  /** Photographs the scene's environment and textures are drawn from. */
  pool: string[];
  /** Blender's Cycles or EEVEE (render.py), or POV-Ray (render_pov.py, the same scenes). */
  engine?: Engine;
  threads?: number;
  texture?: boolean;
  environment?: boolean;
}

/** One job of `post.py`: its steps on `in`, written to `out` (`.jpg` when the camera step runs). */
export interface PostJob {
  in: string;
  out: string;
  seed: number;
  steps:
    | string[]
    | "production"
    | "interior"
    | "studio"
    | "exterior"
    | "landscape"
    | "archviz"
    | "night"
    | "campsite";
}

/** Runs a command, throwing with the end of its error output if it fails. */
async function run(cmd: string, args: string[], what: string): Promise<void> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) {
    const err = new TextDecoder().decode(r.stderr).split("\n").slice(-15).join("\n");
    throw new Error(`${what}: ${cmd} failed (exit ${r.code})\n${err}`);
  }
}

/**
 * Renders one scene on one thread (`<out>` and the record of what was drawn, `<out>.json`):
 * Blender runs the generator's script (`render.py`, `render_interior.py`, ...), engine `POVRAY`
 * runs `render_pov.py` (Debian's `povray`).
 * EEVEE needs an OpenGL context: without a display, `xvfb: true` runs Blender in `xvfb-run`
 * (Debian's `xvfb`), as cgbench's EEVEE renders were made.
 *
 * @example
 * ```ts ignore
 * await renderScene({ seed: 1, out: "/tmp/a.png", width: 128, height: 96, samples: 4, pool });
 * ```
 */
export async function renderScene(
  args: SceneArgs,
  o: { blender?: string; xvfb?: boolean; python?: string } = {},
): Promise<void> {
  const generator = args.generator ?? "scene";
  if (!GENERATORS.includes(generator)) throw new Error(`unknown scene generator ${generator}`);
  if (generator !== "scene" && args.engine === "POVRAY") {
    throw new Error(`the ${generator} generator renders in Blender only (CYCLES or BLENDER_EEVEE)`);
  }
  if (args.engine === "POVRAY") {
    const json = JSON.stringify({ threads: 1, ...args });
    await run(
      o.python ?? "/usr/bin/python3",
      [join(HERE, "render_pov.py"), json],
      `render seed ${args.seed} (${args.out})`,
    );
    return;
  }
  const blender = o.blender ?? "blender";
  const wrap = o.xvfb ? ["-a", "-s", "-screen 0 1024x768x24", blender] : [];
  await run(
    o.xvfb ? "xvfb-run" : blender,
    [
      ...wrap,
      "-b",
      "--factory-startup",
      "-noaudio",
      "-t",
      "1",
      "--python-exit-code",
      "1",
      "-P",
      join(HERE, SCRIPTS[generator]),
      "--",
      JSON.stringify({ engine: "CYCLES", threads: 1, ...args }),
    ],
    `render seed ${args.seed} (${args.out})`,
  );
}

/**
 * Runs `post.py` on jobs (each output and its record, `<out>.json`).
 *
 * @example
 * ```ts ignore
 * await postProcess([{ in: "/tmp/a.png", out: "/tmp/a.jpg", seed: 1, steps: "production" }]);
 * ```
 */
export async function postProcess(
  jobs: PostJob[],
  python = "/usr/bin/python3",
): Promise<void> {
  const file = await Deno.makeTempFile({ prefix: "cgvsni-post-", suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(jobs));
    await run(python, [join(HERE, "post.py"), file], "post");
  } finally {
    await Deno.remove(file);
  }
}

/** The CC0 photographic environments of Debian's Blender (Poly Haven's), for shipped renders and tests. */
export const BLENDER_HDRIS = "/usr/share/blender/datafiles/studiolights/world";

/**
 * The paths of {@link BLENDER_HDRIS}' photographs, sorted.
 *
 * @example
 * ```ts ignore
 * console.log((await blenderHdris()).length); // 8
 * ```
 */
export async function blenderHdris(dir = BLENDER_HDRIS): Promise<string[]> {
  const out = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".exr")) out.push(join(dir, e.name));
  return out.sort();
}
