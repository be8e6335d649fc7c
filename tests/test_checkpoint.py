import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from sentiment import checkpoint
from sentiment.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from sentiment.predict import Predictor

IDS = torch.tensor([[2, 3, 4, 5, 6], [7, 8, 9, 0, 0]])
LENGTHS = torch.tensor([5, 3])


def test_round_trip_gives_identical_logits(tiny_checkpoint, tmp_path):
    model, vocab, config, metrics = load_checkpoint(tiny_checkpoint)
    save_checkpoint(tmp_path / "copy", model, vocab, metrics, config["tokenizer"])
    again, vocab2, config2, _ = load_checkpoint(tmp_path / "copy")
    assert torch.equal(model(IDS, LENGTHS), again(IDS, LENGTHS))
    assert vocab2.itos == vocab.itos and config2["model"] == config["model"]
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == \
        ["config.json", "metrics.json", "model.safetensors", "vocab.json"]  # no temporary files left


def test_float16_weights_are_half_the_size_and_close(tiny_checkpoint, tmp_path):
    model, vocab, config, metrics = load_checkpoint(tiny_checkpoint)
    save_checkpoint(tmp_path / "half", model, vocab, metrics, config["tokenizer"], weights_dtype="float16")
    half, *_ = load_checkpoint(tmp_path / "half")
    size = lambda d: (d / "model.safetensors").stat().st_size
    assert size(tmp_path / "half") < 0.6 * size(tiny_checkpoint)
    torch.testing.assert_close(half(IDS, LENGTHS), model(IDS, LENGTHS), atol=2e-2, rtol=0)


def test_weights_over_the_file_limit_are_split_and_load_the_same(tiny_checkpoint, tmp_path, monkeypatch):
    model, vocab, config, metrics = load_checkpoint(tiny_checkpoint)
    biggest = max(v.numel() * v.element_size() for v in model.state_dict().values())
    monkeypatch.setattr(checkpoint, "MAX_FILE_BYTES", biggest // 3)  # the embedding must be cut by rows
    save_checkpoint(tmp_path / "split", model, vocab, metrics, config["tokenizer"])
    files = checkpoint.weight_files(tmp_path / "split")
    assert len(files) > 3 and "model.safetensors" not in files
    assert all((tmp_path / "split" / f).stat().st_size < biggest // 3 + 1000 for f in files)  # + header
    again, *_ = load_checkpoint(tmp_path / "split")
    assert torch.equal(model(IDS, LENGTHS), again(IDS, LENGTHS))
    (tmp_path / "split" / files[1]).unlink()
    with pytest.raises(CheckpointError, match=f"{files[1]} is missing"):
        load_checkpoint(tmp_path / "split")
    monkeypatch.undo()
    save_checkpoint(tmp_path / "split", model, vocab, metrics, config["tokenizer"])  # small enough again
    assert checkpoint.weight_files(tmp_path / "split") == ["model.safetensors"]  # no stale parts left
    assert torch.equal(model(IDS, LENGTHS), load_checkpoint(tmp_path / "split")[0](IDS, LENGTHS))


@pytest.fixture
def copy(tiny_checkpoint, tmp_path):
    return shutil.copytree(tiny_checkpoint, tmp_path / "ckpt", ignore=shutil.ignore_patterns("resume"))


def test_truncated_weights_get_a_clear_error(copy):
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="model.safetensors is truncated or corrupt"):
        load_checkpoint(copy)


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "vocab.json", "metrics.json"])
def test_missing_file_is_named(copy, name):
    (copy / name).unlink()
    with pytest.raises(CheckpointError, match=f"{name} is missing"):
        load_checkpoint(copy)


