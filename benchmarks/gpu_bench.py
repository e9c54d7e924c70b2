"""The measurements of the GPU check (benchmarks/gpu_check.sh), one part per call, each writing JSON.

    python benchmarks/gpu_bench.py {kernel,snl,bcd} [--out results/gpu]

- kernel: the masked ReLU against nn.ReLU, forward and backward, eager and compiled (goal: compiled <= 1.2x);
- snl: training throughput of a CIFAR ResNet18 at batch 256, plain against SNL, eager and with use_compiled,
  float32 and bfloat16 mixed precision (goal: SNL at least 0.9x plain);
- bcd: BCD's candidate scoring, tries decided per second, reference and fast, float32 and bfloat16.
All on CIFAR-shaped random tensors; no data set is needed.
"""
import argparse, json, os, platform, time
from pathlib import Path
import torch, torch.nn as nn

def env():
    return dict(torch=torch.__version__, python=platform.python_version(),
                gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)

def kernel():
    from relu_nb.timing import bench_masked_relu
    df = bench_masked_relu(device='cuda', n=21)
    ratio = float(df.set_index('variant').ratio['MaskedReLU, use_compiled'])
    return dict(rows=df.to_dict('records'), goal='MaskedReLU, use_compiled at most 1.2x nn.ReLU', met=ratio <= 1.2)

def snl():
    from relu_nb.models import resnet18
    from relu_nb.timing import bench_snl_step
    rows, ratios = [], {}
    for amp in (None, 'bf16'):
        df = bench_snl_step(resnet18, (3, 32, 32), bs=256, n_batches=12, repeats=3, device='cuda', compiled=True, amp=amp)
        prec = amp or 'fp32'
        for r in df.to_dict('records'): rows.append(dict(r, precision=prec, images_per_s=256 / r['s_per_batch']))
        for r in df.to_dict('records')[1:]: ratios[f"{r['variant']}, {prec}"] = 1 / r['ratio']  # throughput against plain
    return dict(rows=rows, throughput_vs_plain=ratios, goal='SNL at least 0.9x plain throughput',
                met={k: v >= 0.9 for k, v in ratios.items()})

def bcd():
    from relu_nb.models import resnet18
    from relu_nb.masked import linearize_, mask_params, binarize_
    from relu_nb.bcd import flat_mask, sample_candidates, eval_masks, choose_fast, choose_reference
    torch.manual_seed(0)
    model = linearize_(resnet18(), x=torch.randn(2, 3, 32, 32))
    with torch.no_grad():
        for p in mask_params(model): p.copy_((torch.rand_like(p) < 0.5).float())
    model = binarize_(model).cuda().eval()
    x, y = torch.randn(2048, 3, 32, 32, device='cuda'), torch.randint(0, 10, (2048,), device='cuda')
    flat = flat_mask(model)
    cands = sample_candidates(flat, 100, 50, torch.Generator().manual_seed(0))
    rows = []
    for prec, dtype in (('fp32', None), ('bf16', torch.bfloat16)):
        ctx = (lambda: torch.autocast('cuda', dtype=dtype)) if dtype else (lambda: torch.autocast('cuda', enabled=False))
        with ctx():
            correct, margin = eval_masks(model, x, y)
            c_ref = int(correct.sum())
            for name, f in (('reference', lambda: choose_reference(model, flat, cands, x, y, c_ref, adt=-1.)),
                            ('fast', lambda: choose_fast(model, flat, cands, x, y, c_ref, adt=-1., margin=margin))):
                f(); torch.cuda.synchronize()  # warm up
                t0 = time.perf_counter(); ch = f(); torch.cuda.synchronize(); s = time.perf_counter() - t0
                rows.append(dict(precision=prec, evaluator=name, seconds=s, tries=len(cands), tries_per_s=len(cands) / s,
                                 full_evaluations=ch['scored'], chosen=ch['chosen']))
    same = {p: len({r['chosen'] for r in rows if r['precision'] == p}) == 1 for p in ('fp32', 'bf16')}
    return dict(setting='ResNet18, half of its 491,520 ReLUs kept, 50 tries of 100 ReLUs, 2,048 samples, no try under ADT',
                rows=rows, same_choice=same)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('part', choices=['kernel', 'snl', 'bcd'])
    p.add_argument('--out', default='results/gpu')
    a = p.parse_args()
    t0 = time.time()
    res = dict(part=a.part, env=env(), **globals()[a.part](), seconds=None)
    res['seconds'] = time.time() - t0
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / f'{a.part}.json').write_text(json.dumps(res, indent=1, default=str))
    print(json.dumps({k: v for k, v in res.items() if k != 'rows'}, indent=1, default=str))
