"""Forward+backward time of the masked ReLU against nn.ReLU on one tensor, in one run, with the project's goals.

    python benchmarks/masked_relu.py [--device cuda] [--out results/bench_masked_relu.json]
"""
import argparse, json, os, platform, torch
from relu_nb.timing import bench_masked_relu

# the project's goals, as ratios to nn.ReLU (forward + backward); the GPU goal is for the compiled kernel
GOALS = {'cpu': {'MaskedReLU, frozen mask': 1.15, 'MaskedReLU': 2.0, 'MaskedReLU, use_compiled': 1.3},
         'cuda': {'MaskedReLU, use_compiled': 1.2}}

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--device', default='cpu'); p.add_argument('--n', type=int, default=21)
p.add_argument('--shape', default='128,64,32,32', help='comma-separated tensor shape')
p.add_argument('--no-compile', action='store_true', help='skip use_compiled (no compiler at hand)')
p.add_argument('--out', default='results/bench_masked_relu.json')
a = p.parse_args()
df = bench_masked_relu(tuple(int(s) for s in a.shape.split(',')), n=a.n, device=a.device, compiled=not a.no_compile)
goals = GOALS['cpu' if a.device == 'cpu' else 'cuda']
df['goal'] = df.variant.map(goals)
df['met'] = [None if g != g else bool(r <= g) for r, g in zip(df.ratio, df.goal)]
print(df.to_string(index=False, float_format='%.3f'))
os.makedirs(os.path.dirname(a.out) or '.', exist_ok=True)
json.dump(dict(device=a.device, threads=torch.get_num_threads(), torch=torch.__version__, machine=platform.machine(),
               shape=a.shape, load=os.getloadavg()[0], results=df.to_dict('records')), open(a.out, 'w'), indent=1)
print('wrote', a.out)
