"""pytest plugin of the GPU check (`pytest -p benchmarks.cpu_default ...`): fastai's default device becomes the CPU.

On a GPU machine fastai puts every Learner and DataLoader on the GPU unless told otherwise, but the notebooks'
cells are written for the CPU that CI has; only the cells flagged `cuda` ask for the GPU, by name. With this
plugin the unflagged cells run as in CI and the `cuda` cells as they are written.
"""
from fastai.torch_core import default_device

default_device(False)
