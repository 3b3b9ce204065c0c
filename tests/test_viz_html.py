"""The public drawing API, HTML reports, PNG output, and rendering in headless Chromium."""

import random
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest

from rasplab import evaluate, select, tokens, viz
from rasplab.errors import RaspError
from rasplab.library import PROGRAMS

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = next(
    (p for p in map(shutil.which, ["chromium", "chromium-browser", "google-chrome"]) if p), None
)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found")


def add_program():
    if "add" in PROGRAMS:
        return PROGRAMS["add"].build()
    from rasplab.library.arith import add

    return add()


def png_info(data: bytes) -> tuple[int, int, float]:
    """Width, height and the share of pixel rows that are not one flat colour.

    A flat row stays flat under every PNG filter (all 0 or all 255 after its
    first pixel), so the filtered rows tell content from background without
    decoding the image.
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + size
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour = header[8], header[9]
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    body = rows[:, 1 + channels :]
    content = ((body != 0) & (body != 255)).any(axis=1)
    return width, height, float(content.mean())


def screenshot(path: Path, width: int, height: int) -> bytes:
    out = path.with_suffix(".png")
    with tempfile.TemporaryDirectory() as profile:
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu"]
        args += ["--disable-background-networking", "--disable-component-update"]
        args += ["--disable-sync", "--no-first-run", "--hide-scrollbars"]
        args += [f"--user-data-dir={profile}", f"--screenshot={out}"]
        args += [f"--window-size={width},{height}", path.as_uri()]
        subprocess.run(args, check=True, capture_output=True, timeout=120)
    return out.read_bytes()


def test_draw_kinds_and_formats():
    program = PROGRAMS["sort"].build()
    for kind in viz.KINDS:
        svg = viz.draw(program, "banana", kind=kind)
        assert ET.fromstring(svg).tag == f"{SVG}svg"
        page = viz.draw(program, "banana", kind=kind, format="html")
        root = ET.fromstring(page)
        assert root.tag == "html" and root.find(f".//{SVG}svg") is not None
    trace = evaluate(program, "banana", trace=True)
    assert viz.draw(trace, kind="execution") == viz.draw(program, "banana", kind="execution")
    assert viz.draw(trace).startswith("<svg")  # the graph of the traced program


def test_draw_explains_bad_requests():
    program = PROGRAMS["sort"].build()
    with pytest.raises(RaspError, match="give an input"):
        viz.draw(program, kind="execution")
    with pytest.raises(RaspError, match="unknown picture kind"):
        viz.draw(program, "ab", kind="pie")
    with pytest.raises(RaspError, match="unknown picture format"):
        viz.draw(program, format="pdf")
    with pytest.raises(RaspError, match="cannot tell the picture format"):
        viz.save("out.txt", program)
    with pytest.raises(RaspError, match="s-op, a selector or a trace"):
        viz.draw("not a program")


def test_report_is_one_self_contained_well_formed_page():
    html = viz.report(add_program(), "683+345")
    root = ET.fromstring(html)
    svgs = root.findall(f".//{SVG}svg")
    assert [s.get("class") for s in svgs] == [
        "rasplab-graph",
        "rasplab-execution",
        "rasplab-values",
    ]
    for attr in ("src", "href"):
        assert not [e for e in root.iter() if e.get(attr)]
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert "0001028" in html
    assert [h.text for h in root.iter("h2")] == ["Analysis", "Program graph", "Execution", "Values"]
    graph_only = ET.fromstring(viz.report(add_program()))
    assert len(graph_only.findall(f".//{SVG}svg")) == 1


def test_save_picks_the_format_from_the_suffix(tmp_path):
    program = PROGRAMS["hist"].build()
    svg = viz.save(tmp_path / "h.svg", program)
    html = viz.save(tmp_path / "h.html", program, "abca", kind="execution")
    assert svg.read_text().startswith("<svg")
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_png_through_the_optional_extra(tmp_path):
    try:
        png = viz.draw(add_program(), "683+345", kind="execution", format="png")
    except viz.MissingExtraError as err:
        pytest.skip(str(err))
    width, height, content = png_info(png)
    svg = ET.fromstring(viz.draw(add_program(), "683+345", kind="execution"))
    assert (width, height) == (round(float(svg.get("width"))), round(float(svg.get("height"))))
    assert content > 0.3
    double = viz.draw(PROGRAMS["hist"].build(), format="png", scale=2)
    assert png_info(double)[0] == 2 * round(
        float(ET.fromstring(viz.draw(PROGRAMS["hist"].build())).get("width"))
    )


def test_png_without_the_extra_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cairo(name, *args, **kwargs):
        if name == "cairosvg":
            raise ImportError("no module named cairosvg")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cairo)
    with pytest.raises(viz.MissingExtraError, match=r"rasplab\[png\]"):
        viz.draw(PROGRAMS["hist"].build(), format="png")


@needs_chromium
@pytest.mark.slow
def test_report_renders_in_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(viz.report(add_program(), "683+345"), encoding="utf-8")
    width, height, content = png_info(screenshot(page, 1200, 2400))
    assert (width, height) == (1200, 2400)
    assert content > 0.4


@needs_chromium
@pytest.mark.slow
@pytest.mark.parametrize("name", ["sort", "dyck2"])
def test_length_32_execution_views_render_in_chromium(tmp_path, name):
    entry = PROGRAMS[name]
    xs = entry.sample(random.Random(5), 32)
    svg = viz.draw(entry.build(), xs, kind="execution")
    root = ET.fromstring(svg)
    w, h = int(float(root.get("width"))) + 1, int(float(root.get("height"))) + 1
    path = tmp_path / f"{name}.svg"  # a standalone SVG file, no HTML around it
    path.write_text(svg, encoding="utf-8")
    width, height, content = png_info(screenshot(path, w, h))
    assert (width, height) == (w, h)
    assert content > 0.5


@needs_chromium
@pytest.mark.slow
def test_a_blank_page_reads_as_blank(tmp_path):
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>")
    assert png_info(screenshot(page, 400, 300)) == (400, 300, 0.0)


def test_selector_report():
    html = viz.report(select(tokens, tokens, "==").named("same"), "aba")
    root = ET.fromstring(html)
    assert len(root.findall(f".//{SVG}svg")) == 3
