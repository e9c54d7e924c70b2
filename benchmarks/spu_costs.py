"""What SecretFlow SPU charges for ResNet18 and the 1-D ResNet, and the single operations the cost model is fitted on.

    python benchmarks/spu_costs.py [--stages micro fit networks imagenet] [--out results/spu_costs]

micro     one graph per distinct linear operation of resnet1d and of the CIFAR resnet18 (100 classes), and per distinct batch norm
          of wrn22_8 that follows no convolution, under CHEETAH and SEMI2K with public and secret weights; one ReLU site of 262,144 elements with K kept (K from 1 to all), and of 16,384 elements with 1,
          1,024 and all kept, under both protocols (a ReLU costs the same whoever holds the weights); max pools (torchvision's 3x3,
          stride 2 on 64 channels of 16x16 to 112x112, and a 2x2 one) under both protocols, and the global average pools of
          torchvision's resnet18 and resnet50 at 224x224 and three average pools in every setting; polynomial sites
          (a*x^2 + b*x + c per channel, 64 channels, 1,024 to 262,144 elements, and two sites of 16,384 with 1,024 and 8,192
          ReLUs kept, the rest polynomials) in every setting; 5 warm runs each -> OUT/micro.json
fit       relu_nb.secure.fit_spu_costs on OUT/micro.json -> relu_nb/spu_costs.json, the prices relu_nb.secure.spu_cost ships with
networks  the 1-D ResNet (all ReLUs, 768 kept, none; batch-norm statistics from MNIST-1D training signals, input a test signal) and
          ResNet18 (all 491,520 ReLUs, 50,000 and 15,000 kept at random; statistics and input from uniform random images), each
          protocol and weight setting, 8 warm runs (ResNet18 with CHEETAH and secret weights, a minute or two a run here: 3), one SPU
          worker each, which gives its peak memory
          -> OUT/networks.json
imagenet  a check of the prices at ImageNet's sizes, not fitted on: the distinct linear operations of torchvision's resnet18 at
          224x224 (1,000 classes) and four 1x1 convolutions of its resnet50, under CHEETAH with secret and public weights, 3 warm
          runs each -> OUT/imagenet.json
Rows already in a file are not measured again (a stopped run resumes); each row is written as soon as it ends. Bytes and messages
are exact; seconds are the machine's (two parties in one process, in-memory links) and move with its load.
"""
import argparse, json, os, platform, sys, tempfile, time
from pathlib import Path

STAGES = ('micro', 'fit', 'networks', 'imagenet')
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--stages', nargs='+', choices=STAGES, default=list(STAGES))
p.add_argument('--out', default='results/spu_costs')
a = p.parse_args()

import numpy as np, torch, torch.nn as nn, copy, torchvision
from relu_nb.core import atomic_write
from relu_nb.models import resnet1d, resnet18, wrn22_8
from relu_nb.masked import linearize_, set_masks_
from relu_nb.baselines import random_linearize_
from relu_nb.snl import recalibrate_bn_
from relu_nb.data import mnist1d_tensors
from relu_nb.export import pi_graph
from relu_nb.pigraph import PIGraph, kept_indices, SPU_PROTOCOLS, WEIGHTS
from relu_nb.secure import SPU_VERSION, spu_python, run_worker, spu_op_table, fit_spu_costs, spu_costs_file
import pandas as pd

OUT = Path(a.out); OUT.mkdir(parents=True, exist_ok=True)
SETTINGS = [(p_, w) for p_ in SPU_PROTOCOLS for w in WEIGHTS]
RELU_N, RELU_KS = 262144, (1, 1024, 2048, 3072, 4096, 8192, 16384, 32768, 65536, 131072, 262144)
SMALL_N, SMALL_KS = 16384, (1, 1024, 16384)
POLY_NS = (1024, 4096, 16384, 65536, 262144)   # elements of the polynomial sites measured

def load(name):
    f = OUT / name
    return json.loads(f.read_text()) if f.exists() else dict(spu=SPU_VERSION, machine=platform.processor() or platform.machine(), rows=[])

def save(name, d): atomic_write(OUT / name, lambda f: Path(f).write_text(json.dumps(d, indent=1)))

