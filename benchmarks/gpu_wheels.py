"""Download, here, the wheels that the GPU check needs and the GPU machine lacks, into .whl/ (git-ignored).

    python benchmarks/gpu_wheels.py [--dest .whl]

The GPU machine has no network. Its image already holds PyTorch, pandas, matplotlib, pytest, Accelerate and
many more (PRESENT below, as the machine's image lists them); what relu_nb needs beyond that is the closure of
the requirements of fastai, nbdev, execnb and mnist1d, in the versions installed here, as wheels for its Python
(3.12, x86-64). They travel with `carry: ['.whl']` and benchmarks/gpu_check.sh installs them.
"""
import argparse, importlib.metadata as md, re, subprocess, sys
from pathlib import Path

# the packages of the GPU machine's image (nvidia-h200, 'cuda' image, as read on 2026-11-17)
PRESENT = """absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna
imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-ml-py onnx onnx-ir onnxruntime onnxscript opencv-python-headless
optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy
portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks
pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil
pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy
seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels sympy
tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch
torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer
typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp""".split()
ROOTS = ['fastai', 'nbdev', 'execnb', 'fastcore', 'fastprogress', 'mnist1d']
SKIP = {'spacy'}  # fastai imports it for text models only, which relu_nb does not use
PLATFORMS = ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux1_x86_64']

def norm(n): return re.sub(r'[-_.]+', '-', n).lower()

def closure():
    "name -> version of every distribution installed here that the roots need and the GPU machine lacks"
    present, todo, found = {norm(p) for p in PRESENT}, list(ROOTS), {}
    while todo:
        n = norm(todo.pop())
        if n in found or n in present or n in SKIP: continue
        try: d = md.distribution(n)
        except md.PackageNotFoundError: continue  # a requirement for another platform (appnope, ...)
        found[n] = d.version
        todo += [re.split(r'[ <>=!~;\[(]', r.strip())[0] for r in d.requires or [] if 'extra ==' not in r]
    return found

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dest', default='.whl')
    a = p.parse_args()
    Path(a.dest).mkdir(exist_ok=True)
    pkgs = closure()
    plats = [x for pl in PLATFORMS for x in ('--platform', pl)]
    for n, v in sorted(pkgs.items()):
        cmd = [sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--python-version', '3.12',
               '--implementation', 'cp', *plats, '-d', a.dest, f'{n}=={v}']
        r = subprocess.run(cmd, capture_output=True, text=True)
        print(f"{n}=={v}: {'ok' if r.returncode == 0 else 'FAILED ' + r.stderr.strip().splitlines()[-1]}")
    size = sum(f.stat().st_size for f in Path(a.dest).glob('*.whl'))
    print(f"{len(list(Path(a.dest).glob('*.whl')))} wheels, {size / 2**20:.1f} MiB in {a.dest}/ (the device tool carries 64 MiB at most)")
