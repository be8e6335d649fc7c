"""The behaviour tab: how each model does on what people type (the behaviour suite), and its failures.

A shipped checkpoint's results come from its behaviour.json (``python -m sentiment check --save``)
when that file was computed with this suite and these weights; otherwise, as for a run trained in the
app, the suite runs on demand (under a minute on a 2-core CPU) and is kept in memory, never written.
A click on a failing case opens it in the Predict tab with every view.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import gradio as gr
import pandas as pd

from ..behaviour import FILE, checkpoint_report, failures, load_suite, results_from_report, stored_report
from ..checkpoint import CheckpointError
from . import compute
from .models import checkpoints_dir, get_predictor, model_choices
from .predict_tab import PredictView

SPLIT_CHOICES = [("test half (reported only)", "test"), ("dev half (may guide model choices)", "dev"),
                 ("both halves", "all")]
FIRST_CAPABILITY = "negated_negative"  # where the shipped models fail most: a good first lesson
CASE_COLUMNS = ["type", "what should happen", "P(positive)", "text", "edited text"]
INTRO = ("**What people type, not just IMDB.** The behaviour suite checks each model on several hundred short "
         "cases written from templates, each labelled by construction: **MFT**, this text must get this label; "
         "**INV**, this edit (a name, a neutral sentence, casing, a typo) must not change the label nor move "
         "P(positive) by more than 0.1; **DIR**, this edit must move the prediction up (or down). The templates are "
         "split in halves: the *dev* half may guide model choices, the *test* half is only reported. "
         "Click a failing case to open it in the Predict tab and look inside.")


def report_for(name: str) -> dict:
    """The suite's results for a model in the menu: stored beside the checkpoint, or computed once here."""
    path = model_choices().get(name)
    if path is None:
        raise KeyError(f"No model named {name!r}; available: {', '.join(model_choices()) or 'none'}")
    return _report(name, path, _mtime(path / "config.json"), _mtime(path / FILE))


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


@lru_cache(maxsize=16)
def _report(name: str, path: Path, config_mtime: float, stored_mtime: float) -> dict:
    return stored_report(path) or compute.run(checkpoint_report, get_predictor(name), path)


def _shipped() -> list[str]:
    return [name for name, path in model_choices().items() if path.parent == checkpoints_dir()]


def _cell(half: dict, capability: str | None, kind: str | None) -> str:
    if capability is None:
        o = half["overall"]
        return f"{o['pass_rate']:.1%} ({o['passed']}/{o['n']})"
    for r in half["records"]:
        if r["capability"] == capability and r["type"] == kind:
            return f"{r['pass_rate']:.1%} ({r['passed']}/{r['n']})"
    return "—"


def pass_rates(split: str = "test", extra: str | None = None) -> tuple[pd.DataFrame, str]:
    """(table of pass rates: one row per capability and test type, one column per model; a note).
    The models are the shipped ones, plus ``extra`` (a run) when given."""
    names = list(dict.fromkeys([*_shipped(), *([extra] if extra else [])]))
    reports, problems = {}, []
    for name in names:
        try:
            reports[name] = report_for(name)
        except (KeyError, CheckpointError) as err:
            problems.append(f"{name}: {err}")
    if not reports:
        return pd.DataFrame(), " ".join(problems) or "No models to check yet."
    first = next(iter(reports.values()))
    labels = first["capabilities"]
    rows = [{"capability": labels[r["capability"]], "type": r["type"],
             **{n: _cell(rep["splits"][split], r["capability"], r["type"]) for n, rep in reports.items()}}
            for r in first["splits"][split]["records"]]
    rows.append({"capability": "All cases", "type": "all",
                 **{n: _cell(rep["splits"][split], None, None) for n, rep in reports.items()}})
    rows.append({"capability": "Short texts answered at P < 0.01 or > 0.99 (lower is humbler)", "type": "",
                 **{n: f"{rep['splits'][split]['overall']['sure_short']:.1%}" for n, rep in reports.items()}})
    rows.append({"capability": "Calibration error on the IMDB test reviews (ECE, 15 bins; lower is better)",
                 "type": "", **{n: "not measured" if rep["ece"]["value"] is None else f"{rep['ece']['value']:.4f}"
                                for n, rep in reports.items()}})
    return pd.DataFrame(rows), " ".join(problems)


