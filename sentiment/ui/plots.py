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
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..predict import Explanation

SHORT_REVIEW_TOKENS = 30  # up to this many tokens, the line's x axis names each token
HEATMAP_LAYER_PX = (120, 600)  # height of one layer's heatmap: 4 px per unit, within these bounds
HEATMAP_UNITS = 48  # units per layer the heatmap shows unless asked for all: a class can read 48 rows
TOP_WORDS = 4  # words per unit shown in the table of top units


# a small explicit look: left out, Plotly sends its whole default template (about 8 KB) with every figure
TEMPLATE = go.layout.Template(layout={
    "font": {"size": 12}, "plot_bgcolor": "white", "paper_bgcolor": "white", "hovermode": "closest",
    "colorway": ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff"],
    "xaxis": {"gridcolor": "#ebebeb", "zerolinecolor": "#d0d0d0"},
    "yaxis": {"gridcolor": "#ebebeb", "zerolinecolor": "#d0d0d0"}})


def figure(data: list[dict], layout: dict, validate: bool = False) -> go.Figure:
    """A Plotly figure from plain dicts, with the small template."""
    return go.Figure({"data": data, "layout": {"template": TEMPLATE, **layout}}, _validate=validate)


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
    return [(_shown(t), round(float(d), 2)) for t, d in zip(e.tokens, scaled)]  # 1% steps of colour


def activation_tokens(e: Explanation, layer: int, unit: int) -> list[tuple[str, float]]:
    """Each token with one unit's activation (layer counted from 0). Cell outputs lie in [-1, 1] already."""
    values = e.hidden_states[layer, :, unit]  # (T,)
    return [(_shown(t), round(float(v), 2)) for t, v in zip(e.tokens, values)]


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
    return figure(data, layout)


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
    layout.update(height=L * (layer_px + 60), margin={"l": 60, "r": 10, "t": 36, "b": 60},  # t: room for the label
                  coloraxis={"colorscale": "RdBu", "cmin": -100, "cmax": 100,
                             "colorbar": {"title": {"text": "activation"}, "tickvals": [-100, -50, 0, 50, 100],
                                          "ticktext": ["-1", "-0.5", "0", "0.5", "1"]}},
                  xaxis={"showticklabels": T <= 80, "tickangle": -60, "title": {"text": "token"}})
    return figure(data, layout)


TOP_UNIT_COLUMNS = ["layer", "unit", "share of logit", "pushes toward", "firing pushes toward"]


def firing_pushes(weight: float) -> str:
    """Which way a unit firing more moves the prediction, from its summed classifier weight (``unit_weights``)."""
    return "positive" if weight > 0 else "negative"


def top_units(e: Explanation, words: dict | None, k: int = 8) -> pd.DataFrame:
    """The ``k`` units with the largest share of the final logit, which way each pushes in this review and
    which way its firing pushes in any review (the two differ when a unit pushes by staying quiet), and the
    words that drive them."""
    H = e.unit_contributions.shape[1]
    shares = e.unit_contributions.reshape(-1)  # (L*H,) lowest layer first
    read = np.repeat(np.abs(e.unit_contributions).sum(1) > 0, H)  # (L*H,) the layers the classifier reads
    order = [f for f in np.argsort(-np.abs(shares), kind="stable") if read[f]][:k]  # largest |share| first
    rows = []
    for flat in order:
        layer, unit = divmod(int(flat), H)
        row = {"layer": layer + 1, "unit": unit, "share of logit": round(float(shares[flat]), 3),
               "pushes toward": "positive" if shares[flat] > 0 else "negative",
               "firing pushes toward": firing_pushes(e.unit_weights[layer, unit])}
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
              "xaxis": {"title": {"text": "token of the original"}, "tickformat": "d",
                        "dtick": max(1, math.ceil(len(original.tokens) / 12))},  # whole tokens, never 0.5 steps
              "yaxis": {"title": {"text": "P(positive)"}, "range": [-0.04, 1.04], "tickvals": [0, 0.25, 0.5, 0.75, 1]},
              "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                          "line": {"dash": "dash", "width": 1, "color": "gray"}}]}
    return figure(data, layout)


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
    return figure(data, layout)


