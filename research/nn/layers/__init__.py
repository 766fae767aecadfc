"""Layers of a :class:`~research.nn.sequential.Sequential` network.

A layer owns named parameter blocks inside its network's one flat vector
(:mod:`research.nn.layout`); its ``forward`` returns the output and what its ``backward``
needs, and ``backward`` writes its parameters' gradients and returns the input's. Arrays are
channels-last: a batch of vectors is (N, D), of sequences (N, T, C), of images (N, H, W, C).
"""

from research.nn.layers.base import Layer
from research.nn.layers.conv import Conv1D, Conv2D
from research.nn.layers.dense import Activation, BatchNorm, Dense, Dropout, Flatten, Maxout
from research.nn.layers.pool import GlobalAvgPool, Pool
from research.nn.layers.recurrent import GRU, LSTM, Bidirectional, LastStep, SimpleRNN

__all__ = [
    "GRU",
    "LSTM",
    "Activation",
    "BatchNorm",
    "Bidirectional",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool",
    "LastStep",
    "Layer",
    "Maxout",
    "Pool",
    "SimpleRNN",
]
