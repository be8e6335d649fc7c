"""Set how a checkpoint reads a word its vocabulary lacks (``sentiment.checkpoint.unknown_embedding``).

    python scripts/unknown_word.py checkpoints/default --reading mean
    python scripts/unknown_word.py checkpoints/default --reading as_trained

"as_trained": the ``<unk>`` embedding as training shaped it, on the training reviews' rare words (which lean
negative in IMDB). "mean": the mean of every known word's embedding, so an unknown name or rare word reads as no
evidence either way. The reading is recorded in the checkpoint's config.json (written atomically) and applied
when the checkpoint is loaded; the weights files are not touched. Measure before choosing: validation accuracy
(``python -m sentiment evaluate --split val``), ``unknown_shift`` (``scripts/typos.py``) and the suite's dev half
(``python -m sentiment check --split dev``), with each reading; docs/experiments.md has the rule that was used.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment.checkpoint import (UNKNOWN_WORD_READINGS, CheckpointError, atomic_write, load_checkpoint,  # noqa: E402
                                  unknown_word_reading)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--reading", required=True, choices=UNKNOWN_WORD_READINGS)
    args = p.parse_args(argv)
    try:
        load_checkpoint(args.checkpoint)  # a missing or broken checkpoint is refused before anything is written
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    path = args.checkpoint / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    before = unknown_word_reading(config)
    if args.reading == "as_trained":
        config.pop("unknown_word", None)
    else:
        config["unknown_word"] = args.reading
    atomic_write(path, json.dumps(config, indent=2))
    print(f"{args.checkpoint}: an unknown word read {args.reading} (was {before})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
