"""The docs build, without Quarto: each notebook goes through nbdev's own processors, as `nbdev_docs` and
`nbdev_preview` run them (`nbdev.serve.proc_nbs`), and the result is checked for what a reader would see.

One test per notebook, so that a failure names its notebook; each failure lists every problem found, cell by
cell (cell numbers count from 0, as in the notebook's JSON). The processed notebooks are written to `_proc/`,
the folder `proc_nbs` writes, so `jupyter nbconvert --to html _proc/<notebook>` shows the page.
"""
import ast, importlib, json, os, re, warnings
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]
SIG = re.compile(r'```python\n(.*?)\n```', re.S)
ADDRESS = re.compile(r' at 0x[0-9a-fA-F]{4,}')
BAR_FRAME = re.compile(r'\r|\|[█X-]{5,}\||█{3,}')  # fastprogress console frames: carriage returns and |████----| bars


@pytest.fixture(scope='session')
def quarto_config():
    "What `nbdev_docs` does before processing: (re)write `nbs/nbdev.yml` and a missing `_quarto.yml` from settings.ini"
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml
    cfg = get_config(path=ROOT)
    cwd = os.getcwd(); os.chdir(cfg.config_path)
    try: refresh_quarto_yml()
    finally: os.chdir(cwd)
    return cfg


def _first_line(src):
    "The first line of `src` that is not a directive, shortened"
    lines = [l for l in src.strip().splitlines() if not re.match(r'\s*#\|', l)]
    return (lines or [''])[0][:90]


def _diff(old, new):
    "The first line where two outputs differ"
    for a, b in zip(old + [''] * len(new), new + [''] * len(old)):
        if a != b: return f"committed {a[:120]!r}, docs build {b[:120]!r}"
    return ''


def _defined(mod):
    "Top-level names that `mod`'s own source defines (not the ones it re-exports)"
    tree = ast.parse(Path(mod.__file__).read_text())
    names = set()
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.add(n.name)
        elif isinstance(n, (ast.Assign, ast.AnnAssign)):
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                names.update(e.id for e in ast.walk(t) if isinstance(e, ast.Name))
    return names


def _outputs(cell):
    "The visible content of a cell's outputs as lines of text, without execution counts and metadata"
    res = []
    for o in cell.get('outputs', []):
        t = o.get('output_type')
        if t == 'stream': res.append(f"[{o.get('name')}]\n" + ''.join(o.get('text', '')))
        elif t == 'error': res.append(f"[error] {o.get('ename')}: {o.get('evalue')}")
        else:
            for k, v in sorted(o.get('data', {}).items()):
                v = ''.join(v) if isinstance(v, list) else v if isinstance(v, str) else json.dumps(v, sort_keys=True)
                if k == 'text/markdown':  # show_doc's source link follows the code; the docs build links known names
                    v = re.sub(r'\[(`[^`]+`)\]\([^)]*\)', r'\1', re.sub(r'\.py#L\d+', '.py', v))
                res.append(f"[{k}]\n{v}")
    return '\n'.join(res).splitlines()


def _show_doc_args(src):
    "The expressions passed to the top-level `show_doc(...)` calls of `src`"
    try: tree = ast.parse(src)
    except SyntaxError: return []
    return [ast.unparse(n.value.args[0]) for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
            and getattr(n.value.func, 'id', None) == 'show_doc' and n.value.args]


def _resolve(expr, mod):
    "The object `expr` (e.g. `MaskedReLU.binarize_`) names in module `mod`, or None"
    obj = mod
    for part in expr.split('.'):
        obj = getattr(obj, part, None)
        if obj is None: return None
    return obj


def _flagged_cells_that_run(nb, flags):
    "Cells with a test flag that the docs build would execute"
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval, populate_language
    proc = NBProcessor(nb=nb, procs=[populate_language], rm_directives=False)
    proc.process()
    with warnings.catch_warnings():  # nbdev warns about cells that mix imports with code: the processing below reports those
        warnings.simplefilter('ignore')
        return [(c.idx_, c.source) for c in proc.nb.cells if c.cell_type == 'code' and flags & set(c.directives_) and _do_eval(c)]