def measure(todo, n_warm):
    "Run each (label, graph, x, protocol, weights) of `todo` in one SPU worker: its cost rows, with every warm run's bytes and messages"
    spu_python()
    with tempfile.TemporaryDirectory(prefix='relu_nb_spu_') as folder:
        jobs = []
        for i, (label, g, x, protocol, weights) in enumerate(todo):
            g.save(Path(folder) / f'g{i}.npz'); np.save(Path(folder) / f'x{i}.npy', x)
            jobs.append(dict(graph=f'g{i}.npz', x=f'x{i}.npy', protocol=protocol, weights=weights, n_warm=n_warm, out=f'y{i}', label=label))
        (Path(folder) / 'jobs.json').write_text(json.dumps(jobs))
        run_worker(folder, True)
        results = json.loads((Path(folder) / 'results.json').read_text())
        ys = [np.load(Path(folder) / f'y{i}.npy') for i in range(len(todo))]
    rows = []
    for (label, g, x, protocol, weights), res, y in zip(todo, results, ys):
        warm = res['runs'][1:]
        rows.append(dict(label=label, protocol=protocol, weights=weights, relus=g.n_relus, bytes=res['bytes'], messages=res['messages'],
                         bytes_mean=res['bytes_mean'], messages_mean=res['messages_mean'], run_messages=[r['messages'] for r in warm],
                         run_bytes=[r['bytes'] for r in warm], run_s=[r['seconds'] for r in warm], warm_s=res['warm_s'],
                         cold_s=res['cold_s'], cold_bytes=res['cold_bytes'], cold_messages=res['cold_messages'], peak_mb=res['peak_mb'],
                         profile={k: v for k, v in res['profile'].items() if v['bytes'] or v['seconds'] > 1e-3}, y=y.tolist()))
    return rows

def run_rows(name, todo, n_warm, group, outputs=True):
    "Measure the entries of `todo` not yet in OUT/name, `group` to a worker (one per entry where memory is reported); `outputs`: keep SPU's outputs"
    d = load(name)
    todo = [t for t in todo if not any(r['label'] == t[0] and r['protocol'] == t[3] and r['weights'] == t[4] for r in d['rows'])]
    for i in range(0, len(todo), group):
        d['rows'] += [r if outputs else {k: v for k, v in r.items() if k != 'y'} for r in measure(todo[i:i + group], n_warm)]
        save(name, d)
    return d

def networks():
    "{name: (linearized model, one input)}: the 1-D ResNet and ResNet18 at the counts of the issue"
    torch.manual_seed(0)
    xt, _, xv, _ = mnist1d_tensors()
    r1d, r18 = linearize_(resnet1d(), x=xv[:1]), linearize_(resnet18(100), x=torch.rand(1, 3, 32, 32))
    xi = torch.rand(512 + 1, 3, 32, 32)
    nets = {'resnet1d all': (set_masks_(copy.deepcopy(r1d), 1.), xt[:1024], xv[:1]),
            'resnet1d 768': (random_linearize_(copy.deepcopy(r1d), 768), xt[:1024], xv[:1]),
            'resnet1d none': (set_masks_(copy.deepcopy(r1d), 0.), xt[:1024], xv[:1]),
            'resnet18 all': (set_masks_(copy.deepcopy(r18), 1.), xi[:-1], xi[-1:]),
            'resnet18 50K': (random_linearize_(copy.deepcopy(r18), 50_000), xi[:-1], xi[-1:]),
            'resnet18 15K': (random_linearize_(copy.deepcopy(r18), 15_000), xi[:-1], xi[-1:])}
    return {k: (recalibrate_bn_(m, xs, bs=64).eval(), x) for k, (m, xs, x) in nets.items()}   # statistics as after training

def relu_site(K, N=RELU_N, seed=0):
    "One ReLU site of N elements with K kept at random"
    keep = np.zeros(N, bool); keep[np.random.default_rng(seed).choice(N, K, replace=False)] = True
    c = kept_indices(keep)
    op = dict(op='relu_kept', out='y', shape=[N], kept='kept', rest='rest', perm='perm', name='site', **{'in': ['x']})
    return PIGraph([op], {}, c, (N,), 'y', [dict(name='site', shape=[N], total=N, kept=K)])

