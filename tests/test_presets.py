"""Presets (`train --preset`, the Train tab's menu), the homework's settings, and a 5-unit homework
checkpoint in every view of the app."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from sentiment.cli import parse_args, train_settings
from sentiment.predict import Predictor
from sentiment.presets import PRESETS, preset
from sentiment.text import clean_text, tokenize
from sentiment.train import Done, TrainConfig, lr_at, train


def test_the_homework_preset_is_the_homeworks_network_and_training():
    options, cfg = preset("homework")
    assert options | {} == {**options, "cell": "rnn", "hidden_size": 5, "num_layers": 2, "embed_dim": 256,
                            "pooling": "last", "embed_dropout": 0.0, "layer_dropout": 0.0, "output_dropout": 0.0}
    assert (cfg.vocab_size, cfg.min_freq, cfg.lr, cfg.schedule, cfg.batch_size, cfg.epochs) == (
        25_002, 1, 1e-3, "constant", 128, 20)
    assert (cfg.lowercase, cfg.keep_html, cfg.clip_norm, cfg.weight_decay) == (False, True, 0.0, 0.0)


def test_a_preset_fills_the_command_line_and_flags_given_as_well_win():
    args = parse_args(["train", "--out", "x", "--preset", "homework", "--hidden-size", "7", "--no-cased"])
    options, cfg = train_settings(args)
    assert options["hidden_size"] == 7 and options["pooling"] == "last" and cfg.epochs == 20
    assert cfg.lowercase and cfg.keep_html  # --no-cased undid the preset's case, the rest stays
    plain_options, plain_cfg = train_settings(parse_args(["train", "--out", "x"]))
    assert plain_cfg == TrainConfig() and plain_options["hidden_size"] == 192
    for name in PRESETS:  # every preset is what its own command line gives
        assert train_settings(parse_args(["train", "--out", "x", "--preset", name])) == preset(name)
    with pytest.raises(SystemExit):
        parse_args(["train", "--out", "x", "--preset", "nonsense"])


def test_constant_schedule_and_clipping_off():
    cfg = TrainConfig(schedule="constant", lr=1e-3, warmup=0.0)
    assert {lr_at(step, 100, cfg) for step in (0, 50, 99)} == {1e-3}
    assert lr_at(99, 100, TrainConfig(lr=1e-3)) < 1e-4  # the cosine schedule decays
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="step")
    with pytest.raises(ValueError, match="clip_norm"):
        TrainConfig(clip_norm=-1.0)


def test_kept_html_reaches_the_tokenizer_and_cleaned_html_does_not():
    text = "Great film.<br /><br />Loved &amp; laughed."
    assert "<br" not in clean_text(text) and "&" in clean_text(text)
    assert clean_text(text, keep_html=True) == text
    kept = tokenize(text, lowercase=False, keep_html=True)
    assert "Great" in kept and "film.<br" in kept and "amp" in kept  # the homework glued words to tags
    assert not any("br" in t for t in tokenize(text))


@pytest.fixture(scope="module")
def homework_checkpoint(tiny_archive, tmp_path_factory):
    """The homework preset on the tiny archive: 5 tanh units, the last state, cased, <br /> kept."""
    options, cfg = preset("homework")
    cfg = TrainConfig(**{**cfg.__dict__, "epochs": 3, "max_len": 60, "lr": 1e-2, "batch_size": 16})
    out = tmp_path_factory.mktemp("homework") / "homework"
    events = list(train(tiny_archive, options, cfg, out))
    assert isinstance(events[-1], Done) and events[-1].best_epoch
    return out


def test_a_homework_checkpoint_reads_cased_text_with_its_tags(homework_checkpoint):
    p = Predictor.load(homework_checkpoint)
    assert p.keep_html and not p.lowercase and p.model_config.hidden_size == 5
    e = p.explain("The film was great.<br /><br />Superb acting.")
    assert "The" in e.tokens and any("br" in t for t in e.tokens)
    assert e.hidden_states.shape == (2, len(e.tokens), 5)
    assert e.running_probs[-1] == pytest.approx(p.predict(["The film was great.<br /><br />Superb acting."])[0]
                                                .prob_positive, abs=1e-6)


def test_every_view_works_at_five_units(app_env, homework_checkpoint):
    from pathlib import Path

    from sentiment.ui import edit_view, path_view, predict_tab, step_view
    run = Path(app_env["SENTIMENT_RUNS"]) / "homework5"
    shutil.copytree(homework_checkpoint, run, ignore=shutil.ignore_patterns("resume"), dirs_exist_ok=True)
    name = "runs/homework5"
    review = "The film was great and the acting was wonderful, a superb story."
    notice, label, tokens, line, heatmap, unit_text, top = predict_tab.predict(review, name)
    unit_tokens, _ = predict_tab.unit_view(review, name)
    assert len(unit_tokens) == len(tokens)
    assert set(label) == {"positive", "negative"} and len(top) == 5 and "unit" in unit_text
    assert heatmap.data[0].z is not None and np.asarray(heatmap.data[-1].z).shape[0] == 5
    outputs = step_view.step(review, name, 2)
    assert outputs and "tanh" in str(outputs)
    assert path_view.path(review, name) is not None
    assert edit_view.edit(review, review.replace("great", "awful"), name) is not None
    assert edit_view.suggest(review, name) is not None
    shutil.rmtree(run)  # the runs folder is shared with the other app tests


def test_the_train_tab_preset_fills_the_form_and_the_run_keeps_the_presets_other_settings():
    from sentiment.ui import train_tab
    filled = train_tab.fill_form("homework")
    values, note = filled[:-1], filled[-1]
    assert values == ["rnn", 2, 5, 256, 20, 1e-3, 128, 2600, 25_000, "sample", "last"]
    assert "no gradient clipping" in note and "`<br />` tags read as tokens" in note
    request = train_tab.run_request(*values, "homework")
    assert request.model_options["output_dropout"] == 0.0 and request.cfg.schedule == "constant"
    assert request.cfg.val_split == "movie" and request.cfg.vocab_size == 25_002
    changed = train_tab.run_request("rnn", 2, 16, 256, 3, 1e-3, 128, 400, 1000, "sample", "maxmean", "homework")
    assert changed.model_options["hidden_size"] == 16 and changed.cfg.epochs == 3 and changed.cfg.keep_html
    assert train_tab.run_request(*train_tab.CLASSROOM.values()).cfg.val_fraction == 0.1
    assert train_tab.run_request(*train_tab.form_values("default").values()).cfg.val_fraction == 0.1  # app validates
    rnn = train_tab.run_request(*train_tab.form_values("rnn").values()).cfg  # trained on every review on the command line
    assert rnn.val_fraction == 0.1 and rnn.temperature_from is None  # the app's run fits its own temperature
    with pytest.raises(ValueError, match="Preset"):
        train_tab.run_request(*values, "nonsense")


def test_the_command_an_app_run_records_gives_the_same_settings_on_the_command_line():
    import shlex
    from pathlib import Path

    from sentiment.ui import train_tab, training_job
    for name in PRESETS:
        request = train_tab.run_request(*train_tab.form_values(name).values())
        command = training_job.cli_command(request, Path("runs/x")).split("  #")[0]
        assert train_settings(parse_args(shlex.split(command)[3:])) == (request.model_options, request.cfg)
