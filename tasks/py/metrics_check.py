"""Computes detection metrics with scikit-learn for tasks/metrics_check.ts.

Reads JSON {"cases": [{"scores": [...], "labels": [...], "threshold": t, "strict": bool}]} on
stdin; prints per case: AUC (roc_auc_score), EER (from roc_curve, linear interpolation where
FNR - FPR changes sign), TPR at FPR <= 5 % (from roc_curve), and accuracy / recalls / HTER of
the thresholded decisions (confusion_matrix)."""
import json
import sys
import numpy as np
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve

out = []
for case in json.load(sys.stdin)["cases"]:
    s = np.asarray(case["scores"], dtype=np.float64)
    y = np.asarray(case["labels"], dtype=np.int64)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    fnr = 1 - tpr
    diff = fnr - fpr
    eer = None
    for i in range(1, len(fpr)):
        if diff[i - 1] >= 0 and diff[i] <= 0:
            t = 0.0 if diff[i - 1] == diff[i] else diff[i - 1] / (diff[i - 1] - diff[i])
            eer = float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))
            break
    pred = (s > case["threshold"]) if case["strict"] else (s >= case["threshold"])
    tn, fp, fn, tp = confusion_matrix(y, pred.astype(int), labels=[0, 1]).ravel()
    out.append({
        "auc": float(roc_auc_score(y, s)),
        "eer": eer,
        "tprAt5": float(tpr[fpr <= 0.05 + 1e-12].max()),
        "accuracy": float((tp + tn) / len(y)),
        "cgRecall": float(tp / (tp + fn)),
        "niRecall": float(tn / (tn + fp)),
        "hter": float((fp / (fp + tn) + fn / (fn + tp)) / 2),
    })
print(json.dumps(out))
