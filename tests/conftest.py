"""Fixtures every browser journey shares (test_browser.py, test_browser_page.py)."""

import pytest

from browser import chromium


@pytest.fixture
def page(tmp_path):
    """A fresh Chromium page; what it showed when the journey ended is kept as last.png."""
    with chromium(last_screenshot=tmp_path / "last.png") as page:
        yield page
