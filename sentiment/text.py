"""Text to tokens: HTML cleanup, spaCy's rule-based English tokenizer, and an on-disk token cache.

A tokenized corpus is stored compactly: the distinct token strings once (``types``) and every
review as a run of integer ids into them, so 50,000 reviews load from the cache in about a second.
``save_corpus`` writes one as a portable ``.npz`` file that ``--data`` accepts in place of the
reviews, so a machine without spaCy (a rented GPU, say) can train on exactly the same tokens.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .data import SPLITS, DataError, cache_dir, data_fingerprint, prune_least_recently_used, read_reviews
from .names import case_counts

CLEANUP_VERSION = 1  # bump when clean_text changes, so old caches are not reused
KEEP_TOKEN_CACHES = 4  # tokenized data sets kept in the cache (each 50-100 MB for IMDB); the least recently used go
_TAG = re.compile(r"<\s*br\s*/?\s*>|</?[a-zA-Z][^<>]{0,40}>")  # <br />, <i>, </b> ...
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str, keep_html: bool = False) -> str:
    """Drop HTML tags (the reviews' ``<br /><br />``) and control characters; unescape entities.

    ``keep_html=True`` only blanks control characters: the tags reach the tokenizer as text, as they
    did in the homework this project grew out of (spaCy reads ``<br /><br />`` as a few odd tokens)."""
    if keep_html:
        return _CONTROL.sub(" ", text)
    return _CONTROL.sub(" ", html.unescape(_TAG.sub(" ", text)))


def split_lines(text: str) -> list[str]:
    """The lines of a file of one review a line: split at "\n" (and "\r\n") only. ``str.splitlines`` also
    splits at U+0085, U+2028 and other separators, which real reviews contain, and would shift every
    later row. A final newline does not make an empty last line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


# spaCy keeps every new word it meets in its vocabulary, for as long as the tokenizer lives: a server reading
# distinct reviews grows without end (`python benchmarks/tokenizer_memory.py`: 10,000 IMDB reviews left 63,737
# words and +16 MiB, 50,000 left 147,732 and +36 MiB; a fresh tokenizer gave it all back). Past this many
# words the next call starts a fresh tokenizer (about 0.2 s), once every few thousand distinct reviews.
MAX_WORDS = 50_000


@lru_cache(maxsize=1)
def _new_spacy_tokenizer():
    import spacy  # here, not at the top: training from a tokenized .npz file needs no spaCy

    return spacy.blank("en").tokenizer  # rules only: no model download (about 0.2 s to make)


def _spacy_tokenizer():
    """spaCy's rule-based English tokenizer, renewed once its vocabulary passes MAX_WORDS (a call still using
    the old one keeps it alive until it is done)."""
    tokenizer = _new_spacy_tokenizer()
    if len(tokenizer.vocab) > MAX_WORDS:
        _new_spacy_tokenizer.cache_clear()
        tokenizer = _new_spacy_tokenizer()
    return tokenizer


def tokenize_many(texts, lowercase: bool = True, batch_size: int = 512, keep_html: bool = False):
    """Yield a list of token strings for each text (whitespace tokens are dropped)."""
    cleaned = (clean_text(t, keep_html) for t in texts)
    for doc in _spacy_tokenizer().pipe(cleaned, batch_size=batch_size):
        yield [t.lower_ if lowercase else t.text for t in doc if not t.is_space]


def spacy_tokens(cleaned: str) -> list:
    """spaCy's tokens of an already cleaned text, whitespace dropped; each knows its offset (``.idx``)."""
    return [t for t in _spacy_tokenizer()(cleaned) if not t.is_space]


def tokenize(text: str, lowercase: bool = True, keep_html: bool = False) -> list[str]:
    return next(tokenize_many([text], lowercase, keep_html=keep_html))


def corpus_meta(lowercase: bool, keep_html: bool = False) -> dict:
    """The settings a tokenized corpus records (keep_html only when set, so older files stay valid)."""
    return {"lowercase": lowercase, "cleanup": CLEANUP_VERSION} | ({"keep_html": True} if keep_html else {})


@dataclass
class TokenizedSplit:
    """One split's reviews as token ids into the corpus's ``types``."""
    token_ids: np.ndarray  # (total_tokens,) int32, indexes Corpus.types
    offsets: np.ndarray  # (n + 1,) int64, review i is token_ids[offsets[i]:offsets[i+1]]
    labels: np.ndarray  # (n,) int64, 1 = positive
    names: list[str]  # (n,) file names such as "train/pos/0_9.txt"
    movies: list[str]  # (n,) IMDb movie of each review ("tt0123456"), "" where the data does not say

    def __len__(self) -> int:
        return len(self.labels)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def reviews_holding(self, n_types: int) -> np.ndarray:
        """(2, n_types) int64: how many reviews of each class (negative, positive) hold each type at least once."""
        text_of = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))  # (total_tokens,)
        pairs = np.unique(text_of * n_types + self.token_ids)  # each (review, type) once
        review, kind = pairs // n_types, pairs % n_types
        return np.stack([np.bincount(kind[self.labels[review] == c], minlength=n_types) for c in (0, 1)])

    def subset(self, index) -> "TokenizedSplit":
        index = np.asarray(index, dtype=np.int64)
        token_ids, offsets = take_reviews(self.token_ids, self.offsets, index)
        return TokenizedSplit(token_ids, offsets, self.labels[index], [self.names[i] for i in index],
                              [self.movies[i] for i in index])


