"""Two CPU processes of one thread each against one process of one thread, in one run: SNL epochs and BCD's scoring.

    python benchmarks/distrib.py [--nprocs 2] [--out results/bench_distrib.json]

The 1-D ResNet of MNIST-1D, pretrained here, then SNL data-parallel and BCD with its scoring shared by sample and
by try, each run in fresh processes started with torchrun (relu_nb.timing.bench_distrib). Prints the seconds,
the speedups against the project's goals (SNL epochs 1.6x, BCD scoring 1.7x) and whether the results agree, and
writes JSON. The speedups need the cores to be free: the load average is printed with them.
"""
import argparse, json, os, platform
import torch
from relu_nb.timing import bench_distrib

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--nprocs', type=int, default=2)
p.add_argument('--snl-epochs', type=int, default=4)
p.add_argument('--bcd-steps', type=int, default=8)
p.add_argument('--ref-steps', type=int, default=2)
p.add_argument('--out', default='results/bench_distrib.json')
a = p.parse_args()
torch.set_num_threads(1)
load0 = os.getloadavg()[0]
df = bench_distrib(a.nprocs, snl_epochs=a.snl_epochs, bcd_steps=a.bcd_steps, ref_steps=a.ref_steps)
df['met'] = df.speedup >= df.goal
print(df.to_string(index=False, float_format='%.3f'))
print(f"load average: {load0:.1f} before, {df.attrs['load']:.1f} after, on {os.cpu_count()} cores")
os.makedirs(os.path.dirname(a.out) or '.', exist_ok=True)
json.dump(dict(nprocs=a.nprocs, torch=torch.__version__, machine=platform.machine(), cpus=os.cpu_count(), load_before=load0,
               load_after=df.attrs['load'], results=df.to_dict('records'), runs=df.attrs['runs']), open(a.out, 'w'), indent=1, default=str)
print('wrote', a.out)
