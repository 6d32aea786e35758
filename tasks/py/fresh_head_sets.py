"""Which training renders let the linear head catch the fresh set's VTK renders (a diagnostic,
docs/independent-set.md, "The linear-head detector on the same set"): the shipped head's model
(standardised `mobilenet` features, L2 logistic regression, C = 0.1, balanced; threshold the 95 %
quantile of the photographs' out-of-fold p(CG) over folds of whole sources), fitted by
scikit-learn with some render sets left out, scored on the fresh photographs and VTK renders.

Reads the feature caches of runs/prod-gen-mob, prod-new-mob, mob-missing (docs/production.md) and
runs/vtk-mob (`deno task train-head --natural runs/natural --natural-csv <any 12 photographs>
--renders /work/fresh --features mobilenet --match-compression 75 --name vtk-mob`: only its render
list is read), /work/head (the head's photographs and renders, models/corpus-linear/MODEL_CARD.md)
and /work/fresh/dataset.csv. Prints a markdown table.

    /usr/bin/python3 tasks/py/fresh_head_sets.py
"""
import csv, json, sys, numpy as np
sys.path.insert(0, 'tasks/py')
from verdict_linear_head import load, linear_head
from sklearn.metrics import roc_auc_score
nat = {}; ren = {}
for f in ['runs/prod-gen-mob/features', 'runs/prod-new-mob/features', 'runs/mob-missing/features']:
    nat.update(load(f, 'natural-mobilenet')); ren.update(load(f, 'renders-mobilenet'))
vtk = load('runs/vtk-mob/features', 'renders-mobilenet')
rows = list(csv.DictReader(open('/work/head/natural.csv')))
names = [r['Name'] for r in rows]; src = np.array([r['Group'] for r in rows])
fresh = [r['Name'] for r in csv.DictReader(open('/work/fresh/dataset.csv')) if r['Label'] == '0']
fresh = [n[len('Photos/'):] for n in fresh]
xf = np.stack([nat[n] for n in fresh]); xv = np.stack(list(vtk.values()))
rn = [r['Name'] for r in csv.DictReader(open('/work/head/dataset.csv'))]
folder = np.array([n.split('/')[0] for n in rn])
sets = {
  'all (shipped)': None,
  'without the first generator (its textures are VTK\'s pool)': ['Production', 'ProductionEEVEE', 'ProductionPOVRay'],
  'production only': ['CgCycles', 'CgEEVEE', 'CgPOVRay'],
  'procedural only': ['Production', 'ProductionEEVEE', 'ProductionPOVRay', 'Interior', 'Studio', 'Exterior'],
  'rooms, still lifes, streets only': ['CgCycles', 'CgEEVEE', 'CgPOVRay', 'Production', 'ProductionEEVEE', 'ProductionPOVRay'],
}
print(f"{len(fresh)} fresh photographs, {len(xv)} VTK renders\n")
print("| head trained with | renders | VTK AUC | photos p < t | VTK p >= t |")
print("| --- | --: | --: | --: | --: |")
for name, drop in sets.items():
    keep = ~np.isin(folder, drop or [])
    xr = np.stack([ren[n] for n, k in zip(rn, keep) if k])
    xn = np.stack([nat[n] for n in names])
    x = np.concatenate([xn, xr]); y = np.r_[np.zeros(len(xn)), np.ones(len(xr))]
    g = np.r_[src, [f"r{i}" for i in range(len(xr))]]
    f, t, ref = linear_head(x, y, g, 0.1)
    pf, pv = f(xf), f(xv)
    auc = roc_auc_score(np.r_[np.zeros(len(pf)), np.ones(len(pv))], np.r_[pf, pv])
    print(f"| {name} | {len(xr)} | {auc:.3f} | {(pf < t).mean():.3f} | {(pv >= t).mean():.3f} |", flush=True)
