"""The report's stylesheet: readable on screen, printable on A4 (``@page`` and ``@media print``).

Colours are the Okabe-Ito colour-blind-safe palette; therapist and client also differ by line
style (solid / dashed), so the plots read in black and white too.
"""

from __future__ import annotations

__all__ = ["CSS", "ROLE_STYLE"]

#: role -> (colour, dash pattern or None, words)
ROLE_STYLE: dict[str, tuple[str, str | None, str]] = {
    "therapist": ("#0072B2", None, "therapist"),
    "client": ("#D55E00", "5,3", "client"),
    "solo": ("#0072B2", None, "solo"),
}

CSS = """
@page { size: A4; margin: 14mm 13mm 16mm 13mm; }
* { box-sizing: border-box; }
html { background: #f4f4f2; }
body {
  font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif;
  font-size: 10.5pt; line-height: 1.4; color: #1d1d1d;
  max-width: 190mm; margin: 0 auto; padding: 10mm 12mm; background: #ffffff;
}
h1 { font-size: 18pt; margin: 0 0 2mm 0; font-weight: 600; }
h2 { font-size: 13pt; margin: 7mm 0 2mm 0; padding-bottom: 1mm; border-bottom: 1px solid #bbb;
     font-weight: 600; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1mm 0; break-after: avoid; page-break-after: avoid; }
p { margin: 1.5mm 0; }
.reflective { border: 1.5px solid #56B4E9; background: #eef7fc; padding: 3mm 4mm; margin: 3mm 0;
              border-radius: 2mm; }
.reflective strong { font-size: 12pt; display: block; margin-bottom: 1mm; }
.summary { border-left: 3px solid #999; padding: 1mm 3mm; background: #f6f6f6; margin: 2mm 0; }
.note { color: #444; font-size: 9pt; }
ul.notes { margin: 1mm 0 2mm 0; padding-left: 5mm; font-size: 9.5pt; }
table { border-collapse: collapse; margin: 2mm 0; width: 100%; font-size: 9.5pt;
        break-inside: avoid; page-break-inside: avoid; }
th, td { border-bottom: 1px solid #ddd; padding: 1mm 2mm; text-align: left; vertical-align: top; }
thead th { border-bottom: 1.5px solid #888; font-weight: 600; }
.nowrap { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
table.facts th { width: 32%; font-weight: 600; }
table.method { break-inside: auto; page-break-inside: auto; }
table.method tr { break-inside: avoid; page-break-inside: avoid; }
table.method td, table.method th { font-size: 8.5pt; }
table.method th[scope=row] { width: 22%; }
figure { margin: 2mm 0 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 9pt; color: #444; margin-top: 0.5mm; }
svg.chart { width: 100%; height: auto; display: block; }
footer { margin-top: 8mm; font-size: 8.5pt; color: #555; border-top: 1px solid #ccc;
         padding-top: 2mm; }
@media print {
  html { background: #ffffff; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  .reflective { background: #ffffff; }
  section { break-inside: auto; }
}
"""
