"""matplotlib for the kit's plots: drawn without a screen, in fonts that have Hangul.

    plt = plots.pyplot()    matplotlib.pyplot, Agg (no display), Hangul fonts set

matplotlib's own font, DejaVu Sans, has no Hangul: a Korean label would be
a row of boxes, with a "Glyph ... missing" warning for each (an error in
the kit's tests). So the fonts are DejaVu Sans first (Latin, digits, the
minus sign as always) and then the first installed font with Hangul,
found through matplotlib's font manager (NanumGothic from Debian's
fonts-nanum, Noto Sans CJK, Malgun Gothic on Windows, Apple SD Gothic Neo
on macOS; one installed after matplotlib listed the fonts too); matplotlib
takes each glyph from the first font that has it.
Without any, the plot is still drawn, and the kit says how to get one.
"""

import functools
import sys
from pathlib import Path

HANGUL_FONTS = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans KR",
                "Malgun Gothic", "Apple SD Gothic Neo", "AppleGothic", "UnDotum")
NO_HANGUL_FONT = ("No font with Hangul for plots: Korean labels show as boxes. Install one "
                  "(Debian, Ubuntu: sudo apt install fonts-nanum; Fedora: naver-nanum-gothic-fonts)")


# How their files are named, for a font installed after matplotlib made its list of fonts (its cache).
HANGUL_FILES = ("nanum", "notosanscjk", "notosanskr", "sourcehansans", "malgun", "applesdgothicneo",
                "applegothic", "undotum")


@functools.lru_cache(maxsize=None)
def hangul_font():
    """The family name of an installed font with Hangul that matplotlib can use, or None."""
    from matplotlib import font_manager  # loaded on first use: only a plot needs it

    def known():
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in HANGUL_FONTS if name in installed), None)

    if known() is None:  # installed since matplotlib listed the fonts: add them to its list
        for path in font_manager.findSystemFonts():
            if any(part in path.lower().replace("-", "").replace("_", "") for part in HANGUL_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read
                    pass
        if known() is not None:  # and remember them, as matplotlib would have on a fresh start
            save_font_list(font_manager)
    return known()


def save_font_list(font_manager):
    import matplotlib

    cache = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
    try:
        font_manager.json_dump(font_manager.fontManager, cache)
    except OSError:  # a read-only cache: found again next time
        pass


def use_hangul_font():
    """Make matplotlib draw Hangul from here on; return the font's name (None: none installed, said on stderr)."""
    import matplotlib

    font = hangul_font()
    if font is None:
        print(NO_HANGUL_FONT, file=sys.stderr)
        return None
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", font]  # a glyph comes from the first that has it
    return font


def pyplot():
    """matplotlib.pyplot for a file (Agg: no display needed), with Hangul."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_hangul_font()
    return plt
