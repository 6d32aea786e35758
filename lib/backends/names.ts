/**
 * Names of the toolkit's own tfjs kernels (registered by the native backend).
 *
 * @module
 */

/** Batch normalisation with batch statistics: inputs x, gamma, beta; outputs y, mean, variance. */
export const BN_TRAIN = "CgvsniBatchNormTrain";
/** Gradient of {@link BN_TRAIN}: inputs dy, x, gamma, mean, variance; outputs dx, dgamma, dbeta. */
export const BN_TRAIN_GRAD = "CgvsniBatchNormTrainGrad";
/** ReLU gradient: inputs dy, x; output dy where x > 0, else 0. */
export const RELU_GRAD = "CgvsniReluGrad";
/**
 * SGD-with-momentum update: inputs param, grad, buf; attrs lr, momentum; outputs param', buf'.
 * Written in place (the outputs are the inputs) when no other tensor shares their data.
 */
export const SGD_STEP = "CgvsniSgdStep";
/** Adam update, in place when possible like {@link SGD_STEP}: inputs param, grad, m, v; attrs lr, beta1, beta2, eps, c1, c2; outputs param', m', v'. */
export const ADAM_STEP = "CgvsniAdamStep";
/**
 * Conv + batch norm (batch statistics) + optional ReLU: inputs x, filter, gamma, beta, and
 * optionally x2 (the input is then x and x2 concatenated along channels, never built; the
 * filter spans both); attrs strides, eps, relu; outputs z, y (conv output), mean, variance.
 */
export const CONV_BN = "CgvsniConvBn";
/**
 * Gradient of {@link CONV_BN}: inputs dz, x, [x2,] filter, gamma, z, y, mean, variance; attrs as the
 * forward, plus `consumeDz` (the caller disposes dz afterwards, so the kernel may overwrite it)
 * and `needDx` (false: no dx is computed or returned); with x2 as in the forward, its gradient
 * comes last; outputs dx, dfilter, dgamma, dbeta[, dx2].
 */
export const CONV_BN_GRAD = "CgvsniConvBnGrad";
/**
 * Inference block: conv + batch norm with running statistics + optional ReLU; inputs x, filter,
 * gamma, beta, mean, variance, and optionally x2 (the input is then x and x2 concatenated along
 * channels, never built; the filter spans both); attrs strides, eps, relu; output z.
 */
export const CONV_BN_INFER = "CgvsniConvBnInfer";
/**
 * Batch norm with given statistics + optional ReLU (recomputes a block's output from its conv
 * output in the backward pass): inputs y, gamma, beta, mean, variance; attrs eps, relu; output z.
 */
export const BN_APPLY = "CgvsniBatchNormApply";
/**
 * A copy of a float32 tensor in the native backend's buffer pool: input x; output a tensor with
 * the same values that no one else holds (optimisers then update it in place).
 */
export const COPY = "CgvsniCopy";
