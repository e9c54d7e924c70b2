"""The `relu_nb` command line, run as a user runs it: a separate process whose output goes to a pipe, as in a log."""
import json, os, re, signal, subprocess, sys, time
from pathlib import Path
from cli_helpers import cli

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


def test_report(capsys):
    code, out, err = cli(capsys, 'report', '--arch', 'resnet18')
    assert code == 0, err
    assert out.strip().endswith('resnet18: 16 ReLU sites, 491,520 ReLUs')
    code, out, err = cli(capsys, 'report', '--arch', 'resnet18', '--size', '64')
    assert code == 0, err
    assert '1,966,080 ReLUs' in out


def test_answers_before_torch():
    "`relu_nb run --help` and a setting that RunSettings refuses answer without importing torch or fastai"
    path = [str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), OMP_NUM_THREADS='1')
    for args, status in ((['run', '--help'], 0), (['run', '--budget', '-5'], 2)):
        code = (f"import sys; from relu_nb.cli import main\ntry: main({args!r})\n"
                "except SystemExit as e: print(e.code, [m for m in ('torch', 'fastai') if m in sys.modules])")
        r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=120)
        assert r.stdout.strip().splitlines()[-1] == f"{status} []", (args, r.stdout[-500:], r.stderr)


def test_bad_arguments(capsys, tmp_path):
    "Bad settings: one line on standard error naming the problem and the fix, exit status 2, no traceback, no work, no output folder"
    for args, says in ((('run', '--budget', '0'), '--budget must be positive'), (('run', '--epochs', '-1'), '--epochs must be'),
                       (('run', '--dataset', 'cifar10'), '--data DIR'), (('bench', '--rt', '0'), 'rt must be an int >= 1')):
        code, out, err = cli(capsys, *args, '--out', str(tmp_path / 'out'))
        assert code == 2, (args, code, err)
        assert err.count('\n') == 1 and says in err and 'Traceback' not in err, (args, err)
        assert out == '' and not (tmp_path / 'out').exists(), (args, out)


def test_run_under_torchrun(tmp_path):
    "`python -m relu_nb run` in two processes (torchrun, gloo): one report, printed once; a rerun loads the finished stages on every rank"
    from relu_nb.distrib import launch
    out = tmp_path / 'out'
    args = ('run', '--epochs', '1', '--snl-epochs', '2', '--finetune-epochs', '1', '--budget', '0.5', '--no-secure', '--out', str(out))
    r = launch(module='relu_nb', args=args, nprocs=2, timeout=900, env={'RELU_NB_PROGRESS': 'lines'})
    assert r.stdout.count('# relu_nb report') == 1, r.stdout[-3000:]
    rep = json.loads((out / 'report.json').read_text())
    for f in ('stage_snl.pth', 'stage_finetune.pth'): (out / f).unlink()
    again = launch(module='relu_nb', args=args, nprocs=2, timeout=900, env={'RELU_NB_PROGRESS': 'lines'})
    rep2 = json.loads((out / 'report.json').read_text())
    assert rep2['loaded_stages'] == ['relu'], rep2['loaded_stages']  # (no all-linear reference by default)
    assert rep2['accuracy'] == rep['accuracy'] and rep2['relu_count'] == rep['relu_count']


SMALL = ('run', '--epochs', '1', '--snl-epochs', '2', '--finetune-epochs', '1', '--budget', '0.5', '--no-secure', '--reference')  # five stages