def capability_choices() -> list[tuple[str, str]]:
    return [(label, key) for key, label in load_suite()["capabilities"].items()]


def failing_cases(name: str | None, capability: str | None, split: str = "test") -> tuple[pd.DataFrame, str]:
    """(the failing cases of one capability for one model, worst first; a one-line summary)."""
    if not name:
        return pd.DataFrame(columns=CASE_COLUMNS), "Pick a model."
    try:
        report = report_for(name)
    except (KeyError, CheckpointError) as err:
        return pd.DataFrame(columns=CASE_COLUMNS), str(err.args[0])
    results = [r for r in results_from_report(report)
               if split in ("all", r.case.split) and capability in (None, r.case.capability)]
    failed = failures(results)
    rows = [{"type": r.case.type, "what should happen": _expected(r.case),
             "P(positive)": f"{r.prob:.3f}" if r.prob_edited is None else f"{r.prob:.3f} → {r.prob_edited:.3f}",
             "text": r.case.text, "edited text": r.case.edited or ""} for r in failed]
    summary = (f"**{name}** fails {len(failed)} of {len(results)} cases here." if results else "No cases here.")
    return pd.DataFrame(rows, columns=CASE_COLUMNS), summary


def _expected(case) -> str:
    if case.type == "MFT":
        return {"positive": "positive", "negative": "negative", "not_negative": "not negative"}[case.expect]
    if case.type == "INV":
        return f"same label, P moves ≤ {case.max_delta}"
    return f"P goes {case.direction}"


def open_case(model_name: str, evt: gr.SelectData):
    """A click on a failing case: its text (the edited one, if that cell was clicked) into the Predict tab."""
    row = evt.row_value
    edited_clicked = evt.index[1] == CASE_COLUMNS.index("edited text") and row[-1]
    text = row[-1] if edited_clicked else row[CASE_COLUMNS.index("text")]
    return gr.Tabs(selected="predict"), text, model_name, True


def build(view: PredictView, tabs: gr.Tabs):
    gr.Markdown(INTRO)
    split = gr.Radio(SPLIT_CHOICES, value="test", label="Cases")
    table = gr.Dataframe(lambda: pass_rates("test")[0], label="Pass rate of each model (passed / cases)",
                         interactive=False, wrap=True, max_height=900, elem_id="behaviour-table")
    table_note = gr.Markdown(lambda: pass_rates("test")[1])
    gr.Markdown("### Where a model fails")
    names = list(model_choices())
    first = names[0] if names else None
    with gr.Row():
        model = gr.Dropdown(names, value=first, label="Model", allow_custom_value=True)
        capability = gr.Dropdown(capability_choices(), value=FIRST_CAPABILITY, label="Capability")
    summary = gr.Markdown(lambda: failing_cases(first, FIRST_CAPABILITY, "test")[1])
    cases = gr.Dataframe(lambda: failing_cases(first, FIRST_CAPABILITY, "test")[0],
                         label="Failing cases, worst first: click one to open it in Predict",
                         interactive=False, wrap=True, elem_id="behaviour-cases")

    gr.on([split.change], pass_rates, [split], [table, table_note], api_name="behaviour")
    gr.on([split.change, model.change, capability.change], failing_cases, [model, capability, split],
          [cases, summary], api_name="failing_cases")
    model.focus(lambda current: gr.Dropdown(choices=list(model_choices()), value=current), model, model,
                api_visibility="private", show_progress="hidden")
    # the text's change (and the model's, if it changed) then runs every view of the Predict tab
    cases.select(open_case, [model], [tabs, view.text, view.model, view.opened], api_visibility="private")

