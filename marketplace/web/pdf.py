"""PDF documents the pages hand out (receipts, statements): a title, labelled facts, an optional table, notes.

The text arrives already translated; the vendored DejaVu Sans subset (web/fonts) covers the languages the pages
ship, the euro sign included, so nothing depends on the fonts of the machine that renders.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"


def document(*, title: str, facts: Sequence[tuple[str, str]] = (), header: Sequence[str] = (),
             rows: Sequence[Sequence[str]] = (), notes: Sequence[str] = (), author: str = "Creative Marketplace") -> bytes:
    """One A4 document: `title`, then `facts` as label/value lines, then a table (`header` over `rows`), then
    `notes` as paragraphs. Returns the PDF's bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator(author)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in facts:
        pdf.set_font(FAMILY, "B", 10)
        pdf.cell(55, 6, label)
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    if header or rows:
        pdf.ln(4)
        pdf.set_font(FAMILY, "", 9)
        with pdf.table(text_align="LEFT", first_row_as_headings=bool(header)) as table:
            for cells in ([list(header)] if header else []) + [list(r) for r in rows]:
                row = table.row()
                for cell in cells:
                    row.cell(str(cell))
    if notes:
        pdf.ln(4)
        pdf.set_font(FAMILY, "", 9)
        for note in notes:
            pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    return bytes(pdf.output())
