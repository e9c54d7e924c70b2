"""Where the time of the main job goes: a pretraining epoch, an SNL epoch and a KD finetune epoch, split per phase of a batch
and per callback, before and after the changes of issue 27 (a teacher whose logits are computed once, the thresholded
evaluation every 5th SNL epoch), in one run.

    python benchmarks/profile_run.py [--arch resnet1d|resnet18] [--device cuda] [--out results/profile/ARCH_DEVICE.json]

resnet1d trains on MNIST-1D as `relu_nb run` does (batch 128, its learning rates and teacher); resnet18 on CIFAR-shaped
random images (3x32x32, 10 classes, crops and flips as cifar_dls, so its teacher stays live). Every event of fastai's
Learner is timed (each callback alone, and the work between two events: forward, loss, backward, optimizer step, data
loading), with torch.cuda.synchronize() at each clock read on a GPU. The table gives seconds per epoch and each
epoch's ratio to a pretraining epoch measured in the same run.
"""
import argparse, json, os, platform, time
from collections import defaultdict
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--arch', default='resnet1d', choices=('resnet1d', 'resnet18'))
p.add_argument('--device', default=None, help="'cpu' or 'cuda' (default: cuda when there is one)")
p.add_argument('--epochs', type=int, default=3, help='epochs of pretraining and of each KD finetune profiled')
p.add_argument('--snl-epochs', type=int, default=5, help='SNL epochs profiled (of a 40-epoch plan): one thresholded evaluation in 5 after')
p.add_argument('--n-train', type=int, default=512, help='resnet18: random training images (MNIST-1D has its 8,000)')
p.add_argument('--out', default=None, help='JSON file (default: results/profile/ARCH_DEVICE.json)')
a = p.parse_args()
if min(a.epochs, a.snl_epochs, a.n_train) < 1: p.error('--epochs, --snl-epochs and --n-train must be at least 1')

import copy, torch, torch.nn as nn
from functools import partial
from fastai.learner import Learner
from fastai.callback.core import Callback, CancelFitException
from fastai.metrics import accuracy
import relu_nb.distill, relu_nb.snl
from relu_nb.masked import linearize_, total_relus
from relu_nb.core import reseed
from relu_nb.data import mnist1d_dls, tensor_dls, TensorDS, ImageBatchTfm
from relu_nb.distill import DistillCallback, pretrain, finetune
from relu_nb.models import make_model
from relu_nb.pipeline import SNL_TRACK
from relu_nb.snl import snl

dev = torch.device(a.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
def now(): sync(); return time.perf_counter()

# what happens between two events of a batch (fastai's Learner.one_batch and _do_one_batch)
BETWEEN = {('before_batch', 'after_pred'): 'forward', ('after_pred', 'after_loss'): 'loss', ('before_backward', 'after_backward'): 'backward',
           ('before_step', 'after_step'): 'optimizer step', ('after_step', 'after_batch'): 'zero_grad',
           ('after_batch', 'before_batch'): 'data loading', ('before_train', 'before_batch'): 'data loading',
           ('before_validate', 'before_batch'): 'data loading', ('after_batch', 'after_train'): 'data loading',
           ('after_batch', 'after_validate'): 'data loading'}

class Profile:
    "Patches Learner._call_one: the seconds of each (callback, event), and of the work between consecutive events"
    def __init__(self): self.t, self.last, self.training = defaultdict(float), None, True
    def __enter__(self):
        self.orig, prof = Learner._call_one, self
        def call_one(learn, event):
            t = now()
            if prof.last is not None:
                what = BETWEEN.get((prof.last[0], event), 'fastai, other')
                prof.t[('valid ' if not getattr(learn, 'training', True) and what in ('forward', 'loss', 'data loading') else '') + what] += t - prof.last[1]
            for cb in learn.cbs.sorted('order'):
                t0 = now()
                try: cb(event)
                finally:  # also when the callback cancels the batch, epoch or fit: its time is counted once
                    prof.t[f"{type(cb).__name__}.{event}"] += now() - t0; prof.last = (event, now())
        Learner._call_one = call_one
        return self
    def __exit__(self, *exc): Learner._call_one = self.orig

class StopAfter(Callback):
    "End the fit after `n` epochs (SNL would go on to its budget)"
    order = 100
    def __init__(self, n): self.n = n
    def after_epoch(self):
        if self.epoch + 1 >= self.n: raise CancelFitException()

def data():
    if a.arch == 'resnet1d': return mnist1d_dls(bs=128, device=dev), 10
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 256, (a.n_train, 3, 32, 32), generator=g, dtype=torch.uint8), torch.randint(0, 10, (a.n_train,), generator=g)
    xv, yv = torch.randint(0, 256, (128, 3, 32, 32), generator=g, dtype=torch.uint8), torch.randint(0, 10, (128,), generator=g)
    tfm = ImageBatchTfm((0.5,) * 3, (0.25,) * 3, pad=4, flip=True)  # as cifar_dls: the teacher stays live
    return tensor_dls(TensorDS(x, y, list('0123456789')), TensorDS(xv, yv, list('0123456789')), 32,
                      train_tfm=tfm, valid_tfm=ImageBatchTfm((0.5,) * 3, (0.25,) * 3), device=dev), 10

