"""Polynomial replacement at equal training: SNL with the identity, SNL with degree-2 polynomials, and SNL+BCD, on MNIST-1D,
at several ReLU budgets and three seeds, every method given the same epochs; then each network priced in SPU (`spu_cost`).

    python benchmarks/poly.py [--units 0:240 ...] [--methods snl snl-poly snl+bcd] [--out results/poly] [--work /tmp/relu_nb_poly]
    python benchmarks/poly.py --report      # price the saved networks, write rows.json, poly.md and poly.png

Each unit (seed:budget) pretrains the all-ReLU 1-D ResNet as `relu_nb run` does (the paper recipe, 20 epochs; once per seed,
kept in --work) and then, per method, trains on a copy:

- `snl`: SNL paced to the budget in --snl-epochs epochs with the identity as the replacement (`relu_nb run`'s default),
  then a KD finetune of --finetune-epochs epochs;
- `snl-poly`: the same, with `replacement='poly'`: each removed ReLU becomes a per-channel a*x^2 + b*x + c, fitted to the
  ReLU on the site's activations before SNL starts and trained with the weights;
- `snl+bcd`: SNL to twice the budget in the same --snl-epochs epochs (the `snl` model of the budget 2B, before its finetune),
  BCD's greedy descent from 2B to B (DRC 0.4% of 2B, RT 50, ADT 0.3, scored on 2,048 training samples) without finetunes
  during the descent, then the same KD finetune. Every method thus trains for the same epochs; BCD's search is forward
  passes only, and its seconds are in the row.

The 8,000 training samples are split 90/10 per class (`holdout_split`, seed 0): the models train on 7,200, the 800 held out
give `valid`, and MNIST-1D's 2,000 test samples give `accuracy` (reported, never used to choose). A row per (method, budget,
seed) goes to --work as soon as it is done, with the final network's state; a unit run again skips the rows it has. Two
processes can share the work (different --units or --methods, OMP_NUM_THREADS=1 each). --report prices every saved network
with `spu_cost` (CHEETAH and SEMI2K, public and secret weights; the headline: CHEETAH, public weights, the client-server
setting) and writes OUT/rows.json, OUT/poly.md and OUT/poly.png.
"""
import argparse, json, os, time
import numpy as np
from pathlib import Path

METHODS = ('snl', 'snl-poly', 'snl+bcd')
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--units', nargs='*', default=[f"{s}:{b}" for s in (0, 1, 2) for b in (480, 240, 120)], help='seed:budget pairs to run')
p.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS)
p.add_argument('--snl-epochs', type=int, default=40); p.add_argument('--finetune-epochs', type=int, default=40)
p.add_argument('--epochs', type=int, default=20, help='pretraining epochs')
p.add_argument('--valid-pct', type=float, default=0.1)
p.add_argument('--out', default='results/poly'); p.add_argument('--work', default='/tmp/relu_nb_poly')
p.add_argument('--report', action='store_true', help='only price the saved networks and write the table and the figure')
p.add_argument('--bench', default='results/bench', help="relu_nb bench's folder: the verdict becomes a row of its claims table")
a = p.parse_args()
try: units = [tuple(map(int, u.split(':'))) for u in a.units]
except ValueError: p.error(f"--units takes seed:budget pairs such as 0:240, got {' '.join(a.units)}")
out, work = Path(a.out), Path(a.work)
out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
KEY = ('method', 'budget', 'seed')

import copy, torch
from relu_nb.core import reseed, atomic_write, save_state
from relu_nb.distill import finetune, valid_accuracy
from relu_nb.masked import linearize_, kept_relus, binarize_
from relu_nb.settings import DATASETS

def final_file(r): return work / f"final_{r['method']}_s{r['seed']}_b{r['budget']}.pth"

def merged():
    "Every row written so far (the per-unit files in --work), one per key, sorted"
    rows = {}
    for f in sorted(work.glob('rows_*.json')):
        for r in json.loads(f.read_text()): rows[tuple(r[k] for k in KEY)] = r
    return [rows[k] for k in sorted(rows, key=lambda k: (METHODS.index(k[0]), -k[1], k[2]))]

SETTINGS = [(p_, w) for p_ in ('cheetah', 'semi2k') for w in ('public', 'secret')]
STYLE = {'all-relu': 'k*', 'snl': 'C0o-', 'snl-poly': 'C1s-', 'snl+bcd': 'C3D-'}
LABEL = {'all-relu': 'all-ReLU (the teacher)', 'snl': 'SNL, identity', 'snl-poly': 'SNL, polynomials', 'snl+bcd': 'SNL+BCD, identity'}

