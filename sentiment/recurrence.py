"""The recurrence at one token, written out from a checkpoint's weights, for a class to step through.

    steps = step_through(model, ids, t=5)   # per layer: every quantity of the cell's update at token 5
    steps[1]["h_t"]                         # (H,) the layer's output there, equal to the network's own

One small function per cell, in the notation of the About tab (torch's gate order and biases):
    rnn:  h_t = tanh(W_x x_t + W_h h_{t-1} + b)
    gru:  r, z = sigmoid(...); n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)); h_t = (1 - z) * n + z * h_{t-1}
    lstm: i, f, o = sigmoid(...), g = tanh(...); c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t)
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .edits import lstm_cell_states
from .model import SentimentRNN


def rnn_step(layer: nn.RNN, x: torch.Tensor, h_prev: torch.Tensor) -> dict[str, torch.Tensor]:
    """(E,) input and (H,) previous state -> each (H,) term of the tanh RNN's update."""
    wx = layer.weight_ih_l0 @ x  # (H,)
    wh = layer.weight_hh_l0 @ h_prev  # (H,)
    b = layer.bias_ih_l0 + layer.bias_hh_l0  # (H,)
    return {"W_x x_t": wx, "W_h h_{t-1}": wh, "b": b, "sum": wx + wh + b, "h_t": torch.tanh(wx + wh + b)}


def gru_step(layer: nn.GRU, x: torch.Tensor, h_prev: torch.Tensor) -> dict[str, torch.Tensor]:
    """(E,) input and (H,) previous state -> the GRU's reset and update gates, candidate and new state."""
    xr, xz, xn = (layer.weight_ih_l0 @ x + layer.bias_ih_l0).chunk(3)  # (H,) each; torch's order: r, z, n
    hr, hz, hn = (layer.weight_hh_l0 @ h_prev + layer.bias_hh_l0).chunk(3)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return {"r (reset)": r, "z (update)": z, "n (candidate)": n, "h_{t-1}": h_prev, "h_t": (1 - z) * n + z * h_prev}


def lstm_step(layer: nn.LSTM, x: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor) -> dict[str, torch.Tensor]:
    """(E,) input, (H,) previous output and cell -> the LSTM's gates, candidate, new cell and output."""
    gates = layer.weight_ih_l0 @ x + layer.bias_ih_l0 + layer.weight_hh_l0 @ h_prev + layer.bias_hh_l0  # (4H,)
    i, f, g, o = gates.chunk(4)  # torch's order: input, forget, cell candidate, output
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c_prev + i * g
    return {"i (input)": i, "f (forget)": f, "g (candidate)": g, "o (output)": o, "c_{t-1}": c_prev, "c_t": c,
            "h_t": o * torch.tanh(c)}


@torch.inference_mode()
def step_through(model: SentimentRNN, ids: torch.Tensor, t: int) -> list[dict[str, torch.Tensor]]:
    """Every layer's update at token ``t`` of the (T,) ``ids`` (eval mode): one dict of (H,) tensors per
    layer, from the layer's input at t and its state after t - 1 (zeros before the first token)."""
    x = model.embedding(ids[None, :])[0]  # (T, E)
    steps = []
    for layer in model.layers:
        h = layer(x[None])[0][0]  # (T, H) the layer's outputs
        h_prev = h[t - 1] if t > 0 else torch.zeros_like(h[0])
        if isinstance(layer, nn.LSTM):
            c = lstm_cell_states(layer, x, h)  # (T, H)
            steps.append(lstm_step(layer, x[t], h_prev, c[t - 1] if t > 0 else torch.zeros_like(h[0])))
        elif isinstance(layer, nn.GRU):
            steps.append(gru_step(layer, x[t], h_prev))
        else:
            steps.append(rnn_step(layer, x[t], h_prev))
        x = h  # the next layer reads this one's outputs
    return steps
