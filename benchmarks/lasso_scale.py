"""Where `lasso='auto'` puts SNL's lambda0: the median mask gradient of a CIFAR-shaped ResNet18, and of the MNIST-1D 1-D ResNet.

    python benchmarks/lasso_scale.py [--epochs 8] [--frac 30] [--out results/lasso_scale.json]

CIFAR cannot be downloaded on the machines this project is built on, so the ResNet18 (491,520 ReLUs at 32x32)
is trained on a stand-in of CIFAR's shape: scikit-learn's 1,797 handwritten digits, upsampled to 3x32x32
(1,400 to train, the rest to validate), with fastai's one-cycle Adam. The median mask gradient is measured
(`relu_nb.snl.mask_grad_median`, 2,048 fixed training samples or all there are) with random weights and
after training, and compared with the 1-D ResNet pretrained on MNIST-1D with the SNL paper's recipe.
lambda0 = frac x median is what `snl(lasso='auto', lasso_frac=frac)` would start from; the paper uses 1e-5
for ResNet18 on CIFAR.
"""
import argparse, copy, json, os, platform, time
import torch, torch.nn as nn, torch.nn.functional as F
from fastai.learner import Learner
from fastai.metrics import accuracy
from fastai.callback.schedule import fit_one_cycle  # patches Learner.fit_one_cycle
from relu_nb.masked import linearize_
from relu_nb.models import resnet18, resnet1d
from relu_nb.data import TensorDS, tensor_dls, mnist1d_dls
from relu_nb.core import reseed
from relu_nb.snl import mask_grad_median, pretrain

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--epochs', type=int, default=8, help='one-cycle epochs of the ResNet18 on the stand-in')
p.add_argument('--frac', type=float, default=30., help='lasso_frac to report lambda0 for')
p.add_argument('--out', default='results/lasso_scale.json')
a = p.parse_args()

def median_of(learn, x2):
    m = Learner(learn.dls, linearize_(copy.deepcopy(learn.model), x=x2), loss_func=nn.CrossEntropyLoss())
    return mask_grad_median(m)

from sklearn.datasets import load_digits
d = load_digits()
x = F.interpolate(torch.tensor(d.images, dtype=torch.float32)[:, None] / 16., size=32, mode='bilinear').expand(-1, 3, -1, -1)
x = ((x - x.mean()) / x.std()).contiguous()
y = torch.tensor(d.target)
perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
tr, va = perm[:1400], perm[1400:]
vocab = [str(i) for i in range(10)]
dls = tensor_dls(TensorDS(x[tr], y[tr], vocab), TensorDS(x[va], y[va], vocab), bs=64, device='cpu')
reseed(0, dls)
r18 = Learner(dls, resnet18(num_classes=10), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
res = dict(frac=a.frac, paper_lambda0=1e-5)
res['resnet18_random'] = dict(median=median_of(r18, x[:2]))
t = time.time()
with r18.no_bar(), r18.no_logging(): r18.fit_one_cycle(a.epochs, 3e-3)
with r18.no_bar(): vl, va_acc = r18.validate()
with torch.no_grad(): r18.model.eval(); tl = float(F.cross_entropy(r18.model(x[tr][:512]), y[tr][:512]))
res['resnet18_trained'] = dict(median=median_of(r18, x[:2]), valid_acc=float(va_acc), train_loss=tl, epochs=a.epochs, seconds=time.time() - t)

mdls = mnist1d_dls()
reseed(0, mdls)
r1 = Learner(mdls, resnet1d(), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
with r1.no_bar(), r1.no_logging(): pretrain(r1, 20)
with r1.no_bar(): vl1, acc1 = r1.validate()
res['resnet1d_mnist1d'] = dict(median=median_of(r1, mdls.one_batch()[0][:2]), valid_acc=float(acc1), epochs=20)
for k in ('resnet18_random', 'resnet18_trained', 'resnet1d_mnist1d'): res[k]['lambda0'] = a.frac * res[k]['median']
res.update(threads=torch.get_num_threads(), torch=torch.__version__, machine=platform.machine())
for k in ('resnet18_random', 'resnet18_trained', 'resnet1d_mnist1d'):
    r = res[k]
    print(f"{k:18s} median |dL/dalpha| {r['median']:.3g}  ->  lambda0 = {a.frac:g} x median = {r['lambda0']:.3g}" +
          (f"  (valid acc {r['valid_acc']:.3f})" if 'valid_acc' in r else ''))
print(f"the paper's lambda0 for ResNet18 on CIFAR: {res['paper_lambda0']:g}")
os.makedirs(os.path.dirname(a.out) or '.', exist_ok=True)
json.dump(res, open(a.out, 'w'), indent=1)
