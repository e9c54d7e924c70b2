"""The README's results: its table and its Pareto figure, both read from the committed benchmark (`relu_nb bench`,
results/bench/bench.json), so that neither is typed in.

    python benchmarks/readme_results.py          # writes results/bench/pareto.png and prints the README's tables

The second table is the default `relu_nb run`, from results/main_job/main_job.json (`python benchmarks/main_job.py`).

tests/test_readme.py checks that the table in README.md is the one this prints.
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / 'results' / 'bench' / 'bench.json'
COLUMNS = [('snl', 'SNL'), ('snl+bcd', 'SNL+BCD'), ('snl-equal', "SNL, BCD's epochs"), ('random', 'random'), ('cull', 'culling')]

def bench_summary(path=BENCH) -> tuple:
    "The benchmark's summary rows keyed by (method, budget), and the all-ReLU network's mean accuracy"
    d = json.loads(Path(path).read_text())
    rows = {(r['method'], r['budget']): r for r in d['summary']}
    relu = [r['acc'] for r in d['rows'] if r.get('method') == 'all-relu' and r.get('acc') is not None]
    return rows, sum(relu) / len(relu), d['config']

def readme_table(path=BENCH) -> str:
    "ReLUs kept against mean test accuracy (%) per method: the markdown table of the README"
    rows, relu, cfg = bench_summary(path)
    budgets = sorted({b for m, b in rows if m == 'snl+bcd'} | {768}, reverse=True)
    lines = ['| ReLUs kept | ' + ' | '.join(h for _, h in COLUMNS) + ' |', '|' + '---|' * (len(COLUMNS) + 1)]
    for b in budgets:
        cells = []
        for m, _ in COLUMNS:
            r = rows.get((m, b))
            if r is None: cells.append('')
            elif m == 'cull' and round(r['relus']) != b: cells.append(f"{r['acc']:.2f} ({round(r['relus']):,})")
            else: cells.append(f"{r['acc']:.2f}")
        lines.append(f'| {b:,} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

def pareto_figure(path=BENCH, out=ROOT / 'results' / 'bench' / 'pareto.png'):
    "Accuracy against ReLUs kept, one line per method (bars: the range over seeds), as results/bench/pareto.png"
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from relu_nb.bench import METHOD_STYLES as styles  # the benchmark's own plot styles
    rows, relu, cfg = bench_summary(path)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for m, label in COLUMNS:
        g = sorted((r for (mm, _), r in rows.items() if mm == m and r['relus'] > 0), key=lambda r: r['relus'])
        if not g: continue
        ax.errorbar([r['relus'] for r in g], [r['acc'] for r in g], fmt=styles[m], ms=4, capsize=3, label=label,
                    yerr=[[r['acc'] - r['acc_min'] for r in g], [r['acc_max'] - r['acc'] for r in g]])
    ax.axhline(relu, color='k', lw=0.8, ls=':', label=f'all 7,680 ReLUs ({relu:.1f}%)')
    ax.set(xscale='log', xlabel='ReLUs kept (log scale)', ylabel='test accuracy (%)', ylim=(40, 100),
           title=f"MNIST-1D, 1-D ResNet: mean of {len(json.loads(Path(path).read_text())['seeds'])} seeds")
    ax.legend(fontsize=8, loc='lower right'); ax.grid(alpha=0.3)
    fig.tight_layout(); fig.savefig(out, dpi=90); plt.close(fig)
    return out

MAIN_JOB = ROOT / 'results' / 'main_job' / 'main_job.json'

def main_job_table(path=MAIN_JOB) -> str:
    "Seconds of each stage of the default `relu_nb run` and their ratio to its pretraining (means over the seeds), and its accuracy"
    d = json.loads(Path(path).read_text()); rows = d['rows']
    mean = lambda f: sum(f(r) for r in rows) / len(rows)
    pre = mean(lambda r: r['stage_s']['relu'])
    cells = [('pretraining', pre), ('SNL', mean(lambda r: r['stage_s']['snl'])), ('KD finetune', mean(lambda r: r['stage_s']['finetune'])),
             ('the rest', mean(lambda r: r['outside_s'] + sum(v for k, v in r['stage_s'].items() if k not in ('relu', 'snl', 'finetune')))),
             ('whole run', mean(lambda r: r['wall_s']))]
    accs = [100 * r['finetuned'] for r in rows]
    return '\n'.join(['| ' + ' | '.join(['', *(n for n, _ in cells), f"finetuned at {rows[0]['budget']:,} ReLUs"]) + ' |',
                      '|' + '---|' * (len(cells) + 2),
                      '| seconds | ' + ' | '.join(f"{v:.0f}" for _, v in cells) + f" | {sum(accs) / len(accs):.2f}% (mean of {len(rows)} seeds) |",
                      '| x pretraining | ' + ' | '.join(f"{v / pre:.2f}" for _, v in cells) + f" | {min(accs):.2f}% (lowest) |"])

if __name__ == '__main__':
    print(pareto_figure(), file=sys.stderr)
    print(readme_table())
    if MAIN_JOB.exists(): print('\n' + main_job_table())