def relu_nb_bg(*args, cwd=None, threads='1'):
    "Start `relu_nb *args` in the background (threads=None: PyTorch's default number of threads); its Popen"
    path = [str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), MPLBACKEND='Agg')
    env.pop('RELU_NB_PROGRESS', None); env.pop('OMP_NUM_THREADS', None)
    if threads: env['OMP_NUM_THREADS'] = threads
    cmd = [sys.executable, '-c', 'import sys; from relu_nb.cli import main; sys.exit(main())', *args]
    return subprocess.Popen(cmd, cwd=cwd or ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_more_bad_arguments(capsys, tmp_path, monkeypatch):
    "Budgets that are neither counts nor fractions, combinations that do not fit, an --out or a checkpoint that cannot be used: one line, status 2"
    monkeypatch.chdir(tmp_path)  # where the default --out would go
    (tmp_path / 'a_file').write_text('x'); (tmp_path / 'not.pth').write_text('not a checkpoint')
    for args, says in ((('run', '--budget', '1.5'), '--budget 1.5 is neither a whole count of ReLUs nor a fraction in (0, 1)'),
                       (('run', '--budget', 'inf'), '--budget inf is not a positive finite number'),
                       (('bench', '--budgets', 'inf'), 'budget inf is not a positive finite number'),
                       (('bench', '--budgets', '7680'), 'budget 7680 is more than 7,679 ReLUs (of 7,680): pass a whole count from 1 to 7,679'),
                       (('run', '--budget', '7681'), 'is more than 7,680 ReLUs: pass a whole count from 1 to 7,680'),
                       (('run', '--dataset', 'mnist1d', '--arch', 'resnet18'), '--arch resnet18 takes images (2-D) but mnist1d holds signals (1-D)'),
                       (('run', '--out', str(tmp_path / 'a_file')), 'is a file, not a folder'),
                       (('run', '--out', '/proc/no/such/folder'), 'cannot be created'),
                       (('secure', str(tmp_path / 'no_such.pth')), 'no_such.pth does not exist'),
                       (('secure', str(tmp_path / 'not.pth')), 'not.pth is not a readable checkpoint')):
        code, out, err = cli(capsys, *args)
        assert code == 2 and err.count('\n') == 1 and 'Traceback' not in err and says in err, (args, code, err)
        assert out == '', (args, out)
    assert sorted(os.listdir(tmp_path)) == ['a_file', 'not.pth'], os.listdir(tmp_path)  # no output folder in the working folder


def test_help_says_each_default_once():
    from relu_nb.cli import parser
    p = parser()
    for name, sub in p._subparsers._group_actions[0].choices.items():
        for a in sub._actions:
            h = a.help or ''
            assert h.count('(default') <= 1 and '(default: None)' not in h, (name, a.dest, h)


def test_one_run_per_folder(capsys, tmp_path):
    "Two runs into one folder at once: the second refuses in one line naming the folder and the first process; with --wait it waits"
    out = tmp_path / 'out'; args = (*SMALL, '--out', str(out))
    a = relu_nb_bg(*args)
    lock = out / '.relu_nb.lock'
    for _ in range(600):
        if lock.exists() and lock.read_text().strip(): break
        time.sleep(0.1)
    code, _, err = cli(capsys, *args)  # a second run (here, in this process) while a holds the folder
    assert code == 2 and err.count('\n') == 1, (code, err)
    assert f'relu_nb run: error: {out} is in use by another run (process {a.pid} on' in err and '--wait' in err, err
    w = relu_nb_bg(*args, '--wait')  # waits for a, then loads what a finished
    a_out, a_err = a.communicate(timeout=600)
    assert a.returncode == 0, a_err[-3000:]
    w_out, w_err = w.communicate(timeout=600)
    assert w.returncode == 0, w_err[-3000:]
    assert f'waiting for the run in {out} to end (process {a.pid}' in w_out, w_out
    rep = json.loads((out / 'report.json').read_text())
    assert rep['loaded_stages'] == ['relu', 'linear', 'snl', 'finetune'], rep['loaded_stages']
    assert not lock.exists()
    (out / 'stage_snl.pth').write_bytes((out / 'stage_snl.pth').read_bytes()[:100])  # as after a full disk
    code, _, err = cli(capsys, *args, '--quiet')
    assert code == 2 and err.count('\n') == 1, (code, err)
    assert f'{out / "stage_snl.pth"} is not a readable checkpoint' in err and '--fresh' in err, err


def _weights(folder):
    import torch
    return {f.name: torch.load(f, weights_only=False)['state_dict'] for f in sorted(Path(folder).glob('stage_*.pth'))}


def _same(x, y):
    import torch
    return x.keys() == y.keys() and all(torch.equal(v, y[k]) if torch.is_tensor(v) else v == y[k] for k, v in x.items())


def test_same_seed_same_bits(tmp_path):
    "Two fresh runs with one seed, at one thread and at the default threads: identical weights and masks in every stage file"
    bits = [a if a != '2' else '1' for a in SMALL]  # SNL planned for one epoch (two at most): the bits of every stage all the same
    assert bits[bits.index('--snl-epochs') + 1] == '1'
    for threads in ('1', None):
        ps = [relu_nb_bg(*bits, '--out', str(tmp_path / f'{threads}{i}'), threads=threads) for i in range(2)]
        for p in ps: p.communicate(timeout=600); assert p.returncode == 0
        a, b = (_weights(tmp_path / f'{threads}{i}') for i in range(2))
        assert list(a) == ['stage_finetune.pth', 'stage_linear.pth', 'stage_relu.pth', 'stage_snl.pth'], list(a)
        for f in a: assert _same(a[f], b[f]), (threads, f)


def test_ctrl_c(tmp_path):
    """Ctrl-C in a run: one line saying what was kept and how to resume, status 130; the rerun resumes, its output to a pipe in whole
    lines (one per epoch, no bar frames, as in a log); a third run only loads"""
    out = tmp_path / 'out'
    p = relu_nb_bg(*SMALL, '--out', str(out))
    for line in p.stdout:
        if line.startswith('stage 2/5'): break
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err[-3000:])
    assert err.count('\n') == 1 and 'Traceback' not in err, err
    assert err.startswith(f'relu_nb run: interrupted; kept the finished stages in {out} (stage_relu.pth): the same command resumes'), err
    assert not (out / '.relu_nb.lock').exists() and not list(out.glob('.*tmp*'))
    r = relu_nb(*SMALL, '--out', str(out))
    assert r.returncode == 0 and 'stage 1/5: all-ReLU resnet1d, 1 epochs: loaded from' in r.stdout, r.stdout[-2000:]
    log = r.stdout + r.stderr  # a run to a pipe, as in a log
    assert '\r' not in log and '█' not in log, "progress-bar frames in the output of a run to a pipe"
    epochs = [l for l in log.splitlines() if re.match(r'\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d\d:\d\d$', l)]
    assert len(epochs) >= 3, f"expected a line per epoch of the stages trained (all-linear, SNL, finetune), got:\n{log}"
    for i in range(1, 6): assert f'stage {i}/5: ' in log, f"no line for stage {i} of 5 in:\n{log}"
    assert json.loads((out / 'report.json').read_text())['loaded_stages'] == ['relu']
    for f in ('report.md', 'snl_model.pth'): assert (out / f).exists()
    again = relu_nb(*SMALL, '--out', str(out))
    assert again.returncode == 0 and '\r' not in again.stdout + again.stderr, again.stderr[-2000:]
    assert not [l for l in again.stdout.splitlines() if re.match(r'\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d\d:\d\d$', l)], \
        "a rerun in the same folder trained again instead of resuming the finished stages"


