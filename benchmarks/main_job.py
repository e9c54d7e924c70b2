"""The main job as a user runs it: `relu_nb run` from the shell, default threads, once per seed, each in a fresh folder,
after a small run that warms the disk caches. Its stages' seconds (report.json) and its wall time give the ratios
issue 27 asks for, each measured within one run: an SNL epoch and a KD finetune epoch against a pretraining epoch, the
whole run against its pretraining stage; its accuracy is the finetuned test accuracy at the budget.

    python benchmarks/main_job.py [--seeds 0 1 2] [--out results/main_job] [--work /tmp/relu_nb_main_job] [-- extra run options]

Writes OUT/main_job.json (one row per seed) and each run's output (OUT/run_seedN.log), and prints the table that README.md and 17_pipeline show
(`benchmarks/readme_results.py` reads the JSON).
"""
import argparse, json, os, platform, shutil, subprocess, sys, time
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--out', default='results/main_job'); p.add_argument('--work', default='/tmp/relu_nb_main_job')
p.add_argument('extra', nargs='*', help='more options for every run, after --')
a = p.parse_args()
work, out = Path(a.work), Path(a.out)
shutil.rmtree(work, ignore_errors=True); work.mkdir(parents=True); out.mkdir(parents=True, exist_ok=True)

def run(*args):
    t = time.perf_counter()
    r = subprocess.run(['relu_nb', 'run', *args], capture_output=True, text=True)
    if r.returncode: sys.exit(f"relu_nb run {' '.join(args)} failed:\n{r.stderr[-3000:]}")
    return time.perf_counter() - t, r.stdout

run('--epochs', '1', '--snl-epochs', '2', '--finetune-epochs', '1', '--budget', '0.5', '--quiet', '--out', str(work / 'warm'))
rows = []
for seed in a.seeds:
    folder = work / f'seed{seed}'
    wall, log = run('--seed', str(seed), '--out', str(folder), *a.extra)
    r = json.loads((folder / 'report.json').read_text())
    (out / f'run_seed{seed}.log').write_text(log)  # what the user sees (README's excerpt)
    c, s = r['config'], r['seconds']
    pre = s['relu'] / c['epochs']
    rows.append(dict(seed=seed, budget=c['budget'], relus=r['relu_count'], epochs=c['epochs'], snl_epochs_run=r['snl_epochs_run'],
                     finetune_epochs=c['finetune_epochs'], finetuned=r['accuracy']['snl_finetuned'], all_relu=r['accuracy']['all_relu'],
                     stage_s=s, wall_s=wall, outside_s=wall - sum(s.values()), secure='secure' in r,
                     secure_accuracy=bool(r.get('secure_accuracy')), reference=r['accuracy']['all_linear'] is not None,
                     snl_epoch_ratio=s['snl'] / r['snl_epochs_run'] / pre, kd_epoch_ratio=s['finetune'] / c['finetune_epochs'] / pre,
                     run_ratio=wall / s['relu']))
    print(f"seed {seed}: {wall:.0f} s, {r['relu_count']} ReLUs, finetuned {100 * rows[-1]['finetuned']:.2f}%", flush=True)

mean = lambda k: sum(r[k] for r in rows) / len(rows)
summary = dict(snl_epoch_ratio=mean('snl_epoch_ratio'), kd_epoch_ratio=mean('kd_epoch_ratio'), run_ratio=mean('run_ratio'),
               finetuned_mean=mean('finetuned'), finetuned_min=min(r['finetuned'] for r in rows), wall_s=mean('wall_s'))
targets = dict(snl_epoch_ratio=1.35, kd_epoch_ratio=1.2, run_ratio=5.0)
res = dict(command='relu_nb run ' + ' '.join(a.extra), machine=platform.machine(), cpus=os.cpu_count(),
           threads=os.environ.get('OMP_NUM_THREADS', 'default'), rows=rows, summary=summary, targets=targets)
(out / 'main_job.json').write_text(json.dumps(res, indent=1))
print(f"\nratios (mean of {len(rows)} runs): SNL epoch {summary['snl_epoch_ratio']:.2f}x a pretraining epoch (target <= 1.35), "
      f"KD epoch {summary['kd_epoch_ratio']:.2f}x (<= 1.2), run {summary['run_ratio']:.2f}x its pretraining stage (<= 5); "
      f"finetuned {100 * summary['finetuned_mean']:.2f}% mean, {100 * summary['finetuned_min']:.2f}% lowest (>= 98.0, >= 97.5)")
print('wrote', out / 'main_job.json')
