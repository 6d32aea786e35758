/**
 * Seeded pseudo-random numbers. Every random choice in the toolkit (splits, shuffles, crops,
 * initialisation, dropout) draws from here, so a run is reproduced by its seed.
 *
 * @module
 */

/**
 * A seeded generator of uniform floats in [0, 1) (sfc32, 128-bit state).
 *
 * @example Seeded draws: the same seed gives the same numbers
 * ```ts
 * import { Rng } from "./mod.ts";
 * const a = new Rng(42), b = new Rng(42);
 * console.log(a.next() === b.next(), a.int(10), new Rng("split:0").shuffle([1, 2, 3]));
 * ```
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds from a number or a string (hashed); equal seeds give equal streams. */
  constructor(seed: number | string) {
    const h = typeof seed === "string"
      ? hashString(seed)
      : [seed >>> 0, 0x9e3779b9, 0x243f6a88, 0xb7e15162];
    [this.#a, this.#b, this.#c, this.#d] = h;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Next uniform float in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal draw (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A 32-bit integer, e.g. to seed another generator or a tfjs op. */
  seed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** Shuffles `xs` in place (Fisher-Yates) and returns it. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

/** cyrb128: a fast 128-bit string hash, used to seed from names such as `"split:42"`. */
export function hashString(s: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