def test_docs(notebook, quarto_config):
    from execnb.nbio import read_nb, write_nb
    from fastcore.docments import DocmentText
    from fastcore.xtras import working_directory
    from nbdev.processors import FilterDefaults
    cfg = quarto_config
    problems = []
    nbs = cfg.nbs_path
    rel = notebook.relative_to(nbs)

    # Cells flagged `slow` or `cuda` must not run in the docs build: nbdev runs every cell with an import, a
    # show_doc or an export directive, whatever its flags, so such a cell must have none of these.
    flags = set(cfg.tst_flags.split())
    for i, src in _flagged_cells_that_run(read_nb(notebook), flags):
        problems.append(f"cell {i} ({_first_line(src)!r}): flagged {sorted(flags)} but the docs build would run it, "
                        "because it holds an import or a show_doc: move those to a cell of their own")

    # Committed outputs: no console progress frames, tracebacks or warnings
    raw = read_nb(notebook)
    for i, c in enumerate(raw.cells):
        for o in c.get('outputs', []):
            t = o.get('output_type')
            text = ''.join(o.get('text', '')) if t == 'stream' else ''.join(o.get('data', {}).get('text/plain', ''))
            if t == 'error': problems.append(f"cell {i} ({_first_line(c.source)!r}): committed output is an error ({o.get('ename')})")
            elif 'Traceback (most recent call last)' in text: problems.append(f"cell {i} ({_first_line(c.source)!r}): committed output holds a traceback")
            elif BAR_FRAME.search(text): problems.append(f"cell {i} ({_first_line(c.source)!r}): committed output holds console progress-bar frames")
            elif t == 'stream' and o.get('name') == 'stderr' and re.search(r'Warning\b|^W\d{4} ', text, re.M):
                problems.append(f"cell {i} ({_first_line(c.source)!r}): committed output holds a warning: {_first_line(text)!r}")

    # Running a slow cell would take the docs build (and this test) minutes: stop here if one would run
    if any('but the docs build would run it' in p for p in problems):
        pytest.fail(f"{rel}: {len(problems)} problem(s) for the docs (not processed: a flagged cell would run):\n  - "
                    + '\n  - '.join(problems), pytrace=False)

    # Process as the docs build does, and keep what each cell showed before
    nb = read_nb(notebook)
    before = {id(c): (i, _outputs(c)) for i, c in enumerate(nb.cells) if c.cell_type == 'code'}
    os.environ['IN_TEST'] = '1'  # as nbdev.serve_drv does while it processes
    try:
        with warnings.catch_warnings(record=True) as caught, working_directory(notebook.parent):
            warnings.simplefilter('always')
            FilterDefaults()(nb)
    except Exception as e:
        cause = e.__cause__ or e
        pytest.fail(f"{rel}: the docs build stops here:\n{e}\n{type(cause).__name__}: {cause}\n" + ''.join(f"\n  - {p}" for p in problems), pytrace=False)
    finally: os.environ.pop('IN_TEST', None)
    for w in caught:
        if 'Found cells containing imports and other code' in str(w.message):
            src = str(w.message).split('---\n')[1] if '---\n' in str(w.message) else ''
            problems.append(f"a cell mixes imports with other code, so the docs build re-runs all of it: {_first_line(src)!r}")
    out = cfg.config_path / '_proc' / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, out)

    # The docs build must show the committed outputs
    for c in nb.cells:
        if id(c) not in before: continue
        i, old = before[id(c)]
        new = _outputs(c)
        if new != old:
            what = 'adds outputs to a cell committed without them' if not old else f'changes the committed output: {_diff(old, new)}'
            problems.append(f"cell {i} ({_first_line(raw.cells[i].source)!r}): the docs build {what}")

    # One show_doc per cell; clean signatures; every parameter commented
    mod_name = next((l.split()[-1] for c in raw.cells if c.cell_type == 'code' for l in c.source.splitlines()
                     if re.match(r'#\|\s*default_exp\s', l)), None)
    mod = importlib.import_module(f"{cfg.lib_name}.{mod_name}") if mod_name else None
    shown = set()
    for c in nb.cells:
        if c.cell_type != 'code': continue
        args = _show_doc_args(c.source)
        if not args: continue
        i = before.get(id(c), (None,))[0]
        where = f"cell {i}" if i is not None else "an added show_doc"
        if len(args) > 1: problems.append(f"{where}: {len(args)} show_docs in one cell ({', '.join(args)}): only the last renders")
        shown.update(args)
        for o in c.get('outputs', []):
            md = ''.join(o.get('data', {}).get('text/markdown', ''))
            for sig in SIG.findall(md):
                if ADDRESS.search(sig): problems.append(f"{where} ({args[-1]}): the signature shows a memory address: {ADDRESS.search(sig).group()}")
                if '`' in sig: problems.append(f"{where} ({args[-1]}): the signature holds backticks, which render raw: "
                                               + ', '.join(l.strip() for l in sig.splitlines() if '`' in l))
        for a in args:
            obj = _resolve(a, mod) if mod else None
            if obj is None or not callable(obj): continue
            # docments renders no comment for *args and **kwargs: those are for the prose to explain
            missing = [p.split(':')[0].split('=')[0] for p, doc in DocmentText(obj, docstring=False).params
                       if not doc and p.split(':')[0].split('=')[0] not in ('self', 'cls') and not p.startswith('*')]
            if missing: problems.append(f"{where} ({a}): parameters without a comment: {', '.join(missing)}")

    # Every public name of the module has its own entry (functions, classes) or is named in the prose (constants)
    if mod is not None:
        prose = '\n'.join(c.source for c in raw.cells if c.cell_type == 'markdown')
        own = _defined(mod)
        for name in getattr(mod, '__all__', []):
            if name not in own: continue  # re-exported: documented where it is defined
            obj = getattr(mod, name)
            if callable(obj) and not isinstance(obj, type(os)):
                if name not in shown: problems.append(f"{name} (in {mod.__name__}.__all__) has no show_doc entry")
            elif f'`{name}`' not in prose: problems.append(f"{name} (a constant in {mod.__name__}.__all__) is not named in the prose")

    if problems: pytest.fail(f"{rel}: {len(problems)} problem(s) for the docs:\n  - " + '\n  - '.join(problems), pytrace=False)
