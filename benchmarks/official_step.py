"""Seconds of one SNL training step, relu_nb's against the official SNL code's, each as a ratio to a plain step, in one run.

ResNet18 (relu_nb.models.resnet18), CIFAR-shaped random inputs (3x32x32, 10 classes), one thread:
  plain                       the all-ReLU model, torch SGD (lr 0.1, momentum 0.9, wd 5e-4), cross-entropy
  relu_nb SNL + KD            linearize_ (per-pixel masks) in a fastai Learner, trained by relu_nb.snl.snl itself (its
                              callbacks, two parameter groups, Adam) with the teacher live (these loaders are fastai's)
  relu_nb SNL, no teacher     the same without a teacher
  official SNL + KD           our re-implementation of one step of mask_train_kd_unstructured (utils.py of
                              github.com/NYU-DICE-Lab/selective_network_linearization): LearnableAlpha masks, the Lasso
                              as a sum of torch.norm(alpha, p=1), a teacher forward WITH autograd (their KD term is not
                              detached, so the backward runs through the teacher too), loss.item(), Adam on all parameters
  official, teacher no_grad   the same with the teacher's forward under torch.no_grad (what their choice costs)
The variants are interleaved; in each repeat every variant starts from a fresh copy of its model and optimizer and runs
warm-up + timed steps. A step is timed from before the forward to after the optimizer step (all fastai callbacks
included). Reported: the median over all timed steps and its ratio to the plain step of the same run.

    OMP_NUM_THREADS=1 python benchmarks/official_step.py [--bs 32] [--steps 10] [--repeats 5] [--warmup 3] [--device cuda]
"""
import argparse
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--bs', type=int, default=32); p.add_argument('--steps', type=int, default=10)
p.add_argument('--repeats', type=int, default=5); p.add_argument('--warmup', type=int, default=3)
p.add_argument('--device', default='cpu'); p.add_argument('--out', default='results/official_step.json')
a = p.parse_args()

import copy, json, os, statistics, time, warnings
import torch, torch.nn as nn, torch.nn.functional as F
from relu_nb.masked import linearize_, MaskedReLU  # first: it quiets fastai's torch.jit warning
from relu_nb.models import make_model
from relu_nb.snl import snl
warnings.filterwarnings('ignore', message='SNL did not reach the budget')  # budget 1: the steps never stop
from torch.utils.data import TensorDataset
from fastai.callback.core import Callback
from fastai.data.core import DataLoaders
from fastai.learner import Learner

torch.set_num_threads(1)
dev = torch.device(a.device)
def now():
    if dev.type == 'cuda': torch.cuda.synchronize()
    return time.perf_counter()

torch.manual_seed(0)
n = a.warmup + a.steps
x, y = torch.randn(a.bs * n, 3, 32, 32), torch.randint(0, 10, (a.bs * n,))
batches = [(x[i:i + a.bs].to(dev), y[i:i + a.bs].to(dev)) for i in range(0, len(y), a.bs)]
dls = DataLoaders.from_dsets(TensorDataset(x, y), TensorDataset(x[:a.bs], y[:a.bs]), bs=a.bs, device=dev, num_workers=0)
plain0 = make_model('resnet18', 10).to(dev)
teacher = copy.deepcopy(plain0)  # relu_nb's teacher: the all-ReLU model
snl0 = linearize_(copy.deepcopy(plain0), x=batches[0][0][:2])

# (a) plain step
def plain_times():
    m = copy.deepcopy(plain0).train()
    opt, ts = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4), []
    for xb, yb in batches:
        t0 = now(); opt.zero_grad(); F.cross_entropy(m(xb), yb).backward(); opt.step(); ts.append(now() - t0)
    return ts[a.warmup:]

# (b) relu_nb: the mask phase of snl, with the paper's lambda0 = 1e-5 and a budget it never reaches

class StartClock(Callback):
    "Starts the clock before every other callback's before_batch"
    order = -1000
    def __init__(self, ts): self.ts = ts
    def before_batch(self):
        if self.training: self.ts.append(-now())

class StopClock(Callback):
    "Stops it after every other callback's after_batch (the ReLU count, the schedule, the budget check)"
    order = 1000
    def __init__(self, ts): self.ts = ts
    def after_batch(self):
        if self.training: self.ts[-1] += now()

