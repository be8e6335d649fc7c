"""The Gradio app's tabs. ``app.py`` lays them out; the work is done by the ``sentiment`` package."""
