"""pytest for relu_nb: every notebook in `nbs/` is a test, next to the docs-processing and command-line tests in `tests/`.

`pytest` runs the notebooks the way `nbdev_test` does (cells flagged with one of settings.ini's `tst_flags` are
skipped, `skip_exec: true` notebooks are not run) and adds `--flags` (or the environment variable
`RELU_NB_FLAGS`) to run flagged cells too, e.g. `pytest --flags slow` or `pytest --flags "slow cuda"`.
"""
import os
# One PyTorch thread per test process, set before anything imports torch: two processes of two threads each on
# two cores slow each other down several times. Figures are drawn off-screen.
for _v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_v, '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

import functools, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).parent


def pytest_addoption(parser):
    parser.addoption('--flags', default=os.environ.get('RELU_NB_FLAGS', ''),
                     help="space-separated notebook test flags to run that are skipped by default (settings.ini's "
                          "tst_flags, e.g. 'slow cuda'); also read from the environment variable RELU_NB_FLAGS")


def _nb_config():
    from nbdev.config import get_config
    return get_config(path=ROOT)


@functools.lru_cache(None)
def notebooks() -> tuple:
    "The notebooks `nbdev_test` would run, in file order (`_`-prefixed files, checkpoints and `.notest` folders excluded)"
    from nbdev.doclinks import nbglob
    files = nbglob(str(_nb_config().nbs_path), as_path=True)
    return tuple(sorted(f.absolute() for f in files if not (f.parent / '.notest').exists()))


def pytest_collect_file(file_path, parent):
    if file_path.suffix != '.ipynb': return None
    if file_path.absolute() not in notebooks(): return None
    return NotebookFile.from_parent(parent, path=file_path)


def pytest_generate_tests(metafunc):
    "A test that takes a `notebook` argument runs once per notebook, named by its path under nbs/"
    if 'notebook' in metafunc.fixturenames:
        nbs = _nb_config().nbs_path
        metafunc.parametrize('notebook', notebooks(), ids=[str(p.relative_to(nbs)) for p in notebooks()])


class NotebookFile(pytest.File):
    def collect(self): yield NotebookItem.from_parent(self, name='run')


class NotebookFailed(Exception): pass


class NotebookItem(pytest.Item):
    "Run every cell of a notebook, top to bottom, in an execnb shell (as `nbdev_test` does)"
    def runtest(self):
        from execnb.shell import CaptureShell
        from fastcore.basics import str2bool
        from fastcore.xtras import working_directory
        from nbdev.frontmatter import FrontmatterProc
        from nbdev.process import NBProcessor, nb_lang
        cfg = _nb_config()
        skip = set(cfg.tst_flags.split()) - set(self.config.getoption('flags').split())
        fn = Path(self.path).absolute()
        nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
        fm = getattr(nb, 'frontmatter_', {})
        if str2bool(fm.get('skip_exec', False)) or nb_lang(nb) != 'python':
            pytest.skip('skip_exec: true in the notebook front matter')

        def no_eval(cell):
            if cell.cell_type != 'code': return True
            if 'nbdev_export' + '(' in cell.source: return True
            direc = getattr(cell, 'directives_', {}) or {}
            if direc.get('eval:', [''])[0].lower() == 'false': return True
            return skip & direc.keys()

        if str(cfg.config_path) not in sys.path: sys.path.insert(0, str(cfg.config_path))
        os.environ['IN_TEST'] = '1'
        k = CaptureShell(fn)
        t = time.time()
        try:
            with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=no_eval)
        except Exception as e: raise NotebookFailed(k.prettytb(fname=fn)) from e
        finally: os.environ.pop('IN_TEST', None)
        self.user_properties.append(('seconds', round(time.time() - t, 1)))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, NotebookFailed): return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self): return self.path, 0, f"notebook {Path(self.path).relative_to(ROOT)}"
