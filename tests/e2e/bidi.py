"""What a reader sees, measured in the rendered page rather than read from the HTML.

A number in a right-to-left page must still read left to right, sign and unit included: ``-107%``
rendered as ``107%-`` or ``2.3×`` as ``×2.3`` is the classic bidi bug of Hebrew pages (a leading
minus or a trailing × is direction-neutral, so it flows to the right-to-left side unless the
number is isolated). :func:`misordered_numbers` finds such numbers from the on-screen position of
every character.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page

# for every text node outside SVG: each number token (an optional sign after a space, an optional
# shekel sign, digits with separators, an optional % or ×) whose characters are not placed left
# to right on screen
_MISORDERED = r"""
(selector) => {
  const root = document.querySelector(selector);
  const token = /(?<![^\s(])[-+−]?₪?\d[\d,.]*[%×]?/g;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: (n) =>
      n.parentElement.closest('svg, script, style, option') ? NodeFilter.FILTER_REJECT
                                                            : NodeFilter.FILTER_ACCEPT});
  const range = document.createRange();
  const bad = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(token)) {
      if (match[0].length < 2) continue;
      const lefts = [];
      for (let i = 0; i < match[0].length; i++) {
        range.setStart(node, match.index + i);
        range.setEnd(node, match.index + i + 1);
        const rect = range.getBoundingClientRect();
        if (rect.width === 0) { lefts.length = 0; break; }  // not displayed
        lefts.push(rect.left);
      }
      if (lefts.some((left, i) => i > 0 && left <= lefts[i - 1])) {
        bad.push(`${match[0]} in "${node.data.trim().slice(0, 60)}"`);
      }
    }
  }
  return bad;
}
"""

# for every text node outside SVG: each left-to-right token from the data (an id such as
# L000006 or C00085, a SKU name with a size such as "Gilboa Jumbo Roll x6", a period 2026-11, a
# date 30/10/2026, a score 40.2/100, "HHI 0.017", a span 01/09/2026–30/09/2026) whose characters
# are not placed left to right on screen; characters on different lines (a wrapped token) are
# not compared
_MISORDERED_TOKENS = r"""
(selector) => {
  const root = document.querySelector(selector);
  // a word may hold separators (1,250.5 · 10/2026) but never ends with a sentence's comma
  const word = "(?:(?<![^\\s(])[+\\-−])?[₪$€£]?\\(?[A-Za-z0-9]"
             + "(?:[A-Za-z0-9₪$€£.,:/%×#'&+\\-−–()]*[A-Za-z0-9₪$€£/%×#'&+\\-−–()])?";
  const token = new RegExp(`${word}(?:[ \\u00a0]${word})*`, "g");
  const blocks = "p, li, td, th, h1, h2, h3, h4, dd, dt, label, caption, figcaption, div";
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: (n) =>
      n.parentElement.closest('svg, script, style, option') ? NodeFilter.FILTER_REJECT
                                                            : NodeFilter.FILTER_ACCEPT});
  // the text of each block, across its inline elements (a <bdi> splits a text node)
  const groups = new Map();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const block = node.parentElement.closest(blocks) || root;
    if (!groups.has(block)) groups.set(block, {text: "", at: [], last: null, lastInBdi: false});
    const g = groups.get(block);
    // two elements side by side are two things (a phone, then a name) unless one of them is
    // an isolate: "L<bdi>000006</bdi>" is the one token a reader must see whole
    const inBdi = node.parentElement.closest("bdi") !== null;
    if (g.last && g.last.parentElement !== node.parentElement && !inBdi && !g.lastInBdi) {
      g.at.push([null, 0]);
      g.text += "\u0001";
    }
    for (let i = 0; i < node.data.length; i++) g.at.push([node, i]);
    g.text += node.data;
    g.last = node;
    g.lastInBdi = inBdi;
  }
  const range = document.createRange();
  const bad = [];
  for (const {text: all, at} of groups.values()) {
    for (const match of all.matchAll(token)) {
      let text = match[0].replace(/[.,:;]+$/, "");
      while (text.endsWith(")") && text.split("(").length < text.split(")").length) {
        text = text.slice(0, -1).replace(/[.,:;]+$/, "");  // a parenthesis it does not open
      }
      if (text.length < 2 || !/\d/.test(text) || !/[A-Za-z/\-–.×%: ]/.test(text)) continue;
      const boxes = [];
      for (let i = 0; i < text.length; i++) {
        const [node, offset] = at[match.index + i];
        range.setStart(node, offset);
        range.setEnd(node, offset + 1);
        const rect = range.getBoundingClientRect();
        if (rect.width === 0 && text[i] !== " ") { boxes.length = 0; break; }
        boxes.push(rect);
      }
      const wrong = boxes.some((box, i) => i > 0 && Math.abs(box.top - boxes[i - 1].top) < 2
                                          && box.width > 0 && boxes[i - 1].width > 0
                                          && box.left < boxes[i - 1].left);
      if (wrong) bad.push(`${text} in "${all.trim().slice(0, 60)}"`);
    }
  }
  return bad;
}
"""

# markup a reader should never see: a tag escaped into the text
MARKUP = re.compile(r"</?[a-z]+(?:\s[^<>]*)?>|&(?:lt|gt|amp|quot);")
# identifiers a reader should never see: snake_case codes (kinds, stages, statuses)
CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b")  # 2026-10-30 or the period 2026-10
DMY_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")
SHEKELS = re.compile(r"₪\d{1,3}(?:,\d{3})+")  # ₪1,234 and up, thousands separated


def misordered_numbers(page: Page, selector: str = "main") -> list[str]:
    """Numbers under ``selector`` whose characters do not appear left to right on screen."""
    return list(page.evaluate(_MISORDERED, selector))


def misordered_tokens(page: Page, selector: str = "main") -> list[str]:
    """Ids, SKU names, periods, dates and ratios under ``selector`` whose characters do not
    appear left to right on screen (each token read in its original order)."""
    return list(page.evaluate(_MISORDERED_TOKENS, selector))


def main_text(page: Page) -> str:
    """The text a reader sees in the page's main area."""
    return page.locator("main").inner_text()


_SMALLEST_CHART_TEXT = r"""
(selector) => {
  const heights = [];
  for (const text of document.querySelectorAll(selector)) {
    const rect = text.getBoundingClientRect();
    if (rect.width > 0 && text.textContent.trim()) heights.push([rect.height, text.textContent]);
  }
  heights.sort((a, b) => a[0] - b[0]);
  return heights.slice(0, 3);
}
"""


def smallest_chart_texts(page: Page) -> list[tuple[float, str]]:
    """The three smallest texts drawn in charts, by on-screen height in px, with their words."""
    found = page.evaluate(_SMALLEST_CHART_TEXT, "[data-testid=chart] svg text")
    return [(float(h), str(t)) for h, t in found]
