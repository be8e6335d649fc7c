"""The words that excite and inhibit each unit (units.json)."""
from sentiment.batching import encode_texts
from sentiment.predict import Predictor
from sentiment.units import unit_words


def test_unit_words_leave_out_words_of_few_reviews_and_keep_each_list_on_its_side_of_zero(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    common = ["the", "film", "was", "great", "awful", "plot"]
    reviews = [common * 2 for _ in range(30)]
    reviews[0] = reviews[0] + ["boring"] * 40  # 40 times, but in one review: a name would look like this
    split = encode_texts(reviews, predictor.vocab, 200)
    table = unit_words(predictor.model, predictor.vocab, split, min_count=20, min_reviews=15)
    listed = {w for layer in table["layers"] for unit in layer for side in ("excite", "inhibit") for w, _ in unit[side]}
    assert "boring" not in listed and listed <= set(common)
    for layer in table["layers"]:
        for unit in layer:
            assert all(v > 0 for _, v in unit["excite"]) and all(v < 0 for _, v in unit["inhibit"])
    assert table["min_reviews"] == 15 and table["n_words"] == len(set(common))
