def test_app_serves_its_page(app_url):
    import urllib.request
    with urllib.request.urlopen(app_url, timeout=10) as response:
        assert response.status == 200 and b"<html" in response.read(2000).lower()


def test_browser_opens_the_app(page):
    page.wait_for_selector("text=Watch an RNN read a movie review", timeout=20_000)
