"""A user's own network for the tests: a tiny CNN defined outside FTM, known to FTM only by its factory.

FTM imports this file by name in every process that builds the network
(``tests/data/user_network.py:make_network``, or ``user_network:make_network``
with this folder on the path); nothing registers it. The other factories
fail the ways a user's factory can.
"""

import torch
from torch import nn

from ftm.models.preprocessing import Preprocessing
from ftm.models.split import NetworkOutputs, SplitNetwork

PREPROCESSING = Preprocessing(64, (123.675, 116.28, 103.53), (58.395, 57.12, 57.375))
SHAPES = {"stage1": (8, 32, 32), "stage2": (16, 16, 16)}


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        descriptor = x.mean((2, 3))
        return NetworkOutputs(descriptor=descriptor, logits=self.fc(descriptor))


def _stages():
    return [
        ("stage1", nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())),
        ("stage2", nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())),
    ]


def make_network(weights=None):
    """The tiny CNN: fixed random weights (seed 11), or a state_dict file of it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        net = SplitNetwork("tiny-cnn", _stages(), Head(), (3, 64, 64), preprocessing=PREPROCESSING)
    if weights is not None:
        net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return net


class LogitsOnly(Head):
    def forward(self, x):
        return NetworkOutputs(descriptor=None, logits=super().forward(x).logits)


def make_classifier_only():
    """A network with one task: logits, no descriptor."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        return SplitNetwork("classifier", _stages(), LogitsOnly(), (3, 64, 64), preprocessing=PREPROCESSING)


def make_broken():
    raise RuntimeError("this factory needs a GPU")


def make_wrong_type():
    return nn.Linear(2, 2)


def make_without_preprocessing():
    return SplitNetwork("no-prep", _stages(), Head(), (3, 64, 64))


def make_without_std():
    return SplitNetwork("no-std", _stages(), Head(), (3, 64, 64), info={"preprocessing": {"size": 64, "mean": [0, 0, 0]}})


def make_with_a_bare_head():
    return SplitNetwork("bare-head", _stages(), nn.Flatten(), (3, 64, 64), preprocessing=PREPROCESSING)


NOT_A_FUNCTION = 3
