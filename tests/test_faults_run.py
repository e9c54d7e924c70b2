"""Faults and bad input of `relu_nb run` (issue 29): options refused before any work or file, divergence, a save that the
operating system refuses, the temporary file of a killed save, an interrupted `--fresh`, files of a run that cannot be
read. The command line runs in this process (`relu_nb.cli.main`) except where a process of its own is the point; the
runs that train do one epoch of the all-ReLU network (the `fast` recipe) and stop at the next stage."""
import os, signal, subprocess, sys
from pathlib import Path
import pytest, torch
import relu_nb.pipeline
from relu_nb.core import CheckpointError
from relu_nb.pipeline import Recipe, recipe_table
from relu_nb.settings import DATASETS
from cli_helpers import cli

ROOT = Path(__file__).parents[1]
FAST = ('run', '--recipe', 'fast', '--epochs', '1', '--snl-epochs', '2', '--finetune-epochs', '1', '--budget', '0.5', '--no-secure')
EARLIER = ('report.json', 'report.md', 'snl_model.pth', 'snl_history.csv', 'snl.png')  # what an earlier, finished run left


def one_line(code, err, status, *says):
    assert code == status, (code, err[-3000:])
    assert err.count('\n') == 1 and 'Traceback' not in err, err
    for s in says: assert s in err, (s, err)


def earlier_run(out):
    "A folder where an earlier run finished: its report files (and no stage a run with other settings could load)"
    out.mkdir(parents=True, exist_ok=True)
    for f in EARLIER: (out / f).write_text('an earlier run')


def python(code, *args, **kw):
    "Run `code` in a fresh Python process with this checkout on its path and one thread"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, os.environ.get('PYTHONPATH', '').split(os.pathsep))]),
               OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], env=env, capture_output=True, text=True, timeout=120, **kw)


def test_options_refused_before_any_work_or_file(capsys, tmp_path):
    "Learning rates of 0 or below, a device that is not there, a --data folder without the data set: one line, status 2, no --out"
    (tmp_path / 'empty').mkdir()
    cases = [(('--snl-lr', '0'), '--snl-lr must be a positive learning rate, got 0'), (('--mask-lr', '0'), '--mask-lr must be a positive'),
             (('--mask-lr', '-1'), '--mask-lr must be a positive learning rate, got -1'), (('--snl-lr', 'inf'), '--snl-lr must be a positive'),
             (('--seed', '-1'), '--seed must be a whole number from 0'), (('--bs', '100000'), '--bs 100000 is more than the 8,000 training'), (('--device', 'gpu'), '--device gpu is not a device name: pass cpu or cuda'),
             (('--device', 'cuda:x'), '--device cuda:x is not a device name'),
             (('--dataset', 'cifar100', '--data', str(tmp_path / 'empty')),
              f'--data {tmp_path / "empty"} holds no cifar100 data set (none of cifar-100-python, cifar-100-python.tar.gz, cifar100, '
              'cifar100.tgz): pass the folder that holds its archive with --data DIR, or add --download')]
    if not torch.cuda.is_available(): cases.append((('--device', 'cuda'), '--device cuda: torch sees no cuda device on this machine'))
    for args, says in cases:
        code, out, err = cli(capsys, 'run', *args, '--out', str(tmp_path / 'out' / 'run'))
        one_line(code, err, 2, f'relu_nb run: error: {says}')
        assert 'download=True' not in err and out == '', (args, err, out)
        assert not (tmp_path / 'out').exists(), args  # no output folder, not even its parent


def test_data_files_are_what_relu_nb_data_reads(tmp_path):
    "Each name in DATASETS[...]['files'] is a folder or archive that relu_nb.data finds (and then tries to read); MNIST-1D's training samples"
    from relu_nb.data import read_cifar, read_tiny_imagenet, mnist1d_tensors
    assert len(mnist1d_tensors()[0]) == DATASETS['mnist1d']['train']  # what --bs is checked against
    read = dict(cifar10=lambda p: read_cifar(p, 'cifar10'), cifar100=lambda p: read_cifar(p, 'cifar100'), tinyimagenet=read_tiny_imagenet)
    for ds, f in read.items():
        for name in DATASETS[ds]['files']:
            d = tmp_path / ds / name.replace('.', '_'); d.mkdir(parents=True)
            (d / name).mkdir() if '.' not in name or name.endswith('.py') else (d / name).write_bytes(b'')
            with pytest.raises(Exception) as e: f(d)
            assert 'and no' not in str(e.value), (ds, name, e.value)  # not "no ... folder and no ... archive in d"


