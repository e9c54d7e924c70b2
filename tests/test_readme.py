"""The README's figures come from the committed benchmark: its table is the one `benchmarks/readme_results.py` prints
from results/bench/bench.json, and its figure is a file in the repository."""
import importlib.util, re
from pathlib import Path

ROOT = Path(__file__).parents[1]

def _results():
    spec = importlib.util.spec_from_file_location('readme_results', ROOT / 'benchmarks' / 'readme_results.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_readme_table_is_the_benchmarks():
    readme = (ROOT / 'README.md').read_text()
    assert _results().readme_table() in readme, 'README.md: rerun `python benchmarks/readme_results.py` and paste its table'

def test_readme_main_job_is_measured():
    assert _results().main_job_table() in (ROOT / 'README.md').read_text(), \
        'README.md: rerun `python benchmarks/readme_results.py` and paste its main-job table (from `python benchmarks/main_job.py`)'

def test_readme_shape():
    readme = (ROOT / 'README.md').read_text()
    assert len(readme) <= 6000, f'README.md has {len(readme)} characters: keep it to two screens (6,000)'
    assert 'pip install -e ".[dev]" && pytest' in readme  # the test command CI runs
    imgs = re.findall(r'!\[[^\]]*\]\(([^)\s]+)', readme)
    assert imgs and all((ROOT / i).exists() for i in imgs), imgs
    for nb in set(re.findall(r'`(\d\d_\w+)`', readme)): assert (ROOT / 'nbs' / f'{nb}.ipynb').exists(), nb
