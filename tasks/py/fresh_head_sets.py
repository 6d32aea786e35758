"""Which training renders let the linear head catch a fresh set's renders (a diagnostic): the
shipped head's model (standardised `mobilenet` features, L2 logistic regression, C = 0.1,
balanced; threshold the 95 % quantile of the photographs' out-of-fold p(CG) over folds of whole
sources), fitted by scikit-learn with some render sets left out, and the two-head candidate of
docs/production.md (one head trained with the production renders, one with the procedural ones,
each at the 97.5 % quantile of its own out-of-fold reference; computer-generated when either
says so), scored on a test set's photographs and renders.

- The VTK renders (the default; docs/independent-set.md, "The linear-head detector on the same
  set"): `--test /work/fresh --renders runs/vtk-mob/features`, where runs/vtk-mob is
  `deno task train-head --natural runs/natural --natural-csv <any 12 photographs> --renders
  /work/fresh --features mobilenet --match-compression 75 --name vtk-mob` (only its render list is
  read);
- the landscapes (docs/production.md, "A fifth generator"): `--test /work/fresh-landscape
  --renders runs/prod-land-mob/features`;
- the sixth generator's architectural exteriors (docs/production.md, "What the sixth generator
  showed"): `--test /work/fresh-archviz --renders runs/prod-arch-mob/features --head /work/head5
  --extra runs/prod-land-mob/features [--model rbf]`: the five-generator head's data, with and
  without the landscapes and the first generator (whose texture pool the sixth's shares).

`--model rbf` puts the RBF-kernel SVM (C = 1; `corpus-rbf`'s head) in place of the logistic
regression.

Reads the feature caches of runs/prod-gen-mob, prod-new-mob, mob-missing (docs/production.md; the
photographs' features), --head (default /work/head: the head's photographs and renders,
models/corpus-linear/MODEL_CARD.md; --extra: caches of renders the three lack) and the test set's dataset.csv (photographs `Photos/<corpus
name>`, label 0; renders any other label). Prints a markdown table.

    /usr/bin/python3 tasks/py/fresh_head_sets.py [--test DIR] [--renders FEATURES] [--head DIR]
        [--extra FEATURES[,...]] [--model linear|rbf]
"""
import argparse, csv, sys, numpy as np
sys.path.insert(0, 'tasks/py')
from verdict_linear_head import NU, load, linear_head
from sklearn.metrics import roc_auc_score

p = argparse.ArgumentParser()
p.add_argument('--test', default='/work/fresh')
p.add_argument('--renders', default='runs/vtk-mob/features')
p.add_argument('--head', default='/work/head')
p.add_argument('--extra', default='')
p.add_argument('--model', default='linear', choices=['linear', 'rbf'])
a = p.parse_args()
nat = {}; ren = {}
for f in ['runs/prod-gen-mob/features', 'runs/prod-new-mob/features', 'runs/mob-missing/features'] \
        + list(filter(None, a.extra.split(','))):
    nat.update(load(f, 'natural-mobilenet')); ren.update(load(f, 'renders-mobilenet'))
test = load(a.renders, 'renders-mobilenet')
rows = list(csv.DictReader(open(f'{a.head}/natural.csv')))
names = [r['Name'] for r in rows]; src = np.array([r['Group'] for r in rows])
listed = list(csv.DictReader(open(f'{a.test}/dataset.csv')))
fresh = [r['Name'][len('Photos/'):] for r in listed if r['Label'] == '0']
rendered = [r['Name'] for r in listed if r['Label'] != '0']
xf = np.stack([nat[n] for n in fresh]); xv = np.stack([test[n] for n in rendered])
rn = [r['Name'] for r in csv.DictReader(open(f'{a.head}/dataset.csv'))]
folder = np.array([n.split('/')[0] for n in rn])
procedural = ['CgCycles', 'CgEEVEE', 'CgPOVRay']
first = ['Production', 'ProductionEEVEE', 'ProductionPOVRay']
production = first + ['Interior', 'Studio', 'Exterior']
sets = {
  'all (shipped)': [],
  'without the first generator': first,
  'production only': procedural,
  'procedural only': production,
  'rooms, still lifes, streets only': procedural + first,
}
if 'Landscape' in folder:  # the five-generator head's data (--head /work/head5)
    sets = {
      'all (`corpus-rbf5`\'s renders)': [],
      'without the landscapes (`corpus-linear`\'s renders)': ['Landscape'],
      'without the first generator': first,
      'without the first generator and the landscapes': first + ['Landscape'],
      'production only (five generators)': procedural,
      'procedural only': production + ['Landscape'],
      'landscapes only': procedural + production,
    }
y_test = np.r_[np.zeros(len(xf)), np.ones(len(xv))]


def fit(drop):
    keep = ~np.isin(folder, drop)
    xr = np.stack([ren[n] for n, k in zip(rn, keep) if k])
    xn = np.stack([nat[n] for n in names])
    x = np.concatenate([xn, xr]); y = np.r_[np.zeros(len(xn)), np.ones(len(xr))]
    g = np.r_[src, [f"r{i}" for i in range(len(xr))]]
    return (len(xr), *linear_head(x, y, g, 1.0 if a.model == 'rbf' else 0.1, kind=a.model))


print(f"{len(fresh)} photographs, {len(xv)} renders ({a.test}); {a.model} head\n")
print("| head trained with | renders | AUC | photos under the threshold | renders over it |")
print("| --- | --: | --: | --: | --: |")
for name, drop in sets.items():
    n, f, t, _ = fit(drop)
    pf, pv = f(xf), f(xv)
    auc = roc_auc_score(y_test, np.r_[pf, pv])
    print(f"| {name} | {n} | {auc:.3f} | {(pf < t).mean():.3f} | {(pv >= t).mean():.3f} |", flush=True)
# two heads, each at the (1 - nu/2) quantile of its own out-of-fold reference: computer-generated
# when either head is over its threshold. Its AUC ranks by the larger of the two heads' positions
# among their references.
heads = [fit(procedural), fit(production)]
over_f = np.zeros(len(xf), bool); over_v = np.zeros(len(xv), bool)
for _, f, _, ref in heads:
    t = np.quantile(ref, 1 - NU / 2)
    over_f |= f(xf) >= t; over_v |= f(xv) >= t
def position(h, v):
    _, f, _, ref = h
    return np.searchsorted(np.sort(ref), f(v), side='right') / len(ref)
sf = np.maximum(*(position(h, xf) for h in heads)); sv = np.maximum(*(position(h, xv) for h in heads))
auc = roc_auc_score(y_test, np.r_[sf, sv])
print(f"| two heads, `either` (production; procedural) | {heads[0][0]} + {heads[1][0]} | {auc:.3f} | "
      f"{1 - over_f.mean():.3f} | {over_v.mean():.3f} |")
