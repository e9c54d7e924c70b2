"""Run notebooks top to bottom as the tests do (cells flagged with settings.ini's tst_flags are skipped and keep
their committed outputs) and write the new outputs back into the notebooks, so that what the docs show comes
from code that ran. Usage: `python tools/run_nb.py nbs/08_snl.ipynb [...] [--flags slow]`; then `nbdev_clean`.
"""
import json, os, sys, time
from pathlib import Path

def run_nb(fn, flags=''):
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.config import get_config
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    cfg = get_config()
    skip = set(cfg.tst_flags.split()) - set(flags.split())
    fn = Path(fn).absolute()
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    ran = set()
    def no_eval(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false' or skip & direc.keys(): return True
        ran.add(cell.idx_)
    os.environ['IN_TEST'] = '1'
    k = CaptureShell(fn)
    t = time.time()
    with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=no_eval)
    raw = json.loads(fn.read_text())
    for c in nb.cells:
        if c.idx_ in ran: raw['cells'][c.idx_]['outputs'] = [dict(o) for o in c.outputs]
    fn.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + '\n')
    print(f'{fn.name}: ran in {time.time() - t:.0f} s')

if __name__ == '__main__':
    args, flags = sys.argv[1:], ''
    if '--flags' in args: i = args.index('--flags'); flags = args[i + 1]; del args[i:i + 2]
    for a in args: run_nb(a, flags)
