"""Seconds per training batch: a plain model against the same model under SNL (masks, Lasso, callbacks), in one run.

    python benchmarks/snl_step.py [--arch resnet1d|resnet18] [--bs 128] [--device cuda] [--compiled]
"""
import argparse, json, os, platform, torch
from relu_nb.timing import bench_snl_step
import relu_nb.models as models

SHAPES = dict(resnet1d=(1, 40), resnet18=(3, 32, 32), resnet34=(3, 32, 32), wrn22_8=(3, 32, 32))
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--arch', default='resnet1d', choices=sorted(SHAPES)); p.add_argument('--bs', type=int, default=None)
p.add_argument('--n-batches', type=int, default=20); p.add_argument('--repeats', type=int, default=3)
p.add_argument('--device', default=None); p.add_argument('--compiled', action='store_true')
p.add_argument('--out', default=None, help='JSON file (default: results/bench_snl_step_ARCH.json)')
a = p.parse_args()
bs = a.bs or (128 if a.arch == 'resnet1d' else 32)
df = bench_snl_step(getattr(models, a.arch), SHAPES[a.arch], bs=bs, n_batches=a.n_batches, repeats=a.repeats,
                    device=a.device, compiled=a.compiled)
print(f"{a.arch}, batch {bs}, torch threads {torch.get_num_threads()}")
print(df.to_string(index=False, float_format='%.4f'))
out = a.out or f'results/bench_snl_step_{a.arch}.json'
os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
json.dump(dict(arch=a.arch, bs=bs, threads=torch.get_num_threads(), torch=torch.__version__, machine=platform.machine(),
               device=a.device or ('cuda' if torch.cuda.is_available() else 'cpu'), results=df.to_dict('records')), open(out, 'w'), indent=1)
print('wrote', out)
