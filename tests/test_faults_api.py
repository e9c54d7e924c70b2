"""The API checks its arguments (issue 29, item 7): a KD teacher against its student before any training, and an
input a model cannot take named with the shape the model takes. Fast CPU tests on the fixtures of relu_nb.test_utils."""
import pytest, torch, torch.nn as nn
from relu_nb.core import rng_states
from relu_nb.test_utils import synth_dls, synth_mlp, conv1d_net
from relu_nb.masked import InputError, linearize_, binarize_, relu_counts, masked_relus, mask_params, check_example
from relu_nb.models import resnet1d
from relu_nb.distill import DistillCallback, finetune, check_teacher
from relu_nb.snl import snl, recalibrate_bn_
from relu_nb.bcd import bcd, eval_masks
from fastai.learner import Learner

FIVE_TEN = "the teacher gives 5 classes but the student 10: pass the all-ReLU model trained on the same data as teacher"


def student(binary=True):
    "A Learner on ten classes whose MLP is converted (masks created), its masks binary unless `binary=False`"
    torch.manual_seed(0)
    dls = synth_dls(n=256, c=10)
    learn = Learner(dls, linearize_(synth_mlp(c=10), x=torch.randn(2, 8)), loss_func=nn.CrossEntropyLoss())
    if binary:
        with torch.no_grad(): mask_params(learn.model)[0].copy_((torch.rand(32) < 0.5).float())
        binarize_(learn.model)
    return learn


def weights(model): return {k: v.clone() for k, v in model.state_dict().items() if torch.is_tensor(v)}
def unchanged(model, before): return all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_finetune_teacher_classes():
    learn = student(); w = weights(learn.model)
    with pytest.raises(ValueError, match=f"^finetune: {FIVE_TEN}$"): finetune(learn, synth_mlp(c=5), 1)
    assert unchanged(learn.model, w) and learn.opt is None  # refused before any training


def test_finetune_teacher_inputs():
    with pytest.raises(InputError, match=r"finetune: the teacher cannot take an input of shape \(2, 8\) .*Sequential takes \(B, 5\)"):
        finetune(student(), synth_mlp(d=5, c=10), 1)


def test_snl_teacher_classes():
    learn = student(binary=False); w = weights(learn.model)
    with pytest.raises(ValueError, match=f"^snl: {FIVE_TEN}$"): snl(learn, 10, teacher=synth_mlp(c=5))
    assert unchanged(learn.model, w) and learn.opt is None
    assert not any(m.binary for m in masked_relus(learn.model))


def test_bcd_teacher_classes():
    learn = student(); w = weights(learn.model)
    with pytest.raises(ValueError, match=f"^bcd: {FIVE_TEN}$"): bcd(learn, 5, teacher=synth_mlp(c=5), quiet=True)
    assert unchanged(learn.model, w)


def test_distill_callback_alone():
    "Used alone, the callback stops at the first batch with the same message, not deep inside torch"
    learn = Learner(synth_dls(n=256, c=10), synth_mlp(c=10), loss_func=nn.CrossEntropyLoss(), cbs=DistillCallback(synth_mlp(c=5)))
    w = weights(learn.model)
    with learn.no_bar(), learn.no_logging(), pytest.raises(ValueError, match=f"DistillCallback: {FIVE_TEN}"): learn.fit(1, 1e-2)
    assert unchanged(learn.model, w)


def test_check_teacher_changes_nothing():
    "The right teacher passes, and drawing its batch moves no random generator (the shuffled loaders' included)"
    learn, teacher = student(), synth_mlp(c=10)
    before, w = rng_states(learn.dls), weights(learn.model)
    check_teacher(learn, teacher)
    after = rng_states(learn.dls)
    assert torch.equal(before['torch'], after['torch']) and before['random'] == after['random'] and before['dls'] == after['dls']
    assert unchanged(learn.model, w)


def test_relu_counts_wrong_shape():
    model = linearize_(resnet1d(), x=torch.zeros(2, 1, 40))
    with pytest.raises(InputError) as e: relu_counts(model, torch.randn(4, 7))
    msg = str(e.value)
    assert msg.startswith("relu_counts: the model cannot take an input of shape (4, 7) (") and '\n' not in msg
    assert msg.endswith("ResNet takes (B, 1, 40) or (B, 40)")
    with pytest.raises(InputError, match=r"shape \(4, 3, 40\).*ResNet takes \(B, 1, 40\) or \(B, 40\)$"): relu_counts(model, torch.randn(4, 3, 40))


def test_linearize_wrong_shape():
    "A wrong example batch is named with what the first layer takes, and leaves the model unconverted"
    model = conv1d_net()
    with pytest.raises(InputError, match=r"^linearize_: the model cannot take an input of shape \(4, 3, 16\) .*"
                                         r"the first layer of Sequential, a Conv1d, takes \(B, 1, L\): pass one batch of the training data"):
        linearize_(model, x=torch.randn(4, 3, 16))
    assert not masked_relus(model)
    linearize_(model, x=torch.randn(4, 1, 16))  # the right batch still converts it
    assert len(masked_relus(model)) == 2


def test_other_entry_points_wrong_shape():
    "The SNL and BCD functions that take inputs name the shape too, and recalibrate_bn_ leaves the statistics alone"
    net = linearize_(conv1d_net(), x=torch.randn(2, 1, 16))
    rm = net[1].running_mean.clone()
    with pytest.raises(InputError, match=r"^recalibrate_bn_: .*\(8, 1, 12\).*Sequential takes \(B, 1, 16\)$"): recalibrate_bn_(net, torch.randn(8, 1, 12))
    assert torch.equal(net[1].running_mean, rm)
    with pytest.raises(InputError, match=r"^eval_masks: .*\(3, 7\)"): eval_masks(binarize_(net), torch.randn(3, 7), torch.zeros(3).long())
    with pytest.raises(InputError, match=r"^bcd: .*\(3, 7\)"): bcd(student(), 5, eval_x=torch.randn(3, 7), eval_y=torch.zeros(3).long())
    with pytest.raises(InputError, match="pass one batch of the training data"): check_example(nn.Sequential(nn.ReLU()), [1, 2])