def test_divergence_stops_the_run(capsys, tmp_path):
    "SNL at a learning rate of 1e10: one line naming the stage and the fix, status 1; the pretraining is kept, the earlier report gone"
    out = tmp_path / 'out'; earlier_run(out)
    code, stdout, err = cli(capsys, *FAST, '--snl-lr', '1e10', '--mask-lr', '1e-2', '--out', str(out))
    one_line(code, err, 1, 'relu_nb run: error: SNL diverged: the loss became ', ' in epoch 1 of 4, batch ',
             'lower --snl-lr (now 1e+10) or --mask-lr (now 0.01) and rerun with --fresh (or another --out)')
    assert 'warning: mask_lr=0.01 is above eps/3' in stdout  # the library's warning reaches the user, also when the stage fails
    assert sorted(os.listdir(out)) == ['stage_relu.pth']


def test_at_chance_and_nan_weights(capsys, tmp_path, monkeypatch):
    "An all-ReLU network left untrained (at chance), or with nan in its weights: one line, status 1, the stage not saved"
    monkeypatch.setattr(Recipe, 'pretrain', lambda self, learn: None)
    code, _, err = cli(capsys, *FAST, '--quiet', '--out', str(tmp_path / 'a'))
    one_line(code, err, 1, 'relu_nb run: error: the all-ReLU pretraining ended at chance: ', 'validation accuracy with 10 classes '
             '(at most 1.5/10 = 15.0% is chance); the fast recipe trains it with SGD from lr 0.1: try another --seed, and rerun with --fresh')
    def nan(self, learn):
        with torch.no_grad(): next(learn.model.parameters()).fill_(float('nan'))
    monkeypatch.setattr(Recipe, 'pretrain', nan)
    code, _, err = cli(capsys, *FAST, '--quiet', '--out', str(tmp_path / 'b'))
    one_line(code, err, 1, 'relu_nb run: error: the all-ReLU pretraining diverged: its weights hold nan or inf (')
    assert os.listdir(tmp_path / 'a') == os.listdir(tmp_path / 'b') == []


def test_save_under_a_file_size_limit(tmp_path):
    "A stage saved under `ulimit -f`: one line naming the file and the cause, status 1, and no file half-written"
    out = tmp_path / 'out'
    code = """import resource, sys, torch, relu_nb.pipeline as P
from relu_nb.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))  # Python ignores SIGXFSZ
def run(s):  # a run whose first stage, 400 KB of weights, is saved under the limit
    P.Path(s.out).mkdir()
    P.Stages(s.out, dict(seed=0)).save('relu', torch.nn.Linear(1000, 100))
P.run_pipeline = run
main(['run', '--no-secure', '--out', sys.argv[1]])"""
    r = python(code, out)
    one_line(r.returncode, r.stderr, 1, f'relu_nb run: error: could not write {out}/stage_relu.pth: File too large (errno 27): '
             f'raise the file-size limit (ulimit -f), or pass another --out; no stage had finished: nothing kept in {out}')
    assert os.listdir(out) == []


