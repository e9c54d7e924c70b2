"""Accuracy of trained 1-D ResNets inside SecretFlow SPU on MNIST-1D validation samples, against torch, with a fixed-point ablation.

    OMP_NUM_THREADS=1 python benchmarks/secure_accuracy.py [--n 500] [--models relu_nb_out/secure_accuracy] [--out results/secure_accuracy/secure_accuracy.json]

The networks are built where MODELS does not hold them yet (a folder git ignores), with seed 0:
  all-ReLU and SNL at 768 ReLUs   `relu_nb run --budget 768 --no-secure --out MODELS` (its stage_relu.pth and snl_model.pth)
  SNL at 480 ReLUs                `relu_nb run --budget 480 --no-secure --out MODELS/snl480` (same all-ReLU training)
  SNL+BCD at 240 ReLUs            `bcd` from SNL at 480 with run_bench's settings (DRC 0.4% of 480, RT 50, ADT 0.3, 5 finetune
                                  epochs, a final 10-epoch KD finetune, 2048 evaluation samples, the all-ReLU network as teacher)
Each measurement is a row of OUT, written (atomically) as soon as it ends; rows already in OUT are not measured again, so a stopped
run resumes. The rows: SPU's default fixed point (FM64, 18 fraction bits) under CHEETAH and SEMI2K with public weights, SEMI2K with
secret weights, then the ablation over fraction bits and fields (SEMI2K, public weights; CHEETAH for SNL at 768, on --cheetah-n
samples), and per network the largest value of each operation on the same samples and the share of its weights that round to 0 at
6, 8 and 10 fraction bits (relu_nb.secure.fxp_headroom).
"""
import argparse, json, platform, time
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--n', type=int, default=500, help='validation samples (the first n of MNIST-1D test split)')
p.add_argument('--models', default='relu_nb_out/secure_accuracy', help='where the trained networks are, or are built')
p.add_argument('--out', default='results/secure_accuracy/secure_accuracy.json')
p.add_argument('--cheetah-n', type=int, default=100, help='samples of the CHEETAH rows of the ablation (about 0.5 s a sample here)')
p.add_argument('--no-ablation', action='store_true', help='only the rows at SPU\'s default fixed point')
p.add_argument('--networks', nargs='+', choices=('all-ReLU', 'SNL@768', 'SNL+BCD@240'), help='measure these only (default: all three; '
               'two processes with different networks may share OUT)')
a = p.parse_args()
if a.n < 1 or a.cheetah_n < 1: p.error('--n and --cheetah-n must be at least 1')

import torch, torch.nn as nn
from fastai.learner import Learner
from fastai.metrics import accuracy
from relu_nb.core import atomic_write, reseed
from relu_nb.models import make_model, load_checkpoint, save_checkpoint
from relu_nb.data import mnist1d_dls, mnist1d_tensors
from relu_nb.masked import kept_relus
from relu_nb.bcd import bcd
from relu_nb.distill import valid_accuracy
from relu_nb.pipeline import run_pipeline
from relu_nb.secure import secure_accuracy, fxp_headroom, SPU_VERSION

BCD = dict(drc_share=0.004, rt=50, adt=0.3, finetune_epochs=5, final_epochs=10, n_eval=2048, seed=0)  # run_bench's defaults
M, out = Path(a.models), Path(a.out)

def snl_model(budget, folder):
    "SNL at `budget` (binarized, KD-finetuned) from `relu_nb run`, run here if its checkpoint is missing"
    if not (folder / 'snl_model.pth').exists(): run_pipeline(budget=budget, out=str(folder), secure=False, quiet=True, wait=True)
    return load_checkpoint(folder / 'snl_model.pth')

def all_relu():
    snl_model(768, M)  # its run trains the all-ReLU network first
    m = make_model('resnet1d', 10); m.load_state_dict(torch.load(M / 'stage_relu.pth', weights_only=False)['state_dict'])
    return m.eval()

