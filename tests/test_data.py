import hashlib
import os
import tarfile

import pytest

from sentiment import data
from sentiment.data import DataError, read_reviews, resolve_data_path
from sentiment.text import clean_text, tokenize, tokenize_corpus
from tests.conftest import write_folder


def test_reads_archive_in_place(tiny_archive):
    reviews = read_reviews(tiny_archive)
    assert [len(reviews[s]) for s in ("train", "test")] == [80, 80]
    first = reviews["train"][0]
    assert first.name == "train/neg/0_" + first.name.rsplit("_", 1)[1] and first.label == 0
    assert sum(r.label for r in reviews["test"]) == 40


def test_folder_gives_the_same_reviews_as_archive(tiny_archive, tiny_files, tmp_path):
    folder = write_folder(tmp_path, tiny_files)
    from_archive, from_folder = read_reviews(tiny_archive), read_reviews(folder)
    for split in ("train", "test"):
        assert [(r.name, r.text, r.label) for r in from_folder[split]] == \
               [(r.name, r.text, r.label) for r in from_archive[split]]
    assert len(read_reviews(tmp_path)["train"]) == 80  # the folder that holds aclImdb/ works too


def test_odd_bytes_do_not_lose_a_review(tmp_path):
    files = {"aclImdb/train/pos/0_9.txt": "Caf\xe9 great".encode("latin-1"),
             "aclImdb/test/neg/0_1.txt": b"bad \xff\xfe movie"}
    for name, raw in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(raw)
    reviews = read_reviews(tmp_path)
    assert reviews["train"][0].text.startswith("Caf") and "movie" in reviews["test"][0].text


def test_missing_and_wrong_data_have_clear_messages(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="--data"):
        resolve_data_path(tmp_path / "nope.tar.gz")
    monkeypatch.setenv("IMDB_DATA", str(tmp_path / "also-nope"))
    with pytest.raises(DataError, match="IMDB data not found"):
        resolve_data_path()
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(DataError, match="Cannot read"):
        read_reviews(tmp_path / "junk.tar.gz")
    empty = tmp_path / "empty.tar.gz"
    tarfile.open(empty, "w:gz").close()
    with pytest.raises(DataError, match="no train reviews"):
        read_reviews(empty)


def test_download_failure_names_the_way_out(monkeypatch):
    monkeypatch.delenv("IMDB_DATA", raising=False)  # the app tests set it for the whole session
    monkeypatch.setattr(data, "URL", "file:///nonexistent/aclImdb_v1.tar.gz")
    with pytest.raises(DataError, match="--data PATH, or set IMDB_DATA"):
        resolve_data_path()
    assert not (data.cache_dir() / "aclImdb_v1.tar.gz").exists()


def test_download_is_checked_and_cached(tiny_archive, monkeypatch):
    monkeypatch.delenv("IMDB_DATA", raising=False)
    monkeypatch.setattr(data, "URL", tiny_archive.as_uri())
    monkeypatch.setattr(data, "MD5", "0" * 32)
    with pytest.raises(DataError, match="corrupt"):
        resolve_data_path()
    monkeypatch.setattr(data, "MD5", hashlib.md5(tiny_archive.read_bytes()).hexdigest())
    path = resolve_data_path()
    assert path == data.cache_dir() / "aclImdb_v1.tar.gz" and path.read_bytes() == tiny_archive.read_bytes()
    monkeypatch.setattr(data, "URL", "file:///nonexistent")  # the second call must not download again
    assert resolve_data_path() == path
    path.unlink()


def test_html_line_breaks_are_removed():
    text = "Great film.<br /><br />Really.<br/>Truly<br>. <i>Loved</i> it &amp; more"
    assert clean_text(text) == "Great film.  Really. Truly .  Loved  it & more"
    tokens = tokenize(text)
    assert not any("<" in t or ">" in t or "br" == t for t in tokens)
    assert tokens[:4] == ["great", "film", ".", "really"]
    assert tokenize("Don't  SHOUT", lowercase=False) == ["Do", "n't", "SHOUT"]


def test_tokenized_corpus_is_cached(tiny_archive, monkeypatch):
    first = tokenize_corpus(tiny_archive)
    monkeypatch.setattr("sentiment.text.read_reviews", lambda path: pytest.fail("tokenized again"))
    second = tokenize_corpus(tiny_archive)
    assert second.types == first.types
    assert second.tokens("train", 3) == first.tokens("train", 3)
    assert (second.splits["test"].labels == first.splits["test"].labels).all()
    assert "<br" not in " ".join(first.types)


def test_only_the_most_recently_used_token_caches_are_kept(tiny_archive, tmp_path, monkeypatch):
    from sentiment import text
    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path))
    folder = tmp_path / "tokens"
    folder.mkdir()
    for age in range(6):  # older data sets' caches, the oldest last used 6 days ago
        old = folder / f"imdb-old{age}.npz"
        old.write_bytes(b"x")
        os.utime(old, (0, 1_000_000 - age * 86_400))
    used = text.corpus_cache_file(tiny_archive)
    tokenize_corpus(tiny_archive)  # written now, then the cache pruned
    assert sorted(p.name for p in folder.iterdir()) == sorted([used.name, "imdb-old0.npz", "imdb-old1.npz",
                                                               "imdb-old2.npz"])
    os.utime(used, (0, 1))  # as if last used long ago: reading it again makes it the newest
    tokenize_corpus(tiny_archive)
    removed = text.prune_token_cache(folder, keep=1)
    assert removed == [folder / f"imdb-old{age}.npz" for age in range(3)]  # newest first
    assert list(folder.iterdir()) == [used]


def test_the_tokenizer_is_renewed_once_it_holds_too_many_words(monkeypatch):
    from sentiment import text
    first = text._spacy_tokenizer()
    monkeypatch.setattr(text, "MAX_WORDS", len(first.vocab) + 50)
    words = " ".join(f"zqx{i}word" for i in range(100))  # 100 words spaCy has never met
    assert text.tokenize(words)[:2] == ["zqx0word", "zqx1word"]
    assert len(first.vocab) > text.MAX_WORDS and text._spacy_tokenizer() is not first  # renewed on the next call
    assert len(text._spacy_tokenizer().vocab) < text.MAX_WORDS
    assert text.tokenize("Not bad at all.") == ["not", "bad", "at", "all", "."]


def test_tokenizer_memory_prints_the_words_kept_and_a_fresh_start(tiny_archive, capsys):
    import json
    from benchmarks import tokenizer_memory
    assert tokenizer_memory.main(["--data", str(tiny_archive), "--reviews", "40", "--every", "20"]) == 0
    *rows, fresh = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["reviews"] for r in rows] == [0, 20, 40] and rows[0]["words"] < rows[-1]["words"]
    assert fresh["fresh_tokenizer"] and fresh["words"] < rows[-1]["words"] and fresh["rss_mb"] > 0
