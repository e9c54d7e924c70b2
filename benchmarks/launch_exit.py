"""Start the same two-process data-parallel SNL run many times and count the runs whose processes did not exit cleanly.

    python benchmarks/launch_exit.py [--runs 24] [--nprocs 2]

Each run is the script of the distrib notebook's test (a small 1-D conv net, SNL to a budget and a KD finetune,
data-parallel over gloo), launched with torchrun by relu_nb.distrib.launch. A process that finishes its work but
aborts at exit (SIGABRT, "terminate called without an active exception") counts as a failure; its output goes to
--log-dir. Run it beside a competing CPU load to see what a busy CI machine sees.
"""
import argparse, tempfile, time
from pathlib import Path
from relu_nb.distrib import launch

SCRIPT = """
import copy, sys
from relu_nb.snl import *
from relu_nb.distrib import *
rank, size = init_distributed(timeout=120)
g = torch.Generator().manual_seed(0)
xs = torch.randn(640, 1, 16, generator=g); ys = (xs[:, 0, :8].abs().sum(1) > xs[:, 0, 8:].abs().sum(1)).long()
ds = lambda a, b: TensorDS(a, b, ['0', '1'])
dls = tensor_dls(ds(xs[:512], ys[:512]), ds(xs[512:], ys[512:]), bs=64, device='cpu')
reseed(0, dls)
base = Learner(dls, conv1d_net(n_classes=2), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
with base.no_bar(), base.no_logging(): base.fit(3, 1e-2)
learn = Learner(dls, linearize_(copy.deepcopy(base.model), x=xs[:2]), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)
reseed(1, dls)
with data_parallel(learn), learn.no_bar(), learn.no_logging():
    snl(learn, budget=96, mask_lr=3e-3, lasso_frac=300., teacher=base.model)
    finetune(learn, base.model, 2)
"""

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--runs', type=int, default=24); p.add_argument('--nprocs', type=int, default=2)
p.add_argument('--log-dir', default=str(Path(tempfile.gettempdir()) / 'relu_nb_launch_exit'))
a = p.parse_args()
logs = Path(a.log_dir); logs.mkdir(parents=True, exist_ok=True)
fails, t = 0, time.time()
for i in range(a.runs):
    r = launch(SCRIPT, a.nprocs, timeout=300, check=False)
    if r.returncode:
        fails += 1; (logs / f'run{i}.txt').write_text(r.stdout)
    print(f"run {i + 1}/{a.runs}: {'exit status ' + str(r.returncode) if r.returncode else 'clean'}", flush=True)
print(f"{fails} of {a.runs} runs did not exit cleanly ({time.time() - t:.0f} s){'; outputs in ' + str(logs) if fails else ''}")
