"""Find and read the Large Movie Review Dataset (Maas et al., 2011) in its official layout.

The data comes from, in order: an explicit path (``--data``), the ``IMDB_DATA`` environment
variable, or the official ``aclImdb_v1.tar.gz``, downloaded once into a cache folder. A path may
be the archive itself (read in place, nothing is extracted) or an extracted ``aclImdb/`` folder.
"""
from __future__ import annotations

import hashlib
import os
import re
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
MD5 = "7c2ac02c03563afcf9b574c7e56c153a"  # of the official archive, as published by torchtext
ENV_VAR = "IMDB_DATA"
SPLITS = ("train", "test")
LABELS = ("negative", "positive")  # index = label id
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_URLS = re.compile(r"(?:^|/)aclImdb/(train|test)/urls_(pos|neg)\.txt$")


class DataError(RuntimeError):
    """The data set cannot be found, downloaded or read; the message says what to do."""


@dataclass
class Review:
    text: str
    label: int  # 1 = positive, 0 = negative
    name: str  # e.g. "train/pos/0_9.txt"; the rating is in the name
    movie: str = ""  # the IMDb movie ("tt0123456") from {split}/urls_{pos,neg}.txt; "" where the data lacks them


def cache_dir() -> Path:
    """Where downloads and tokenized data are kept (``SENTIMENT_CACHE`` overrides)."""
    base = os.environ.get("SENTIMENT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rnn-sentiment"
    return Path(base)


def prune_least_recently_used(folder: Path, pattern: str, keep: int) -> list[Path]:
    """Remove all but the ``keep`` most recently used files in ``folder`` that match ``pattern`` (a cache
    that marks a use by touching its file's modification time). Returns those removed, newest first."""
    def used(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except FileNotFoundError:  # removed meanwhile by another process's pruning
            return float("inf")
    removed = sorted(folder.glob(pattern), key=used, reverse=True)[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def resolve_data_path(path: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The data set to use: ``path``, else ``$IMDB_DATA``, else the cached official download."""
    chosen = path or os.environ.get(ENV_VAR)
    if chosen:
        p = Path(chosen).expanduser()
        if not p.exists():
            raise DataError(f"IMDB data not found at {p}. Pass --data with the path of aclImdb_v1.tar.gz "
                            f"or of an extracted aclImdb/ folder (or set {ENV_VAR}).")
        return p
    target = cache_dir() / "aclImdb_v1.tar.gz"
    if target.exists():
        return target
    if not download:
        raise DataError(f"No IMDB data: pass --data PATH or set {ENV_VAR} to aclImdb_v1.tar.gz or an aclImdb/ folder.")
    return download_imdb(target)


def download_imdb(target: Path, url: str | None = None, md5: str | None = None) -> Path:
    """Download the official archive to ``target`` with a progress bar, check it, keep it."""
    url, md5 = url or URL, md5 or MD5
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc="Downloading IMDB") as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except OSError as err:  # URLError, timeouts and disk errors are all OSErrors
        partial.unlink(missing_ok=True)
        raise DataError(f"Could not download the IMDB data set from {url} ({err}). Download aclImdb_v1.tar.gz "
                        f"yourself and pass --data PATH, or set {ENV_VAR}=PATH.") from None
    if md5 and digest.hexdigest() != md5:
        partial.unlink(missing_ok=True)
        raise DataError(f"The download from {url} is corrupt (md5 {digest.hexdigest()}, expected {md5}). "
                        f"Try again, or pass --data PATH / set {ENV_VAR} to a local copy.")
    os.replace(partial, target)
    return target


def data_fingerprint(path: Path) -> str:
    """Changes whenever the data at ``path`` changes: size and mtime of the archive, or of every review file."""
    path = Path(path).resolve()
    if path.is_file():
        st = path.stat()
        return f"{path}:{st.st_size}:{st.st_mtime_ns}"
    h = hashlib.sha1(str(path).encode())
    for split in SPLITS:
        for sentiment in ("pos", "neg"):
            folder = _root(path) / split / sentiment
            if folder.is_dir():
                for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                    st = entry.stat()
                    h.update(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def read_reviews(path: str | os.PathLike) -> dict[str, list[Review]]:
    """All labeled reviews, ``{"train": [...], "test": [...]}``, sorted by file name.

    The official layout lists, in {split}/urls_{pos,neg}.txt, the movie page of review <id> on line <id>;
    each review's ``movie`` comes from there (the test reviews are of other movies than the training ones).
    """
    path = Path(path)
    if path.is_dir():
        reviews, pages = _read_folder(_root(path))
    elif path.is_file():
        reviews, pages = _read_archive(path)
    else:
        raise DataError(f"IMDB data not found at {path}.")
    for split in SPLITS:
        for review in reviews[split]:
            _, sentiment, file_name = review.name.split("/")
            lines = pages.get((split, sentiment), [])
            number = int(file_name.split("_")[0])
            if number < len(lines):
                match = re.search(r"title/(tt\d+)", lines[number])
                review.movie = match.group(1) if match else lines[number]
    for split in SPLITS:
        if not reviews[split]:
            raise DataError(f"{path} holds no {split} reviews: expected aclImdb/{split}/pos/*.txt and "
                            f"aclImdb/{split}/neg/*.txt, as in the official aclImdb_v1.tar.gz.")
        reviews[split].sort(key=lambda r: r.name)
    return reviews


def _root(folder: Path) -> Path:
    """Accept both the ``aclImdb`` folder and the folder that contains it."""
    return folder / "aclImdb" if (folder / "aclImdb").is_dir() else folder


def _review(split: str, sentiment: str, file_name: str, raw: bytes) -> Review:
    # errors="replace": one stray byte should not cost a review
    return Review(raw.decode("utf-8", errors="replace"), int(sentiment == "pos"), f"{split}/{sentiment}/{file_name}")


Pages = dict[tuple[str, str], list[str]]  # (split, "pos"/"neg") -> the lines of its urls_*.txt


def _read_archive(path: Path) -> tuple[dict[str, list[Review]], Pages]:
    reviews: dict[str, list[Review]] = {s: [] for s in SPLITS}
    pages: Pages = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                if match := _MEMBER.search(member.name):
                    split, sentiment = match.group(1), match.group(2)
                    raw = archive.extractfile(member).read()
                    reviews[split].append(_review(split, sentiment, member.name.rsplit("/", 1)[1], raw))
                elif match := _URLS.search(member.name):
                    pages[match.groups()] = archive.extractfile(member).read().decode("utf-8", "replace").split()
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataError(f"Cannot read {path} as a .tar.gz archive ({err}). Pass the official "
                        f"aclImdb_v1.tar.gz or an extracted aclImdb/ folder.") from None
    return reviews, pages


def _read_folder(root: Path) -> tuple[dict[str, list[Review]], Pages]:
    reviews: dict[str, list[Review]] = {s: [] for s in SPLITS}
    pages: Pages = {}
    for split in SPLITS:
        for sentiment in ("pos", "neg"):
            folder = root / split / sentiment
            if folder.is_dir():
                for file in folder.glob("*_*.txt"):
                    reviews[split].append(_review(split, sentiment, file.name, file.read_bytes()))
            urls = root / split / f"urls_{sentiment}.txt"
            if urls.is_file():
                pages[(split, sentiment)] = urls.read_text(encoding="utf-8", errors="replace").split()
    return reviews, pages

