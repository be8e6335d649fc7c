"""The path of the review: x is exactly the running logit; y is a direction orthogonal to the classifier's."""
import json
import shutil

import numpy as np
import pytest
import torch

from sentiment.cli import main
from sentiment.path import FILE, fit_path_axis, load_path_axis, review_path
from sentiment.predict import Predictor
from sentiment.train import prepare_data

REVIEW = "The film was great and the acting was wonderful, a superb story."


@pytest.fixture(scope="module")
def fitted(tiny_checkpoint, tmp_path_factory):
    folder = tmp_path_factory.mktemp("path") / "ckpt"
    shutil.copytree(tiny_checkpoint, folder, ignore=shutil.ignore_patterns("resume"))
    return folder


def test_the_path_x_is_the_running_logit_and_y_is_orthogonal(tiny_checkpoint, tiny_archive):
    predictor = Predictor.load(tiny_checkpoint)
    prepared = prepare_data(tiny_archive, predictor.train_config(), vocab=predictor.vocab)
    axis = fit_path_axis(predictor.model, prepared.train, n_reviews=50)
    direction = torch.tensor(axis["direction"])
    w = predictor.model.classifier.weight[0]
    assert direction.norm().item() == pytest.approx(1.0, abs=1e-5)
    assert abs((direction @ w).item()) < 1e-4 * w.norm().item()  # nothing of the classifier's direction
    ids = torch.tensor(predictor.vocab.encode(predictor.explain(REVIEW).tokens))
    x, y = review_path(predictor.model, ids, axis)
    running_logits = predictor.model.inspect(ids)["running_logits"].numpy()
    np.testing.assert_allclose(x, running_logits, atol=1e-5)  # at every token
    e = predictor.explain(REVIEW)
    np.testing.assert_allclose(1 / (1 + np.exp(-x)), e.running_probs, atol=1e-5)
    assert y.shape == x.shape and np.ptp(y) > 0


def test_the_path_command_stores_the_direction(fitted, tiny_archive, capsys):
    assert main(["path", "--checkpoint", str(fitted), "--data", str(tiny_archive), "--reviews", "40"]) == 0
    assert "Stored the path's second direction" in capsys.readouterr().out
    axis = load_path_axis(fitted)
    assert axis["n_reviews"] == 40 and len(axis["direction"]) == Predictor.load(fitted).model.classifier.in_features
    (fitted / FILE).write_text("not json")
    assert load_path_axis(fitted) is None


def test_the_path_view_draws_one_or_two_reviews(app_env):
    from sentiment.ui import path_view
    shown, fig = path_view.path(REVIEW, "default")
    assert "logit" in shown and "no path.json" in shown and len(fig.data) == 1  # the tiny checkpoints have none
    shown, fig = path_view.path(REVIEW, "default", "Awful and boring.")
    assert [t.name for t in fig.data] == ["this review", "second review"]
    assert "Type a review" in path_view.path("", "default")[0]


@pytest.mark.parametrize("name", ["default", "rnn"])
def test_shipped_checkpoints_have_a_path_direction(name):
    from sentiment.predict import CHECKPOINTS
    axis = json.loads((CHECKPOINTS / name / FILE).read_text())
    assert len(axis["direction"]) == Predictor.load(CHECKPOINTS / name).model.classifier.in_features
