import pytest
import torch

from sentiment.model import ModelConfig, SentimentRNN


def make_model(cell="lstm", pooling="maxmean", **kw):
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=50, cell=cell, embed_dim=8, hidden_size=6, pooling=pooling, **kw)
    return SentimentRNN(config).eval()


def padded(reviews):
    lengths = torch.tensor([len(r) for r in reviews])
    ids = torch.zeros(len(reviews), int(lengths.max()), dtype=torch.long)
    for i, r in enumerate(reviews):
        ids[i, :len(r)] = torch.tensor(r)
    return ids, lengths


REVIEWS = [[5, 9, 3, 7, 2, 11], [4, 8], [12, 13, 14, 2]]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_shapes(cell):
    model = make_model(cell)
    ids, lengths = padded(REVIEWS)
    assert model(ids, lengths).shape == (3,)
    states = model.encode(ids)
    assert len(states) == 2 and all(s.shape == (3, 6, 6) for s in states)
    seen = model.inspect(torch.tensor(REVIEWS[0]))
    assert seen["hidden_states"].shape == (2, 6, 6)
    assert seen["running_logits"].shape == (6,)
    assert seen["features"].shape == (12,)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_orthogonal_start_makes_each_gates_recurrent_weights_orthogonal(cell):
    model = make_model(cell, recurrent_init="orthogonal")
    for layer in model.layers:
        blocks = layer.weight_hh_l0.split(6)  # (gates*H, H) -> gates x (H, H)
        assert len(blocks) == {"rnn": 1, "gru": 3, "lstm": 4}[cell]
        for block in blocks:
            torch.testing.assert_close(block @ block.T, torch.eye(6), rtol=0, atol=1e-5)
    uniform = make_model(cell).layers[0].weight_hh_l0[:6]  # torch's default start is not orthogonal
    assert not torch.allclose(uniform @ uniform.T, torch.eye(6), atol=0.1)


def test_pooling_every_layer_reads_each_layers_outputs():
    model = make_model("gru", "max", pooled_layers="all")
    review = torch.tensor(REVIEWS[0])
    seen = model.inspect(review)
    assert seen["features"].shape == (12,)  # max over time of 2 layers x 6 units, lowest layer first
    torch.testing.assert_close(seen["features"], seen["hidden_states"].amax(dim=1).reshape(-1))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("pooling", ["last", "max", "mean", "maxmean", "maxmeanlast"])
@pytest.mark.parametrize("pooled_layers", ["top", "all"])
def test_padding_never_changes_a_prediction(cell, pooling, pooled_layers):
    model = make_model(cell, pooling, pooled_layers=pooled_layers)
    ids, lengths = padded(REVIEWS)
    alone = torch.cat([model(*padded([r])) for r in REVIEWS])
    more_padding = torch.cat([ids, torch.zeros(3, 20, dtype=torch.long)], dim=1)
    torch.testing.assert_close(model(ids, lengths), alone, rtol=0, atol=1e-6)
    torch.testing.assert_close(model(more_padding, lengths), alone, rtol=0, atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("pooling", ["last", "max", "mean", "maxmean", "maxmeanlast"])
@pytest.mark.parametrize("pooled_layers", ["top", "all"])
def test_running_prediction_is_exact_at_every_token(cell, pooling, pooled_layers):
    model = make_model(cell, pooling, pooled_layers=pooled_layers)
    review = torch.tensor(REVIEWS[0])
    running = model.inspect(review)["running_logits"]
    prefixes = torch.stack([model(review[None, :t], torch.tensor([t]))[0] for t in range(1, len(review) + 1)])
    torch.testing.assert_close(running, prefixes, rtol=0, atol=1e-6)
    assert running[-1] == pytest.approx(model(review[None], torch.tensor([len(review)])).item(), abs=1e-6)


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "maxmean", "maxmeanlast"])
@pytest.mark.parametrize("pooled_layers", ["top", "all"])
def test_running_logits_are_the_classifier_on_the_running_features(pooling, pooled_layers):
    model = make_model("lstm", pooling, pooled_layers=pooled_layers)
    ids, lengths = padded(REVIEWS)
    read = model.read_outputs(model.encode(ids))  # (3, 6, R*H)
    features = model.running_features(read)  # (3, 6, P*R*H)
    torch.testing.assert_close(model.running_logits(read), model.classifier(features).squeeze(-1), rtol=0, atol=1e-6)
    last = features[torch.arange(3), lengths - 1]  # (3, P*R*H): each review's features at its own end
    torch.testing.assert_close(model.pool(read, lengths), last, rtol=0, atol=1e-6)


def test_hidden_states_are_the_layers_outputs():
    model = make_model("gru")
    review = torch.tensor(REVIEWS[2])
    states = model.inspect(review)["hidden_states"]
    first, _ = model.layers[0](model.embedding(review[None]))
    torch.testing.assert_close(states[0], first[0])
    assert states.abs().max() <= 1  # GRU outputs are bounded


def test_word_dropout_reads_words_as_unknown_in_training_only():
    model = make_model(word_dropout=0.5, embed_dropout=0.0, layer_dropout=0.0)
    ids, lengths = padded(REVIEWS)
    unknown = torch.where(ids == 0, 0, 1)  # every real token read as <unk> (id 1), padding kept
    model.config.word_dropout = 0.9999999
    model.train()
    torch.testing.assert_close(model.encode(ids)[-1], model.encode(unknown)[-1])
    model.eval()  # no words dropped: the real review is read
    assert not torch.allclose(model.encode(ids)[-1], model.encode(unknown)[-1])


@pytest.mark.parametrize("bad", [{"cell": "transformer"}, {"pooling": "sum"}, {"pooled_layers": "some"},
                                 {"recurrent_init": "identity"},
                                 {"hidden_size": 0},
                                 {"embed_dropout": 1.5}, {"word_dropout": 1.0}])
def test_config_is_validated(bad):
    with pytest.raises(ValueError):
        ModelConfig(vocab_size=10, **bad)


def test_config_round_trip_refuses_unknown_fields():
    config = ModelConfig(vocab_size=10, cell="rnn")
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown model settings: bidirectional"):
        ModelConfig.from_dict({**config.to_dict(), "bidirectional": True})
