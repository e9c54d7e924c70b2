"""The `relu_nb` command line, run as a user runs it: a separate process whose output goes to a pipe, as in a log."""
import json, os, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def relu_nb(*args, cwd=None, timeout=600):
    "Run `relu_nb *args` with this checkout's code (not an installed copy) and one PyTorch thread"
    path = [str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    env.pop('RELU_NB_PROGRESS', None)  # the command decides from where its output goes: here, a pipe
    cmd = [sys.executable, '-c', 'import sys; from relu_nb.cli import main; sys.exit(main())', *args]
    return subprocess.run(cmd, cwd=cwd or ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_help():
    r = relu_nb('--help')
    assert r.returncode == 0, r.stderr
    for cmd in ('run', 'report', 'bench'): assert cmd in r.stdout


def test_report():
    r = relu_nb('report', '--arch', 'resnet18')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith('resnet18: 16 ReLU sites, 491,520 ReLUs')
    r = relu_nb('report', '--arch', 'resnet18', '--size', '64')
    assert r.returncode == 0, r.stderr
    assert '1,966,080 ReLUs' in r.stdout


def test_run_to_a_log(tmp_path):
    "A short `relu_nb run` whose output goes to a pipe: whole lines, one per epoch, and no bar frames; a rerun resumes"
    args = ('run', '--epochs', '1', '--snl-epochs', '2', '--finetune-epochs', '1', '--budget', '0.5', '--no-secure', '--out', str(tmp_path / 'out'))
    r = relu_nb(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert '\r' not in out and '█' not in out, "progress-bar frames in the output of a run to a pipe"
    epochs = [l for l in out.splitlines() if re.match(r'\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d\d:\d\d$', l)]
    assert len(epochs) >= 4, f"expected a line per epoch of the training stages, got:\n{out}"
    for i in range(1, 6): assert f'stage {i}/5: ' in out, f"no line for stage {i} of 5 in:\n{out}"
    rep = json.loads((tmp_path / 'out' / 'report.json').read_text())
    assert rep, "report.json is empty"
    for f in ('report.md', 'snl_model.pth'): assert (tmp_path / 'out' / f).exists()
    again = relu_nb(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert '\r' not in again.stdout + again.stderr
    assert not [l for l in again.stdout.splitlines() if re.match(r'\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d\d:\d\d$', l)], \
        "a rerun in the same folder trained again instead of resuming the finished stages"


def test_bad_arguments():
    "Bad settings: one line on standard error naming the problem and the fix, exit status 2, no traceback, no work"
    for args, says in ((('run', '--budget', '0'), '--budget must be positive'), (('run', '--epochs', '-1'), '--epochs must be'),
                       (('run', '--dataset', 'cifar10'), '--data DIR'), (('bench', '--rt', '0'), 'rt must be an int >= 1')):
        r = relu_nb(*args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr.count('\n') == 1 and says in r.stderr and 'Traceback' not in r.stderr, (args, r.stderr)
        assert r.stdout == '', (args, r.stdout)


def test_run_under_torchrun(tmp_path):
    "`python -m relu_nb run` in two processes (torchrun, gloo): one report, printed once; a rerun loads the finished stages on every rank"
    from relu_nb.distrib import launch
    out = tmp_path / 'out'
    args = ('run', '--epochs', '1', '--snl-epochs', '3', '--finetune-epochs', '1', '--budget', '0.5', '--no-secure', '--out', str(out))
    r = launch(module='relu_nb', args=args, nprocs=2, timeout=900, env={'RELU_NB_PROGRESS': 'lines'})
    assert r.stdout.count('# relu_nb report') == 1, r.stdout[-3000:]
    rep = json.loads((out / 'report.json').read_text())
    for f in ('stage_snl.pth', 'stage_finetune.pth'): (out / f).unlink()
    again = launch(module='relu_nb', args=args, nprocs=2, timeout=900, env={'RELU_NB_PROGRESS': 'lines'})
    rep2 = json.loads((out / 'report.json').read_text())
    assert rep2['loaded_stages'] == ['relu', 'linear'], rep2['loaded_stages']
    assert rep2['accuracy'] == rep['accuracy'] and rep2['relu_count'] == rep['relu_count']
