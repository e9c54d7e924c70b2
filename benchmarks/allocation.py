"""The allocation sweep of the main job: SNL epochs crossed with KD finetune epochs, at two budgets and three seeds, on
MNIST-1D with a validation split carved from the training data, to choose `relu_nb run`'s default by validation accuracy.

    python benchmarks/allocation.py [--units 0:768 0:240 ...] [--out results/allocation] [--work /tmp/relu_nb_allocation]
    python benchmarks/allocation.py --report      # the table, the plot and the choice, from rows.json

Each unit (seed:budget) pretrains the all-ReLU 1-D ResNet as `relu_nb run` does (the paper recipe, 20 epochs; once per
seed, kept in --work), runs SNL paced to each --snl-epochs on a copy, and finetunes each SNL model with KD for each
--finetune-epochs. The 8,000 training samples are split 90/10 per class (`holdout_split`, seed 0): the models train on
7,200 and are scored on the 800 held out (`valid`); MNIST-1D's 2,000 test samples give `finetuned`, read only for the
report. A row per (budget, snl_epochs, finetune_epochs, seed) goes to OUT/rows.json as soon as it is done; a unit run
again skips the rows it has. Two processes can share the work (different --units, OMP_NUM_THREADS=1 each).

The choice, by Breiman's one-standard-error rule: per configuration, the mean validation accuracy over both budgets and
all seeds; the best configuration's lead over each other one, paired by (seed, budget), has a standard error; among
the configurations that reached the budget in every run and trail the best by at most one standard error, the one
with the fewest epochs (pretraining + SNL epochs run + finetune epochs; an epoch of each costs within 1.2x of a
pretraining epoch, benchmarks/profile_run.py), which unlike the seconds does not depend on what else ran on the machine.
(A fixed tolerance of 0.25 points, the first rule written here, is tighter than the noise of 800 validation samples and
picked the longest configuration: --tolerance 0.0025 applies it.)
"""
import argparse, json, os, time
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--units', nargs='*', default=[f"{s}:{b}" for s in (0, 1, 2) for b in (768, 240)], help='seed:budget pairs to run')
p.add_argument('--snl-epochs', type=int, nargs='+', default=[20, 40, 80])
p.add_argument('--finetune-epochs', type=int, nargs='+', default=[10, 20, 40])
p.add_argument('--epochs', type=int, default=20, help='pretraining epochs')
p.add_argument('--valid-pct', type=float, default=0.1)
p.add_argument('--out', default='results/allocation'); p.add_argument('--work', default='/tmp/relu_nb_allocation')
p.add_argument('--tolerance', type=float, default=None, help='a fixed tolerance instead of one standard error (e.g. 0.0025)')
p.add_argument('--report', action='store_true', help='only write the table, plot and choice from OUT/rows.json')
a = p.parse_args()
try: units = [tuple(map(int, u.split(':'))) for u in a.units]
except ValueError: p.error(f"--units takes seed:budget pairs such as 0:768, got {' '.join(a.units)}")
out, work = Path(a.out), Path(a.work)
out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
KEY = ('budget', 'snl_epochs', 'finetune_epochs', 'seed')

def merged():
    "Every row written so far (the per-seed files in --work and OUT/rows.json), one per key, sorted"
    rows = {}
    for f in [out / 'rows.json', *sorted(work.glob('rows_*.json'))]:
        if f.exists():
            for r in json.loads(f.read_text()): rows[tuple(r[k] for k in KEY)] = r
    return [rows[k] for k in sorted(rows)]

