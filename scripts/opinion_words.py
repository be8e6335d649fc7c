"""Build ``sentiment/opinion_words.tsv``: general-English opinion words with a side and a strength, for
``--swap-opinions`` (``sentiment/opinions.py``).

    pip download --no-deps --dest /tmp/lexicons textblob==0.20.1 vaderSentiment==3.3.2
    python scripts/opinion_words.py /tmp/lexicons > sentiment/opinion_words.tsv

Two public lexicons, read from their wheels (nothing is installed):
- Pattern's English adjectives (De Smedt & Daelemans 2012, public domain (PDDL); shipped in TextBlob as
  ``textblob/en/en-sentiment.xml``): about 2,900 adjectives, each sense hand-tagged with a polarity in [-1, 1].
  A word's score is the mean over its senses.
- VADER (Hutto & Gilbert 2014, MIT licence; ``vaderSentiment/vader_lexicon.txt``): about 7,500 tokens, each
  rated by ten people on [-4, 4]; the mean, divided by 4.
The list is Pattern's adjectives whose senses are mostly subjective (mean subjectivity at least
``MIN_SUBJECTIVITY``: "delicious", not "married"); VADER's many nouns and verbs are left out, since in film reviews
they name topics as often as they judge ("horror", "killer", "romance"). An adjective that VADER rates too takes
the mean of its two scores, unless they disagree on its side (then it is left out). Kept: words of letters only
(an inner hyphen allowed), scored at least ``MIN_SCORE`` either way, that are not function words (spaCy's English
stop words) nor words whose everyday use is mostly not an opinion ("pretty", "kind"). Each row: word, score.
"""
from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

MIN_SCORE = 0.25  # |score|: weaker words are left as they are
MIN_SUBJECTIVITY = 0.5  # Pattern: 0 objective .. 1 subjective, mean over senses
NOT_OPINIONS = {  # adjectives that film reviews use mostly for other things than a verdict, and slurs
    "able", "pretty", "kind", "sort", "right", "sure", "real", "true", "free", "fine", "dear", "mean", "late", "latest",
    "primary", "secret", "static", "light", "rose", "fly", "chicken", "elect", "confirmed", "lyric", "ecological",
    "extinct", "pregnant", "sexual", "gay", "crying", "retard", "retarded", "retards", "higher", "greater", "common"}
WORD = re.compile(r"^[a-z]+(?:-[a-z]+)*$")


def read_wheel(folder: Path, prefix: str, member: str) -> str:
    wheel = next(folder.glob(prefix + "-*.whl"), None)
    if wheel is None:
        raise SystemExit(f"no {prefix} wheel in {folder}: pip download --no-deps --dest {folder} {prefix}")
    with zipfile.ZipFile(wheel) as z:
        return z.read(member).decode("utf-8")


def main() -> int:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    senses = defaultdict(list)  # word -> [(polarity, subjectivity)] per sense
    for w in ET.fromstring(read_wheel(folder, "textblob", "textblob/en/en-sentiment.xml")).iter("word"):
        senses[w.get("form").lower()].append((float(w.get("polarity")), float(w.get("subjectivity"))))
    pattern = {word: np.mean([p for p, _ in s]) for word, s in senses.items()
               if np.mean([q for _, q in s]) >= MIN_SUBJECTIVITY}
    vader = {}
    for line in read_wheel(folder, "vaderSentiment", "vaderSentiment/vader_lexicon.txt").splitlines():
        token, mean = line.split("\t")[:2]
        vader[token.lower()] = float(mean) / 4
    rows = []
    for word in sorted(pattern):
        scores = [s[word] for s in (pattern, vader) if word in s]
        if not WORD.match(word) or word in STOP_WORDS or word in NOT_OPINIONS:
            continue
        if len(scores) == 2 and scores[0] * scores[1] < 0:
            continue  # the two lexicons disagree on its side
        score = sum(scores) / len(scores)
        if abs(score) >= MIN_SCORE:
            rows.append(f"{word}\t{score:+.3f}")
    print("# word\tscore (-1 negative .. +1 positive)  -- made by scripts/opinion_words.py from Pattern's "
          "English adjectives (PDDL) and VADER (MIT)")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