def test_mismatched_files_are_refused(copy, tmp_path):
    config = json.loads((copy / "config.json").read_text())
    config["model"]["hidden_size"] += 1
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="has shape"):
        load_checkpoint(copy)
    vocab = json.loads((copy / "vocab.json").read_text())
    (copy / "vocab.json").write_text(json.dumps({"itos": vocab["itos"][:-1]}))
    with pytest.raises(CheckpointError, match="different checkpoints"):
        load_checkpoint(copy)
    (copy / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json is corrupt"):
        load_checkpoint(copy)
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_checkpoint(tmp_path / "nowhere")


def test_predictor_explains_exactly(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    text = "A wonderful, superb film. Loved it!"
    explanation = predictor.explain(text)
    [prediction] = predictor.predict([text])
    T = len(explanation.tokens)
    assert explanation.tokens[:3] == ["a", "wonderful", ","]
    assert explanation.hidden_states.shape == (2, T, 12)
    assert explanation.running_probs.shape == (T,)
    assert explanation.prob_positive == pytest.approx(prediction.prob_positive, abs=1e-6)
    logit = explanation.unit_contributions.sum() + explanation.bias
    assert torch.sigmoid(torch.tensor(logit)).item() == pytest.approx(prediction.prob_positive, abs=1e-5)
    assert explanation.deltas.sum() == pytest.approx(explanation.prob_positive - 0.5, abs=1e-6)


def test_reviews_explained_together_get_each_ones_own_explanation(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    texts = ["A wonderful, superb film. Loved it!", "", "Dull.", "The plot was thin but the cast was great fun."]
    together = predictor.explain_many(texts)  # one padded pass: the short ones end in padding
    assert isinstance(together[1], ValueError)
    for text, e in zip(texts, together):
        if isinstance(e, ValueError):
            continue
        alone = predictor.explain(text)
        assert e.tokens == alone.tokens
        np.testing.assert_allclose(e.running_probs, alone.running_probs, atol=1e-6)
        np.testing.assert_allclose(e.unit_contributions, alone.unit_contributions, atol=1e-6)
        np.testing.assert_allclose(e.hidden_states, alone.hidden_states, atol=1e-6)


def test_predictor_cuts_long_reviews_and_refuses_empty_ones(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    long_review = "great film " * 100  # 200 tokens; the tiny model reads 40
    explanation = predictor.explain(long_review)
    assert len(explanation.tokens) == 40 and explanation.n_tokens == 200 and explanation.truncated
    assert predictor.predict([long_review])[0].truncated
    with pytest.raises(ValueError, match="no words"):
        predictor.explain("   \n ")


def test_card_names_the_pooled_layers_and_the_recurrent_start(tiny_checkpoint, tmp_path):
    from sentiment.card import model_card
    from sentiment.model import ModelConfig, SentimentRNN
    _, vocab, config, metrics = load_checkpoint(tiny_checkpoint)
    plain = model_card(tiny_checkpoint)
    assert "every layer's outputs" not in plain and "orthogonal" not in plain
    model = SentimentRNN(ModelConfig(len(vocab), "rnn", 8, 12, pooled_layers="all", recurrent_init="orthogonal"))
    save_checkpoint(tmp_path, model, vocab, metrics, config["tokenizer"])
    card = model_card(tmp_path)
    assert "maxmean pooling over time of every layer's outputs → 1 logit" in card
    assert "orthogonal start of the recurrent weights" in card
    assert "turns" not in card and "contrast pairs" not in card


def test_card_names_the_turns_and_contrast_pairs_a_model_learnt_from(tiny_checkpoint, tmp_path):
    from sentiment.card import model_card
    shutil.copytree(tiny_checkpoint, tmp_path / "ckpt", ignore=shutil.ignore_patterns("resume"))
    metrics = json.loads((tmp_path / "ckpt" / "metrics.json").read_text())
    metrics["train_config"].update(turns=10000, turn_weight=0.25, turn_last="ending", contrasts=500)
    (tmp_path / "ckpt" / "metrics.json").write_text(json.dumps(metrics))
    card = model_card(tmp_path / "ckpt")
    assert ("turns (`--turns 10000`, `sentiment/contrast.py`: a window of one side, then a review's own ending of the "
            "other, labelled by the last; weight 0.25)") in card
    assert "contrast pairs of its sentences (`--contrasts 500`, `sentiment/contrast.py`), " in card
    metrics["train_config"].update(turn_last="window", contrast_verdict="both")
    (tmp_path / "ckpt" / "metrics.json").write_text(json.dumps(metrics))
    assert "then a window of the other" in model_card(tmp_path / "ckpt")
    assert "`sentiment/contrast.py`; some with the verdict first, `--contrast-verdict both`), " in model_card(
        tmp_path / "ckpt")


def test_card_says_what_a_models_windows_learnt(tiny_checkpoint, tmp_path):
    from sentiment.card import model_card
    shutil.copytree(tiny_checkpoint, tmp_path / "ckpt", ignore=shutil.ignore_patterns("resume"))
    metrics = json.loads((tmp_path / "ckpt" / "metrics.json").read_text())
    metrics["train_config"].update(teacher="checkpoints/large", windows=3, window_weight=0.5)
    (tmp_path / "ckpt" / "metrics.json").write_text(json.dumps(metrics))
    assert "3 windows of 1–3 sentences of each review (weight 0.5), " in model_card(tmp_path / "ckpt")  # the teacher's
    metrics["train_config"]["window_distill"] = 0.5
    (tmp_path / "ckpt" / "metrics.json").write_text(json.dumps(metrics))
    assert ("3 windows of 1–3 sentences of each review (weight 0.5, 50% the teacher's, the rest their review's "
            "label), ") in model_card(tmp_path / "ckpt")
    metrics["train_config"]["window_distill"] = 0
    (tmp_path / "ckpt" / "metrics.json").write_text(json.dumps(metrics))
    assert "(weight 0.5, learning their review's label, not the teacher's), " in model_card(tmp_path / "ckpt")


def test_weights_changed_on_disk_are_refused_by_their_checksum(tiny_checkpoint, tmp_path):
    """Bytes flipped inside a tensor still parse as safetensors; only the recorded sha256 can tell."""
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, folder, ignore=shutil.ignore_patterns("resume"))
    config = json.loads((folder / "config.json").read_text())
    assert set(config["sha256"]) == {"model.safetensors"}
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-8:] = bytes(255 - b for b in data[-8:])  # the last tensor's last values, the header untouched
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.safetensors is not the file that was saved"):
        load_checkpoint(folder)
    del config["sha256"]  # a checkpoint saved before checksums were recorded still loads
    (folder / "config.json").write_text(json.dumps(config))
    load_checkpoint(folder)


@pytest.mark.parametrize("name", ["default", "rnn"])
def test_shipped_checkpoints_record_a_checksum_for_every_weights_file(name):
    from sentiment.predict import CHECKPOINTS
    config = json.loads((CHECKPOINTS / name / "config.json").read_text())
    assert set(config["sha256"]) == set(checkpoint.weights_index(config)["files"])
    load_checkpoint(CHECKPOINTS / name)  # and they match


def test_card_says_when_names_were_swapped(tiny_checkpoint, tmp_path):
    from sentiment.card import model_card
    shutil.copytree(tiny_checkpoint, tmp_path / "ckpt", ignore=shutil.ignore_patterns("resume"))
    assert "--swap-names" not in model_card(tmp_path / "ckpt")
    metrics = json.loads((tmp_path / "ckpt" / "metrics.json").read_text())
    metrics["train_config"]["swap_names"] = 0.5
    (tmp_path / "ckpt" / "metrics.json").write_text(json.dumps(metrics))
    assert "names swapped for other names in 50% of the texts (`--swap-names`" in model_card(tmp_path / "ckpt")


def test_unknown_word_read_as_the_mean_of_the_other_words(tiny_checkpoint, tmp_path):
    shutil.copytree(tiny_checkpoint, tmp_path / "mean")
    config = json.loads((tmp_path / "mean" / "config.json").read_text())
    config["unknown_word"] = "mean"
    (tmp_path / "mean" / "config.json").write_text(json.dumps(config))
    trained, *_ = load_checkpoint(tiny_checkpoint)
    mean, *_ = load_checkpoint(tmp_path / "mean")
    as_trained, *_ = load_checkpoint(tmp_path / "mean", unknown_word=False)
    E = trained.embedding.weight  # (V, E)
    torch.testing.assert_close(mean.embedding.weight[1], E[2:].mean(dim=0))
    assert torch.equal(mean.embedding.weight[[0] + list(range(2, len(E)))], E[[0] + list(range(2, len(E)))])
    assert torch.equal(as_trained.embedding.weight, E) and not torch.equal(mean.embedding.weight[1], E[1])
    with_unknown = torch.tensor([[2, 1, 3, 0]])  # (1, T): a known word, <unk>, a known word, <pad>
    assert not torch.equal(mean(with_unknown, torch.tensor([3])), trained(with_unknown, torch.tensor([3])))
    assert torch.equal(mean(IDS, LENGTHS), trained(IDS, LENGTHS))  # a text without unknown words reads the same
    config["unknown_word"] = "zero"
    (tmp_path / "mean" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="bad unknown_word: 'zero'"):
        load_checkpoint(tmp_path / "mean")


def test_the_unknown_word_script_sets_and_unsets_the_reading(tiny_checkpoint, tmp_path):
    import subprocess
    import sys
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(tiny_checkpoint, tmp_path / "ckpt")
    script = [sys.executable, str(root / "scripts" / "unknown_word.py"), str(tmp_path / "ckpt")]
    out = subprocess.run(script + ["--reading", "mean"], capture_output=True, text=True, check=True).stdout
    assert "an unknown word read mean (was as_trained)" in out
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["unknown_word"] == "mean" and config["sha256"] == json.loads(
        (tiny_checkpoint / "config.json").read_text())["sha256"]  # the weights are not touched
    model, *_ = load_checkpoint(tmp_path / "ckpt")
    torch.testing.assert_close(model.embedding.weight[1], model.embedding.weight[2:].mean(dim=0))
    subprocess.run(script + ["--reading", "as_trained"], capture_output=True, text=True, check=True)
    assert "unknown_word" not in json.loads((tmp_path / "ckpt" / "config.json").read_text())
    missing = subprocess.run([sys.executable, str(root / "scripts" / "unknown_word.py"), str(tmp_path / "none"),
                              "--reading", "mean"], capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr.startswith("error: No checkpoint at") and not (tmp_path / "none").exists()
