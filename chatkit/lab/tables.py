"""Text for people: a table that shows as HTML in Jupyter and as aligned text in a terminal.

    Table(columns, rows, title=..., note=...)   what every view of the lab returns
    visible(text)                               control characters spelled out (\\x1b), long text cut

A cell's width is counted in terminal columns (chatkit.tools.language.columns: Hangul takes two).
"""

import html

from chatkit.tools.language import columns as width  # a cell's width: what a terminal shows, not len()


def visible(text, limit=80):
    """`text` with control characters spelled out (\\x1b) and cut to `limit` characters."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(shown) > limit:
        shown = f"{shown[:limit - 1]}… ({len(text):,} characters)"
    return shown


class Table:
    """Rows of text: an HTML table in Jupyter, an aligned text table elsewhere."""

    def __init__(self, columns, rows, title="", note="", css_class="chatkit-table", colours=None):
        self.columns = columns
        self.rows = [[str(cell) for cell in row] for row in rows]
        self.title = title
        self.note = note
        self.css_class = css_class
        self.colours = colours or {}  # name -> colour, for the cells of the second column

    def __str__(self):
        widths = [max([width(column)] + [width(row[i]) for row in self.rows]) for i, column in enumerate(self.columns)]

        def line(cells):
            return "  ".join(cell + " " * (w - width(cell)) for cell, w in zip(cells, widths)).rstrip()

        out = [self.title] if self.title else []
        out += [line(self.columns), line(["-" * w for w in widths])]
        out += [line(row) for row in self.rows]
        if self.note:
            out.append(self.note)
        return "\n".join(out)

    __repr__ = __str__

    def _cell_html(self, cell, column):
        colour = self.colours.get(cell) if column == 1 else None
        text = html.escape(cell)
        return f'<b style="color:{colour}">{text}</b>' if colour else text

    def _repr_html_(self):
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left;white-space:pre-wrap'>{self._cell_html(c, i)}</td>" for i, c in enumerate(row)) + "</tr>"
            for row in self.rows
        )
        title = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        note = f"<p><i>{html.escape(self.note)}</i></p>" if self.note else ""
        return f"{title}<table class='{self.css_class}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