def report():
    import pandas as pd, matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from relu_nb.core import atomic_write, save_figure
    rows = merged()
    atomic_write(out / 'rows.json', lambda t: t.write_text(json.dumps(rows, indent=1)))
    df = pd.DataFrame(rows)
    df['run_s'] = [sum(r['seconds'].values()) for r in rows]
    cfg = ['snl_epochs', 'finetune_epochs']
    df['run_epochs'] = df.pretrain_epochs + df.snl_epochs_run + df.finetune_epochs
    g = df.groupby(cfg + ['budget']).agg(valid=('valid', 'mean'), test=('finetuned', 'mean'), test_min=('finetuned', 'min'),
                                         run_s=('run_s', 'mean'), run_epochs=('run_epochs', 'mean'), seeds=('seed', 'count')).reset_index()
    df['reached'], df['run_epochs'] = df.relus <= df.budget, df.pretrain_epochs + df.snl_epochs_run + df.finetune_epochs
    score = df.groupby(cfg).agg(valid=('valid', 'mean'), run_s=('run_s', 'mean'), run_epochs=('run_epochs', 'mean'),
                                reached=('reached', 'all'), seeds=('seed', 'nunique')).reset_index()
    paired = df.pivot_table(index=['budget', 'seed'], columns=cfg, values='valid')
    top = paired.mean().idxmax()
    lead = paired[top].values[:, None] - paired.values  # the best's lead over each configuration, per (budget, seed)
    se = dict(zip(paired.columns, lead.std(0, ddof=1) / len(paired) ** 0.5))
    score['lead'] = [paired[top].mean() - v for v in score.valid]
    score['se'] = [se[(e, f)] for e, f in zip(score.snl_epochs, score.finetune_epochs)]
    score['within'] = (score.lead <= (score.se if a.tolerance is None else a.tolerance)) | (score.lead <= 0)  # the best is within (one unit: se NaN)
    ok = score[score.reached] if score.reached.any() else score  # (a smoke run with too few epochs reaches no budget)
    best = ok[ok.within].sort_values(['run_epochs', 'run_s']).iloc[0]
    rule = ('the fewest epochs within one standard error (paired over budgets and seeds) of the best mean validation accuracy'
            if a.tolerance is None else f'the fewest epochs within {100 * a.tolerance:g} points of the best mean validation accuracy')
    chosen = dict(snl_epochs=int(best.snl_epochs), finetune_epochs=int(best.finetune_epochs), valid=float(best.valid), run_s=float(best.run_s),
                  run_epochs=float(best.run_epochs), best=dict(snl_epochs=int(top[0]), finetune_epochs=int(top[1]), valid=float(paired[top].mean())),
                  lead=float(best.lead), se=float(best.se), rule=rule)
    md = ['# Allocation sweep: SNL epochs x KD finetune epochs (MNIST-1D, 1-D ResNet)', '',
          f"`python benchmarks/allocation.py`: pretraining {rows[0]['pretrain_epochs']} epochs, trained on 7,200 samples, validation = 800 "
          "held out of the training data, test = MNIST-1D's 2,000; means over the seeds; seconds on this CPU (one thread per process, "
          "two processes at a time, other work beside them: the plot's cost is the epochs).", '',
          '| budget | SNL epochs | finetune epochs | seeds | valid % | test % (mean) | test % (lowest) | run s |', '|---:|---:|---:|---:|---:|---:|---:|---:|']
    md += [f"| {r.budget} | {r.snl_epochs} | {r.finetune_epochs} | {r.seeds} | {100 * r.valid:.2f} | {100 * r.test:.2f} | {100 * r.test_min:.2f} | {r.run_s:.0f} |"
           for r in g.sort_values(['budget', 'snl_epochs', 'finetune_epochs'], ascending=[False, True, True]).itertuples()]
    md += ['', f"Chosen by validation accuracy (the mean over both budgets and the seeds), by {rule}: "
           f"**{chosen['snl_epochs']} SNL epochs, {chosen['finetune_epochs']} finetune epochs** (validation {100 * chosen['valid']:.2f}%, "
           f"{chosen['run_s']:.0f} s a run here; the best, {chosen['best']['snl_epochs']} and {chosen['best']['finetune_epochs']}, leads it by "
           f"{100 * chosen['lead']:.2f} points, one standard error {100 * chosen['se']:.2f}). Its test accuracy: " +
           ', '.join(f"{100 * r.test:.2f}% at {r.budget}" for r in g[(g.snl_epochs == chosen['snl_epochs']) & (g.finetune_epochs == chosen['finetune_epochs'])].itertuples()) + '.', '',
           '![accuracy against the epochs of a run](allocation.png)', '']
    atomic_write(out / 'allocation.md', lambda t: t.write_text('\n'.join(md)))
    atomic_write(out / 'chosen.json', lambda t: t.write_text(json.dumps(chosen, indent=1)))
    fig, axs = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    for ax, b in zip(axs, sorted(g.budget.unique(), reverse=True)):
        for (e, d), c in zip(g[g.budget == b].groupby('snl_epochs'), ('C0', 'C1', 'C2', 'C3', 'C4')):
            ax.plot(d.run_epochs, 100 * d.valid, 'o-', color=c, label=f"{e} SNL epochs: validation")
            ax.plot(d.run_epochs, 100 * d.test, 'x--', color=c, alpha=0.6, label=f"{e} SNL epochs: test")
            for r in d.itertuples(): ax.annotate(f"ft {r.finetune_epochs}", (r.run_epochs, 100 * r.valid), fontsize=7, xytext=(3, 3), textcoords='offset points')
        ax.set_title(f"{b} ReLUs"); ax.set_xlabel('epochs of a run (pretraining + SNL + finetune)'); ax.set_ylabel('accuracy after the finetune, %')
    axs[0].legend(fontsize=7)
    fig.tight_layout(); save_figure(fig, out / 'allocation.png', dpi=100)
    print('\n'.join(md))

