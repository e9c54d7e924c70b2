#!/usr/bin/env bash
# The GPU check of relu_nb (issue 12), for the day a machine with an NVIDIA GPU is at hand. Under 10 minutes.
#
#   python benchmarks/gpu_wheels.py          # here, with network: the wheels the GPU machine lacks, into .whl/
#   bash benchmarks/gpu_check.sh [.whl]      # there, from the repository root (the device tool: carry ['.whl'])
#
# Installs relu_nb's missing dependencies from the wheels carried along (no network there), then measures on
# CIFAR-shaped random tensors (benchmarks/gpu_bench.py) and runs the notebooks' `cuda` cells. Writes JSON under
# results/gpu/ (and copies it to $OUT, the device tool's return folder, when that is set). Each part has a
# time limit of its own, and a part that fails is recorded and the others still run.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=${1:-.whl}
RES=results/gpu
mkdir -p "$RES"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=python3
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/relu_nb_site "$WHEELS"/*.whl \
    || { echo "installing the wheels in $WHEELS failed" >&2; exit 1; }
  export PYTHONPATH=$PWD:/tmp/relu_nb_site:${PYTHONPATH:-}
else
  echo "no wheels in $WHEELS: using what is installed" >&2
  export PYTHONPATH=$PWD:${PYTHONPATH:-}
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; $PY -c "import torch, fastai; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'fastai', fastai.__version__)"; } > "$RES/env.txt" 2>&1
cat "$RES/env.txt"
status=0
part() {  # part NAME SECONDS COMMAND...: run with a time limit, keep its log, remember a failure
  local name=$1 limit=$2; shift 2
  echo "== $name (at most ${limit} s)"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$RES/$name.log" 2>&1; local rc=$?
  tail -n 25 "$RES/$name.log"
  echo "{\"part\": \"$name\", \"exit_status\": $rc, \"seconds\": $((SECONDS - t0))}" > "$RES/$name.status.json"
  [ $rc -eq 0 ] || { echo "== $name FAILED (exit status $rc)"; status=1; }
}
part kernel 90 $PY benchmarks/gpu_bench.py kernel --out "$RES"
part snl 180 $PY benchmarks/gpu_bench.py snl --out "$RES"
part bcd 60 $PY benchmarks/gpu_bench.py bcd --out "$RES"
part profile 120 bash -c "$PY benchmarks/profile_run.py --arch resnet1d --device cuda --out $RES/profile_resnet1d_cuda.json && \
  $PY benchmarks/profile_run.py --arch resnet18 --device cuda --n-train 4096 --out $RES/profile_resnet18_cuda.json"
part cuda_cells 120 $PY -m pytest -p benchmarks.cpu_default nbs/02_masked.ipynb nbs/08_snl.ipynb nbs/09_bcd.ipynb \
  --flags cuda -n 3 -q --junitxml "$RES/cuda_cells.xml"
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
  mkdir -p "$OUT/gpu" && cp "$RES"/*.json "$RES"/env.txt "$OUT/gpu/" 2>/dev/null
  tar czf "$OUT/gpu_logs.tgz" -C "$RES" . 2>/dev/null
fi
exit $status