def test_killed_save_is_tidied_by_the_next_run(capsys, tmp_path, monkeypatch):
    "A save killed midway leaves its temporary file; the next run in the folder removes it when it takes the lock"
    out = tmp_path / 'out'; out.mkdir()
    code = """import sys, time; from relu_nb.core import atomic_write
def slow(t): t.write_text('half'); print('writing', flush=True); time.sleep(60)
atomic_write(sys.argv[1], slow)"""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    p = subprocess.Popen([sys.executable, '-c', code, str(out / 'stage_relu.pth')], env=env, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == 'writing\n'
    p.send_signal(signal.SIGKILL); p.wait()
    assert [f.name for f in out.iterdir()] == [f'.stage_relu.{p.pid}.tmp.pth']
    def stop(self): raise KeyboardInterrupt
    monkeypatch.setattr(relu_nb.pipeline._Run, 'references', stop)
    code, stdout, err = cli(capsys, *FAST, '--out', str(out))
    one_line(code, err, 130, f'relu_nb run: interrupted; no stage had finished: nothing kept in {out}')
    assert f'{out}: removed .stage_relu.{p.pid}.tmp.pth, left by a save that was killed' in stdout
    assert os.listdir(out) == []


def test_interrupted_fresh(capsys, tmp_path, monkeypatch):
    "--fresh removes the earlier run's files before any training; Ctrl-C after the first stage says what the same command does"
    out = tmp_path / 'out'; earlier_run(out)
    for s in ('relu', 'snl'): (out / f'stage_{s}.pth').write_bytes(b'a stage of the earlier run')
    def stop(self): raise KeyboardInterrupt
    monkeypatch.setattr(relu_nb.pipeline._Run, 'linearize', stop)  # Ctrl-C as SNL starts
    args = (*FAST, '--quiet', '--snl-lr', '5e-4', '--mask-lr', '1e-4', '--out', str(out))
    code, _, err = cli(capsys, *args, '--fresh')
    one_line(code, err, 130, f'relu_nb run: interrupted; kept the finished stages in {out} (stage_relu.pth): the same command without '
             '--fresh resumes from them (with --fresh it starts over)')
    assert sorted(os.listdir(out)) == ['stage_relu.pth']  # nothing of the earlier run is left to look current
    cfg = torch.load(out / 'stage_relu.pth', weights_only=False)['config']
    assert (cfg['snl_lr'], cfg['mask_lr']) == (5e-4, 1e-4)  # the rates given, never replaced by defaults
    before = (out / 'stage_relu.pth').read_bytes()
    code, _, err = cli(capsys, *args)  # what the message promises: without --fresh the stage is loaded, not trained again
    assert code == 130 and (out / 'stage_relu.pth').read_bytes() == before, err


def test_files_of_a_run_that_cannot_be_read(capsys, tmp_path):
    "A stage file cut short or of another shape, a lock file that cannot be opened: one line naming it and the fix, status 2; a bad report.json"
    out = tmp_path / 'out'; out.mkdir()
    f = out / 'stage_relu.pth'
    for bad, says in ((b'\x80\x02 cut short', 'is not a readable checkpoint (truncated or another kind of file'),
                      (dict(config=[1], state_dict={}, time=1.), 'is not a stage file of relu_nb run (config of another kind)'),
                      (dict(config={}, state_dict={}), 'is not a checkpoint of this kind (it lacks time)')):
        f.write_bytes(bad) if isinstance(bad, bytes) else torch.save(bad, f)
        code, _, err = cli(capsys, *FAST, '--quiet', '--out', str(out))
        one_line(code, err, 2, f'relu_nb run: error: {f} {says}', 'rerun with --fresh, or delete it')
    f.unlink(); (out / '.relu_nb.lock').mkdir()
    code, _, err = cli(capsys, *FAST, '--quiet', '--out', str(out))
    one_line(code, err, 2, f"{out}/.relu_nb.lock cannot be opened as the folder's lock file (Is a directory): remove it")
    (out / 'report.json').write_text('{"config": {"dataset": "cifar100"')
    with pytest.raises(CheckpointError, match=f'{out}/report.json is not readable JSON .truncated or another kind of file'):
        recipe_table('cifar100', [out / 'report.json'])


def test_bench_files_that_cannot_be_read(capsys, tmp_path):
    "relu_nb bench --report-only on a rows.json cut short: one line naming it, status 2"
    out = tmp_path / 'bench'; (out / 'seed0').mkdir(parents=True)
    (out / 'seed0' / 'rows.json').write_text('[{"unit": "pretrain", ')
    code, _, err = cli(capsys, 'bench', '--report-only', '--out', str(out))
    one_line(code, err, 2, 'relu_nb bench: error: ', str(out / 'seed0' / 'rows.json'))