def profiled(fn, epochs):
    "(seconds of fn's fit per epoch, {component: seconds per epoch}, seconds outside the fit)"
    with Profile() as pr:
        t = now(); fn(); total = now() - t
    fit = sum(pr.t.values())
    return fit / epochs, {k: v / epochs for k, v in pr.t.items()}, total - fit

dls, n_cls = data()
xb = dls.valid.one_batch()[0]
learner = lambda m: Learner(dls, m.to(dev), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
reseed(0, dls)
base = learner(make_model(a.arch, n_cls))
res, rows = {}, []
def record(stage, variant, per_epoch, parts, outside):
    res[(stage, variant)] = per_epoch
    for k, v in sorted(parts.items(), key=lambda kv: -kv[1]):
        if v > 0.002 * per_epoch: rows.append(dict(stage=stage, variant=variant, component=k, seconds_per_epoch=v, share=v / per_epoch))
    rows.append(dict(stage=stage, variant=variant, component='outside the fit (setup, once)', seconds_per_epoch=None, seconds=outside))
    print(f"{stage}, {variant}: {per_epoch:.3f} s per epoch", flush=True)

with base.no_bar(), base.no_logging(): record('pretraining', 'as before', *profiled(lambda: pretrain(base, a.epochs), a.epochs))
teacher = copy.deepcopy(base.model).eval()
live = partial(DistillCallback, cache=False)
for variant, track, dc in (('as before', True, live), ('now', SNL_TRACK, DistillCallback)):
    relu_nb.snl.DistillCallback = relu_nb.distill.DistillCallback = dc  # finetune and snl build their DistillCallback by this name
    try:
        reseed(0, dls)
        learn = learner(linearize_(copy.deepcopy(base.model).cpu(), x=xb[:2].cpu()))
        run = lambda: snl(learn, max(1, int(0.1 * total_relus(learn.model))), epochs=40, max_epochs=80, lr=1e-3,
                          mask_lr=3e-3 if a.arch == 'resnet1d' else 1e-3, teacher=teacher, snapshots=False, track=track, cbs=[StopAfter(a.snl_epochs)])
        with learn.no_bar(), learn.no_logging(): record('SNL', variant, *profiled(run, a.snl_epochs))
        with learn.no_bar(), learn.no_logging(): record('KD finetune', variant, *profiled(lambda: finetune(learn, teacher, a.epochs), a.epochs))
    finally: relu_nb.snl.DistillCallback = relu_nb.distill.DistillCallback = DistillCallback

pre = res[('pretraining', 'as before')]
ratios = {f"{s}, {v}": e / pre for (s, v), e in res.items()}
print(f"\n{a.arch} on {dev}, torch threads {torch.get_num_threads()}: seconds per epoch and ratio to a pretraining epoch")
for k, r in ratios.items(): print(f"  {k:28s} {res[tuple(k.split(', '))]:8.3f} s  {r:5.2f}x")
for stage in ('SNL', 'KD finetune'):
    for variant in ('as before', 'now'):
        print(f"\n{stage}, {variant}:")
        for r in rows:
            if (r['stage'], r['variant']) == (stage, variant):
                print(f"  {r['component']:40s} " + (f"{r['seconds_per_epoch']:7.3f} s {r['share']:6.1%}" if r['seconds_per_epoch'] is not None else f"{r['seconds']:7.3f} s once"))
out = Path(a.out or f"results/profile/{a.arch}_{dev.type}.json")
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps(dict(arch=a.arch, device=str(dev), device_name=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or 'cpu',
                               threads=torch.get_num_threads(), omp=os.environ.get('OMP_NUM_THREADS', 'default'), torch=torch.__version__,
                               epochs=a.epochs, snl_epochs=a.snl_epochs, seconds_per_epoch={f"{s}, {v}": e for (s, v), e in res.items()},
                               ratio_to_pretraining=ratios, rows=rows), indent=1))
print('wrote', out)
