"""Sentiment of IMDB reviews with a two-layer recurrent network, and a look inside it as it reads.

    python -m sentiment train --data aclImdb_v1.tar.gz --out runs/mine
    python -m sentiment predict "A wonderful film."
"""
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .data import DataError
from .model import ModelConfig, SentimentRNN
from .predict import Explanation, Prediction, Predictor
from .train import TrainConfig, train
from .vocab import Vocab

__all__ = ["CheckpointError", "DataError", "Explanation", "ModelConfig", "Prediction", "Predictor",
           "SentimentRNN", "TrainConfig", "Vocab", "load_checkpoint", "save_checkpoint", "train"]
