"""Placeholder until the tab is built."""
import gradio as gr


def build():
    gr.Markdown("Coming soon.")