def bcd_model(teacher):
    f = M / 'bcd_240.pth'
    if f.exists(): return load_checkpoint(f)
    dls = mnist1d_dls(bs=128, device='cpu')
    learn = Learner(dls, snl_model(480, M / 'snl480'), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
    start = kept_relus(learn.model); reseed(0, dls); t = time.time()
    bcd(learn, 240, drc=max(1, round(BCD['drc_share'] * start)), rt=BCD['rt'], adt=BCD['adt'], finetune_epochs=BCD['finetune_epochs'],
        final_epochs=BCD['final_epochs'], teacher=teacher, n_eval=BCD['n_eval'], seed=BCD['seed'], checkpoint=M / 'bcd_240.ckpt', quiet=True)
    save_checkpoint(learn.model, f, 'resnet1d', 10, 'pixel', start_relus=start, seconds=time.time() - t)
    return load_checkpoint(f)

NETS = ('all-ReLU', 'SNL@768', 'SNL+BCD@240')
_built = {}
def net(name):
    "The network `name` and whether it is plain (all ReLUs), built on first use"
    if name not in _built:
        if name == 'all-ReLU': _built[name] = all_relu(), True
        elif name == 'SNL@768': _built[name] = snl_model(768, M), False
        else: _built[name] = bcd_model(net('all-ReLU')[0]), False
    return _built[name]

def load(): return json.loads(out.read_text()) if out.exists() else dict(rows=[], headroom={}, networks={})
def save(update):
    "Apply `update` to what OUT holds now (another process may have added rows), and write it back atomically"
    res = load(); update(res)
    res.update(n=a.n, spu=SPU_VERSION, machine=platform.machine(), command=f'python benchmarks/secure_accuracy.py --n {a.n} --cheetah-n {a.cheetah_n}')
    out.parent.mkdir(parents=True, exist_ok=True); atomic_write(out, lambda t: Path(t).write_text(json.dumps(res, indent=1)))

_, _, xv, yv = mnist1d_tensors()  # the validation set relu_nb run and run_bench use (n_samples 10000, seed 42)
dls = mnist1d_dls(bs=128, device='cpu')
names = a.networks or NETS
LOW = (6, 8, 10)  # fraction bits at which the share of weights that round to 0 is kept
for name in names:
    if 'weights_lost_6' in load()['headroom'].get(name, [{}])[0]: continue
    m, ar = net(name)
    info = dict(acc_valid=100 * valid_accuracy(m, dls.valid), valid_samples=len(dls.valid.dataset))
    h = fxp_headroom(m, xv[:a.n], all_relu=ar)[['op', 'kind', 'max_abs']]
    for f in LOW: h[f'weights_lost_{f}'] = fxp_headroom(m, xv[:a.n], fxp_fraction_bits=f, all_relu=ar).weights_lost
    save(lambda r: (r['networks'].__setitem__(name, info), r['headroom'].__setitem__(name, h.to_dict('records'))))

N, C = a.n, a.cheetah_n
settings = [(n, 'cheetah', 'public', 'FM64', 0, N) for n in names] + [(n, 'semi2k', w, 'FM64', 0, N) for w in ('public', 'secret') for n in names]
if not a.no_ablation:
    bits = (6, 8, 10, 12, 14, 22, 24, 26, 28, 30)
    settings += [(n, 'semi2k', 'public', 'FM64', f, N) for n in names for f in bits]
    settings += [(n, 'semi2k', 'public', fd, f, N) for n in names for fd, f in (('FM32', 0), ('FM128', 0), ('FM128', 40), ('FM128', 56))]
    if 'SNL@768' in names:
        settings += [('SNL@768', 'cheetah', 'public', fd, f, C) for fd, f in (('FM64', 8), ('FM64', 10), ('FM64', 26), ('FM64', 28), ('FM128', 0))]
key = lambda r: (r['network'], r['protocol'], r['weights'], r['field_asked'], r['fxp_bits_asked'], r['n'])
for n, proto, w, field, f, k in settings:
    if (n, proto, w, field, f, k) in {key(r) for r in load()['rows']}: continue
    m, ar = net(n)
    try: r = secure_accuracy(m, (xv, yv), k, proto, w, field, f, batch=100, all_relu=ar)
    except RuntimeError as e: r = dict(n=k, protocol=proto, weights=w, field=field, error=str(e).splitlines()[-1][:300])
    r.update(network=n, field_asked=field, fxp_bits_asked=f)
    save(lambda res: res['rows'].append(r))
    print(n, proto, w, field, f, {k: r[k] for k in ('fxp_fraction_bits', 'acc_plain', 'acc_secure', 'agree', 'max_logit_diff', 'seconds', 'error') if k in r}, flush=True)
