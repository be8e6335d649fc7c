"""The classifier: embedding -> two unidirectional recurrent layers -> pooling over time -> one logit.

Batches are padded on the right and never packed: a unidirectional layer at step t has only seen
steps <= t, so padding after a review cannot reach its outputs, and pooling ignores padded steps
by mask. Adding padding therefore never changes a prediction, and the fast unpacked kernels run.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn

from .vocab import PAD_ID, UNK_ID

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
POOLINGS = ("last", "max", "mean", "maxmean", "maxmeanlast")
# the parts each pooling puts side by side, in this order: the classifier's weights are (P * R*H,) in these blocks
POOL_PARTS = {"last": ("last",), "max": ("max",), "mean": ("mean",), "maxmean": ("max", "mean"),
              "maxmeanlast": ("max", "mean", "last")}
POOLED_LAYERS = ("top", "all")
RECURRENT_INITS = ("uniform", "orthogonal")
CHOICES = {"cell": tuple(CELLS), "pooling": POOLINGS, "pooled_layers": POOLED_LAYERS,
           "recurrent_init": RECURRENT_INITS}  # the settings that name one of a few options


@dataclass
class ModelConfig:
    vocab_size: int  # rows of the embedding, <pad> and <unk> included
    cell: str = "lstm"  # "rnn" (tanh, the homework's), "gru" or "lstm"
    embed_dim: int = 128  # size of each token's learned vector
    hidden_size: int = 192  # units per recurrent layer
    num_layers: int = 2  # stacked recurrent layers
    embed_dropout: float = 0.3  # dropout on token vectors
    word_dropout: float = 0.0  # in training, this share of tokens is read as <unk> (whole words dropped)
    layer_dropout: float = 0.3  # dropout on each layer's outputs before the next layer
    output_dropout: float = 0.5  # dropout on pooled features before the classifier
    pooling: str = "maxmean"  # how outputs over time become one vector: last, max, mean, maxmean or maxmeanlast
    pooled_layers: str = "top"  # whose outputs are pooled: the top layer's, or every layer's side by side
    recurrent_init: str = "uniform"  # start of the hidden-to-hidden weights: torch's "uniform", or "orthogonal"

    def __post_init__(self):
        for name, options in CHOICES.items():
            if getattr(self, name) not in options:
                raise ValueError(f"{name} must be one of {', '.join(options)}; got {getattr(self, name)!r}")
        for name in ("vocab_size", "embed_dim", "hidden_size", "num_layers"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer; got {getattr(self, name)!r}")
        for name in ("embed_dropout", "word_dropout", "layer_dropout", "output_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1); got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**d)


def running_max(x: torch.Tensor) -> torch.Tensor:
    """(..., T, D) -> (..., T, D): at each step t, the max over steps 0..t. The scan runs along the last
    dimension of the transposed view, several times faster on a CPU than along T."""
    return torch.cummax(x.transpose(-1, -2), dim=-1).values.transpose(-1, -2)


def running_sum(x: torch.Tensor) -> torch.Tensor:
    """(..., T, D) -> (..., T, D): at each step t, the sum over steps 0..t (scanned as ``running_max``)."""
    return torch.cumsum(x.transpose(-1, -2), dim=-1).transpose(-1, -2)


class SentimentRNN(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0)
        # one module per layer (not num_layers=2) so every layer's hidden states can be shown
        self.layers = nn.ModuleList(
            CELLS[c.cell](c.embed_dim if i == 0 else c.hidden_size, c.hidden_size, batch_first=True)
            for i in range(c.num_layers))
        if c.recurrent_init == "orthogonal":  # each gate's (H, H) block orthogonal (Saxe et al., 2014)
            for layer in self.layers:
                for block in layer.weight_hh_l0.data.split(c.hidden_size):
                    nn.init.orthogonal_(block)
        self.embed_drop = nn.Dropout(c.embed_dropout)
        self.layer_drop = nn.Dropout(c.layer_dropout)
        self.output_drop = nn.Dropout(c.output_dropout)
        self.classifier = nn.Linear(len(self.pool_parts) * self.n_read_layers * c.hidden_size, 1)

    @property
    def pool_parts(self) -> tuple[str, ...]:
        """The pooled parts side by side (P of them): some of "max", "mean", "last", in that order."""
        return POOL_PARTS[self.config.pooling]

    def classifier_parts(self) -> dict[str, torch.Tensor]:
        """The classifier's weights by pooled part: name -> (R*H,), views of its (P*R*H,) row."""
        return dict(zip(self.pool_parts, self.classifier.weight[0].chunk(len(self.pool_parts))))

    @property
    def n_read_layers(self) -> int:
        """How many layers' outputs the classifier reads (R): 1 (the top) or all of them."""
        return self.config.num_layers if self.config.pooled_layers == "all" else 1

    def read_outputs(self, states: list[torch.Tensor]) -> torch.Tensor:
        """Every layer's (B, T, H) outputs -> (B, T, R*H): the outputs that are pooled, lowest layer first."""
        return torch.cat(states[-self.n_read_layers:], dim=-1)

    def encode(self, ids: torch.Tensor, perturbation: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Every layer's outputs: a list of num_layers tensors (B, T, H).

        ``perturbation`` (B, T, E), if given, is added to the token vectors (adversarial training).
        """
        if self.training and self.config.word_dropout > 0:
            dropped = (torch.rand(ids.shape, device=ids.device) < self.config.word_dropout) & (ids != PAD_ID)
            ids = ids.masked_fill(dropped, UNK_ID)  # (B, T)
        x = self.embedding(ids)  # (B, T, E)
        if perturbation is not None:
            x = x + perturbation
        x = self.embed_drop(x)
        states = []
        for i, layer in enumerate(self.layers):
            x, _ = layer(x)  # (B, T, H)
            states.append(x)
            if i + 1 < len(self.layers):
                x = self.layer_drop(x)
        return states

    def pool(self, outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, H) outputs and (B,) lengths -> (B, P*H) features over the valid steps only (H: any width)."""
        B, T, H = outputs.shape
        mask = (torch.arange(T, device=outputs.device)[None, :] < lengths[:, None])[..., None]  # (B, T, 1)
        part = {"max": lambda: outputs.masked_fill(~mask, float("-inf")).amax(dim=1),  # (B, H)
                "mean": lambda: (outputs * mask).sum(dim=1) / lengths[:, None].to(outputs.dtype),  # (B, H)
                "last": lambda: outputs[torch.arange(B, device=outputs.device), lengths - 1]}  # (B, H)
        return torch.cat([part[name]() for name in self.pool_parts], dim=-1)  # (B, P*H)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, perturbation: torch.Tensor | None = None
                ) -> torch.Tensor:
        """(B, T) token ids padded on the right, (B,) lengths >= 1 -> (B,) logits of "positive"."""
        read = self.read_outputs(self.encode(ids, perturbation))  # (B, T, R*H)
        features = self.pool(read, lengths)  # (B, P*R*H)
        return self.classifier(self.output_drop(features)).squeeze(-1)  # (B,)

    def running_features(self, read: torch.Tensor) -> torch.Tensor:
        """(B, T, R*H) pooled layers' outputs -> (B, T, P*R*H): the pooled features if the review ended at each step."""
        steps = torch.arange(1, read.shape[1] + 1, device=read.device, dtype=read.dtype)[:, None]  # (T, 1)
        part = {"max": lambda: running_max(read), "mean": lambda: running_sum(read) / steps,  # (B, T, R*H)
                "last": lambda: read}
        return torch.cat([part[name]() for name in self.pool_parts], dim=-1)  # (B, T, P*R*H)

    def running_logits(self, read: torch.Tensor) -> torch.Tensor:
        """(B, T, R*H) pooled layers' outputs -> (B, T): the logit if the review ended at each step, the
        classifier applied to ``running_features`` without building them. The classifier is linear, so the
        mean's part is projected first and then summed along the steps: a (B, T) scan, not (B, T, R*H)."""
        steps = torch.arange(1, read.shape[1] + 1, device=read.device, dtype=read.dtype)  # (T,)
        part = {"max": lambda w: running_max(read) @ w,  # (B, T)
                "mean": lambda w: torch.cumsum(read @ w, dim=1) / steps,  # T is the last dimension here
                "last": lambda w: read @ w}
        logits = self.classifier.bias[0].expand(read.shape[:2])  # (B, T)
        for name, w in self.classifier_parts().items():  # w: (R*H,)
            logits = logits + part[name](w)
        return logits

    @torch.no_grad()
    def inspect(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """What the app shows for one review of T >= 1 tokens, given as (T,) ids. In eval mode.

        hidden_states (num_layers, T, H): each layer's output at each token;
        running_logits (T,): the model's logit if the review ended at that token, exactly;
        features (P*R*H,): the pooled features of the whole review; the classifier reads these.
        """
        states = self.encode(ids[None, :])  # num_layers x (1, T, H)
        read = self.read_outputs(states)  # (1, T, R*H)
        return {"hidden_states": torch.cat(states, dim=0), "running_logits": self.running_logits(read)[0],
                "features": self.pool(read, torch.tensor([len(ids)], device=ids.device))[0]}