if a.report: report(); raise SystemExit

import copy, torch
from relu_nb.core import reseed, atomic_write, save_state
from relu_nb.distill import finetune, valid_accuracy
from relu_nb.masked import linearize_, kept_relus, binarize_
from relu_nb.pipeline import SNL_TRACK
from mnist1d_units import Units
from relu_nb.settings import DATASETS
from relu_nb.snl import snl

U = Units(work, a.epochs, a.valid_pct)   # the split, the test loader, the recipe and each seed's all-ReLU network
dls, test, rec, xb, pretrained = U.dls, U.test, U.rec, U.xb, U.pretrained
ds = DATASETS['mnist1d']
for seed, budget in units:
    rows_f = work / f"rows_{seed}_{budget}.json"
    rows = json.loads(rows_f.read_text()) if rows_f.exists() else []
    done = {tuple(r[k] for k in KEY) for r in rows}
    base, pre_s = pretrained(seed)
    teacher = copy.deepcopy(base.model).eval()
    teacher_acc = dict(teacher_valid=valid_accuracy(base), teacher_test=valid_accuracy(base.model, test))  # once per unit
    for e in a.snl_epochs:
        if all((budget, e, f, seed) in done for f in a.finetune_epochs): continue
        sf = work / f"snl_seed{seed}_b{budget}_e{e}.pth"
        learn = rec.learner(dls, linearize_(copy.deepcopy(base.model), x=xb[:2]))
        if sf.exists():
            st = torch.load(sf, weights_only=False); binarize_(learn.model); learn.model.load_state_dict(st['state_dict'])
        else:
            reseed(seed, dls); t = time.time()
            with learn.no_bar(), learn.no_logging():
                h = snl(learn, budget, epochs=e, max_epochs=2 * e, lr=ds['lr'], mask_lr=ds['mask_lr'], teacher=teacher, snapshots=False, track=SNL_TRACK)
            st = dict(state_dict=learn.model.state_dict(), seconds=time.time() - t, epochs_run=len(h))
            save_state(st, sf)
        snl_state = copy.deepcopy(learn.model.state_dict())
        for f in a.finetune_epochs:
            if (budget, e, f, seed) in done: continue
            learn.model.load_state_dict(snl_state)
            reseed(seed, dls); t = time.time()
            with learn.no_bar(), learn.no_logging(): finetune(learn, teacher, f)
            ft_s = time.time() - t
            rows.append(dict(budget=budget, snl_epochs=e, finetune_epochs=f, seed=seed, pretrain_epochs=a.epochs, snl_epochs_run=st['epochs_run'],
                             relus=kept_relus(learn.model), valid=valid_accuracy(learn), finetuned=valid_accuracy(learn.model, test),
                             **teacher_acc,
                             seconds=dict(pretraining=pre_s, snl=st['seconds'], finetune=ft_s),
                             threads=torch.get_num_threads()))
            atomic_write(rows_f, lambda tmp: tmp.write_text(json.dumps(rows, indent=1)))
            r = rows[-1]
            print(f"seed {seed} budget {budget}: SNL {e} (ran {r['snl_epochs_run']}), finetune {f}: {r['relus']} ReLUs, valid {r['valid']:.4f}, "
                  f"test {r['finetuned']:.4f}; {st['seconds']:.0f} s + {ft_s:.0f} s", flush=True)
report()