def priced(model, x, **kw):
    "`spu_cost` of `model` in every protocol and weight setting: {'cheetah/public': {bytes, rounds, lan_s, wan_s}, ...}"
    from relu_nb.secure import spu_cost, spu_op_table
    from relu_nb.export import pi_graph
    t = spu_op_table(pi_graph(model, x, **kw))   # exported once, priced four times
    return {f"{p_}/{w}": {k: v for k, v in spu_cost(t, protocol=p_, weights=w).items() if k in ('bytes', 'rounds', 'lan_s', 'wan_s', 'polys')}
            for p_, w in SETTINGS}

def frontier(ref, cost, col):
    "The row of `ref` of the most accurate identity network (mean over seeds) that costs at most `cost` in `col`, or None"
    ok = ref[ref[col] <= cost * (1 + 1e-9)]
    return None if not len(ok) else ok.sort_values('accuracy').iloc[-1]

def bench_claim(v):
    "The verdict as a row of relu_nb bench's claims table: per setting, in how many comparisons the polynomials win, with the numbers"
    parts = []
    for k, d in v.groupby('setting', sort=False):
        best = d.identity.fillna('none').unique()
        parts.append(f"{k}: better in {int(d.beats.fillna(False).sum())} of {len(d)} (polynomials {d.poly_acc.min():.2f}-{d.poly_acc.max():.2f}% at "
                     f"{d.cost.min():.3g}-{d.cost.max():.3g}; best identity network at that cost: {', '.join(best)}, "
                     f"{d.identity_acc.min():.2f}-{d.identity_acc.max():.2f}%)")
    wins = int(v.beats.fillna(False).sum())
    return dict(claim='Polynomials beat the identity at equal engine cost', source='issue: polynomial replacement (AutoReP, ICCV 2023; ReLUPruner, AAAI 2026)',
                criterion='results/poly: each SNL network with polynomials (3 budgets, 3 seeds, the same epochs) against the most accurate identity network '
                          '(SNL, SNL+BCD, all-ReLU) that costs no more, by spu_cost, public weights',
                measured='; '.join(parts), verdict='holds' if wins == len(v) else 'does not hold' if wins == 0 else f'partly ({wins} of {len(v)})')