def test_run_poly(capsys, tmp_path):
    "--replacement poly: the report counts the polynomials, the saved model loads and exports with exactly its ReLUs; its stages are not another run's"
    import torch
    from relu_nb.models import load_checkpoint
    from relu_nb.export import to_onnx
    out = tmp_path / 'out'
    r = relu_nb(*[a for a in SMALL if a != '--reference'], '--replacement', 'poly', '--out', str(out), '--quiet')
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((out / 'report.json').read_text())
    assert rep['replacement'] == 'poly' and rep['config']['replacement'] == 'poly', rep['config']
    assert rep['poly_units'] == rep['relus_total'] - rep['relu_count'] and rep['poly_sites'] > 0, rep
    assert 'polynomial a*x^2 + b*x + c' in (out / 'report.md').read_text()
    model = load_checkpoint(out / 'snl_model.pth')
    onnx = to_onnx(model, torch.randn(4, 1, 40), tmp_path / 'poly.onnx')
    assert onnx['relus_onnx'] == rep['relu_count'] and onnx['max_abs_diff'] < 1e-4, onnx
    code, _, err = cli(capsys, *[a for a in SMALL if a != '--reference'], '--out', str(out), '--quiet')  # the identity, into the poly run's folder
    assert code == 2 and "written with other settings (replacement 'poly' there, None now)" in err, err
