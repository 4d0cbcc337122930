"""Reading a portal page in tests: its elements and their attributes, and the text inside an
element found by id or by an attribute, with the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class Html(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self._open: list[int] = []  # indices into elements of the elements still open
        self._text: dict[int, list[str]] = {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in VOID:
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        for at in range(len(self._open) - 1, -1, -1):
            if self.elements[self._open[at]][0] == tag:
                del self._open[at:]
                return

    def handle_data(self, data: str) -> None:
        for index in self._open:
            self._text.setdefault(index, []).append(data)

    def find(self, tag: str | None = None, **attrs: str | None) -> list[dict[str, str]]:
        """Elements of ``tag`` having every attribute given (``None``: present, any value);
        an attribute's underscores stand for hyphens (data_key is data-key)."""
        return [a for _, a in self._matching(tag, attrs)]

    def _matching(
        self, tag: str | None, attrs: dict[str, str | None]
    ) -> list[tuple[int, dict[str, str]]]:
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            (i, a)
            for i, (t, a) in enumerate(self.elements)
            if (tag is None or t == tag)
            and all(k in a and (v is None or a[k] == v) for k, v in wanted.items())
        ]

    def text(self, tag: str | None = None, **attrs: str | None) -> str:
        """The text inside the first element matching, whitespace collapsed ("" if none)."""
        found = self._matching(tag, attrs)
        if not found:
            return ""
        return " ".join("".join(self._text.get(found[0][0], [])).split())

    def texts(self, tag: str | None = None, **attrs: str | None) -> list[str]:
        return [
            " ".join("".join(self._text.get(i, [])).split()) for i, _ in self._matching(tag, attrs)
        ]

    def all_text(self) -> str:
        return " ".join("".join(self._text.get(0, [])).split())