def report():
    import pandas as pd, torch, matplotlib, matplotlib.ticker; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from relu_nb.core import atomic_write, save_figure
    from relu_nb.masked import linearize_, binarize_
    from relu_nb.models import make_model
    from relu_nb.data import mnist1d_tensors
    x = mnist1d_tensors()[2][:2]
    rows, teachers = merged(), {}
    for r in rows:
        m = binarize_(linearize_(make_model('resnet1d', 10), x=x))
        m.load_state_dict(torch.load(final_file(r), weights_only=False)['state_dict'])
        r['spu'] = priced(m.eval(), x)
        r['bytes'], r['wan_s'] = r['spu']['cheetah/public']['bytes'], r['spu']['cheetah/public']['wan_s']
        if r['seed'] not in teachers:
            t = make_model('resnet1d', 10); t.load_state_dict(torch.load(work / f"relu_seed{r['seed']}_e{r['pretrain_epochs']}.pth", weights_only=False)['state_dict'])
            spu = priced(t.eval(), x, all_relu=True)
            teachers[r['seed']] = dict(method='all-relu', budget=7680, seed=r['seed'], relus=7680, poly_units=0, poly_sites=0, accuracy=r['teacher_accuracy'],
                                       pretrain_epochs=r['pretrain_epochs'], spu=spu, bytes=spu['cheetah/public']['bytes'], wan_s=spu['cheetah/public']['wan_s'])
    rows += [teachers[s] for s in sorted(teachers)]
    atomic_write(out / 'rows.json', lambda t: t.write_text(json.dumps(rows, indent=1)))
    df = pd.DataFrame(rows)
    for s in SETTINGS:
        k = '/'.join(s)
        df[f'MB {k}'] = [r['spu'][k]['bytes'] / 1e6 for r in rows]; df[f'WAN {k}'] = [r['spu'][k]['wan_s'] for r in rows]
    cols = [c for c in df if c.startswith(('MB ', 'WAN '))]
    g = df.groupby(['method', 'budget'], sort=False).agg(seeds=('seed', 'count'), accuracy=('accuracy', 'mean'), acc_std=('accuracy', 'std'),
                                                         acc_min=('accuracy', 'min'), acc_max=('accuracy', 'max'), relus=('relus', 'mean'),
                                                         poly_units=('poly_units', 'mean'), **{c: (c, 'mean') for c in cols}).reset_index()
    # the verdict: each polynomial network against what the identity buys for its cost (SNL, SNL+BCD, the all-ReLU network), per setting
    ident, verdict = g[g.method.isin(['snl', 'snl+bcd', 'all-relu'])], []
    for k in ['MB cheetah/public', 'MB semi2k/public', 'WAN cheetah/public', 'WAN semi2k/public']:
        for r in g[g.method == 'snl-poly'].itertuples():
            cost, best = g.loc[r.Index, k], frontier(ident, g.loc[r.Index, k], k)
            verdict.append(dict(setting=k, budget=r.budget, poly_acc=100 * r.accuracy, cost=cost, identity_acc=None if best is None else 100 * best.accuracy,
                                identity=None if best is None else f"{best.method} {best.budget}", identity_cost=None if best is None else best[k],
                                beats=None if best is None else bool(r.accuracy > best.accuracy)))
    v = pd.DataFrame(verdict)
    atomic_write(out / 'verdict.json', lambda t: t.write_text(v.to_json(orient='records', indent=1)))
    fmt = lambda x: '' if x is None or x != x else f"{x:.2f}"
    md = ['# Polynomial replacement at equal training (MNIST-1D, 1-D ResNet)', '',
          f"`python benchmarks/poly.py`: pretraining {rows[0]['pretrain_epochs']} epochs (the all-ReLU network, the teacher), then every method "
          f"{rows[0].get('snl_epochs', '')} SNL epochs and a {rows[0].get('finetune_epochs', '')}-epoch KD finetune; trained on 7,200 samples, 800 held out for "
          "validation, accuracy on MNIST-1D's 2,000 test samples; means over the seeds. Bytes and WAN seconds: `spu_cost` (SPU 0.9.5, FM64, "
          "one inference; WAN 400 Mbit/s, 40 ms round trip), CHEETAH and SEMI2K, the client-server setting (public weights) first.", '',
          '| method | budget | seeds | test acc % (mean) | lowest | ReLUs | polynomials | MB CHEETAH public | WAN s CHEETAH public | MB SEMI2K public | WAN s SEMI2K public | MB CHEETAH secret | MB SEMI2K secret |',
          '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    md += [f"| {r.method} | {r.budget} | {r.seeds} | {100 * r.accuracy:.2f} | {100 * r.acc_min:.2f} | {r.relus:.0f} | {r.poly_units:.0f} | "
           f"{g.loc[r.Index, 'MB cheetah/public']:.3f} | {g.loc[r.Index, 'WAN cheetah/public']:.2f} | {g.loc[r.Index, 'MB semi2k/public']:.3f} | "
           f"{g.loc[r.Index, 'WAN semi2k/public']:.2f} | {g.loc[r.Index, 'MB cheetah/secret']:.3f} | {g.loc[r.Index, 'MB semi2k/secret']:.3f} |" for r in g.itertuples()]
    md += ['', '## Polynomials against the identity at equal engine cost', '',
           "Each polynomial network against the most accurate identity network (SNL, SNL+BCD or the all-ReLU network, means over the seeds) "
           "that costs no more; empty where every identity network costs more.", '',
           '| cost in | budget | polynomials: acc % | their cost | best identity network at that cost | its cost | its acc % | polynomials better |',
           '|---|---:|---:|---:|---|---:|---:|---|']
    md += [f"| {r.setting} | {r.budget} | {r.poly_acc:.2f} | {r.cost:.3f} | {r.identity or ''} | {fmt(r.identity_cost)} | {fmt(r.identity_acc)} | "
           f"{'' if r.beats is None else 'yes' if r.beats else 'no'} |" for r in v.itertuples()]
    claim = bench_claim(v)
    md += ['', f"Verdict: {claim['verdict']}. {claim['measured']}", '', '![accuracy against ReLUs, bytes and WAN seconds](poly.png)', '']
    bench = Path(a.bench)
    if (bench / 'config.json').exists():   # the claims table of results/bench/bench.md gets the verdict as a row
        from relu_nb.bench import bench_report
        atomic_write(bench / 'claims_poly.json', lambda t: t.write_text(json.dumps([claim], indent=1)))
        bench_report(bench)
    atomic_write(out / 'poly.md', lambda t: t.write_text('\n'.join(md)))
    fig, axs = plt.subplots(1, 4, figsize=(17, 4), sharey=True)
    for ax, col, lab, log in zip(axs, ['relus', 'MB cheetah/public', 'MB semi2k/public', 'WAN cheetah/public'],
                                 ['ReLUs', 'MB, CHEETAH, public weights', 'MB, SEMI2K, public weights', 'WAN seconds, CHEETAH, public weights'], [True, True, True, False]):
        for m_, d in g.groupby('method', sort=False):
            d = d.sort_values(col)
            ax.errorbar(d[col], 100 * d.accuracy, yerr=[100 * (d.accuracy - d.acc_min), 100 * (d.acc_max - d.accuracy)], fmt=STYLE[m_], capsize=3, label=LABEL[m_], ms=5)
        ax.set_xlabel(lab); ax.grid(alpha=0.3)
        if log: ax.set_xscale('log'); ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axs[0].set_ylabel('test accuracy after the KD finetune, %'); axs[0].legend(fontsize=8, loc='lower right')
    fig.suptitle('MNIST-1D, 1-D ResNet: SNL with the identity, with polynomials, and SNL+BCD at equal training; cost priced by spu_cost', fontsize=10)
    fig.tight_layout(); save_figure(fig, out / 'poly.png', dpi=90)
    print('\n'.join(md))

