"""Time the browser lab: edit to view in a real browser, server throughput, latency under runaways.

Usage: python benchmarks/lab.py [--edits N] [--seconds S] [--workers W] [--pictures DIR]

1. Edit to view: headless chromium (Selenium) opens the lab with ``sort`` and
   ``dyck2`` at length 32; each edit is one real keystroke in the input box
   (it swaps the last token), and the page itself records the time from that
   keystroke to the new execution view in the page and to the next frame
   drawn. Target: under 150 ms. The page waits 30 ms for a next keystroke
   before it sends a run; that wait is part of the time.
2. Throughput: threads post evaluation requests (``sort`` at 32) for S seconds.
3. Latency under runaways: normal requests (``hist`` at 8) while other threads
   keep sending programs that run until the server stops them; p50, p95, p99.

All traffic goes to a server this script starts on 127.0.0.1 and stops.
``--pictures DIR`` only takes the screenshots of the README (DIR/lab-*.png).
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx

from rasplab.lab.limits import LabLimits, default_workers
from rasplab.lab.programs import program_source
from rasplab.lab.server import LabServer
from rasplab.library import PROGRAMS

TARGET_MS = 150.0
RUNAWAY = "x = [[7 ^ 30000 for j in range(1000)] for i in range(1000)];\ny = tokens;"
HIST = "hist = selector_width(select(tokens, tokens, ==));"


def _inputs() -> dict[str, tuple[str, str]]:
    """Two inputs of length 32 per program that differ in the last token only."""
    rng = random.Random(0)
    sort = "".join(rng.choice("abcdefgh") for _ in range(32))
    dyck = "".join(PROGRAMS["dyck2"].sample(random.Random(1), 32))
    other = {")": "}", "}": ")", "(": "{", "{": "("}
    return {
        "sort": (sort, sort[:-1] + ("a" if sort[-1] != "a" else "b")),
        "dyck2": (dyck, dyck[:-1] + other[dyck[-1]]),
    }


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _renders(driver) -> int:
    return driver.execute_script("return window.rasplabLab.renders")


def _wait_for_render(driver, before: int) -> None:
    deadline = time.monotonic() + 30
    while _renders(driver) <= before:
        if time.monotonic() > deadline:
            raise RuntimeError("the page did not redraw within 30 s")
        time.sleep(0.005)


BROWSER_WORK = ("RecalcStyleDuration", "LayoutDuration")  # chromium's own counters, in seconds


def _browser_work(driver) -> dict[str, float]:
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return {m["name"]: m["value"] for m in metrics if m["name"] in BROWSER_WORK}


def edit_to_view(url: str, edits: int) -> list[tuple]:
    """Per program: milliseconds from keystroke to answer, to view in the page, to the next
    frame, and chromium's style and layout time per edit."""
    from selenium.webdriver.common.keys import Keys

    driver = _browser()
    driver.execute_cdp_cmd("Performance.enable", {})
    rows = []
    try:
        driver.get(url)
        _wait_for_render(driver, 0)
        for name, (first, second) in _inputs().items():
            select = driver.find_element("id", "program-select")
            select.find_element("css selector", f"option[value='library:{name}']").click()
            box = driver.find_element("id", "input")
            box.send_keys(Keys.CONTROL, "a")
            before = _renders(driver)
            box.send_keys(first)
            _wait_for_render(driver, before)
            fetched, in_page, painted = [], [], []
            work = dict.fromkeys(BROWSER_WORK, 0.0)
            for i in range(edits + 2):  # the first two warm the page up and are not counted
                last = (second if i % 2 == 0 else first)[-1]
                before, counters = _renders(driver), _browser_work(driver)
                box.send_keys(Keys.BACKSPACE + last)
                _wait_for_render(driver, before)
                if i >= 2:
                    for key, value in _browser_work(driver).items():
                        work[key] += 1000 * (value - counters[key]) / edits
                timing = driver.execute_script(
                    "const t = window.rasplabLab;"
                    "return [t.lastFetchMs, t.lastLatencyMs, t.lastPaintedMs]"
                )
                if i >= 2:
                    fetched.append(timing[0])
                    in_page.append(timing[1])
                    painted.append(timing[2])
            rows.append((name, fetched, in_page, painted, work))
    finally:
        driver.quit()
    return rows


def _post(client: httpx.Client, url: str, program: str, text: str) -> tuple[float, bool]:
    started = time.perf_counter()
    answer = client.post(url + "api/run", json={"program": program, "input": text}).json()
    return time.perf_counter() - started, bool(answer.get("ok"))


def _keep_sending(url: str, program: str, text: str, until: float, out: list) -> None:
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < until:
            out.append(_post(client, url, program, text))


def _load(url: str, senders: int, program: str, text: str, seconds: float) -> list:
    results: list = []
    until = time.monotonic() + seconds
    with ThreadPoolExecutor(max_workers=senders) as pool:
        for _ in range(senders):
            pool.submit(_keep_sending, url, program, text, until, results)
    return results


