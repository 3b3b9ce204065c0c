"""SVG to PNG through the optional ``png`` extra (cairosvg); never needed by the core.

>>> svg_to_png("<svg", scale=0)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
rasplab.errors.RaspError: scale must be positive
"""

from __future__ import annotations

from ..errors import RaspError

__all__ = ["svg_to_png", "MissingExtraError"]


class MissingExtraError(RaspError, ImportError):
    """An optional dependency of rasplab is not installed."""


def svg_to_png(svg: str, scale: float = 1.0) -> bytes:
    """The PNG bytes of an SVG document, on a white background.

    Needs ``cairosvg`` (``pip install 'rasplab[png]'``) and the cairo
    library it loads.
    """
    if scale <= 0:
        raise RaspError("scale must be positive")
    try:
        import cairosvg
    except (ImportError, OSError) as err:  # OSError: cairosvg present, libcairo missing
        raise MissingExtraError(
            "PNG output needs the optional extra 'png': pip install 'rasplab[png]' "
            f"(cairosvg and the cairo library); or write .svg or .html instead ({err})"
        ) from None
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale, background_color="white")