if a.report: report(); raise SystemExit

from relu_nb.pipeline import SNL_TRACK
from relu_nb.snl import snl
from relu_nb.bcd import bcd
from relu_nb.masked import poly_counts
from mnist1d_units import Units

U = Units(work, a.epochs, a.valid_pct)   # the split, the test loader, the recipe and each seed's all-ReLU network
dls, test, rec, xb, pretrained = U.dls, U.test, U.rec, U.xb, U.pretrained
ds = DATASETS['mnist1d']

def snl_model(base, teacher, seed, budget, replacement):
    "A Learner with the SNL model of (seed, budget, replacement), binarized, before its finetune: trained once, kept in --work"
    f = work / f"snl_{replacement}_s{seed}_b{budget}.pth"
    learn = rec.learner(dls, linearize_(copy.deepcopy(base.model), x=xb[:2]))
    if f.exists():
        st = torch.load(f, weights_only=False); binarize_(learn.model); learn.model.load_state_dict(st['state_dict']); return learn, st
    reseed(seed, dls); t = time.time()
    kw = {} if replacement == 'identity' else dict(replacement=replacement)  # the identity path exactly as relu_nb run calls it
    with learn.no_bar(), learn.no_logging():
        h = snl(learn, budget, epochs=a.snl_epochs, max_epochs=2 * a.snl_epochs, lr=ds['lr'], mask_lr=ds['mask_lr'], teacher=teacher,
                snapshots=False, track=SNL_TRACK, **kw)
    st = dict(state_dict=learn.model.state_dict(), seconds=time.time() - t, epochs_run=len(h))
    save_state(st, f)
    return learn, st

def claim(f):
    "Whether this process takes the row of `f`: the file holds the process that took it; one whose process has ended is taken again"
    try: os.close(os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY)); f.write_text(str(os.getpid())); return True
    except FileExistsError:
        try: os.kill(int(f.read_text() or 0), 0); return int(f.read_text()) == os.getpid()
        except (ProcessLookupError, ValueError): f.write_text(str(os.getpid())); return True

for seed, budget in units:
    base, pre_s = pretrained(seed)
    teacher = copy.deepcopy(base.model).eval()
    for method in a.methods:
        rows_f = work / f"rows_{method}_{seed}_{budget}.json"
        if rows_f.exists() or not claim(work / f"claim_{method}_{seed}_{budget}"): continue  # done, or another process has it
        extra, t_bcd = {}, 0.
        if method == 'snl+bcd':
            learn, st = snl_model(base, teacher, seed, 2 * budget, 'identity')
            reseed(seed, dls); t = time.time()
            h = bcd(learn, budget, drc=max(1, round(0.004 * 2 * budget)), finetune_epochs=0, teacher=teacher, seed=seed, quiet=True)
            t_bcd = time.time() - t
            extra = dict(bcd_steps=len(h), bcd_start=2 * budget)
        else: learn, st = snl_model(base, teacher, seed, budget, 'poly' if method == 'snl-poly' else 'identity')
        snl_relus = kept_relus(learn.model)
        reseed(seed, dls); t = time.time()
        with learn.no_bar(), learn.no_logging(): finetune(learn, teacher, a.finetune_epochs)
        ft_s = time.time() - t
        r = dict(method=method, budget=budget, seed=seed, relus=kept_relus(learn.model), snl_relus=snl_relus, **poly_counts(learn.model),
                 accuracy=valid_accuracy(learn.model, test), valid=valid_accuracy(learn), teacher_accuracy=valid_accuracy(base.model, test),
                 pretrain_epochs=a.epochs, snl_epochs=a.snl_epochs, snl_epochs_run=st['epochs_run'], finetune_epochs=a.finetune_epochs,
                 seconds=dict(pretraining=pre_s, snl=st['seconds'], bcd=t_bcd, finetune=ft_s), threads=torch.get_num_threads(), **extra)
        save_state(dict(state_dict=learn.model.state_dict()), final_file(r))
        atomic_write(rows_f, lambda tmp: tmp.write_text(json.dumps([r], indent=1)))
        print(f"seed {seed} budget {budget} {method}: {r['relus']} ReLUs, {r['poly_units']} polynomial units, test {r['accuracy']:.4f}, "
              f"valid {r['valid']:.4f}; SNL {st['seconds']:.0f} s, BCD {t_bcd:.0f} s, finetune {ft_s:.0f} s", flush=True)
