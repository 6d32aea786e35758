/**
 * The little dense linear algebra the Gaussian model and the linear head need, in float64 on plain arrays (small
 * matrices: at most a few thousand rows): Gram and cross products, Cholesky factorisation and
 * triangular solves, and the leading eigenvectors of a symmetric matrix.
 *
 * @module
 */

/** A row-major matrix. */
export interface Mat {
  /** Rows. */
  rows: number;
  /** Columns. */
  cols: number;
  /** `rows * cols` values. */
  data: Float64Array;
}

/** A zero matrix. */
export function zeros(rows: number, cols: number): Mat {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/**
 * Each row multiplied by the square root of its weight, so that AᵀA of the result is AᵀWA (a
 * weighted cross product).
 */
export function sqrtWeightedRows(a: Mat, weights: ArrayLike<number>): Mat {
  const out = zeros(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) {
    const s = Math.sqrt(weights[i]);
    for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j] = s * a.data[i * a.cols + j];
  }
  return out;
}

/**
 * Values rounded to float32 and kept in float64: a model that saves its parameters as float32
 * keeps exactly what it will load, so that a loaded model scores bit-identically.
 */
export function roundedToFloat32(a: Float64Array): Float64Array {
  return Float64Array.from(Float32Array.from(a));
}

/** AᵀA / scale (cols x cols). */
export function crossProduct(a: Mat, scale = 1): Mat {
  const { rows: n, cols: d } = a, out = zeros(d, d), x = a.data, c = out.data;
  // rows in blocks of four, so that each pass over the d x d triangle does four rows' work;
  // every entry still adds its rows' products one at a time, in row order, as row by row would
  const B = 4;
  let i = 0;
  for (; i + B <= n; i += B) {
    const o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
    for (let j = 0; j < d; j++) {
      const v0 = x[o0 + j], v1 = x[o1 + j], v2 = x[o2 + j], v3 = x[o3 + j];
      const cj = j * d;
      for (let k = j; k < d; k++) {
        let s = c[cj + k];
        if (v0 !== 0) s += v0 * x[o0 + k];
        if (v1 !== 0) s += v1 * x[o1 + k];
        if (v2 !== 0) s += v2 * x[o2 + k];
        if (v3 !== 0) s += v3 * x[o3 + k];
        c[cj + k] = s;
      }
    }
  }
  for (; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = x[o + j];
      if (v === 0) continue;
      const cj = j * d;
      for (let k = j; k < d; k++) c[cj + k] += v * x[o + k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) c[k * d + j] = c[j * d + k] /= scale;
  }
  return out;
}

/** AAᵀ / scale (rows x rows). */
export function gram(a: Mat, scale = 1): Mat {
  const { rows: n, cols: d } = a, out = zeros(n, n), x = a.data, g = out.data;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k] * x[j * d + k];
      g[i * n + j] = g[j * n + i] = s / scale;
    }
  }
  return out;
}

/** A·B. */
export function matMul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new RangeError(`matMul: ${a.cols} vs ${b.rows}`);
  const out = zeros(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      if (v === 0) continue;
      const bo = k * b.cols, oo = i * b.cols;
      for (let j = 0; j < b.cols; j++) out.data[oo + j] += v * b.data[bo + j];
    }
  }
  return out;
}

/** Aᵀ. */
export function transpose(a: Mat): Mat {
  const out = zeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  }
  return out;
}

/**
 * Cholesky factor L (lower triangular, A = LLᵀ) of a symmetric positive-definite matrix.
 * Throws if A is not positive definite.
 */
export function cholesky(a: Mat): Mat {
  const n = a.rows, l = zeros(n, n), A = a.data, L = l.data;
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= L[j * n + k] * L[j * n + k];
    if (!(s > 0)) throw new RangeError("matrix is not positive definite");
    const d = Math.sqrt(s);
    L[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = t / d;
    }
  }
  return l;
}

/**
 * {@link forwardSolve} for many right-hand sides, four at a time (one pass over L serves four);
 * each solution is computed in exactly the order `forwardSolve` computes it.
 */
export function forwardSolveMany(l: Mat, bs: Float64Array[]): Float64Array[] {
  const n = l.rows, L = l.data;
  let r = 0;
  for (; r + 4 <= bs.length; r += 4) {
    const b0 = bs[r], b1 = bs[r + 1], b2 = bs[r + 2], b3 = bs[r + 3];
    for (let i = 0; i < n; i++) {
      const o = i * n;
      let s0 = b0[i], s1 = b1[i], s2 = b2[i], s3 = b3[i];
      for (let k = 0; k < i; k++) {
        const v = L[o + k];
        s0 -= v * b0[k];
        s1 -= v * b1[k];
        s2 -= v * b2[k];
        s3 -= v * b3[k];
      }
      const d = L[o + i];
      b0[i] = s0 / d;
      b1[i] = s1 / d;
      b2[i] = s2 / d;
      b3[i] = s3 / d;
    }
  }
  for (; r < bs.length; r++) forwardSolve(l, bs[r]);
  return bs;
}

/** Solves L·y = b for lower-triangular L (b is overwritten with y). */
export function forwardSolve(l: Mat, b: Float64Array): Float64Array {
  const n = l.rows, L = l.data;
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
  return b;
}

/** Eigenvalues and eigenvectors (columns) of a small symmetric matrix, by cyclic Jacobi. */
export function jacobiEigen(a: Mat): { values: Float64Array; vectors: Mat } {
  const n = a.rows, A = Float64Array.from(a.data), V = zeros(n, n);
  for (let i = 0; i < n; i++) V.data[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V.data[k * n + p], vkq = V.data[k * n + q];
          V.data[k * n + p] = c * vkp - s * vkq;
          V.data[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => A[i * n + i]), vectors: V };
}

/** Orthonormalises the columns of `q` in place (modified Gram-Schmidt). */
function orthonormalise(q: Mat): void {
  const { rows: m, cols: k, data } = q;
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < m; r++) dot += data[r * k + i] * data[r * k + j];
      for (let r = 0; r < m; r++) data[r * k + j] -= dot * data[r * k + i];
    }
    let norm = 0;
    for (let r = 0; r < m; r++) norm += data[r * k + j] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < m; r++) data[r * k + j] /= norm;
  }
}

/**
 * The `k` leading eigenpairs of a symmetric positive semi-definite matrix (values descending,
 * vectors as columns), by subspace iteration with a Rayleigh-Ritz step; `rand` seeds the start.
 */
export function topEigen(
  c: Mat,
  k: number,
  rand: () => number,
  iterations = 60,
): { values: Float64Array; vectors: Mat } {
  const m = c.rows, p = Math.min(m, k + 8);
  let q = zeros(m, p);
  for (let i = 0; i < q.data.length; i++) q.data[i] = rand() - 0.5;
  orthonormalise(q);
  for (let it = 0; it < iterations; it++) {
    q = matMul(c, q);
    orthonormalise(q);
  }
  const t = matMul(transpose(q), matMul(c, q));
  const { values, vectors } = jacobiEigen(t);
  const order = [...values.keys()].sort((a, b) => values[b] - values[a]).slice(0, k);
  const rot = zeros(p, k);
  order.forEach((src, j) => {
    for (let r = 0; r < p; r++) rot.data[r * k + j] = vectors.data[r * p + src];
  });
  return { values: Float64Array.from(order, (i) => values[i]), vectors: matMul(q, rot) };
}
