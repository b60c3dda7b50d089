"""report.html: the Markdown report as one self-contained page that is safe to share (no raw
HTML, only http(s)/mailto/anchor links, only the run's own figures embedded)."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as etree
from collections.abc import Sequence
from pathlib import Path

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; line-height: 1.45; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; display: block;
        overflow-x: auto; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; }
th { background: #f3f3f3; }
td { white-space: nowrap; }
td.good { color: #1a6e2e; background: #eaf6ec; }
td.bad { color: #a11d1d; background: #fbeaea; }
blockquote { border-left: 4px solid #c33; margin: 1em 0; padding: 0.2em 1em;
             background: #fff4f4; }
img { max-width: 100%; }
"""
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "#")


def render_html(markdown_text: str, title: str, folder: Path, figures: Sequence[str],
                table_styles: Sequence[Sequence[str]] = ()) -> str:
    """report.md as one self-contained HTML page that is safe to share.

    Raw HTML in the Markdown is shown as text, links keep only http(s)/mailto/anchor targets,
    and only the figures named in `figures` (files of `folder`) are embedded; any other image
    becomes its alt text, so no file outside the results folder ends up in the page.
    """
    import markdown
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    embedded = {}
    for name in figures:
        path = folder / name
        if "/" not in name and "\\" not in name and path.is_file() and not path.is_symlink():
            embedded[name] = "data:image/png;base64," + base64.b64encode(
                path.read_bytes()).decode("ascii")

    class Safe(Treeprocessor):
        def run(self, root: etree.Element) -> None:
            parents = {child: parent for parent in root.iter() for child in parent}
            for img in list(root.iter("img")):
                src = img.get("src", "")
                if src in embedded:
                    img.set("src", embedded[src])
                    continue
                parent = parents[img]
                span = etree.Element("span")
                span.text = img.get("alt", "")
                span.tail = img.tail
                parent[list(parent).index(img)] = span
            for link in root.iter("a"):
                if not link.get("href", "").startswith(_SAFE_SCHEMES):
                    link.attrib.pop("href", None)
            table = next(root.iter("table"), None)
            if table is not None and table_styles:
                body = table.find("tbody")
                for tr, styles in zip(body if body is not None else [], table_styles,
                                      strict=False):
                    for td, style in zip(tr, styles, strict=False):
                        if style:
                            td.set("class", style)

    class SafeExtension(Extension):
        def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (its API)
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")
            md.treeprocessors.register(Safe(md), "safe", 0)

    body = markdown.markdown(markdown_text, extensions=["tables", SafeExtension()])
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"referrer\" content=\"no-referrer\">"
            f"<title>{_escape(title)}</title><style>{_CSS}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def _escape(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)
