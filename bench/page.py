"""Lighthouse on the page, desktop and phone, against the function as production runs it.

    python -m bench.page [--runs 3] [--model DIR] [--batch-rows N]

Lighthouse 12.8.2 (npm, pinned in bench/lighthouse/package.json, installed there on first use)
drives Debian's Chromium headless: its "desktop" preset and its default mobile emulation (a
phone-sized screen, simulated slow 4G and a 4x slower CPU). Reports, per form factor, the median
over --runs of each category score (performance, accessibility, best practices, SEO) and the
measures behind performance (FCP, LCP, TBT, CLS, Speed Index), the requests and bytes sent; checks
performance >= 95 and CLS < 0.1 on both. Lighthouse's simulated throttling keeps the figures
comparable on a loaded machine, but its CPU benchmark sees the load: say the load average beside them.
With --batch-rows N it also uploads a CSV of N copies of the example company (the page's 10 MB
limit holds about 61,000: 172 bytes a row) in Chromium through Playwright, and reports the seconds until the table
is drawn, the main thread's longest task after the last answer, and the page's JS heap (CDP).
Writes the figures to bench/results/page-<UTC timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.server import warm

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "bench" / "lighthouse"
LIGHTHOUSE = TOOL / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MEASURES = {
    "first-contentful-paint": "FCP ms",
    "largest-contentful-paint": "LCP ms",
    "total-blocking-time": "TBT ms",
    "cumulative-layout-shift": "CLS",
    "speed-index": "SI ms",
}
TARGETS = {"performance": 0.95}
MAX_CLS = 0.1


def install() -> None:
    if not LIGHTHOUSE.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(TOOL)], check=True)


def run_once(url: str, form_factor: str, out: Path) -> dict:
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={out}",
        "--quiet",
        "--only-categories=" + ",".join(CATEGORIES),
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM})
    report = json.loads(out.read_text())
    figures = {name: report["categories"][name]["score"] for name in CATEGORIES}
    for audit, label in MEASURES.items():
        figures[label] = report["audits"][audit]["numericValue"]
    requests = report["audits"]["network-requests"]["details"]["items"]
    figures["requests"] = len(requests)
    figures["transferred KB"] = sum(item.get("transferSize", 0) for item in requests) / 1000
    return figures


def batch_figures(url: str, rows: int) -> dict:
    """One upload of `rows` companies: time to the drawn table, the longest task after, the JS heap."""
    from playwright.sync_api import sync_playwright

    example = (ROOT / "frontend" / "example-companies.csv").read_text(encoding="utf-8").splitlines()
    body = "\n".join([example[0], *(example[1 + i % (len(example) - 1)] for i in range(rows))]) + "\n"
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        path = Path(tmp) / "many.csv"
        path.write_text(body, encoding="utf-8")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.set_default_timeout(900_000)
        page.goto(url)
        page.locator('[data-testid="service-status"][data-state="ok"]').wait_for()
        page.evaluate("""() => { window.longest = 0; new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration); })
            .observe({type: "longtask"}); }""")
        page.locator("#batch-file").set_input_files(str(path))
        started = time.perf_counter()
        page.locator("#batch-submit").click()
        # An error (a file over the limit, say) ends the wait too, and is reported.
        page.locator('[data-testid="batch-status"]:is([data-state="ok"], [data-state="error"])').wait_for()
        seconds = time.perf_counter() - started
        session = page.context.new_cdp_session(page)
        session.send("Performance.enable")
        session.send("HeapProfiler.collectGarbage")
        metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
        figures = {
            "rows": rows,
            "file MB": path.stat().st_size / 1e6,
            "seconds to the table": seconds,
            "longest task ms": page.evaluate("window.longest"),
            "JS heap MB": metrics.get("JSHeapUsedSize", 0) / 1e6,
            "table rows drawn": page.locator('[data-testid="batch-table"] tbody tr').count(),
            "status": page.get_by_test_id("batch-status").inner_text(),
        }
        browser.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "default")
    parser.add_argument("--batch-rows", type=int, default=0)
    args = parser.parse_args(argv)
    install()
    server = warm({"MODEL_DIR": str(args.model), "FRONTEND_DIR": str(ROOT / "frontend")})
    results: dict[str, dict] = {"load average": Path("/proc/loadavg").read_text().split()[:3]}
    ok = True
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for form_factor in ("desktop", "mobile") if args.runs else ():
                runs = [
                    run_once(server.url + "/", form_factor, Path(tmp) / f"{form_factor}{i}.json")
                    for i in range(args.runs)
                ]
                median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                results[form_factor] = {"median": median, "runs": runs}
                line = "  ".join(f"{key} {value:.3g}" for key, value in median.items())
                print(f"{form_factor:8} {line}")
                for category, target in TARGETS.items():
                    if median[category] < target:
                        print(f"  below target: {category} {median[category]:.2f} < {target}")
                        ok = False
                if median["CLS"] >= MAX_CLS:
                    print(f"  below target: CLS {median['CLS']:.3f} >= {MAX_CLS}")
                    ok = False
        if args.batch_rows:
            results["batch"] = batch_figures(server.url + "/", args.batch_rows)
            shown = (
                f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                for key, value in results["batch"].items()
            )
            print("batch    " + "  ".join(shown))
    finally:
        server.stop()
    out = ROOT / "bench" / "results" / f"page-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"load average {' '.join(results['load average'])}; figures in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
