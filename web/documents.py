"""Published documents shown as documents: the policy's Markdown rendered to HTML.

The text comes from an administrator's upload, so it is not trusted: CommonMark
with raw HTML turned off (``html: False`` escapes every tag in the source), links
limited to markdown-it's safe schemes (no ``javascript:``), and no inline styles
or scripts to break the CSP.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

# "js-default" is CommonMark with raw HTML disabled and the link validator on; tables
# and strikethrough are common in policy documents.
_RENDERER = MarkdownIt("js-default").enable(["table", "strikethrough"])


def policy_html(text: str | None) -> Markup:
    """A published Markdown document as safe HTML ("" for no text)."""
    if not text:
        return Markup("")
    # Safe: html is off, so every "<" in the source comes out escaped.
    return Markup(_RENDERER.render(text))  # noqa: S704
