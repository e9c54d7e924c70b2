"""The explorer in a real Jupyter kernel, driven as JupyterLab and Colab drive it: widget comms open, and moving the
slider (a comm message from the browser) redraws the figure in the kernel."""
import json, os, queue, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]
CODE = r'''
import pandas as pd
from relu_nb.explore import BenchExplorer
sites = {n: 1280 for n in 'abcdef'}
def row(m, b, acc, kept):
    return dict(unit=f'{m}@{b}', seed=0, method=m, budget=b, relus=sum(kept), acc=acc, acc_before=acc, train_epochs=10,
                stage_kept={'l1': 0}, site_kept=dict(zip(sites, kept)))
rows = pd.DataFrame([row('snl', 960, 97., [0, 0, 160, 160, 320, 320]), row('random', 960, 60., [160] * 6),
                     row('snl', 480, 95., [0, 0, 80, 80, 160, 160]), row('random', 480, 50., [80] * 6)])
ex = BenchExplorer(rows, plaintext_s=0.01, site_totals=sites)
ex
'''

def _drain(kc, until_idle=True, timeout=60):
    msgs, t0 = [], time.time()
    while time.time() - t0 < timeout:
        try: m = kc.get_iopub_msg(timeout=3)
        except queue.Empty:
            if not until_idle: break
            continue
        msgs.append(m)
        if until_idle and m['msg_type'] == 'status' and m['content']['execution_state'] == 'idle' and len(msgs) > 2: break
    return msgs

def test_explorer_in_a_kernel():
    pytest.importorskip('ipywidgets')
    from jupyter_client.manager import start_new_kernel
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]),
               OMP_NUM_THREADS='1', MPLBACKEND='module://matplotlib_inline.backend_inline')
    km, kc = start_new_kernel(kernel_name='python3', env=env)
    try:
        kc.execute(CODE)
        msgs = _drain(kc)
        assert not [m for m in msgs if m['msg_type'] == 'error'], [m['content'] for m in msgs if m['msg_type'] == 'error']
        views = [m for m in msgs if m['msg_type'] == 'display_data' and 'application/vnd.jupyter.widget-view+json' in m['content']['data']]
        assert len(views) == 1, "the explorer did not display as a widget"
        slider = next(m for m in msgs if m['msg_type'] == 'comm_open' and m['content']['data']['state'].get('_model_name') == 'SelectionSliderModel')
        assert slider['content']['data']['state']['_options_labels'] == ['960', '480']
        # what the browser sends when the user moves the slider to its first position
        kc.shell_channel.send(kc.session.msg('comm_msg', {'comm_id': slider['content']['comm_id'],
                                                           'data': {'method': 'update', 'state': {'index': 0}, 'buffer_paths': []}}))
        after = _drain(kc, until_idle=False, timeout=30)
        assert any('image/png' in json.dumps(m['content']) for m in after), "moving the slider drew no new figure"
        kc.execute("print(ex.budget, round(ex.data['snl']['acc'], 1))")
        out = ''.join(m['content']['text'] for m in _drain(kc) if m['msg_type'] == 'stream')
        assert out.split() == ['960', '97.0'], out
    finally:
        kc.stop_channels(); km.shutdown_kernel(now=True)
