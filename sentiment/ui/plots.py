"""Figures and values for the predict tab: pure functions of an ``Explanation``, so tests can call them.

    e = Predictor.load().explain("Not bad at all.")
    delta_tokens(e)            # [("not ", -0.4), ("bad ", -1.0), ...] for gr.HighlightedText
    prob_line(e), hidden_heatmap(e)   # plotly figures for gr.Plot

Plotly 6+ sends numpy arrays as typed binary ("bdata"), and figures are built from plain dicts without
plotly's per-property validation (which costs more than the model itself), so a 512-token x 512-unit x
2-layer heatmap takes a few milliseconds; hover text comes from the axes (one label per token), not per cell.
The heatmap sends activations as int8 percents of the cell's range (-100 ... 100): a quarter of the
float32 bytes, which shortens every answer of the app (figures: README, Performance;
`python benchmarks/run.py --quick --only app`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..predict import Explanation

SHORT_REVIEW_TOKENS = 30  # up to this many tokens, the line's x axis names each token
HEATMAP_LAYER_PX = (120, 600)  # height of one layer's heatmap: 4 px per unit, within these bounds
HEATMAP_UNITS = 48  # units per layer the heatmap shows unless asked for all: a class can read 48 rows
TOP_WORDS = 4  # words per unit shown in the table of top units


def _shown(token: str) -> str:
    return token + " "  # spaCy drops the spaces between tokens; HighlightedText needs them back


def delta_scale(e: Explanation) -> float:
    """The move in P(positive) shown as full colour: the largest after the first token (whose move is
    measured from 0.5 and would otherwise wash out the rest)."""
    moves = np.abs(e.deltas[1:] if len(e.tokens) > 1 else e.deltas)  # (T-1,)
    return float(moves.max()) or 1.0


def delta_tokens(e: Explanation) -> list[tuple[str, float]]:
    """Each token with how much it moved P(positive), divided by ``delta_scale`` and clipped to +-1."""
    scaled = np.clip(e.deltas / delta_scale(e), -1, 1)  # (T,)
    return [(_shown(t), round(float(d), 3)) for t, d in zip(e.tokens, scaled)]


def activation_tokens(e: Explanation, layer: int, unit: int) -> list[tuple[str, float]]:
    """Each token with one unit's activation (layer counted from 0). Cell outputs lie in [-1, 1] already."""
    values = e.hidden_states[layer, :, unit]  # (T,)
    return [(_shown(t), round(float(v), 3)) for t, v in zip(e.tokens, values)]


def token_labels(tokens: list[str]) -> list[str]:
    """Unique axis labels ("12 great"): a categorical axis merges repeated words otherwise."""
    return [f"{i} {t}" for i, t in enumerate(tokens)]


