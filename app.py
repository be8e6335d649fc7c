"""Watch an RNN read a movie review: a Gradio app.

    python app.py            # http://127.0.0.1:7860

The predict tab serves the shipped checkpoints (and runs trained in the train tab); the behaviour tab
shows how each model does on the behaviour suite and opens its failures in the predict tab; the train
tab drives the same training loop as ``python -m sentiment train``. Tests import ``demo`` from here.
"""
import gradio as gr

from sentiment.ui import about_tab, behaviour_tab, lesson, predict_tab, train_tab

with gr.Blocks(title="Watch an RNN read a movie review") as demo:
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

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=4).launch()