def step_chart(table: pd.DataFrame) -> go.Figure:
    """The step-through's numbers as grouped bars: one group per (layer, unit) row, one bar per quantity of
    the update (for a tanh RNN: W_x x_t, W_h h_{t-1}, b, their sum and h_t), so signs and sizes compare at a glance."""
    rows = [f"L{layer} u{unit}" for layer, unit in zip(table["layer"], table["unit"])]  # short: they sit side by side
    quantities = [c for c in table.columns if c not in ("layer", "unit")]
    data = [{"type": "bar", "name": name, "x": rows, "y": table[name].to_numpy(dtype=np.float32),
             "hovertemplate": f"layer, unit: %{{x}}<br>{name} = %{{y:.3f}}<extra></extra>"} for name in quantities]
    layout = {"barmode": "group", "height": 300, "margin": {"l": 40, "r": 10, "t": 30, "b": 40},
              "legend": {"orientation": "h", "y": -0.15}, "yaxis": {"zeroline": True}, "bargap": 0.25}
    return figure(data, layout)


def ladder_figure(ladder: dict) -> go.Figure:
    """Test accuracy per rung of ``docs/ladder.json`` (scripts/ladder.py): bars of the full runs and of the
    quick runs, the homework's published figure as a dashed line, and the quick runs' training time on a
    second axis (one machine for every quick rung, so those times compare)."""
    modes = ladder.get("modes", {})
    names = [r["change"] if r else None for r in (modes.get("quick") or modes.get("full") or {"rungs": []})["rungs"]]
    for mode in modes.values():
        names = [n or (r["change"] if r else f"rung {k}") for k, (n, r) in enumerate(zip(names, mode["rungs"]))]
    # rung names wrapped under their bars, not slanted (slanted, the last ran off the chart's right edge)
    labels = ["<br>".join(textwrap.wrap(f"{k}. {n}".replace("`", ""), 12)) for k, n in enumerate(names)]
    data = []
    for mode, title in (("full", "full run (test: 25,000 reviews)"), ("quick", "quick run (a subset, fewer epochs)")):
        if mode not in modes:
            continue
        rungs = modes[mode]["rungs"]
        data.append({"type": "bar", "name": title, "x": labels, "y": [r["test_acc"] if r else None for r in rungs],
                     "text": [f"{r['test_acc']:.1%}" if r else "not run" for r in rungs], "textposition": "outside",
                     "hovertemplate": "%{x}<br>%{y:.1%}<extra>" + mode + "</extra>"})
    if "quick" in modes:
        rungs = modes["quick"]["rungs"]
        data.append({"type": "scatter", "mode": "lines+markers", "name": "quick run: seconds to train", "yaxis": "y2",
                     "x": labels, "y": [round(r["train_seconds"]) if r else None for r in rungs],
                     "hovertemplate": "%{x}<br>%{y} s to train<extra>quick</extra>"})
    shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": ladder.get("published_homework", 0.742),
               "y1": ladder.get("published_homework", 0.742), "line": {"dash": "dash", "color": "grey"}}]
    layout = {"barmode": "group", "height": 500, "margin": {"l": 50, "r": 60, "t": 90, "b": 110},
              "xaxis": {"tickangle": 0, "tickfont": {"size": 11}},
              "title": {"text": "From the homework to the 512-unit LSTM: test accuracy per rung", "y": 0.98,
                        "yanchor": "top"},
              "yaxis": {"title": {"text": "test accuracy"}, "range": [0.4, 1.0], "tickformat": ".0%"},
              "yaxis2": {"title": {"text": "training time, quick run (s)"}, "overlaying": "y", "side": "right",
                         "rangemode": "tozero", "showgrid": False},
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"}, "shapes": shapes,  # between title and plot
              # the dashed line's label mid-plot, clear of the first rungs' bar labels
              "annotations": [{"xref": "paper", "x": 0.45, "y": ladder.get("published_homework", 0.742), "yanchor": "bottom",
                               "xanchor": "left", "showarrow": False, "text": "the homework's write-up: 74.2%"}]}
    return figure(data, layout, validate=True)
