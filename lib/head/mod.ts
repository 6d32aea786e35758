/**
 * Stage 4, beside the one-class models: a linear head, logistic regression on whole-image features, photographs against renders,
 * scikit-learn style, with its threshold set out of fold on the photographs; and the training
 * stage that fits one on a photograph corpus and a render dataset (`train-head`). A detector may
 * carry one in place of the image map (lib/detect, `export-detector --linear-head`).
 *
 * @module
 */

export {
  LINEAR_HEAD_FORMAT,
  LOGISTIC_DEFAULTS,
  LogisticHead,
  type LogisticOptions,
  type SavedLinearHead,
} from "./logistic.ts";
export {
  type HeadRunConfig,
  TRAIN_HEAD_DEFAULTS,
  trainHead,
  type TrainHeadOptions,
} from "./train.ts";
