"""Lesson links: the page's address holds the review, the model, the tab and the unit on screen, so a
teacher can prepare "this review, this model, this unit" and send the class straight to it.

    ?review=Not%20bad%20at%20all.&model=rnn&layer=2&unit=17&tab=predict     restores that view
    ?view=simple                                                             only the essentials, for a projector
"""
from __future__ import annotations

from urllib.parse import urlencode

import gradio as gr

TABS = ("predict", "behaviour", "train", "about")
MAX_LINK_CHARS = 4000  # longer reviews are cut in a link: browsers and servers limit an address's length


def lesson_query(text: str, model: str | None, layer, unit, tab: str = "predict", simple: bool = False) -> str:
    """The query string ("?review=...") that restores this view."""
    params = {"review": (text or "")[:MAX_LINK_CHARS], "model": model or "", "layer": int(layer or 2),
              "unit": int(unit if unit is not None else -1), "tab": tab}
    if simple:
        params["view"] = "simple"
    return "?" + urlencode(params)


def read_query(params: dict) -> dict:
    """The view a query asks for, each value checked: {text, model, layer, unit, tab, simple}; a value that
    is missing or malformed is left out (the page keeps its default)."""
    view = {"simple": params.get("view") == "simple"}
    if params.get("review"):
        view["text"] = params["review"][:MAX_LINK_CHARS]
    if params.get("model"):
        view["model"] = params["model"]
    for key in ("layer", "unit"):
        try:
            view[key] = int(params[key])
        except (KeyError, ValueError):
            pass
    if params.get("tab") in TABS:
        view["tab"] = params["tab"]
    return view


def restored(request: gr.Request | None, hidden: int) -> tuple:
    """On page load: (tab, review, model, layer, unit, opened, then the visibility of ``hidden`` controls)."""
    view = read_query(dict(request.query_params) if request else {})
    keep = gr.skip()
    return (gr.Tabs(selected=view["tab"]) if "tab" in view else keep, view.get("text", keep),
            view.get("model", keep), view.get("layer", keep), view.get("unit", keep),
            True if "text" in view else keep,  # a review from a link shows every view, whatever "live" says
            *(gr.update(visible=not view["simple"]),) * hidden)


def copy_link(text: str, model: str | None, layer, unit) -> str:
    """Markdown: the link that opens this review, model and unit, and its projector version."""
    query = lesson_query(text, model, layer, unit)
    return (f"**Lesson link** (copy it from the address bar after opening): [this view]({query}) · "
            f"[the same, simple view for a projector]({query}&view=simple)\n\n`{query}`")


def attach(demo: gr.Blocks, tabs: gr.Tabs, view, advanced: list) -> None:
    """Restore a lesson link's view when the page loads; ``advanced``: what ``?view=simple`` hides."""
    def on_load(request: gr.Request):
        return restored(request, len(advanced))
    demo.load(on_load, None, [tabs, view.text, view.model, view.layer, view.unit, view.opened, *advanced],
              api_visibility="private")
