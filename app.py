"""Watch an RNN read a movie review: a Gradio app.

    python app.py            # http://127.0.0.1:7860

The predict tab serves the shipped checkpoints (and runs trained in the train tab); the train tab
drives the same training loop as ``python -m sentiment train``. Tests import ``demo`` from here.
"""
import gradio as gr

from sentiment.ui import about_tab, predict_tab, train_tab

with gr.Blocks(title="Watch an RNN read a movie review") as demo:
    gr.Markdown("# Watch an RNN read a movie review")
    with gr.Tab("Predict"):
        predict_tab.build()
    with gr.Tab("Train"):
        train_tab.build()
    with gr.Tab("About"):
        about_tab.build()

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=4).launch()
