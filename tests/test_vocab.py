from collections import Counter

import pytest

from sentiment.vocab import PAD_ID, UNK_ID, Vocab


def test_build_keeps_frequent_tokens_in_order():
    counts = Counter({"good": 5, "bad": 5, "film": 9, "rare": 1})
    vocab = Vocab.build(counts, max_size=4, min_freq=2)
    assert vocab.itos == ["<pad>", "<unk>", "film", "bad"]  # ties break alphabetically; max_size counts specials
    assert vocab.encode(["film", "good", "rare"]) == [2, UNK_ID, UNK_ID]
    assert PAD_ID == 0


def test_json_round_trip():
    vocab = Vocab.build(Counter("the the film é 😀 😀".split()), min_freq=1)
    again = Vocab.from_json(vocab.to_json())
    assert again.itos == vocab.itos and again.stoi["😀"] == vocab.stoi["😀"]


@pytest.mark.parametrize("text", ['{"itos": ["a", "b"]}', '["<pad>"]', '{"itos": ["<pad>", "<unk>", "x", "x"]}'])
def test_bad_json_is_refused(text):
    with pytest.raises(ValueError):
        Vocab.from_json(text)
