"""Screenshots of the app on the real data, for the README: the predict tab reading a real review,
the behaviour tab, and the train tab after a classroom run with the form's defaults (2,000 reviews, 5 epochs).

    python docs/screenshots.py --data aclImdb_v1.tar.gz     # docs/predict, edit, path, behaviour, train .png
    python docs/screenshots.py --data aclImdb_v1.tar.gz --no-train   # the first two only

Needs Debian's chromium (/usr/bin/chromium) and Playwright's Python package, as the browser tests do.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(f"number input for {label}")
    box.fill(str(value))
    box.press("Enter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="aclImdb_v1.tar.gz or an aclImdb/ folder")
    parser.add_argument("--no-train", action="store_true", help="skip the classroom run and its screenshot")
    args = parser.parse_args()
    os.environ["IMDB_DATA"] = args.data
    os.environ["SENTIMENT_RUNS"] = tempfile.mkdtemp(prefix="screenshot-runs-")

    from playwright.sync_api import expect, sync_playwright

    from app import demo
    from sentiment.data import read_reviews

    review = next(r.text for r in read_reviews(args.data)["test"] if r.name == "test/pos/10_7.txt")
    demo.queue().launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(demo.local_url)
        page.fill("#review textarea", review)
        page.get_by_role("button", name="Predict", exact=True).click()
        page.locator("#tokens").get_by_text("movie").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # let the plots finish drawing
        page.screenshot(path=str(ROOT / "docs" / "predict.png"), full_page=True)

        page.fill("#review textarea", "Not bad at all.")
        page.get_by_text("Edit a word, watch the verdict").click()
        page.get_by_role("button", name="Start from the review above").click()
        expect(page.locator("#edited textarea")).to_have_value("Not bad at all.", timeout=30_000)
        page.fill("#edited textarea", "Not good at all.")
        page.locator("#edit-compare").click()
        expect(page.locator("#edit-notice")).to_contain_text("→", timeout=30_000)
        page.get_by_role("button", name="Suggest edits").click()
        expect(page.locator("#suggestions")).to_contain_text("delete", timeout=30_000)
        from sentiment.edits import suggest_edits
        from sentiment.predict import Predictor
        top = suggest_edits(Predictor.load(), "Not bad at all.").suggestions[0]  # apply the top suggestion
        page.locator("#suggestions").get_by_text(top.text, exact=True).filter(visible=True).first.click()
        expect(page.locator("#edited textarea")).to_have_value(top.text, timeout=30_000)
        page.wait_for_timeout(2000)
        page.locator("#edit-view").screenshot(path=str(ROOT / "docs" / "edit.png"))

        page.fill("#review textarea", "I expected a dull film, and the first hour is slow. But the ending is "
                                      "wonderful, and the cast is superb. Not bad at all!")
        page.get_by_text("The path of the review").click()
        page.locator("#path-view textarea").fill("Great cast, but a boring, predictable plot. A waste of time.")
        page.locator("#path-draw").click()
        expect(page.locator("#path-notice")).to_contain_text("logit", timeout=30_000)
        page.wait_for_timeout(1500)
        page.locator("#path-view").screenshot(path=str(ROOT / "docs" / "path.png"))

        page.get_by_role("tab", name="Behaviour").click()
        expect(page.locator("#behaviour-cases")).to_contain_text(re.compile(r"\d\.\d{3}"), timeout=60_000)  # a case's P
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ROOT / "docs" / "behaviour.png"), full_page=True)
        if args.no_train:
            browser.close()
            demo.close()
            return

        page.get_by_role("tab", name="Train").click()
        start = time.perf_counter()
        page.get_by_role("button", name="Start").click()
        expect(page.locator("#train-result")).to_contain_text("Test accuracy", timeout=900_000)
        print(f"classroom run with the form's defaults, seen finished in the browser after "
              f"{time.perf_counter() - start:.0f} s")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ROOT / "docs" / "train.png"), full_page=True)
        browser.close()
    demo.close()


if __name__ == "__main__":
    main()
