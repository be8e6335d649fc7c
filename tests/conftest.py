"""A tiny IMDB look-alike in the official layout, built fresh for each test session."""
from __future__ import annotations

import io
import os
import random
import tarfile
from pathlib import Path

import pytest

POSITIVE = ["great", "wonderful", "superb", "loved", "brilliant", "moving", "fun", "excellent"]
NEGATIVE = ["awful", "boring", "terrible", "hated", "dull", "waste", "poor", "worst"]
FILLER = ["the", "film", "movie", "plot", "acting", "was", "and", "story", "it", "a", "cast", "scene"]


def make_review(rng: random.Random, positive: bool) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(6, 30))]
    cue = POSITIVE if positive else NEGATIVE
    for _ in range(rng.randint(2, 4)):
        words.insert(rng.randrange(len(words)), rng.choice(cue))
    text = " ".join(words).capitalize() + "."
    return text.replace(" and ", " and<br /><br />", 1)  # the real reviews' HTML line breaks


def make_reviews(n_per_class: int, seed: int = 0) -> dict[str, str]:
    """Archive member name -> text: train and test, pos and neg, ``n_per_class`` each."""
    rng = random.Random(seed)
    files = {}
    for split in ("train", "test"):
        for sentiment in ("pos", "neg"):
            for i in range(n_per_class):
                rating = rng.randint(7, 10) if sentiment == "pos" else rng.randint(1, 4)
                files[f"aclImdb/{split}/{sentiment}/{i}_{rating}.txt"] = make_review(rng, sentiment == "pos")
    files["aclImdb/README"] = "Large Movie Review Dataset (tiny test copy)"
    for split, first_movie in (("train", 1000), ("test", 5000)):  # three reviews a movie; test movies are others
        for sentiment in ("pos", "neg"):
            files[f"aclImdb/{split}/urls_{sentiment}.txt"] = "".join(
                f"http://www.imdb.com/title/tt{first_movie + i // 3:07d}/usercomments\n" for i in range(n_per_class))
    return files


def write_archive(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root / "aclImdb"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Never touch the user's cache or data settings (subprocesses inherit this too)."""
    os.environ["SENTIMENT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    os.environ.pop("IMDB_DATA", None)


@pytest.fixture(scope="session")
def tiny_files() -> dict[str, str]:
    return make_reviews(40)


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory, tiny_files) -> Path:
    return write_archive(tmp_path_factory.mktemp("data") / "aclImdb_v1.tar.gz", tiny_files)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_archive) -> Path:
    """A small LSTM trained for 3 epochs on the tiny archive."""
    from sentiment.train import Done, TrainConfig, train
    out = tmp_path_factory.mktemp("ckpt") / "tiny"
    cfg = TrainConfig(epochs=3, batch_size=16, lr=1e-2, vocab_size=200, min_freq=1, max_len=40)
    events = list(train(tiny_archive, {"cell": "lstm", "embed_dim": 16, "hidden_size": 12}, cfg, out))
    assert isinstance(events[-1], Done)
    return out


@pytest.fixture(scope="session")
def app_env(tmp_path_factory, tiny_archive, tiny_checkpoint) -> dict:
    """Point the app at tiny checkpoints ("default" an LSTM, "rnn" a tanh RNN), a temporary runs
    folder and the tiny archive, through the environment variables the app reads."""
    import shutil

    from sentiment.train import TrainConfig, train
    shipped = tmp_path_factory.mktemp("checkpoints")
    shutil.copytree(tiny_checkpoint, shipped / "default", ignore=shutil.ignore_patterns("resume"))
    cfg = TrainConfig(epochs=2, batch_size=16, lr=1e-2, vocab_size=200, min_freq=1, max_len=40)
    list(train(tiny_archive, {"cell": "rnn", "embed_dim": 16, "hidden_size": 12}, cfg, shipped / "rnn"))
    shutil.rmtree(shipped / "rnn" / "resume")
    env = {"SENTIMENT_CHECKPOINTS": str(shipped), "SENTIMENT_RUNS": str(tmp_path_factory.mktemp("runs")),
           "IMDB_DATA": str(tiny_archive)}
    os.environ.update(env)
    return env


@pytest.fixture(scope="session")
def app_url(app_env) -> str:
    """The app, launched once in this process on a free port (tests import ``demo`` from app.py)."""
    from app import demo
    demo.queue(default_concurrency_limit=4).launch(server_name="127.0.0.1", server_port=None,
                                                    prevent_thread_lock=True, quiet=True)
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client
    return Client(app_url, verbose=False)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def page(app_url):
    """A headless Debian chromium driven by Playwright; skips, saying why, where there is none."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium)")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        yield page
        browser.close()


SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"  # the browser tests' (git-ignored)
