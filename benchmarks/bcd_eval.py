"""BCD on MNIST-1D: candidate evaluations per second and total wall time, fast mode against the reference mode, in one run.

    python benchmarks/bcd_eval.py [--budget B] [--drc 20] [--rt 50] [--adt 0.3] [--finetune-epochs 1]
                                  [--n-eval 8000] [--repeats 2] [--seeds 0 1 2] [--start PATH]

The starting point (1-D ResNet pretrained 20 epochs with the SNL paper's recipe, SNL to 1,536 ReLUs with the
calibrated defaults and mask_lr=3e-3, 10 KD finetune epochs) is built once and cached at --start.
Both modes run from it to the same budget (default: 100 ReLUs fewer, 5 steps of 20) with the same seed
and random states, --repeats times each in the order reference, fast, fast, reference, ...; further
--seeds run the fast mode only, to show the spread of the final accuracy over seeds.
"""
import argparse, copy, json, os, platform, tempfile, time
from pathlib import Path
import torch, torch.nn as nn
from fastai.learner import Learner
from fastai.metrics import accuracy
from fastai.torch_core import set_seed
from relu_nb.masked import linearize_, kept_relus
from relu_nb.models import resnet1d
from relu_nb.data import mnist1d_dls, mnist1d_tensors
from relu_nb.distill import finetune
from relu_nb.core import reseed
from relu_nb.snl import snl, pretrain
from relu_nb.bcd import bcd
from relu_nb.timing import bench_bcd_eval

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--budget', type=int, default=None, help='target ReLUs (default: start count - 100)')
p.add_argument('--ref-budget', type=int, default=1536, help='SNL budget of the starting point')
p.add_argument('--drc', type=int, default=20); p.add_argument('--rt', type=int, default=50)
p.add_argument('--adt', type=float, default=0.3); p.add_argument('--finetune-epochs', type=int, default=1)
p.add_argument('--finetune-when', default='step', choices=['adt', 'step'], help='step: the same finetune cost in every step')
p.add_argument('--n-eval', type=int, default=8000, help='evaluation samples (8000: the whole training set)')
p.add_argument('--bs', type=int, default=256); p.add_argument('--group', type=int, default=16)
p.add_argument('--repeats', type=int, default=2); p.add_argument('--seeds', type=int, nargs='+', default=[0])
p.add_argument('--start', default=str(Path(tempfile.gettempdir()) / 'relu_nb_bcd_start_resnet1d_v2.pt'))
p.add_argument('--out', default='results/bench_bcd_eval_resnet1d.json')
a = p.parse_args()

set_seed(0)
dls = mnist1d_dls()
xb, _ = dls.one_batch()
new = lambda model: Learner(dls, model, loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
if not os.path.exists(a.start):
    t = time.time(); reseed(0, dls)
    base = new(resnet1d())
    with base.no_bar(), base.no_logging(): pretrain(base, 20)
    st = new(linearize_(copy.deepcopy(base.model), x=xb[:2]))
    reseed(0, dls)
    with st.no_bar(), st.no_logging():
        snl(st, a.ref_budget, mask_lr=3e-3, teacher=base.model)
        finetune(st, base.model, 10)
    torch.save(dict(base=base.model.state_dict(), start=st.model.state_dict()), a.start)
    print(f"built the starting point in {time.time() - t:.0f} s: {a.start}")
ck = torch.load(a.start)
teacher = resnet1d(); teacher.load_state_dict(ck['base']); teacher.to(dls.device)
learn = new(linearize_(resnet1d(), x=xb[:2])); learn.model.load_state_dict(ck['start'])
with learn.no_bar(): start_acc = float(learn.validate()[1])
start = kept_relus(learn.model)
budget = a.budget if a.budget is not None else start - 100
x, y = mnist1d_tensors()[:2]
ev = dict(eval_x=x[:a.n_eval], eval_y=y[:a.n_eval]) if a.n_eval >= len(y) else dict(n_eval=a.n_eval)
kw = dict(drc=a.drc, rt=a.rt, adt=a.adt, finetune_epochs=a.finetune_epochs, finetune_when=a.finetune_when, teacher=teacher,
          bs=a.bs, group=a.group, **ev)

set_seed(a.seeds[0])
df = bench_bcd_eval(learn, budget, repeats=a.repeats, seed=a.seeds[0], **kw)
finals = [float(df.valid_acc.iloc[1])]
for s in a.seeds[1:]:
    learn.model.load_state_dict(ck['start']); set_seed(s)
    bcd(learn, budget, seed=s, quiet=True, **kw)
    with learn.no_bar(): finals.append(float(learn.validate()[1]))

print(f"MNIST-1D, resnet1d, {start} -> {budget} ReLUs (valid acc at start {start_acc:.4f}); drc {a.drc}, rt {a.rt}, "
      f"adt {a.adt}, finetune {a.finetune_epochs} epoch(s) ({a.finetune_when}), {len(y) if 'eval_x' in ev else a.n_eval} eval samples, "
      f"torch threads {torch.get_num_threads()}, device {dls.device}")
print(df.to_string(index=False, float_format='%.4g'))
print(f"candidate evaluations/s: fast {df.attrs['eval_speedup']:.1f}x the reference (work {df.attrs['work_ratio']:.1f}x less); "
      f"BCD wall time: {df.attrs['wall_speedup']:.1f}x; same choices: {df.attrs['same_choices']}")
if len(finals) > 1: print(f"final valid accuracy over seeds {a.seeds} (fast): {[round(float(f), 4) for f in finals]}")
os.makedirs(os.path.dirname(a.out) or '.', exist_ok=True)
json.dump(dict(start_relus=start, budget=budget, start_valid_acc=start_acc, settings=vars(a), threads=torch.get_num_threads(),
               torch=torch.__version__, machine=platform.machine(), device=str(dls.device), results=df.to_dict('records'),
               eval_speedup=df.attrs['eval_speedup'], wall_speedup=df.attrs['wall_speedup'], work_ratio=df.attrs['work_ratio'],
               same_choices=df.attrs['same_choices'], seeds=a.seeds, final_valid_acc_fast=finals), open(a.out, 'w'), indent=1)
print('wrote', a.out)
