"""Faults and bad input of `relu_nb bench` (issue 29): two benches on one folder, corrupt results files, options refused
before any work or file. Every refusal comes before any training, so each test takes a second or two on one CPU thread."""
import json, os, threading, time
import pytest
from relu_nb.bench import BenchSettings, BenchFileError, run_bench, check_bench, bench_rows, bench_report
from relu_nb.pipeline import FolderLock, FolderBusy
from relu_nb.cli import main, parser

TINY = dict(budgets=[0.5], seeds=[0], n_samples=200, pretrain_epochs=1, finetune_epochs=1, snl_epochs=2, snl_extra=(),
            drc_ablation=(), bcd_epochs=1, rt=2, n_eval=64, speed=False, device='cpu', quiet=True)


def files(out):
    "Every file under `out` but the locks, with its bytes"
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob('*')) if p.is_file() and p.name != '.relu_nb.lock'}


def finished(out, seeds=(0,)):
    "A folder as a bench of TINY leaves it after pretraining: config.json, and per seed its rows.json and pretrain.pth"
    out.mkdir(parents=True)
    (out / 'config.json').write_text(json.dumps(BenchSettings(**TINY, out=out).config))
    for x in seeds:
        (out / f'seed{x}').mkdir()
        row = dict(unit='pretrain', seed=x, method='all-relu', budget=7680, relus=7680, acc=50., train_epochs=1)
        (out / f'seed{x}' / 'rows.json').write_text(json.dumps([row]))
        (out / f'seed{x}' / 'pretrain.pth').write_bytes(b'not a state dict')
    return files(out)


def one_line(e, *says):
    msg = str(e.value)
    assert '\n' not in msg, msg
    for s in says: assert s in msg, (s, msg)


def test_second_bench_refused_while_the_first_holds_the_folder(tmp_path):
    "A bench (here: this process) holds the folder: another is refused naming the holder, and even with fresh deletes nothing"
    out = tmp_path / 'bench'
    before = finished(out)
    with FolderLock(out):
        with pytest.raises(FolderBusy) as e: run_bench(**TINY, out=out, fresh=True)
        one_line(e, str(out), f'process {os.getpid()}', '--wait')
    assert files(out) == before
    assert not list(out.rglob('.relu_nb.lock'))  # the refused bench let go of what it took


def test_a_running_seed_refuses_fresh_and_itself_not_other_seeds(tmp_path):
    "A bench running seed 0 holds seed0/: a second bench of seed 0, or a fresh one of any seed, is refused; seed 1 may run beside it"
    out = tmp_path / 'bench'
    before = finished(out, seeds=(0, 1))
    with FolderLock(out / 'seed0'):
        for kw in (dict(seeds=[0]), dict(seeds=[1], fresh=True), dict(seeds=[0, 1], fresh=True)):
            with pytest.raises(FolderBusy) as e: run_bench(**{**TINY, **kw}, out=out)
            one_line(e, str(out / 'seed0'), f'process {os.getpid()}')
        assert files(out) == before
        (out / 'seed1' / 'rows.json').write_text('[')  # seed 1 is free: its bench gets as far as reading its own rows
        with pytest.raises(BenchFileError, match='seed1/rows.json is not valid JSON'):
            run_bench(**{**TINY, 'seeds': [1]}, out=out)
    assert not list(out.rglob('.relu_nb.lock'))


def test_wait_waits_for_the_holder(tmp_path):
    "With wait, a second bench of a seed in use waits until the holder lets go, then goes on (here to a corrupt rows.json)"
    out = tmp_path / 'bench'
    finished(out)
    (out / 'seed0' / 'rows.json').write_text('')
    got = {}
    def second():
        t = time.time()
        try: run_bench(**TINY, out=out, wait=True)
        except Exception as e: got.update(error=e, waited=time.time() - t)
    with FolderLock(out / 'seed0'):
        th = threading.Thread(target=second); th.start()
        time.sleep(1.)
    th.join(30)
    assert isinstance(got['error'], BenchFileError) and 'rows.json is empty' in str(got['error']), got
    assert got['waited'] >= 0.9, got
    h = next(a for a in parser()._subparsers._group_actions[0].choices['bench']._actions if a.dest == 'wait')
    assert h.option_strings == ['--wait'] and 'wait for it to end' in h.help