def prob_line(runs: dict[str, Explanation]) -> go.Figure:
    """P(positive) after each token, one line per model (name -> explanation), over a dashed 0.5."""
    data = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": np.arange(len(e.tokens)),
             "y": e.running_probs, "customdata": e.tokens, "marker": {"size": 4},
             "hovertemplate": "%{x}: %{customdata}<br>P(positive) %{y:.3f}<extra>" + name + "</extra>"}
            for name, e in runs.items()]
    T = max(len(e.tokens) for e in runs.values())
    first = next(iter(runs.values()))
    # whole-number ticks; a short review is labelled with its own tokens
    xaxis = ({"tickmode": "array", "tickvals": list(range(T)), "ticktext": token_labels(first.tokens),
              "tickangle": -45} if T <= SHORT_REVIEW_TOKENS and len({len(e.tokens) for e in runs.values()}) == 1
             else {"tickformat": "d", "dtick": max(1, math.ceil(T / 12))})
    layout = {"height": 260, "margin": {"l": 50, "r": 10, "t": 10, "b": 60}, "showlegend": len(runs) > 1,
              "xaxis": {"title": {"text": "token"}, **xaxis},
              # a little room past 0 and 1, so that a line of P = 1.000 is not hidden under the plot's border
              "yaxis": {"title": {"text": "P(positive)"}, "range": [-0.04, 1.04], "tickvals": [0, 0.25, 0.5, 0.75, 1]},
              "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                          "line": {"dash": "dash", "width": 1, "color": "gray"}}]}
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def heatmap_percents(values: np.ndarray) -> np.ndarray:
    """Activations in [-1, 1] (every cell's outputs are) -> int8 percents of that range, rounded."""
    return np.round(np.clip(values, -1, 1) * 100).astype(np.int8)


def heatmap_units(e: Explanation, layer: int, top: int | None = HEATMAP_UNITS) -> np.ndarray:
    """The units one layer's heatmap shows, top row first. On a layer the classifier reads: by their share
    of the logit, those pushing *positive* most on top and *negative* most at the bottom (the ``top`` with
    the largest shares, or all). On another: the ``top`` that swing most over this review, most first."""
    shares = e.unit_contributions[layer]  # (H,)
    if np.any(shares):
        chosen = np.argsort(-np.abs(shares), kind="stable")[:top]
        return chosen[np.argsort(-shares[chosen], kind="stable")]
    return np.argsort(-np.ptp(e.hidden_states[layer], axis=0), kind="stable")[:top]  # (T, H) -> range per unit


def hidden_heatmap(e: Explanation, all_units: bool = False) -> go.Figure:
    """Each layer's activations, tokens across and units down (top layer above), ordered by
    ``heatmap_units``: the 48 that matter most, or every unit; hover: token, unit, value."""
    L, T, H = e.hidden_states.shape
    x = token_labels(e.tokens)  # (T,)
    low_px, high_px = HEATMAP_LAYER_PX
    data, layout = [], {}
    for layer in range(L):
        units = heatmap_units(e, layer, None if all_units else HEATMAP_UNITS)  # (U,) in display order
        layer_px = min(max(4 * len(units), low_px), high_px)  # 48 rows get 4 px each; 512 fit in 600 px
        axis = "" if layer == 0 else str(layer + 1)
        data.append({"type": "heatmap", "z": heatmap_percents(e.hidden_states[layer][:, units].T),  # (U, T) int8
                     "x": x, "y": [str(u) for u in units], "xaxis": "x", "yaxis": "y" + axis,
                     "coloraxis": "coloraxis",
                     "hovertemplate": f"token %{{x}}<br>layer {layer + 1}, unit %{{y}}<br>activation %{{z}}%<extra></extra>"})
        low, high = layer / L, (layer + 1) / L
        read = np.any(e.unit_contributions[layer])
        title = f"layer {layer + 1} unit" + (" (+ on top)" if read else "")
        layout["yaxis" + axis] = {"domain": [low + 0.02, high - 0.02], "title": {"text": title},
                                  "type": "category", "autorange": "reversed",
                                  "showticklabels": len(units) <= HEATMAP_UNITS}
    layout.update(height=L * (layer_px + 60), margin={"l": 60, "r": 10, "t": 10, "b": 60},
                  coloraxis={"colorscale": "RdBu", "cmin": -100, "cmax": 100,
                             "colorbar": {"title": {"text": "activation"}, "tickvals": [-100, -50, 0, 50, 100],
                                          "ticktext": ["-1", "-0.5", "0", "0.5", "1"]}},
                  xaxis={"showticklabels": T <= 80, "tickangle": -60, "title": {"text": "token"}})
    return go.Figure({"data": data, "layout": layout}, _validate=False)


TOP_UNIT_COLUMNS = ["layer", "unit", "share of logit", "pushes toward"]


def top_units(e: Explanation, words: dict | None, k: int = 8) -> pd.DataFrame:
    """The ``k`` units with the largest share of the final logit, and the words that drive them."""
    H = e.unit_contributions.shape[1]
    shares = e.unit_contributions.reshape(-1)  # (L*H,) lowest layer first
    order = np.argsort(-np.abs(shares), kind="stable")[:k]  # (k,) flat ids, largest |share| first
    rows = []
    for flat in order:
        layer, unit = divmod(int(flat), H)
        row = {"layer": layer + 1, "unit": unit, "share of logit": round(float(shares[flat]), 3),
               "pushes toward": "positive" if shares[flat] > 0 else "negative"}
        if words:
            row["fires on"] = ", ".join(w for w, _ in words["layers"][layer][unit]["excite"][:TOP_WORDS])
            row["quiet on"] = ", ".join(w for w, _ in words["layers"][layer][unit]["inhibit"][:TOP_WORDS])
        rows.append(row)
    return pd.DataFrame(rows)


def edit_tokens(e: Explanation, marked: set[int]) -> list[tuple[str, str | None]]:
    """A review's tokens for gr.HighlightedText, the ones an edit touched marked "changed"."""
    return [(_shown(t), "changed" if i in marked else None) for i, t in enumerate(e.tokens)]


def edit_lines(original: Explanation, edited: Explanation, edited_x: np.ndarray) -> go.Figure:
    """Both lines of P(positive) on the original's token axis: the edit's tokens placed where they line up
    (``edits.aligned_positions``), so the two lines part where the edit is and meet again where they agree."""
    data = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": e.running_probs,
             "customdata": e.tokens, "marker": {"size": 4}, "line": {"dash": dash},  # the edit dotted over the original
             "hovertemplate": "%{customdata}<br>P(positive) %{y:.3f}<extra>" + name + "</extra>"}
            for name, e, x, dash in (("original", original, np.arange(len(original.tokens)), "solid"),
                                     ("edit", edited, edited_x, "dot"))]
    layout = {"height": 280, "margin": {"l": 50, "r": 10, "t": 10, "b": 60}, "showlegend": True,
              "xaxis": {"title": {"text": "token of the original"}, "tickformat": "d"},
              "yaxis": {"title": {"text": "P(positive)"}, "range": [-0.04, 1.04], "tickvals": [0, 0.25, 0.5, 0.75, 1]},
              "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                          "line": {"dash": "dash", "width": 1, "color": "gray"}}]}
    return go.Figure({"data": data, "layout": layout}, _validate=False)


PATH_LABELS = 60  # up to this many tokens, the path is labelled with its tokens; beyond, hover only


def review_paths(paths: dict[str, tuple[list[str], np.ndarray, np.ndarray]], y_title: str) -> go.Figure:
    """Each review (name -> tokens, x, y) as a path through the plane: x the running logit, points coloured
    by P(positive) = sigmoid(x), the decision line x = 0 drawn; the first review's tokens label its points."""
    data = []
    for k, (name, (tokens, x, y)) in enumerate(paths.items()):
        probs = 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))
        labelled = k == 0 and len(tokens) <= PATH_LABELS
        data.append({"type": "scatter", "mode": "lines+markers" + ("+text" if labelled else ""), "name": name,
                     "x": np.asarray(x, dtype=np.float32), "y": np.asarray(y, dtype=np.float32),
                     "text": tokens if labelled else None, "textposition": "top center", "customdata": tokens,
                     "line": {"width": 1, "color": "gray", "dash": "solid" if k == 0 else "dot"},
                     "marker": {"size": 8 if k == 0 else 6, "color": probs, "coloraxis": "coloraxis",
                                "symbol": "circle" if k == 0 else "diamond"},
                     "hovertemplate": "%{customdata}<br>logit %{x:.2f}<extra>" + name + "</extra>"})
    layout = {"height": 400, "margin": {"l": 60, "r": 10, "t": 30, "b": 50}, "showlegend": len(paths) > 1,
              "legend": {"orientation": "h", "x": 0, "y": 1.08},  # above the plot, clear of the colour bar
              "xaxis": {"title": {"text": "running logit (x > 0: positive if the review ended here)"}, "zeroline": False},
              "yaxis": {"title": {"text": y_title}},
              "coloraxis": {"colorscale": [[0, "#7c3aed"], [0.5, "#f3f4f6"], [1, "#dc2626"]], "cmin": 0, "cmax": 1,
                            "colorbar": {"title": {"text": "P(positive)"}}},
              "shapes": [{"type": "line", "yref": "paper", "y0": 0, "y1": 1, "x0": 0, "x1": 0,
                          "line": {"dash": "dash", "width": 1, "color": "black"}}]}
    return go.Figure({"data": data, "layout": layout}, _validate=False)