def take_reviews(flat: np.ndarray, offsets: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reviews at ``index`` of a (flat, offsets) store, as a new (flat, offsets) store, in that order."""
    return pack([flat[offsets[i]:offsets[i + 1]] for i in index], flat.dtype)


def pack(pieces: list[np.ndarray], dtype) -> tuple[np.ndarray, np.ndarray]:
    """Runs of ids -> one (flat, offsets) store, in that order."""
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
    return (np.concatenate(pieces).astype(dtype, copy=False) if pieces else np.zeros(0, dtype)), offsets


@dataclass
class Corpus:
    types: list[str]  # every distinct token string
    splits: dict[str, TokenizedSplit]
    case: np.ndarray | None = None  # (n_types, 2) int64: per type, in the training reviews, [occurrences in the
    #                                 middle of a sentence, capitalized among them] (names.py); None in older files

    def tokens(self, split: str, i: int) -> list[str]:
        s = self.splits[split]
        return [self.types[t] for t in s.token_ids[s.offsets[i]:s.offsets[i + 1]]]


def is_corpus_file(path) -> bool:
    """Whether ``path`` names a tokenized corpus (``python -m sentiment tokenize``) rather than reviews."""
    return Path(path).suffix == ".npz" and Path(path).is_file()


def corpus_cache_file(data_path, lowercase: bool = True, keep_html: bool = False) -> Path:
    """Where ``tokenize_corpus`` caches the tokens of the data set at ``data_path`` with these settings."""
    import spacy

    settings = [data_fingerprint(Path(data_path)), lowercase, spacy.__version__, CLEANUP_VERSION] + (
        ["keep_html"] if keep_html else [])
    key = hashlib.sha1(json.dumps(settings).encode()).hexdigest()[:16]
    return cache_dir() / "tokens" / f"imdb-{key}.npz"


def tokenize_corpus(data_path, lowercase: bool = True, use_cache: bool = True, progress=None,
                    keep_html: bool = False) -> Corpus:
    """Read and tokenize the data set at ``data_path``; reuse the on-disk cache when it matches.

    ``data_path`` may also be a corpus file written by ``save_corpus``: it is loaded as it is.
    """
    if is_corpus_file(data_path):
        return load_corpus_file(data_path, lowercase, keep_html)
    cache_file = corpus_cache_file(data_path, lowercase, keep_html)
    if use_cache and cache_file.exists():
        try:
            corpus = _load_corpus(cache_file)[0]
            if corpus.case is not None:  # a cache written before names were counted is rebuilt below
                os.utime(cache_file)  # used now: prune_token_cache keeps the most recently used
                return corpus
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    reviews = read_reviews(data_path)
    forms: dict[str, int] = {}  # every token as written -> its form id, in order of first appearance
    index: dict[str, int] = {}  # every token as the model reads it (lowercased or not) -> its type id
    type_of_form: list[int] = []  # form id -> type id
    splits = {}
    for split in SPLITS:
        texts = [r.text for r in reviews[split]]
        token_lists = tokenize_many(texts, lowercase=False, keep_html=keep_html)  # as written: case counts names
        if progress:
            token_lists = progress(token_lists, total=len(texts), desc=f"Tokenizing {split}")
        form_ids, lengths = [], []
        for tokens in token_lists:
            form_ids.extend(forms.setdefault(t, len(forms)) for t in tokens)
            lengths.append(len(tokens))
        type_of_form.extend(index.setdefault(form.lower() if lowercase else form, len(index))
                            for form in list(forms)[len(type_of_form):])  # the forms new in this split
        form_ids = np.asarray(form_ids, dtype=np.int32)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        if split == "train":
            train_forms = (form_ids, offsets)
        splits[split] = TokenizedSplit(
            np.asarray(type_of_form, dtype=np.int32)[form_ids], offsets,
            np.array([r.label for r in reviews[split]], dtype=np.int64), [r.name for r in reviews[split]],
            [r.movie for r in reviews[split]])
    case = case_counts(*train_forms, list(forms), np.asarray(type_of_form, dtype=np.int64), len(index))
    corpus = Corpus(list(index), splits, case)
    if use_cache:
        _save_corpus(cache_file, corpus)
        prune_token_cache(cache_file.parent)
    return corpus


def prune_token_cache(folder: Path, keep: int = KEEP_TOKEN_CACHES) -> list[Path]:
    """Remove all but the ``keep`` most recently used token caches in ``folder``: a new one is written
    whenever the data or the tokenizer's settings change, and none would ever go. Returns those removed."""
    return prune_least_recently_used(folder, "imdb-*.npz", keep)


def save_corpus(path, corpus: Corpus, lowercase: bool = True, keep_html: bool = False) -> None:
    """Write ``corpus`` as one compressed ``.npz`` file (about 23 MB for IMDB) that ``--data`` accepts."""
    _save_corpus(Path(path), corpus, compressed=True, meta=corpus_meta(lowercase, keep_html))


def load_corpus_file(path, lowercase: bool = True, keep_html: bool = False) -> Corpus:
    """A corpus written by ``save_corpus``; refused if it was tokenized with other settings."""
    try:
        corpus, meta = _load_corpus(Path(path))
        if meta is None:  # e.g. a token cache file, which does not record its settings
            raise KeyError("meta")
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"{path} is not a tokenized corpus written by `python -m sentiment tokenize` ({err}).") from None
    if meta != corpus_meta(lowercase, keep_html):
        raise DataError(f"{path} was tokenized with other settings ({meta}); this run needs "
                        f"{corpus_meta(lowercase, keep_html)}. Tokenize the data again.")
    return corpus