@pytest.mark.parametrize('text, says', [('[{"unit": "pretrain", "seed": 0, "ac', 'is not valid JSON'), ('', 'is empty'),
                                        ('{"unit": "pretrain"}', 'holds an object, not a list of rows'),
                                        ('[{"unit": "pretrain", "seed": 1}]', 'of seed 1, not 0'),
                                        ('[{"unit": "pretrain", "seed": 0, "acc": "high"}]', "acc is 'high', not a number"),
                                        ('[{"unit": "snl-sweep", "seed": 0}]', 'without its list of budgets')])
def test_corrupt_rows(tmp_path, text, says):
    "A rows.json cut short or of the wrong shape: bench_rows, bench_report and a resumed run_bench name it, what is wrong and the fix"
    out = tmp_path / 'bench'
    finished(out)
    rows = out / 'seed0' / 'rows.json'
    rows.write_text(text)
    before = files(out)
    for read in (lambda: bench_rows(out), lambda: bench_report(out), lambda: run_bench(**TINY, out=out)):
        with pytest.raises(BenchFileError) as e: read()
        one_line(e, str(rows), says, '--fresh')
    assert files(out) == before  # no report written, nothing deleted


def test_corrupt_config(tmp_path, capsys):
    "A config.json cut short, of the wrong shape or missing beside rows: one line naming it, from the API and from the command line"
    out = tmp_path / 'bench'
    finished(out)
    cf = out / 'config.json'
    for text, says in (('{"n_samples": 200, "bs"', 'is not valid JSON'), ('[1, 2]', 'holds a list, not a bench'),
                       ('{"n_samples": 200}', 'lacks the settings bs, pretrain_epochs')):
        cf.write_text(text)
        for read in (lambda: bench_report(out), lambda: run_bench(**TINY, out=out), lambda: check_bench(**TINY, out=out)):
            with pytest.raises(BenchFileError) as e: read()
            one_line(e, str(cf), says, '--fresh')
        with pytest.raises(SystemExit) as e: main(['bench', '--out', str(out), '--seeds', '0', '--n-samples', '200'])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count('\n') == 1 and str(cf) in err and says in err, err
    cf.unlink()
    with pytest.raises(BenchFileError) as e: run_bench(**TINY, out=out)
    one_line(e, 'config.json is missing', '--fresh')
    check_bench(**TINY, out=out, fresh=True)  # --fresh, the fix, reads neither


def test_corrupt_state_file(tmp_path):
    "A state a finished unit saved, cut short or missing: the unit that reads it names it and the fix, before any training"
    out = tmp_path / 'bench'
    finished(out)  # its pretrain.pth holds no state dict
    pth = out / 'seed0' / 'pretrain.pth'
    with pytest.raises(BenchFileError) as e: run_bench(**TINY, out=out)
    one_line(e, str(pth), 'is not a readable checkpoint', '--fresh')
    pth.unlink()
    with pytest.raises(BenchFileError) as e: run_bench(**TINY, out=out)
    one_line(e, str(pth), 'is missing, though rows.json says its unit finished', '--fresh')


def test_refused_options_leave_nothing(tmp_path, capsys):
    "Zero or negative rates, an unknown or absent device, a bad count: one line naming the flag, exit status 2, no folder made"
    out = tmp_path / 'new' / 'bench'
    for args, says in ((['--snl-lr', '0'], '--snl-lr must be a positive number'), (['--mask-lr', '-1'], '--mask-lr must be a positive number'),
                       (['--lasso-frac', '0'], '--lasso-frac must be'), (['--device', 'gpu'], "--device 'gpu' is not a device"),
                       (['--device', 'cuda:99'], '--device cuda:99: this machine has'), (['--rt', '0'], '--rt must be an int >= 1'),
                       (['--drc', '2.5'], '--drc 2.5: pass a count'), (['--budgets', '0.5', '0'], '--budgets: budget 0.0 is not')):
        with pytest.raises(SystemExit) as e: main(['bench', '--out', str(out), *args])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.count('\n') == 1 and says in err, (args, err)
        assert not (tmp_path / 'new').exists(), args
    with pytest.raises(ValueError, match='--snl-lr must be a positive number'): run_bench(**TINY, out=out, snl_lr=0)
    (tmp_path / 'a_file').write_text('x')
    with pytest.raises(ValueError, match='is a file, not a folder'): run_bench(**TINY, out=tmp_path / 'a_file')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a_file']