def throughput(url: str, seconds: float, senders: int) -> tuple[float, float, int]:
    """Requests per second, median latency in ms, and failed answers."""
    sort_source = program_source("library", "sort")
    text = _inputs()["sort"][0]
    results = _load(url, senders, sort_source, text, seconds)
    latencies = [t for t, ok in results if ok]
    failed = len(results) - len(latencies)
    return len(latencies) / seconds, 1000 * statistics.median(latencies), failed


def under_runaways(url: str, seconds: float, runaway_senders: int) -> dict[str, float]:
    """Normal requests' latency percentiles (ms) while runaway programs keep arriving."""
    stopped: list = []
    until = time.monotonic() + seconds
    senders = [
        threading.Thread(target=_keep_sending, args=(url, RUNAWAY, "ab", until, stopped))
        for _ in range(runaway_senders)
    ]
    for sender in senders:
        sender.start()
    normal = _load(url, 4, HIST, "abcabcab", seconds)
    for sender in senders:
        sender.join()
    times = sorted(1000 * t for t, ok in normal if ok)
    return {
        "normal": len(times),
        "failed": len(normal) - len(times),
        "stopped": len(stopped),
        "p50": times[len(times) // 2],
        "p95": times[int(0.95 * (len(times) - 1))],
        "p99": times[int(0.99 * (len(times) - 1))],
        "max": times[-1],
    }


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


DYCK_SOLUTION = "def solution() {\n    return tokens;\n}"


def pictures(url: str, folder: Path) -> None:
    """Screenshots of the lab: running, an error, a compiled model, a failed puzzle."""
    from selenium.webdriver.common.keys import Keys

    driver = _browser()
    driver.set_window_size(1500, 950)
    try:
        driver.get(url)
        _wait_for_render(driver, 0)
        select = driver.find_element("id", "program-select")
        select.find_element("css selector", "option[value='examples:dyck2']").click()
        time.sleep(1.0)
        driver.save_screenshot(str(folder / "lab-run.png"))
        select.find_element("css selector", "option[value='library:reverse']").click()
        time.sleep(0.5)
        area = driver.find_element("id", "source")
        area.send_keys(Keys.CONTROL, Keys.END)
        area.send_keys("\nbroken = aggregate(select(tokens, tokens, ==);")
        time.sleep(1.0)
        driver.save_screenshot(str(folder / "lab-error.png"))
        select.find_element("css selector", "option[value='library:sort']").click()
        time.sleep(0.5)
        driver.find_element("css selector", ".tabs button[data-tab=compile]").click()
        max_len = driver.find_element("id", "max-len")
        max_len.send_keys(Keys.CONTROL, "a")
        max_len.send_keys("5")
        driver.find_element("id", "compile-button").click()
        time.sleep(4.0)
        driver.save_screenshot(str(folder / "lab-compile.png"))
        driver.find_element("css selector", ".tabs button[data-tab=puzzles]").click()
        driver.find_element("css selector", "button[data-puzzle=dyck1]").click()
        editor = driver.find_element("id", "puzzle-source")
        editor.send_keys(Keys.CONTROL, "a")
        editor.send_keys(Keys.DELETE, DYCK_SOLUTION)
        driver.find_element("id", "puzzle-check").click()
        time.sleep(4.0)
        driver.save_screenshot(str(folder / "lab-puzzles.png"))
    finally:
        driver.quit()


def _print_edits(rows) -> None:
    print("ms: the request alone; keystroke to view in the page; keystroke to next frame drawn;")
    print("chromium's style and layout time per edit (mean)")
    print(
        "| program | input | edits | request median | in page median | p95 "
        "| drawn median | p95 | style | layout |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, fetched, in_page, painted, work in rows:
        print(
            f"| {name} | length 32 | {len(in_page)} | {statistics.median(fetched):.0f} | "
            f"{statistics.median(in_page):.0f} | {_p95(in_page):.0f} | "
            f"{statistics.median(painted):.0f} | {_p95(painted):.0f} | "
            f"{work['RecalcStyleDuration']:.0f} | {work['LayoutDuration']:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--pictures", type=Path, metavar="DIR", help="take screenshots only")
    args = parser.parse_args()
    limits = replace(LabLimits(), workers=args.workers, run_seconds=1.0)
    with LabServer("127.0.0.1", 0, limits) as server:
        if args.pictures:
            pictures(server.url, args.pictures)
            return
        print(f"server: {server.url}, {args.workers} workers, runs stopped after 1 s\n")
        _print_edits(edit_to_view(server.url, args.edits))
        print("\n| senders | requests/s | median ms | failed |\n|---:|---:|---:|---:|")
        for senders in (1, 4, 16):
            rate, median, failed = throughput(server.url, args.seconds, senders)
            print(f"| {senders} | {rate:.0f} | {median:.0f} | {failed} |")
        print("\n| runaway senders | normal | stopped | p50 ms | p95 ms | p99 ms | max ms |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for runaways in (0, 1, 2):
            r = under_runaways(server.url, args.seconds, runaways)
            print(
                f"| {runaways} | {r['normal']} | {r['stopped']} | {r['p50']:.0f} | "
                f"{r['p95']:.0f} | {r['p99']:.0f} | {r['max']:.0f} |"
            )


if __name__ == "__main__":
    main()
