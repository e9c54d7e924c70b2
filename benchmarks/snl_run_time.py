"""`relu_nb run` with the paced schedule (its default) against `relu_nb run --paper-schedule`, one after the other on this machine.

    python benchmarks/snl_run_time.py [--out results/snl_schedule/run_time.json] [--work /tmp/relu_nb_run_time] [-- extra run options]

Each command runs as a user types it (the README's `relu_nb run`, default threads, a fresh output folder), timed from
the shell's side, after a small run that warms the disk caches (the first run of a session also reads torch, fastai and
SPU's environment from disk, which a comparison must not charge to one side). The wall time, the seconds of each stage
(report.json) and outside them, the SNL epochs and the finetuned accuracy go to OUT as JSON, with the ratio of the two wall times measured in this one run.
"""
import argparse, json, os, platform, shutil, subprocess, sys, time
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--out', default='results/snl_schedule/run_time.json')
p.add_argument('--work', default='/tmp/relu_nb_run_time', help='where the two runs write their folders (emptied first)')
p.add_argument('extra', nargs='*', help='more options for both runs, after --')
a = p.parse_args()
work = Path(a.work); shutil.rmtree(work, ignore_errors=True); work.mkdir(parents=True)
res = dict(machine=platform.machine(), cpus=os.cpu_count(), threads=os.environ.get('OMP_NUM_THREADS', 'default'), runs={})
warm = ['--epochs', '1', '--snl-epochs', '2', '--finetune-epochs', '1', '--budget', '0.5']
t = time.perf_counter()
subprocess.run([sys.executable, '-m', 'relu_nb', 'run', '--out', str(work / 'warmup')] + warm, check=True, stdout=subprocess.DEVNULL)
res['warmup'] = dict(command='relu_nb run ' + ' '.join(warm), wall_s=time.perf_counter() - t)
for name, opts in (('paced', []), ('paper', ['--paper-schedule'])):
    cmd = [sys.executable, '-m', 'relu_nb', 'run', '--out', str(work / name)] + opts + a.extra
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    rep = json.loads((work / name / 'report.json').read_text())
    res['runs'][name] = dict(command='relu_nb run ' + ' '.join(opts + a.extra), wall_s=wall, stage_s=rep['seconds'],
                             other_s=wall - sum(rep['seconds'].values()),
                             snl_epochs_run=rep['snl_epochs_run'], snl_epochs_planned=rep.get('snl_epochs_planned'),
                             relu_count=rep['relu_count'], accuracy=rep['accuracy']['snl_finetuned'], secure='secure' in rep)
    print(f"{res['runs'][name]['command']}: {wall:.0f} s, SNL {rep['seconds']['snl']:.0f} s in {rep['snl_epochs_run']} epochs, "
          f"{rep['relu_count']} ReLUs, {rep['accuracy']['snl_finetuned']:.2%} after the finetune", flush=True)
r = res['runs']
res['wall_ratio'] = r['paced']['wall_s'] / r['paper']['wall_s']
res['snl_ratio'] = r['paced']['stage_s']['snl'] / r['paper']['stage_s']['snl']
print(f"paced / paper: {res['wall_ratio']:.2f} of the wall time, {res['snl_ratio']:.2f} of SNL's")
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
