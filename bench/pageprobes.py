"""Scripts a page runs in chromium to time what its user sees, shared by the bench that
measures it (web_login_stall.py) and the test that bounds it (tests/web/test_login_stall.py),
so that both time the same thing."""

from __future__ import annotations

#: Run with a member's name (``page.evaluate(CHANGES, "VALUE")``): from then on,
#: ``window.__changes`` holds the time (``Date.now()``, epoch milliseconds) of each new text of
#: that member's value cell on the page.
CHANGES = """
member => {
  window.__changes = [];
  let last = null;
  new MutationObserver(() => {
    const cell = document.querySelector(`tr[data-member="${member}"] td.value`);
    const text = cell ? cell.textContent : null;
    if (text !== null && text !== last) {
      last = text;
      window.__changes.push(Date.now());
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""
