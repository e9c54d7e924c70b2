"""What the MNIST-1D benchmarks that train many units share (allocation.py, poly.py): the training data split 90/10 per
class (`holdout_split`), MNIST-1D's test split as a loader, the paper recipe, and each seed's all-ReLU network, trained once
as `relu_nb run` trains it and kept in the benchmark's work folder."""
import time
import torch
from relu_nb.core import reseed, save_state
from relu_nb.data import mnist1d_dls, mnist1d_tensors, TensorDL, TensorDS
from relu_nb.models import make_model
from relu_nb.pipeline import Recipe

class Units:
    "The data, the recipe and the pretrained all-ReLU networks of a benchmark working in the folder `work`"
    def __init__(self, work, epochs:int=20, valid_pct:float=0.1, device='cpu'):
        self.work, self.epochs, self.dev = work, epochs, torch.device(device)
        self.dls = mnist1d_dls(valid_pct=valid_pct, device=self.dev)
        _, _, xt, yt = mnist1d_tensors()
        self.test = TensorDL(TensorDS(xt, yt, self.dls.train.dataset.vocab), bs=512, device=self.dev)
        self.rec = Recipe('paper', 'mnist1d', self.dev, epochs=epochs)
        self.xb = self.dls.valid.one_batch()[0]

    def pretrained(self, seed:int):
        "The all-ReLU network of `seed` (a Learner) and the seconds it took, trained once and kept in the work folder"
        f = self.work / f"relu_seed{seed}_e{self.epochs}.pth"
        reseed(seed, self.dls); learn = self.rec.learner(self.dls, make_model('resnet1d', 10))  # initial weights from the seed, as in relu_nb run
        if f.exists():
            st = torch.load(f, weights_only=False); learn.model.load_state_dict(st['state_dict']); return learn, st['seconds']
        t = time.time()
        with learn.no_bar(), learn.no_logging(): self.rec.pretrain(learn)
        st = dict(state_dict=learn.model.state_dict(), seconds=time.time() - t)
        save_state(st, f)
        return learn, st['seconds']
