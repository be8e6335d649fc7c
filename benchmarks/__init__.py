"""Benchmarks of the model, the app and training; run them with ``python benchmarks/run.py --quick``."""
