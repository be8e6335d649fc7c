"""Use a checkpoint: label reviews, and explain one review token by token.

    p = Predictor.load()                      # the shipped default checkpoint
    p.predict(["A wonderful film."])          # [Prediction(label='positive', prob_positive=0.97, ...)]
    e = p.explain("Not bad at all.")          # tokens, hidden states per layer, running P(positive)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .batching import encode_texts
from .checkpoint import CheckpointError, load_checkpoint
from .spelling import Speller
from .text import tokenize, tokenize_many
from .train import TrainConfig, checkpoint_train_config, split_logits
from .vocab import UNK_ID

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINTS / "default"
MAX_CHARS = 100_000  # longer input is cut before tokenizing: the model reads at most max_len tokens anyway


@dataclass
class Prediction:
    label: str  # "positive" or "negative"
    prob_positive: float
    n_tokens: int  # tokens in the review
    truncated: bool  # the review was longer than the model reads; the rest was ignored


@dataclass
class Explanation:
    tokens: list[str]  # (T,) what the model read
    hidden_states: np.ndarray  # (num_layers, T, H) each layer's output at each token
    running_probs: np.ndarray  # (T,) P(positive) if the review ended at each token, exactly as the model computes it
    prob_positive: float  # == running_probs[-1]
    unit_contributions: np.ndarray  # (num_layers, H) each unit's share of the final logit (pooled feature x
    # weight); zero on the layers the classifier does not read (all but the top, unless every layer is pooled)
    bias: float  # the classifier's bias: logit = unit_contributions.sum() + bias
    unit_weights: np.ndarray  # (num_layers, H) the classifier's weights on each unit, summed over the pooled
    # parts: > 0 when the unit firing more all through a review raises P(positive); zero where not read
    n_tokens: int  # tokens in the whole review
    truncated: bool
    n_known: int  # tokens read that are in the vocabulary (the rest read as <unk>, the same vector for all)
    misspelled: list[tuple[int, str]] = field(default_factory=list)  # (position, token as written) of each token
    #                                                                   read as the word it misspells (spelling.py)

    @property
    def label(self) -> str:
        return "positive" if self.prob_positive >= 0.5 else "negative"

    @property
    def deltas(self) -> np.ndarray:
        """(T,) how much each token moved P(positive); the first is measured from 0.5."""
        return np.diff(self.running_probs, prepend=0.5)


class Predictor:
    def __init__(self, model, vocab, config: dict, metrics: dict, name: str = "model", spelling: bool = True):
        self.model, self.vocab, self.config, self.metrics, self.name = model, vocab, config, metrics, name
        self.speller = Speller(vocab) if spelling else None  # misspelled words read as meant (spelling.py)
        self.lowercase = bool(config["tokenizer"]["lowercase"])
        self.keep_html = bool(config["tokenizer"].get("keep_html", False))  # tags read as text (the homework's way)
        self.max_len = int(config["tokenizer"]["max_len"])

    @classmethod
    def load(cls, directory=None, spelling: bool = True) -> "Predictor":
        directory = Path(directory) if directory else DEFAULT_CHECKPOINT
        if directory == DEFAULT_CHECKPOINT and not directory.exists():
            raise CheckpointError(f"The default checkpoint ({directory}) is not there. Train one with "
                                  "`python -m sentiment train --out DIR` and pass --checkpoint DIR.")
        model, vocab, config, metrics = load_checkpoint(directory)
        return cls(model, vocab, config, metrics, name=directory.name, spelling=spelling)

    @property
    def model_config(self):
        return self.model.config

    def train_config(self) -> TrainConfig:
        """The settings this checkpoint was trained with: its data split, max_len and casing."""
        return checkpoint_train_config(self.metrics, self.config["tokenizer"])

    def read(self, tokens: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
        """(the tokens as the model reads them, misspellings read as meant; [(position, token as written)])."""
        return self.speller.fix(tokens) if self.speller else (tokens, [])

    def encode(self, tokens: list[str]) -> list[int]:
        """Vocabulary ids of tokens as the model reads them (misspellings read as meant)."""
        return self.vocab.encode(self.read(tokens)[0])

    def _tokens(self, text: str) -> tuple[list[str], int, bool, list[tuple[int, str]]]:
        """(tokens the model reads, tokens in the review, whether the review was cut, misspellings read as meant)."""
        cut = len(text) > MAX_CHARS
        tokens = tokenize(text[:MAX_CHARS], self.lowercase, self.keep_html)
        read, misspelled = self.read(tokens[:self.max_len])
        return read, len(tokens), cut or len(tokens) > self.max_len, misspelled

    @torch.inference_mode()
    def _scores(self, texts: list[str], batch_size: int) -> tuple[torch.Tensor, list[list[str]]]:
        """((n,) logits of "positive", each text's tokens), scored in length-sorted batches."""
        token_lists = [self.read(tokens)[0] for tokens in tokenize_many((t[:MAX_CHARS] for t in texts),
                                                                           self.lowercase, keep_html=self.keep_html)]
        return self.token_logits(token_lists, batch_size), token_lists

    @torch.inference_mode()
    def token_logits(self, token_lists: list[list[str]], batch_size: int = 128) -> torch.Tensor:
        """(n,) logits of "positive" for texts already tokenized as this checkpoint's tokenizer does (no spaCy)."""
        return split_logits(self.model, encode_texts(token_lists, self.vocab, self.max_len), batch_size)

    def logits(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        """(n,) logits of "positive" for many reviews: P(positive) = sigmoid(logit)."""
        return self._scores(texts, batch_size)[0].numpy()

    def predict(self, texts: list[str], batch_size: int = 128) -> list[Prediction]:
        """Label many reviews at once (batched by length). An empty review gets P = the model's empty-input answer."""
        logits, token_lists = self._scores(texts, batch_size)
        probs = torch.sigmoid(logits).numpy()  # (n,)
        return [Prediction("positive" if p >= 0.5 else "negative", float(p), len(tokens),
                           len(tokens) > self.max_len or len(text) > MAX_CHARS)
                for p, tokens, text in zip(probs, token_lists, texts)]

    @torch.inference_mode()
    def explain(self, text: str) -> Explanation:
        tokens, n_tokens, truncated, misspelled = self._tokens(text)
        if not tokens:
            raise ValueError("The review has no words to read.")
        ids = torch.tensor(self.vocab.encode(tokens))  # (T,)
        seen = self.model.inspect(ids)
        return self._explanation(tokens, ids, seen["hidden_states"], seen["running_logits"], seen["features"],
                                 n_tokens, truncated, misspelled)

    @torch.inference_mode()
    def explain_many(self, texts: list[str]) -> list[Explanation | ValueError]:
        """``explain`` of several reviews in one padded forward pass (a server answering many users at once:
        on a CPU, one pass over B reviews costs far less than B passes). Padding on the right cannot reach a
        unidirectional layer's earlier outputs, so each explanation is the one ``explain`` gives (to float
        rounding). A review with no words gets the ValueError ``explain`` would raise, in its place."""
        read = [self._tokens(text) for text in texts]
        filled = [i for i, (tokens, _, _, _) in enumerate(read) if tokens]
        answers: list = [ValueError("The review has no words to read.")] * len(texts)
        if not filled:
            return answers
        lengths = torch.tensor([len(read[i][0]) for i in filled])  # (B,)
        ids = torch.zeros(len(filled), int(lengths.max()), dtype=torch.long)  # (B, T) padded with <pad> = 0
        for row, i in enumerate(filled):
            ids[row, :lengths[row]] = torch.tensor(self.vocab.encode(read[i][0]))
        states = self.model.encode(ids)  # num_layers x (B, T, H)
        pooled = self.model.read_outputs(states)  # (B, T, R*H): the outputs that are pooled
        logits = self.model.running_logits(pooled)  # (B, T)
        features = self.model.pool(pooled, lengths)  # (B, F)
        hidden = torch.stack(states, dim=1)  # (B, L, T, H)
        for row, i in enumerate(filled):
            T = int(lengths[row])
            tokens, n_tokens, truncated, misspelled = read[i]
            answers[i] = self._explanation(tokens, ids[row, :T], hidden[row, :, :T], logits[row, :T],
                                           features[row], n_tokens, truncated, misspelled)
        return answers

    def _explanation(self, tokens, ids, hidden_states, running_logits, features, n_tokens, truncated,
                     misspelled=()) -> Explanation:
        """An Explanation from one review's (T,) ids, (L, T, H) states, (T,) running logits, (F,) features."""
        running_probs = torch.sigmoid(running_logits).numpy()  # (T,)
        weights = self.model.classifier.weight[0]  # (P*R*H,)
        L, H, R = self.model.config.num_layers, self.model.config.hidden_size, self.model.n_read_layers
        contributions = np.zeros((L, H), dtype=np.float32)
        # features are (P, R, H): the pooled parts (max, mean, last) summed; the R read layers are the top ones
        contributions[L - R:] = (features * weights).reshape(-1, R, H).sum(0).numpy()
        unit_weights = np.zeros((L, H), dtype=np.float32)
        unit_weights[L - R:] = weights.reshape(-1, R, H).sum(0).numpy()
        return Explanation(tokens, hidden_states.numpy(), running_probs, float(running_probs[-1]), contributions,
                           float(self.model.classifier.bias[0]), unit_weights, n_tokens, truncated, int((ids != UNK_ID).sum()),
                           list(misspelled))


def available_checkpoints(*folders) -> dict[str, Path]:
    """Name -> folder of every checkpoint (a folder with config.json) in ``folders``, default first."""
    found = {}
    for folder in folders or (CHECKPOINTS,):
        for config in sorted(Path(folder).glob("*/config.json")):
            found[config.parent.name] = config.parent
    return dict(sorted(found.items(), key=lambda kv: kv[0] != "default"))
