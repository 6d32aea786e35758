/**
 * Stage 4, beside the one-class models: a head on whole-image features, photographs against
 * renders, scikit-learn style, with its threshold set out of fold on the photographs: logistic
 * regression ({@link LogisticHead}, the default) or an RBF-kernel SVM ({@link RbfSvmHead}); and
 * the training stage that fits one on a photograph corpus and a render dataset (`train-head`). A
 * detector may carry one in place of the image map (lib/detect, `export-detector --linear-head`).
 *
 * @module
 */

export {
  type HeadSettings,
  type Standardiser,
  ThresholdedHead,
  type ThresholdOptions,
} from "./_fit.ts";
export {
  LINEAR_HEAD_FORMAT,
  LOGISTIC_DEFAULTS,
  type LogisticFit,
  LogisticHead,
  type LogisticOptions,
  type SavedLinearHead,
} from "./logistic.ts";
export {
  RBF_HEAD_FORMAT,
  RBF_SVM_DEFAULTS,
  type RbfSvmFit,
  RbfSvmHead,
  type RbfSvmOptions,
  type SavedRbfHead,
} from "./svm.ts";
export {
  defaultC,
  type FeatureHead,
  HEAD_MODELS,
  headFromJSON,
  type HeadModel,
  headModel,
  type HeadOptions,
  makeHead,
} from "./heads.ts";
export {
  type HeadRunConfig,
  TRAIN_HEAD_DEFAULTS,
  trainHead,
  type TrainHeadOptions,
} from "./train.ts";
