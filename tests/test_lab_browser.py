"""The lab in a real browser (headless chromium driven by Selenium), against a live server.

Where chromium or chromedriver is missing these tests skip, saying so; with
RASPLAB_REQUIRE_BROWSER=1 (as in CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

from rasplab.lab.limits import LabLimits

pytestmark = pytest.mark.slow  # a browser and a server per module: end to end

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 20  # seconds a view may take to appear (the first run also warms the workers)
HIST = "same = select(tokens, tokens, ==);\nhist = selector_width(same);"
REVERSE = (
    "def solution() {\n"
    "flip = select(indices, length - indices - 1, ==);\n"
    "return aggregate(flip, tokens);\n}"
)


def _unavailable(reason: str) -> None:
    if os.environ.get("RASPLAB_REQUIRE_BROWSER"):
        pytest.fail(f"RASPLAB_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[test]')")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            _unavailable(f"{path} is missing (apt-get install chromium chromium-driver)")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    # the driver's path given explicitly: Selenium never looks for one on the network
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def lab_url():
    pytest.importorskip("uvicorn")
    from rasplab.lab.server import LabServer

    server = LabServer("127.0.0.1", 0, LabLimits(workers=2, check_seconds=60))
    yield server.start()
    server.stop()


def _wait(browser, condition, message):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    stale = (StaleElementReferenceException,)  # a view redrawn between finding and reading
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.05, ignored_exceptions=stale)
    return wait.until(lambda d: condition(d), message=message)


def _open(browser, url):
    browser.get(url)
    _wait(browser, lambda d: d.execute_script("return window.rasplabLab.renders") > 0, "no run")


def _type_program(browser, element_id, text):
    from selenium.webdriver.common.keys import Keys

    area = browser.find_element("id", element_id)
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    area.send_keys(text)


def _set_input(browser, element_id, text):
    from selenium.webdriver.common.keys import Keys

    box = browser.find_element("id", element_id)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text)


def _output_row(browser):
    script = (
        "return [...document.querySelectorAll('#output-row tr.out td')].map(c => c.textContent)"
    )
    return browser.execute_script(script)


def _heads(browser):
    return browser.execute_script(
        "return document.querySelectorAll('#execution svg g.head').length"
    )


def test_typing_a_program_updates_the_grid(browser, lab_url):
    _open(browser, lab_url)
    assert _heads(browser) == 2  # the sort example: two heads
    _type_program(browser, "source", HIST)
    _set_input(browser, "input", "hello")
    _wait(browser, lambda d: _output_row(d) == ["1", "1", "2", "2", "1"], "no histogram")
    _wait(browser, lambda d: _heads(d) == 1, "the grid did not become one head")
    cells = browser.find_elements("css selector", "#execution svg g.head rect")
    assert len(cells) >= 25  # a 5 x 5 grid for 'hello'
    _set_input(browser, "input", "aab")
    _wait(browser, lambda d: _output_row(d) == ["2", "2", "1"], "the input did not rerun")
    analysis = browser.find_element("id", "analysis").text
    assert "1 layer" in analysis and "[1]" in analysis


def test_an_error_is_shown_at_its_line(browser, lab_url):
    _open(browser, lab_url)
    _type_program(
        browser, "source", "x = select(tokens, tokens, ==);\ny = aggregate(x, tokens) + ;"
    )
    box = browser.find_element("id", "error")
    # typing passes through other errors: wait for the one of the whole program
    _wait(browser, lambda d: box.text.startswith("line 2, column 28:"), "no error at 2:28")
    assert box.is_displayed()
    marked = browser.find_elements("css selector", "#gutter .error-line")
    assert [m.text for m in marked] == ["2"]
    assert browser.find_element("css selector", "#highlight .error-at").text == ";"
    _type_program(browser, "source", HIST)  # fixing it clears the mark
    _wait(browser, lambda d: _output_row(d) == ["1", "1", "2", "2", "1"], "no run after the fix")
    assert not box.is_displayed()
    assert browser.find_elements("css selector", "#gutter .error-line") == []


def test_compile_shows_the_model_and_offers_it(browser, lab_url):
    _open(browser, lab_url)  # the sort example
    browser.find_element("css selector", ".tabs button[data-tab=compile]").click()
    _set_input(browser, "vocab", "abc")
    _set_input(browser, "max-len", "4")
    _set_input(browser, "input", "cab")
    browser.find_element("id", "compile-button").click()
    _wait(browser, lambda d: d.find_element("id", "compile-result").is_displayed(), "no model")
    size = browser.find_element("id", "compile-size").text
    assert "heads per layer [2, 1]" in size and "parameters" in size
    assert "verified against the evaluator" in browser.find_element("id", "compile-report").text
    link = browser.find_element("id", "download")
    assert link.get_attribute("href").startswith("blob:")
    assert link.get_attribute("download") == "sorted_tokens.safetensors"
    assert browser.find_elements("css selector", "#residual svg")


def test_a_puzzle_fails_then_passes_and_stays_solved(browser, lab_url):
    _open(browser, lab_url)
    browser.execute_script("localStorage.clear()")
    _open(browser, lab_url)
    browser.find_element("css selector", ".tabs button[data-tab=puzzles]").click()
    browser.find_element("css selector", "button[data-puzzle=reverse]").click()
    assert "2 layers, 1 head per layer" in browser.find_element("id", "puzzle-budget").text
    _type_program(browser, "puzzle-source", "def solution() {\nreturn tokens;\n}")
    browser.find_element("id", "puzzle-check").click()
    status = browser.find_element("id", "puzzle-status")
    _wait(browser, lambda d: status.text == "wrong", "no verdict")
    assert "['a', 'b']" in browser.find_element("id", "puzzle-report").text
    assert browser.find_elements("css selector", "#puzzle-counterexample svg")
    _type_program(browser, "puzzle-source", REVERSE)
    browser.find_element("id", "puzzle-check").click()
    _wait(browser, lambda d: status.text == "solved", "not solved")
    assert "1 of 16 solved" in browser.find_element("id", "puzzle-progress").text
    _open(browser, lab_url)  # progress is kept in the browser
    solved = browser.find_element("css selector", "button[data-puzzle=reverse]")
    assert "solved" in solved.get_attribute("class")


def test_a_share_link_opens_the_same_view(browser, lab_url):
    _open(browser, lab_url)
    _type_program(browser, "source", "# shared\n" + HIST)
    _set_input(browser, "input", "abba")
    _wait(browser, lambda d: _output_row(d) == ["2", "2", "2", "2"], "no run")
    browser.find_element("id", "share").click()
    link = browser.find_element("id", "share-link").get_attribute("value")
    assert link.startswith(lab_url + "#p=")
    browser.get("about:blank")
    _open(browser, link)
    _wait(browser, lambda d: _output_row(d) == ["2", "2", "2", "2"], "the link ran otherwise")
    assert browser.find_element("id", "source").get_attribute("value") == "# shared\n" + HIST
    assert browser.find_element("id", "input").get_attribute("value") == "abba"


def test_two_tabs_at_once_each_get_their_own_view(browser, lab_url):
    _open(browser, lab_url)
    first = browser.current_window_handle
    _type_program(browser, "source", HIST)
    _set_input(browser, "input", "aab")
    browser.switch_to.new_window("tab")
    try:
        _open(browser, lab_url)
        _set_input(browser, "input", "dcba")  # the sort example in this tab
        _wait(browser, lambda d: _output_row(d) == ["a", "b", "c", "d"], "second tab")
        browser.switch_to.window(first)
        _wait(browser, lambda d: _output_row(d) == ["2", "2", "1"], "first tab")
    finally:
        for handle in browser.window_handles:
            if handle != first:
                browser.switch_to.window(handle)
                browser.close()
        browser.switch_to.window(first)


def test_a_missing_browser_skips_here_and_fails_where_required(monkeypatch):
    monkeypatch.delenv("RASPLAB_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        _unavailable("chromium is missing")
    monkeypatch.setenv("RASPLAB_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="RASPLAB_REQUIRE_BROWSER is set"):
        _unavailable("chromium is missing")
