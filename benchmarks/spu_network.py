"""Seconds of one inference in SecretFlow SPU over TCP with the network delays and bandwidths of the CHEETAH paper, measured.

    python benchmarks/spu_network.py [--out results/spu_costs/network.jsonl] [--networks 'resnet1d all' ...]

The two parties run in one process, as in relu_nb.secure, but talk over TCP on this machine (SPU's brpc links) through a relay
process that holds every chunk for half the round-trip time and lets it out no faster than the bandwidth: 'lan' 3000 Mbit/s and
0.3 ms, 'wan' 400 Mbit/s and 40 ms (relu_nb.secure.SPU_NETWORKS), and 'direct' (no relay) for the parties' own time. Each row: one
network, protocol and weight setting, on each link, 1 cold and 3 warm runs (the fastest warm run is kept), a line of OUT (JSON
Lines) as soon as it ends; rows already in OUT are not measured again. The networks and their inputs are those of
benchmarks/spu_costs.py; ResNet18 with public weights only (with secret weights under CHEETAH one run takes minutes here).
"""
import argparse, asyncio, json, os, subprocess, sys, tempfile, threading, time
from pathlib import Path

NETS = ('resnet1d all', 'resnet1d 768', 'resnet18 15K', 'resnet18 all')
SETTINGS = (('cheetah', 'public'), ('semi2k', 'public'), ('cheetah', 'secret'))
LINKS = {'direct': None, 'lan': (3000., 0.3), 'wan': (400., 40.)}  # Mbit/s, round-trip ms

async def _pump(reader, writer, delay, bits_s):
    "Copy reader to writer, each chunk held `delay` seconds after it arrived and not before the link is free"
    q = asyncio.Queue()
    async def read():
        while True:
            data = await reader.read(1 << 16)
            await q.put((time.monotonic(), data))
            if not data: return
    async def write():
        free = 0.
        while True:
            t, data = await q.get()
            if not data: writer.close(); return
            free = max(free, t) + len(data) * 8 / bits_s
            wait = max(t + delay, free) - time.monotonic()
            if wait > 0: await asyncio.sleep(wait)
            writer.write(data); await writer.drain()
    await asyncio.gather(read(), write())

async def _relay(pairs, delay, bits_s):
    async def serve(listen, target):
        async def handle(r, w):
            tr, tw = await asyncio.open_connection('127.0.0.1', target)
            await asyncio.gather(_pump(r, tw, delay, bits_s), _pump(tr, w, delay, bits_s), return_exceptions=True)
        return await asyncio.start_server(handle, '127.0.0.1', listen)
    servers = [await serve(l, t) for l, t in pairs]
    print('ready', flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))

def parties(g, x, protocol, weights, listen, connect, n_runs):
    "Run graph `g` on `x` as two parties over brpc links (party r listens on listen[r], reaches the other on connect): seconds per run"
    sys.path.insert(0, os.environ['RELU_NB_LIB'])
    import numpy as np, pigraph as P, spu, spu.utils.frontend as fe
    from spu import libspu
    exe, args, vis, names, _ = P._spu_compile(g, x, weights, libspu, fe)
    config = P._spu_config(protocol, 'FM64', 18, libspu)
    io = spu.Io(2, config); shares = [io.make_shares(a, v) for a, v in zip(args, vis)]
    barrier, times, errors = threading.Barrier(2), [], []
    def party(rank):
        try:
            desc = libspu.link.Desc()
            for r in range(2): desc.add_party(f'party{r}', f'127.0.0.1:{listen[r] if r == rank else connect[r]}')
            desc.recv_timeout_ms = desc.http_timeout_ms = 3_600_000; desc.connect_retry_times, desc.connect_retry_interval_ms = 120, 500
            rt = spu.Runtime(libspu.link.create_brpc(desc, rank), libspu.RuntimeConfig(config))
            for _ in range(n_runs):
                for nm, s in zip(names, shares): rt.set_var(nm, s[rank])
                barrier.wait(); t = time.perf_counter(); rt.run(exe); barrier.wait()
                if rank == 0: times.append(time.perf_counter() - t)
        except BaseException as e: errors.append(e); barrier.abort()
    th = [threading.Thread(target=party, args=(r,)) for r in range(2)]
    for t in th: t.start()
    for t in th: t.join()
    if errors: raise errors[0]
    return times