def _save_corpus(path: Path, corpus: Corpus, compressed: bool = False, meta: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"types": np.array(corpus.types, dtype=str)}
    if meta is not None:
        arrays["meta"] = np.array(json.dumps(meta))
    if corpus.case is not None:
        arrays["case"] = corpus.case
    for split, s in corpus.splits.items():
        arrays.update({f"{split}.token_ids": s.token_ids, f"{split}.offsets": s.offsets,
                       f"{split}.labels": s.labels, f"{split}.names": np.array(s.names, dtype=str),
                       f"{split}.movies": np.array(s.movies, dtype=str)})
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
    os.replace(tmp, path)


def _load_corpus(path: Path) -> tuple[Corpus, dict | None]:
    """The corpus in ``path`` and the settings it records (None if it records none, as the cache does)."""
    with np.load(path, allow_pickle=False) as z:
        splits = {split: TokenizedSplit(z[f"{split}.token_ids"], z[f"{split}.offsets"], z[f"{split}.labels"],
                                        z[f"{split}.names"].tolist(), z[f"{split}.movies"].tolist())
                  for split in SPLITS}
        meta = json.loads(str(z["meta"])) if "meta" in z.files else None
        return Corpus(z["types"].tolist(), splits, z["case"] if "case" in z.files else None), meta
