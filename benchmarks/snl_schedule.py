"""SNL's length against its accuracy: the paced schedule (the budget in E planned epochs) beside the paper's, on MNIST-1D.

    python benchmarks/snl_schedule.py [--seeds 0 1 2] [--budgets 3840 768 240] [--epochs 10 20 40 80] [--paper]
                                      [--out results/snl_schedule]

For each seed, the 1-D ResNet is pretrained once with the SNL paper's recipe (20 epochs, `pretrain`). For each budget
and each planned length E, `snl(budget=B, epochs=E)` linearizes a copy (the calibrated lambda0, mask_lr 3e-3, the
all-ReLU network as teacher), then the KD finetune of `relu_nb run` (10 epochs) follows; `--paper` adds the paper's
schedule (`epochs=None`) with the same finetune. One row per run goes to OUT/rows.json as soon as it is done (its SNL history
to OUT/histories/), so an
interrupted run resumes where it stopped, and several processes started alike share the runs (each claims the
next one; on a small machine give each OMP_NUM_THREADS=1). The pretrained networks are kept in OUT/pretrain_seed*.pth (not committed).
"""
import argparse, fcntl, json, os, platform, time
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--budgets', type=int, nargs='+', default=[3840, 768, 240])
p.add_argument('--epochs', type=int, nargs='+', default=[10, 20, 40, 80], help='planned SNL epochs of the paced schedule')
p.add_argument('--paper', action='store_true', help="also run the paper's schedule (lambda times 1.1 when the count stalls)")
p.add_argument('--finetune-epochs', type=int, default=10)
p.add_argument('--out', default='results/snl_schedule')
a = p.parse_args()

import copy, torch, torch.nn as nn
from fastai.learner import Learner
from fastai.metrics import accuracy
from relu_nb.masked import linearize_, kept_relus
from relu_nb.core import atomic_write, reseed
from relu_nb.models import resnet1d
from relu_nb.data import mnist1d_dls
from relu_nb.distill import finetune, valid_accuracy
from relu_nb.snl import snl, pretrain

out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
dls = mnist1d_dls()
xb = dls.one_batch()[0][:2]

class locked:
    "An exclusive lock on OUT/.lock while rows are read and written, or a pretraining is made (workers share the folder)"
    def __enter__(self): self.f = open(out / '.lock', 'w'); fcntl.flock(self.f, fcntl.LOCK_EX)
    def __exit__(self, *exc): fcntl.flock(self.f, fcntl.LOCK_UN); self.f.close()

def rows():
    f = out / 'rows.json'
    return json.loads(f.read_text()) if f.exists() else []

def add(row):
    with locked():
        rs = [r for r in rows() if r['unit'] != row['unit']] + [row]
        atomic_write(out / 'rows.json', lambda t: t.write_text(json.dumps(rs, indent=1)))

def teacher(seed):
    f = out / f'pretrain_seed{seed}.pth'
    with locked():
        if not f.exists():
            reseed(seed, dls)
            learn = Learner(dls, resnet1d(), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
            t = time.perf_counter()
            with learn.no_bar(), learn.no_logging(): pretrain(learn, 20)
            torch.save(dict(state=learn.model.state_dict(), acc=valid_accuracy(learn), seconds=time.perf_counter() - t), f)
    d = torch.load(f)
    m = resnet1d(); m.load_state_dict(d['state'])
    return m.eval(), d

def unit(seed, budget, epochs):
    base, pre = teacher(seed)
    reseed(seed, dls)
    learn = Learner(dls, linearize_(copy.deepcopy(base).train(), x=xb), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging():
        h = snl(learn, budget, epochs=epochs, mask_lr=3e-3, teacher=base, track=False, snapshots=False, max_epochs=2000)
    snl_s = time.perf_counter() - t
    (out / 'histories').mkdir(exist_ok=True)
    h.to_csv(out / 'histories' / f"{name(seed, budget, epochs).replace('/', '_')}.csv", index=False)
    stop, n = h.attrs['stop'], len(dls.train)
    ran = stop['epoch'] + (stop['batch'] + 1) / n if stop else float(len(h))
    acc_before, kept = valid_accuracy(learn), kept_relus(learn.model)
    reseed(seed, dls)
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): finetune(learn, base, a.finetune_epochs)
    return dict(seed=seed, budget=budget, schedule='paper' if epochs is None else 'paced', planned=epochs, snl_epochs=ran,
                relus=kept, in_window=0.97 * budget <= kept <= budget,
                lasso0=h.attrs['lasso0'], lasso_end=float(h.lasso.iloc[-1]), acc_relu=100 * pre['acc'], acc_before=100 * acc_before,
                acc=100 * valid_accuracy(learn), snl_seconds=snl_s, finetune_seconds=time.perf_counter() - t,
                finetune_epochs=a.finetune_epochs, threads=torch.get_num_threads())

todo = [(s, b, e) for s in a.seeds for b in a.budgets for e in a.epochs] + [(s, b, None) for s in a.seeds for b in a.budgets if a.paper]
def name(s, b, e): return f"{'paper' if e is None else f'paced{e}'}@{b}/seed{s}"

def claim():
    "The next run that no row and no live worker holds (a claim names the worker's pid); None when all are taken"
    with locked():
        f = out / 'claims.json'
        claims = {k: pid for k, pid in (json.loads(f.read_text()) if f.exists() else {}).items() if Path(f'/proc/{pid}').exists()}
        done = {r['unit'] for r in rows()}
        key = next((k for k in map(lambda u: name(*u), todo) if k not in done and k not in claims), None)
        if key is not None: claims[key] = os.getpid()
        f.write_text(json.dumps(claims))
    return key

while (key := claim()) is not None:
    s, b, e = next(u for u in todo if name(*u) == key)
    r = unit(s, b, e); r['unit'] = key
    add(r)
    print(f"{key}: {r['relus']} ReLUs after {r['snl_epochs']:.2f} SNL epochs ({r['snl_seconds']:.0f} s), "
          f"{r['acc_before']:.2f}% before and {r['acc']:.2f}% after the finetune", flush=True)
with locked():
    (out / 'environment.json').write_text(json.dumps(dict(torch=torch.__version__, machine=platform.machine(), threads=torch.get_num_threads(),
                                                          finetune_epochs=a.finetune_epochs, mask_lr=3e-3, pretrain_epochs=20), indent=1))