def relu_nb_times(kd):
    ts = []
    learn = Learner(dls, copy.deepcopy(snl0), loss_func=nn.CrossEntropyLoss())
    with learn.no_bar(), learn.no_logging():  # one epoch of the paper's schedule; recalibrating and tracking come after the steps
        snl(learn, 1, lasso=1e-5, max_epochs=1, teacher=teacher if kd else None, track=False, snapshots=False, recalibrate=False,
            cbs=[StartClock(ts), StopClock(ts)])
    return ts[a.warmup:]

# (c) the official step, re-implemented
class LearnableAlpha(nn.Module):
    "Official per-pixel mask: a (1, C, H, W) parameter at 1, applied as relu(x) * alpha + (1 - alpha) * x on expanded views"
    def __init__(self, shape):
        super().__init__(); self.alphas = nn.Parameter(torch.ones(1, *shape))
    def forward(self, x):
        a = self.alphas.expand_as(x)
        return F.relu(x) * a + (1 - a) * x

off0 = copy.deepcopy(snl0)  # the same network, every MaskedReLU replaced by a LearnableAlpha of its feature shape
for name, mod in list(off0.named_modules()):
    if isinstance(mod, MaskedReLU):
        parent, _, attr = name.rpartition('.'); setattr(off0.get_submodule(parent), attr, LearnableAlpha(mod.feature_shape))
off0.to(dev)

def soft_target(s, t, T=4.):
    "Their KD loss (SoftTarget(4.0)): KL(softmax(t/T) || softmax(s/T)), batch mean, times T^2; t is not detached"
    return F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1), reduction='batchmean') * T * T

def official_times(teacher_grad=True, lam=1e-5):
    # their teacher is the pretrained masked network itself (masks at 1), in eval mode, every parameter requiring grad
    m, t = copy.deepcopy(off0).train(), copy.deepcopy(off0).eval()
    opt, ts = torch.optim.Adam(m.parameters(), lr=1e-3), []
    for xb, yb in batches:
        t0 = now()
        reg = 0
        for name, prm in m.named_parameters():
            if 'alpha' in name: reg = reg + torch.norm(prm, p=1)
        out = m(xb)
        with torch.set_grad_enabled(teacher_grad): out_t = t(xb)
        loss = F.cross_entropy(out, yb) + soft_target(out, out_t) + lam * reg
        loss.item()  # their AverageMeter update
        opt.zero_grad(); loss.backward(); opt.step()
        ts.append(now() - t0)
    if teacher_grad: official_times.teacher_grads = all(q.grad is not None for q in t.parameters())
    return ts[a.warmup:]

variants = {'plain (SGD, CE)': plain_times,
            'relu_nb SNL + KD': lambda: relu_nb_times(True),
            'relu_nb SNL, no teacher': lambda: relu_nb_times(False),
            'official SNL + KD': official_times,
            'official SNL + KD, teacher no_grad': lambda: official_times(False)}
times = {k: [] for k in variants}
for r in range(a.repeats):
    for k, f in variants.items(): times[k] += f()
    print(f"repeat {r + 1}/{a.repeats}: " + ', '.join(f"{k} {statistics.median(v):.3f}s" for k, v in times.items()), flush=True)

med = {k: statistics.median(v) for k, v in times.items()}
plain, off = med['plain (SGD, CE)'], med['official SNL + KD']
print(f"\nResNet18, batch {a.bs}, {a.device}, torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
      f"median of {a.repeats} x {a.steps} steps\n")
print('| variant | s/step | x plain | x official SNL + KD |\n|---|---:|---:|---:|')
for k, v in med.items(): print(f"| {k} | {v:.3f} | {v / plain:.2f} | {v / off:.2f} |")
ratio = med['relu_nb SNL + KD'] / off
print(f"\nrelu_nb SNL + KD / official SNL + KD = {ratio:.3f} (official teacher gets gradients: {official_times.teacher_grads})")
os.makedirs(os.path.dirname(a.out) or '.', exist_ok=True)
json.dump(dict(arch='resnet18', input=[3, 32, 32], classes=10, bs=a.bs, threads=torch.get_num_threads(), torch=torch.__version__,
               device=a.device, steps=a.steps, repeats=a.repeats, warmup=a.warmup,
               variants={k: dict(median_s=v, ratio_to_plain=v / plain) for k, v in med.items()},
               relu_nb_kd_over_official_kd=ratio,
               relu_nb_kd_over_official_kd_teacher_no_grad=med['relu_nb SNL + KD'] / med['official SNL + KD, teacher no_grad'],
               official_teacher_gets_grads=official_times.teacher_grads), open(a.out, 'w'), indent=1)
print('wrote', a.out)
