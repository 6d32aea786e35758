/**
 * The 30 SRM high-pass residual kernels (Fridrich & Kodovsky, "Rich Models for Steganalysis of
 * Digital Images", 2012) as 5x5 filters, in the order and with the values of `Src/SRM1505.txt`
 * in the ENet authors' repository (weizequan/CGDetection): 8 first-order, 4 second-order,
 * 8 third-order, then the 3x3 EDGE (4) and SQUARE (1) and the 5x5 EDGE (4) and SQUARE (1)
 * kernels. Each kernel sums to zero, so a flat image region gives a zero residual.
 *
 * @module
 */

// The values as printed in SRM1505.txt (eight significant digits), not exact fractions, so our
// weights equal the authors' bit for bit after float32 rounding.
const T = 0.33333333; // 1/3
const S = 0.16666667; // 1/6
const E = 0.08333333; // 1/12
const F = 0.66666667; // 2/3
const H = 0.5;
const Q = 0.25;

/** Builds a 5x5 kernel from a sparse list of `[row, col, value]`. */
function k(...cells: [number, number, number][]): number[] {
  const out = new Array(25).fill(0);
  for (const [r, c, v] of cells) out[r * 5 + c] = v;
  return out;
}

/** Builds a 5x5 kernel from full rows. */
function rows(...rs: number[][]): number[] {
  const out = new Array(25).fill(0);
  rs.forEach((r, i) => r.forEach((v, j) => (out[i * 5 + j] = v)));
  return out;
}

const EDGE5 = [
  [-E, S, -S, S, -E],
  [S, -H, F, -H, S],
  [-S, F, -1, F, -S],
];
const Z5 = [0, 0, 0, 0, 0];

/** The 30 kernels, each 25 values in row-major order. */
export const SRM_KERNELS: readonly (readonly number[])[] = [
  // first order: the centre minus one neighbour, 8 directions
  k([2, 2, -1], [2, 3, 1]),
  k([2, 1, 1], [2, 2, -1]),
  k([1, 2, 1], [2, 2, -1]),
  k([2, 2, -1], [3, 2, 1]),
  k([1, 3, 1], [2, 2, -1]),
  k([2, 2, -1], [3, 3, 1]),
  k([1, 1, 1], [2, 2, -1]),
  k([2, 2, -1], [3, 1, 1]),
  // second order: horizontal, vertical, the two diagonals
  k([2, 1, H], [2, 2, -1], [2, 3, H]),
  k([1, 2, H], [2, 2, -1], [3, 2, H]),
  k([1, 1, H], [2, 2, -1], [3, 3, H]),
  k([1, 3, H], [2, 2, -1], [3, 1, H]),
  // third order, 8 directions
  k([2, 1, T], [2, 2, -1], [2, 3, 1], [2, 4, -T]),
  k([2, 0, -T], [2, 1, 1], [2, 2, -1], [2, 3, T]),
  k([0, 2, -T], [1, 2, 1], [2, 2, -1], [3, 2, T]),
  k([1, 2, T], [2, 2, -1], [3, 2, 1], [4, 2, -T]),
  k([0, 4, -T], [1, 3, 1], [2, 2, -1], [3, 1, T]),
  k([1, 1, T], [2, 2, -1], [3, 3, 1], [4, 4, -T]),
  k([0, 0, -T], [1, 1, 1], [2, 2, -1], [3, 3, T]),
  k([1, 3, T], [2, 2, -1], [3, 1, 1], [4, 0, -T]),
  // 3x3 EDGE: right, left, up, down halves of the 3x3 SQUARE
  rows(Z5, [0, 0, H, -Q, 0], [0, 0, -1, H, 0], [0, 0, H, -Q, 0], Z5),
  rows(Z5, [0, -Q, H, 0, 0], [0, H, -1, 0, 0], [0, -Q, H, 0, 0], Z5),
  rows(Z5, [0, -Q, H, -Q, 0], [0, H, -1, H, 0], Z5, Z5),
  rows(Z5, Z5, [0, H, -1, H, 0], [0, -Q, H, -Q, 0], Z5),
  // 3x3 SQUARE
  rows(Z5, [0, -Q, H, -Q, 0], [0, H, -1, H, 0], [0, -Q, H, -Q, 0], Z5),
  // 5x5 EDGE: right, left, up, down halves of the 5x5 SQUARE
  rows(
    [0, 0, -S, S, -E],
    [0, 0, F, -H, S],
    [0, 0, -1, F, -S],
    [0, 0, F, -H, S],
    [0, 0, -S, S, -E],
  ),
  rows(
    [-E, S, -S, 0, 0],
    [S, -H, F, 0, 0],
    [-S, F, -1, 0, 0],
    [S, -H, F, 0, 0],
    [-E, S, -S, 0, 0],
  ),
  rows(...EDGE5, Z5, Z5),
  rows(Z5, Z5, ...[...EDGE5].reverse()),
  // 5x5 SQUARE
  rows(...EDGE5, EDGE5[1], EDGE5[0]),
];

/** Number of SRM kernels (30). */
export const SRM_COUNT = SRM_KERNELS.length;

/**
 * The kernels as a depthwise filter `[5, 5, channels, 30]`, flattened: output channel
 * `c * 30 + m` is kernel `m` applied to input channel `c` (the order of the reference
 * implementation's per-channel convolutions concatenated R, G, B).
 */
export function srmDepthwiseFilter(channels = 3): Float32Array {
  const out = new Float32Array(25 * channels * SRM_COUNT);
  for (let i = 0; i < 25; i++) {
    for (let c = 0; c < channels; c++) {
      for (let m = 0; m < SRM_COUNT; m++) {
        out[(i * channels + c) * SRM_COUNT + m] = SRM_KERNELS[m][i];
      }
    }
  }
  return out;
}