def inner(folder, i, link, port):
    "In SPU's Python: job `i` of folder/jobs.json on `link`, its seconds per run written to folder/t.json (a fresh process each: brpc links do not outlive their runtime cleanly)"
    sys.path.insert(0, os.environ['RELU_NB_LIB']); import numpy as np, pigraph as P
    job, link = json.loads((Path(folder) / 'jobs.json').read_text())[i], LINKS[link]
    g, x = P.PIGraph.load(Path(folder) / job['graph']), np.load(Path(folder) / job['x'])
    listen, relay, proc = [port, port + 1], [port + 2, port + 3], None
    if link:
        proc = subprocess.Popen([sys.executable, __file__, '--relay', str(link[1] / 2e3), str(link[0] * 1e6),
                                 f'{relay[0]}:{listen[0]}', f'{relay[1]}:{listen[1]}'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        proc.stdout.readline()
    try: (Path(folder) / 't.json').write_text(json.dumps(parties(g, x, job['protocol'], job['weights'], listen, relay if link else listen, 4)))
    finally:
        if proc: proc.kill(); proc.wait()

if __name__ == '__main__' and sys.argv[1:2] == ['--relay']:
    asyncio.run(_relay([tuple(map(int, q.split(':'))) for q in sys.argv[4:]], float(sys.argv[2]), float(sys.argv[3])))
elif __name__ == '__main__' and sys.argv[1:2] == ['--inner']: inner(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
elif __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='results/spu_costs/network.jsonl')
    p.add_argument('--networks', nargs='+', choices=NETS, default=list(NETS))
    p.add_argument('--port', type=int, default=47000, help='first of the local TCP ports used (4 per link)')
    a = p.parse_args()
    import numpy as np, relu_nb.pigraph
    from relu_nb.export import pi_graph
    from relu_nb.secure import spu_python, worker_env, SPU_VERSION
    sys.path.insert(0, str(Path(__file__).parent)); sys.argv = sys.argv[:1]   # the networks of spu_costs.py
    from spu_costs import networks
    out = Path(a.out).absolute(); out.parent.mkdir(parents=True, exist_ok=True)
    done = {(r['label'], r['protocol'], r['weights']) for r in map(json.loads, out.read_text().splitlines())} if out.exists() else set()
    nets = networks()
    with tempfile.TemporaryDirectory() as folder:
        jobs = []
        for i, name in enumerate(a.networks):
            m, x = nets[name]; pi_graph(m, x, all_relu=True).save(Path(folder) / f'g{i}.npz'); np.save(Path(folder) / f'x{i}.npy', x.numpy())
            jobs += [dict(label=name, graph=f'g{i}.npz', x=f'x{i}.npy', protocol=p_, weights=w, spu=SPU_VERSION) for p_, w in SETTINGS
                     if (name, p_, w) not in done and not (name.startswith('resnet18') and w == 'secret')]
        (Path(folder) / 'jobs.json').write_text(json.dumps(jobs))
        env = worker_env() | dict(RELU_NB_LIB=str(Path(relu_nb.pigraph.__file__).parent))
        for i, job in enumerate(jobs):
            row = dict(job)
            for k, link in enumerate(LINKS):
                port = a.port + 4 * (len(LINKS) * i + k)
                res = subprocess.run([spu_python(), '-I', __file__, '--inner', folder, str(i), link, str(port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if res.returncode: sys.exit(f"{job['label']} {job['protocol']} {job['weights']} on {link} failed (exit {res.returncode}):\n{res.stderr[-3000:]}")
                t = json.loads((Path(folder) / 't.json').read_text())
                row[f'{link}_s'], row[f'{link}_cold_s'] = min(t[1:]), t[0]
                print(f"{job['label']} {job['protocol']} {job['weights']} {link}: {min(t[1:]):.2f} s", flush=True)
            with open(out, 'a') as f: f.write(json.dumps(row) + '\n')
