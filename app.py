"""Watch an RNN read a movie review: a Gradio app.

    python app.py            # http://127.0.0.1:7860 (and a JSON API: POST /api/predict, see sentiment/ui/rest.py)

The predict tab serves the shipped checkpoints (and runs trained in the train tab); the behaviour tab
shows how each model does on the behaviour suite and opens its failures in the predict tab; the train
tab drives the same training loop as ``python -m sentiment train``. Tests import ``demo`` from here.
"""
import gradio as gr

from sentiment.ui import about_tab, behaviour_tab, compute, lesson, limits, memory, predict_tab, rest, train_tab

limits.check_all()  # a bad SENTIMENT_* value stops the app here, saying which
# before anything computes: model work on one thread with the host's torch threads, one torch thread on every
# other thread, so the process keeps one OpenMP team (sentiment/ui/compute.py says why)
compute.one_team()
TEMP_SECONDS = limits.get("SENTIMENT_TEMP_HOURS") * 3600

# delete_cache: Gradio's copies of uploads and downloads are removed after SENTIMENT_TEMP_HOURS too
with gr.Blocks(title="Watch an RNN read a movie review", delete_cache=(TEMP_SECONDS, TEMP_SECONDS)) as demo:
    gr.Markdown("# Watch an RNN read a movie review")
    with gr.Tabs() as tabs:
        with gr.Tab("Predict", id="predict"):
            predict_view = predict_tab.build()
        with gr.Tab("Behaviour", id="behaviour"):
            behaviour_tab.build(predict_view, tabs)
        with gr.Tab("Train", id="train"):
            train_tab.build()
        with gr.Tab("About", id="about"):
            about_tab.build()
    lesson.attach(demo, tabs, predict_view, predict_view.advanced)  # ?review=...&model=...&unit=...



def serve(freeze: bool = True, **launch) -> None:
    """Launch with the host's limits: queue size, requests computed at once, upload size, sessions kept.
    ``launch`` adds to ``demo.launch``'s arguments; ``freeze=False`` leaves the built app to Python's
    collector (``benchmarks/gc_pauses.py`` compares)."""
    # before the server's threads: the built app frozen out of the collector, two malloc arenas, freed
    # memory given back every few seconds
    memory.set_up(freeze=freeze)
    # waiting visitors learn their place in the queue once a second, not at every start of a request: with a
    # class of 20 that was ~18 messages per request (one paired run: 23.6 -> 25.5 requests/s)
    demo.queue(max_size=limits.get("SENTIMENT_QUEUE_SIZE"), status_update_rate=1,
               default_concurrency_limit=limits.get("SENTIMENT_CONCURRENCY"))
    # the plain JSON API (POST /api/predict, GET /api/models) beside Gradio's own, in the same server
    app_kwargs = launch.pop("app_kwargs", {})
    app_kwargs["routes"] = [*rest.ROUTES, *app_kwargs.get("routes", [])]
    demo.launch(max_file_size=f"{limits.get('SENTIMENT_MAX_UPLOAD_MB')}mb",
                state_session_capacity=limits.get("SENTIMENT_SESSIONS"), app_kwargs=app_kwargs, **launch)


if __name__ == "__main__":
    serve()
