"""Colours, line styles and fonts of the dashboard: light and dark, colour-blind safe.

Colours come from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design";
Wong, Nature Methods 8:441, 2011, doi:10.1038/nmeth.1618), which stays distinguishable with
the common colour-vision deficiencies. Therapist and client are told apart by more than
colour: a solid line with round markers for the therapist, a dashed line with triangles for
the client, and their names on every panel. Synchrony is drawn in a neutral grey-blue, never
red or green (no judgement of more or less synchrony).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from PySide6.QtCore import Qt

__all__ = ["OKABE_ITO", "THEMES", "RoleStyle", "Theme", "arrow_icon", "role_style", "stylesheet"]

#: The Okabe-Ito palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}


@dataclass(frozen=True)
class RoleStyle:
    """How one person is drawn: name, colour, line dash, scatter symbol and its word."""

    label: str
    color: str
    dash: Qt.PenStyle
    symbol: str  # pyqtgraph symbol code
    glyph: str  # the same mark in text ("●", "▲")


@dataclass(frozen=True)
class Theme:
    """One colour theme (hex colours; ``*_alpha`` 0-255 for translucent fills)."""

    name: str
    background: str
    panel: str
    foreground: str
    muted: str
    grid_alpha: float
    therapist: str
    client: str
    in_breath: str
    in_breath_alpha: int
    pacer_driven: str
    pacer_driven_alpha: int
    invalid: str
    invalid_alpha: int
    band: str
    band_alpha: int
    sync_line: str
    artifact: str
    pacer_fill: str
    pacer_edge: str


THEMES = {
    "light": Theme(
        name="light",
        background="#FAFAF7",
        panel="#FFFFFF",
        foreground="#1F1F1F",
        muted="#5A5A5A",
        grid_alpha=0.25,
        therapist=OKABE_ITO["blue"],
        client=OKABE_ITO["vermillion"],
        in_breath=OKABE_ITO["sky_blue"],
        in_breath_alpha=60,
        pacer_driven=OKABE_ITO["yellow"],
        pacer_driven_alpha=90,
        invalid="#808080",
        invalid_alpha=70,
        band="#7A8793",
        band_alpha=80,
        sync_line="#2F3E4C",
        artifact=OKABE_ITO["reddish_purple"],
        pacer_fill=OKABE_ITO["sky_blue"],
        pacer_edge=OKABE_ITO["blue"],
    ),
    "dark": Theme(
        name="dark",
        background="#1B1D21",
        panel="#24272C",
        foreground="#ECECEC",
        muted="#A8A8A8",
        grid_alpha=0.2,
        therapist=OKABE_ITO["sky_blue"],
        client=OKABE_ITO["orange"],
        in_breath=OKABE_ITO["sky_blue"],
        in_breath_alpha=45,
        pacer_driven=OKABE_ITO["yellow"],
        pacer_driven_alpha=55,
        invalid="#9A9A9A",
        invalid_alpha=55,
        band="#8E9BA8",
        band_alpha=75,
        sync_line="#D7DEE5",
        artifact=OKABE_ITO["reddish_purple"],
        pacer_fill=OKABE_ITO["blue"],
        pacer_edge=OKABE_ITO["sky_blue"],
    ),
}


def role_style(theme: Theme, role: str) -> RoleStyle:
    """The drawing style of ``role`` (``therapist``, ``client``, ``solo`` or another name)."""
    if role == "client":
        return RoleStyle("Client", theme.client, Qt.PenStyle.DashLine, "t1", "▲")
    label = "Therapist" if role == "therapist" else role.capitalize()
    return RoleStyle(label, theme.therapist, Qt.PenStyle.SolidLine, "o", "●")


def arrow_icon(theme: Theme, direction: str) -> str:
    """Path of the small arrow (``up`` or ``down``, in the theme's muted colour) drawn in the
    spin boxes' step buttons and the menus' drop-down (``ui/icons``, shipped in the package).

    A style sheet that gives these widgets a border draws their arrows itself, and without an
    image they shrink to a few pixels, unreadable at any scale.
    """
    return str(files("ui").joinpath("icons", f"{direction}-{theme.name}.svg")).replace("\\", "/")


def stylesheet(theme: Theme, font_pt: float) -> str:
    """Qt style sheet for the window's own widgets (the plots take the theme directly)."""
    up, down = arrow_icon(theme, "up"), arrow_icon(theme, "down")
    return f"""
        QWidget {{ background: {theme.background}; color: {theme.foreground};
                   font-size: {font_pt:.1f}pt; }}
        QFrame#panel {{ background: {theme.panel}; border: 1px solid {theme.muted};
                        border-radius: 4px; }}
        QLabel {{ background: transparent; }}
        QLabel[muted="true"] {{ color: {theme.muted}; }}
        QLabel#title {{ font-weight: bold; font-size: {font_pt * 1.15:.1f}pt; }}
        QLabel#bignum {{ font-size: {font_pt * 1.6:.1f}pt; font-weight: bold; }}
        QLabel#aid {{ color: {theme.muted}; font-style: italic; }}
        QLabel#message {{ font-weight: bold; }}
        QPushButton:disabled, QLineEdit:disabled {{ color: {theme.muted}; }}
        QListWidget {{ background: {theme.panel}; border: 1px solid {theme.muted}; }}
        QPushButton, QDoubleSpinBox, QSpinBox, QComboBox, QLineEdit {{
            background: {theme.panel}; color: {theme.foreground};
            border: 1px solid {theme.muted}; border-radius: 3px; padding: 2px 6px; }}
        QPushButton:pressed {{ background: {theme.muted}; }}
        QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ width: 16px; border: none; }}
        QAbstractSpinBox::up-arrow {{ image: url({up}); width: 10px; height: 6px; }}
        QAbstractSpinBox::down-arrow {{ image: url({down}); width: 10px; height: 6px; }}
        QComboBox::drop-down {{ width: 16px; border: none; }}
        QComboBox::down-arrow {{ image: url({down}); width: 10px; height: 6px; }}
    """