def poly_site(N, K=0, C=64, seed=0):
    "One site of C channels and N elements: all of them polynomials (`poly`, K=0), or K ReLUs kept at random and the rest polynomials (`relu_poly`)"
    rng = np.random.default_rng(seed)
    coef = (rng.uniform(0.1, 0.3, (C, 1)), rng.uniform(0.4, 0.6, (C, 1)), rng.uniform(0.1, 0.3, (C, 1)))   # a, b, c as the fit gives them
    shape = [C, N // C]
    if not K:
        op = dict(op='poly', out='y', shape=shape, a='a', b='b', c='c', name='site', **{'in': ['x']})
        return PIGraph([op], dict(zip('abc', coef)), {}, tuple(shape), 'y', [dict(name='site', shape=shape, total=N, kept=0, poly=N)])
    keep = np.zeros(N, bool); keep[rng.choice(N, K, replace=False)] = True
    c = kept_indices(keep)
    per_pos = {k: np.broadcast_to(v, shape).reshape(-1)[c['rest']] for k, v in zip('abc', coef)}
    op = dict(op='relu_poly', out='y', shape=shape, kept='kept', rest='rest', perm='perm', a='a', b='b', c='c', name='site', **{'in': ['x']})
    return PIGraph([op], per_pos, c, tuple(shape), 'y', [dict(name='site', shape=shape, total=N, kept=K, poly=N - K)])

def single_ops(g, kinds=None):
    "One graph per distinct priced linear operation of `g` (kind, shapes, weights' shape, stride), or of those of `kinds`: (signature, graph)"
    shapes, seen, out = {g.input: tuple(g.input_shape)} | {o['out']: tuple(o['shape']) for o in g.ops}, set(), []
    for op in g.ops:
        if op['op'] not in (kinds or ('conv', 'linear', 'affine', 'mean', 'avgpool')): continue
        keys = [k for k in ('w', 'b', 'scale', 'shift') if k in op]
        sig = f"{op['op']} {shapes[op['in'][0]]}->{tuple(op['shape'])} w{tuple(g.params[op[keys[0]]].shape) if keys else ()} s{op.get('stride', '')}"
        if sig in seen: continue
        seen.add(sig)
        out.append((sig, PIGraph([dict(op, out='y', **{'in': ['x']})], {op[k]: g.params[op[k]] for k in keys}, {}, shapes[op['in'][0]], 'y', [])))
    return out

def pool(kind, C, H, k, s, p):
    "One max or average pool of a k x k window, stride s and padding p over C channels of H x H: (signature, graph)"
    o = (H + 2 * p - k) // s + 1
    op = dict(op=kind, out='y', shape=[C, o, o], kernel=[k, k], stride=[s, s], padding=[[p, p]] * 2, name=kind, **{'in': ['x']})
    return f"{kind} {k}x{k}/{s} ({C}, {H}, {H})->({C}, {o}, {o})", PIGraph([op], {}, {}, (C, H, H), 'y', [])

def torchvision_graph(name):
    "torchvision's `name` (1,000 classes, random weights) at 224x224, exported with every ReLU"
    torch.manual_seed(0)
    return pi_graph(getattr(torchvision.models, name)().eval(), torch.randn(2, 3, 224, 224), all_relu=True)

def micro_todo(nets):
    "The single-operation graphs the cost model is fitted on, in every setting: (label, graph, input, protocol, weights)"
    todo = []
    for N, Ks in ((RELU_N, RELU_KS), (SMALL_N, SMALL_KS)):   # a smaller site apart: what the site's size costs, K apart
        x = np.random.default_rng(1).standard_normal((1, N)).astype(np.float32)
        todo += [(f'relu K={K}' + ('' if N == RELU_N else f' N={N}'), relu_site(K, N), x, p_, 'public') for K in Ks for p_ in SPU_PROTOCOLS]
    wrn = set_masks_(linearize_(wrn22_8(10), x=torch.rand(1, 3, 32, 32)), 1.).eval()   # for its batch norms that follow no convolution
    for name, (m, x) in [(k, nets[k]) for k in ('resnet1d all', 'resnet18 all')] + [('wrn22_8 affine', (wrn, torch.rand(2, 3, 32, 32)))]:
        for sig, g in single_ops(pi_graph(m, x, all_relu=True), ('affine',) if name.startswith('wrn') else None):
            xs = np.random.default_rng(0).standard_normal((1,) + g.input_shape).astype(np.float32)
            todo += [(f"{name.split()[0]} {sig}", g, xs, p_, w) for p_, w in SETTINGS]
    for N, K in [(n, 0) for n in POLY_NS] + [(RELU_N // 16, k) for k in (1024, 8192)]:   # polynomial sites; relu_poly rows check the prices, unfitted
        g = poly_site(N, K)
        xs = np.random.default_rng(0).standard_normal((1,) + g.input_shape).astype(np.float32)
        todo += [(f"poly N={N}" + (f" K={K}" if K else ''), g, xs, p_, w) for p_, w in SETTINGS]
    maxpools = [pool('maxpool', 64, H, 3, 2, 1) for H in (16, 32, 56, 112)] + [pool('maxpool', 64, 32, 2, 2, 0)]   # no weights: public only
    avgpools = [pool('avgpool', 64, 32, 2, 2, 0), pool('avgpool', 64, 16, 3, 1, 1), pool('avgpool', 256, 8, 4, 4, 0)]
    means = [(f"torchvision-{n} {sig}", g) for n in ('resnet18', 'resnet50') for sig, g in single_ops(torchvision_graph(n), ('mean',))]
    for label, g, settings in [(sig, g, [(p_, 'public') for p_ in SPU_PROTOCOLS]) for sig, g in maxpools] + \
                              [(sig, g, SETTINGS) for sig, g in avgpools + means]:
        xs = np.random.default_rng(0).standard_normal((1,) + g.input_shape).astype(np.float32)
        todo += [(label, g, xs, p_, w) for p_, w in settings]
    return todo

def imagenet_todo():
    "The distinct linear operations of torchvision's resnet18 at 224x224 and four 1x1 convolutions of its resnet50, under CHEETAH"
    ops = single_ops(torchvision_graph('resnet18'), ('conv', 'linear'))
    ops += [o for o in single_ops(torchvision_graph('resnet50'), ('conv',)) if o[0].split(' s')[0].endswith(
        ('w(256, 64, 1, 1)', 'w(64, 256, 1, 1)', 'w(1024, 256, 1, 1)', 'w(2048, 512, 1, 1)'))]
    todo = []
    for sig, g in ops:
        xs = np.random.default_rng(0).standard_normal((1,) + g.input_shape).astype(np.float32)
        todo += [(f"imagenet {sig}", g, xs, 'cheetah', w) for w in WEIGHTS]
    return todo

def whole(nets):
    "The networks, in every setting"
    todo = [(name, pi_graph(m, x, all_relu=True), x.numpy(), p_, w) for name, (m, x) in nets.items() for p_, w in SETTINGS]
    slow = [t[0].startswith('resnet18') and t[3:] == ('cheetah', 'secret') for t in todo]
    run_rows('networks.json', [t for t, s in zip(todo, slow) if not s], n_warm=8, group=1)
    d = run_rows('networks.json', [t for t, s in zip(todo, slow) if s], n_warm=3, group=1)
    ops = {t[0]: json.loads(spu_op_table(t[1]).to_json(orient='records')) for t in todo}
    for r in d['rows']:   # SPU's output against the model's in torch, and what the cost model reads of the network
        m, x = nets[r['label']]
        with torch.no_grad(): r['max_abs_diff'] = float(np.abs(np.array(r['y']) - m(x).numpy()).max())
        r['ops'] = ops[r['label']]
    save('networks.json', d)
    return d

def fit(nets):
    "fit_spu_costs on the rows of micro.json, each beside its graph's spu_op_table"
    ops = {t[0]: spu_op_table(t[1]).iloc[0].to_dict() for t in micro_todo(nets)}
    keys = ('label', 'protocol', 'weights', 'bytes', 'messages', 'run_messages', 'run_bytes', 'warm_s')
    rows = pd.DataFrame([ops[r['label']] | {k: r[k] for k in keys} for r in load('micro.json')['rows']])
    costs = fit_spu_costs(rows) | dict(spu=SPU_VERSION, field='FM64', fxp_fraction_bits=18, ot_workers=os.cpu_count())  # SPU's workers: its cores
    atomic_write(spu_costs_file(), lambda f: Path(f).write_text(json.dumps(costs, indent=1)))

if __name__ == '__main__':
    nets = networks()
    if 'micro' in a.stages: run_rows('micro.json', micro_todo(nets), n_warm=5, group=8, outputs=False)  # a site's output: 262,144 numbers
    if 'fit' in a.stages: fit(nets)
    if 'networks' in a.stages: whole(nets)
    if 'imagenet' in a.stages:   # the prices against ImageNet's sizes: each row beside its operation's spu_op_table row
        todo = imagenet_todo(); d = run_rows('imagenet.json', todo, n_warm=3, group=4, outputs=False)
        ops = {t[0]: json.loads(spu_op_table(t[1]).to_json(orient='records')) for t in todo}
        for r in d['rows']: r['ops'] = ops[r['label']]
        save('imagenet.json', d)
