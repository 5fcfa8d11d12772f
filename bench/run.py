"""Benchmark our function beside the legacy way of serving, on this machine, in one run.

    python -m bench.run [--repeats 3] [--duration 3] [--starts 5] [--model DIR] [--no-install-size]

Measured, each as median [min-max] over repetitions (the machine may be shared and noisy):
  cold start      process start -> GET /health answered, and -> first prediction answered
                  (a prediction sent as soon as /health answers), over --starts fresh processes;
  warm HTTP       wrk on loopback against functions-framework's ASGI mode (gunicorn + uvicorn, as
                  deployed): p50/p99
                  latency at 1 and 8 connections, requests/s at 8, one company per request (with
                  our model, also without its explanation);
  in-process      the route's code path (check_media_type -> answer -> json_response) per request of
                  1, 100 and 1000 companies, wall and CPU time, the model loaded as in serving;
  memory          the worker's VmRSS after 1000 one-company predictions on a fresh server (and
                  how much of it is mapped library files), peak RSS (VmHWM) of the warm worker
                  after the HTTP load, and the whole tree's RSS/PSS;
  predictor       the model alone (soundness.predictor) on 1 and 1000 rows;
  install size    `pip install --target` of requirements.txt (the deployed runtime), with .pyc.
Configurations: ours with artifacts/default (when it exists); ours with the legacy service's model imported,
like for like, in both the companies form and the legacy service's own {"data": [[five ratios]]} form; the
baseline, bench/baseline/main.py: the legacy way, loading everything on every request, reading
../shared/reference/seed-artifacts in place; and the floor, bench/floor/main.py: a function that
answers a constant, whose throughput bounds any function's under this server on this machine.
Prints a table, checks the targets, writes all figures to bench/results/<UTC timestamp>.json.
Needs wrk (apt-get install wrk). Takes about three to four minutes.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.server import clean_env

from . import bodies, inprocess, install_size, load, serving

ROOT = Path(__file__).resolve().parent.parent
LEGACY_ARTIFACTS = ROOT.parent / "shared" / "reference" / "seed-artifacts"
DEFAULT_MODEL = ROOT / "artifacts" / "default"
RESULTS = Path(__file__).resolve().parent / "results"
FLOOR_SOURCE = Path(__file__).resolve().parent / "floor" / "main.py"
BASELINE = "baseline (legacy way)"
FLOOR = "floor (constant answer)"
CONCURRENCY = (1, 8)
SECTIONS = ("cold", "http", "memory", "in-process")  # the table's order
# Units where lower is better; for the rest (requests/s, rows/s) higher is.
LOWER_IS_BETTER = ("(s)", "(ms)", "(us)", "(MiB)")
TARGETS = (  # (metric, limit, "<=" or ">="), checked on the first configuration
    ("cold: /health answered (s)", 1.0, "<="),
    ("cold: first prediction answered (s)", 0.5, "<="),
    ("http companies c1: p50 (ms)", 2.0, "<="),
    ("in-process companies, batch of 1 (us)", 50.0, "<="),
    ("in-process companies, batch of 1000 (ms)", 5.0, "<="),
    (f"in-process {bodies.UNEXPLAINED}, batch of 1 (us)", 50.0, "<="),
    (f"in-process {bodies.UNEXPLAINED}, batch of 1000 (ms)", 5.0, "<="),
    ("memory: worker VmRSS after 1000 predictions (MiB)", 100.0, "<="),
)
INSTALL_LIMIT_MB = 150  # deployed dependencies, installed (decimal megabytes)
HEAVY = ("torch", "sklearn", "scipy", "joblib", "pandas")  # never on the request path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of each warm measurement (3)")
    parser.add_argument("--duration", type=int, default=3, help="seconds of each wrk run (3)")
    parser.add_argument("--starts", type=int, default=5, help="fresh processes for cold starts (5)")
    parser.add_argument(
        "--model",
        type=Path,
        help="our model directory (default: artifacts/default if "
        "it has a manifest.json, else the legacy model imported into a temp dir)",
    )
    parser.add_argument("--no-install-size", action="store_true", help="skip the pip install size (~40 s)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON goes")
    return parser.parse_args(argv)


# ------------------------------------------------------------------ what to compare


def import_legacy_model(scratch: Path) -> Path:
    from training.import_legacy import import_legacy

    return import_legacy(
        LEGACY_ARTIFACTS / "predict_model.pth", LEGACY_ARTIFACTS / "minmax_scaler.pkl", scratch / "legacy-model"
    )


@dataclass(frozen=True)
class Configuration:
    name: str
    model: Path | None  # our model directory; None for the baseline and the floor
    target: serving.Target  # its bodies name the input forms measured


def configurations(model: Path | None, scratch: Path) -> list[Configuration]:
    """Ours first (the targets are checked on the first), the legacy model, the baseline, the floor."""
    legacy_model = import_legacy_model(scratch)
    chosen = model or (DEFAULT_MODEL if (DEFAULT_MODEL / "manifest.json").is_file() else None)
    # The data form carries the legacy service's five ratios: only the legacy model takes it as they are.
    ours = [(f"ours ({chosen.name})", chosen, ("companies", bodies.UNEXPLAINED))] if chosen else []
    ours.append(("ours (legacy model)", legacy_model, ("companies", "data")))
    configs = [
        Configuration(
            name,
            path,
            serving.Target(
                name,
                ROOT / "function" / "main.py",
                {"MODEL_DIR": str(path)},
                "/health",
                "/predict",
                {form: bodies.body(form, 1) for form in forms},
            ),
        )
        for name, path, forms in ours
    ]
    configs.append(
        Configuration(
            BASELINE,
            None,
            serving.Target(
                BASELINE,
                inprocess.BASELINE,
                {"LEGACY_ARTIFACTS": str(LEGACY_ARTIFACTS)},
                "/",
                "/predict",
                {"data": bodies.body("data", 1)},
            ),
        )
    )
    configs.append(
        Configuration(
            FLOOR, None, serving.Target(FLOOR, FLOOR_SOURCE, {}, "/", "/predict", {"data": bodies.body("data", 1)})
        )
    )
    return configs


# ------------------------------------------------------------------ measuring


def summary(values: list[float]) -> dict[str, float | list[float]]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def cold_starts(target: serving.Target, args: argparse.Namespace) -> dict[str, object]:
    starts = [serving.cold_start(target) for _ in range(args.starts)]
    memory = serving.memory_after_predictions(target)
    return {
        "cold: /health answered (s)": summary([s["health_s"] for s in starts]),
        "cold: first prediction answered (s)": summary([s["first_prediction_s"] for s in starts]),
        "memory: worker VmRSS after 1000 predictions (MiB)": summary([memory["VmRSS"]]),
        "memory: of which mapped library files, RssFile (MiB)": summary([memory["RssFile"]]),
        "memory: master VmRSS (MiB)": summary([memory["master_VmRSS"]]),
    }


def _started(server, target: serving.Target) -> dict[str, float | None]:
    """Wait until it answers, keep its first answer per form, and warm it up."""
    server.wait(target.health_path)
    answers = {
        form: serving.predict(server, target, body)["predictions"][0].get("probability_unsound")
        for form, body in target.bodies.items()
    }
    load.wrk(server.url + target.predict_path, target.first_body, 8, 1)  # first requests are not steady
    return answers


def warm_servers(configs: list[Configuration], args: argparse.Namespace) -> dict[str, dict]:
    """All servers up at once; each repetition loads each of them in turn, a few seconds apart,
    so a slow patch of a shared machine falls on every configuration alike (ratios stay paired)."""
    with contextlib.ExitStack() as stack:
        targets = [config.target for config in configs]
        servers = [stack.enter_context(target.start()) for target in targets]
        metrics = {t.name: {"answers": _started(s, t)} for s, t in zip(servers, targets)}
        runs: dict[tuple[str, str, int], list[dict]] = collections.defaultdict(list)
        for _ in range(args.repeats):
            for server, target in zip(servers, targets):
                for form, body in target.bodies.items():
                    for c in CONCURRENCY:
                        url = server.url + target.predict_path
                        runs[target.name, form, c].append(load.wrk(url, body, c, args.duration))
        for server, target in zip(servers, targets):
            metrics[target.name] |= _memory_metrics(serving.memory(server))
    for (name, form, c), figures in runs.items():
        metrics[name][f"http {form} c{c}: p50 (ms)"] = summary([r["p50_ms"] for r in figures])
        metrics[name][f"http {form} c{c}: p99 (ms)"] = summary([r["p99_ms"] for r in figures])
        if c == 8:
            metrics[name][f"http {form} c8: throughput (req/s)"] = summary([r["rps"] for r in figures])
    return metrics


def _memory_metrics(memory: dict[str, float]) -> dict[str, object]:
    return {
        "memory: worker peak RSS (MiB)": summary([memory["worker_peak_rss_mib"]]),
        "memory: tree RSS, master + worker (MiB)": summary([memory["tree_rss_mib"]]),
        "memory: tree PSS, master + worker (MiB)": summary([memory["tree_pss_mib"]]),
    }


def measure_inprocess(config: Configuration, args: argparse.Namespace) -> dict[str, object]:
    """Per request of 1, 100 and 1000 companies, and (ours) the predictor alone on 1 and 1000 rows."""
    if config.model is None:
        calls = inprocess.measure(inprocess.baseline(), args.repeats, budget=0.5).items()
        alone = {}
    else:
        figures = _ours_in_a_fresh_interpreter(config, args)
        calls = [(tuple(key.rsplit("|", 1)), runs) for key, runs in figures["calls"].items()]
        alone = figures["predictor"]
    metrics = {}
    for (form, n), figures in calls:
        n = int(n)
        unit, scale = ("us", 1e6) if n == 1 else ("ms", 1e3)
        wall, cpu = [w for w, _ in figures], [c for _, c in figures]
        metrics[f"in-process {form}, batch of {n} ({unit})"] = summary([s * scale for s in wall])
        metrics[f"in-process {form}, batch of {n}, CPU time ({unit})"] = summary([s * scale for s in cpu])
        metrics[f"in-process {form}, batch of {n}: rows/s"] = summary([n / s for s in wall])
    for n, figures in alone.items():
        unit, scale = ("us", 1e6) if n == "1" else ("ms", 1e3)
        metrics[f"in-process predictor only, {n} row{'s' * (n != '1')} ({unit})"] = summary(
            [w * scale for w, _ in figures]
        )
    return metrics


def _ours_in_a_fresh_interpreter(config: Configuration, args: argparse.Namespace) -> dict[str, dict]:
    forms = json.dumps(list(config.target.bodies))
    command = ["-m", "bench.inprocess", "--model", str(config.model), "--forms", forms, "--repeats", str(args.repeats)]
    run = subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, timeout=600, env=clean_env(), cwd=ROOT, check=True
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def heavy_modules_after_a_prediction() -> list[str]:
    """What of torch, scikit-learn, scipy, joblib, pandas the function has imported once it answered."""
    code = (
        "import json, sys\n"
        "from functions_framework.aio import create_asgi_app\n"
        "from starlette.testclient import TestClient\n"
        "client = TestClient(create_asgi_app(target='predict', source=sys.argv[1]))\n"
        "assert client.post('/predict', json={'data': [[1, 2, 3, 4, 5]]}).status_code == 200\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "function" / "main.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def machine() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    meminfo = Path("/proc/meminfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem_kib = next(int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_kib / (1 << 20), 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
        # Without cached bytecode every process start compiles our modules: part of a cold start.
        "bytecode_cache": not os.environ.get("PYTHONDONTWRITEBYTECODE"),
    }


# ------------------------------------------------------------------ reporting


def _baseline_metric(metric: str) -> str:
    """The baseline's counterpart: it takes only ratio rows (the data form)."""
    return metric.replace("companies", "data")


def advantage(metric: str, ours: float, baseline: float) -> float:
    """How many times better ours is than the baseline on this metric (>1: ours is better)."""
    return baseline / ours if metric.endswith(LOWER_IS_BETTER) else ours / baseline


def table(results: dict[str, dict]) -> str:
    """One line per metric and configuration; the last column is how many times better than the
    baseline ours is on it (medians; below 1 means worse)."""
    baseline = results[BASELINE]
    lines = [f"{'metric':52} {'configuration':22} {'median':>10} {'min':>10} {'max':>10}  x baseline"]
    seen = dict.fromkeys(m for config in results.values() for m in config if m != "answers")
    for metric in sorted(seen, key=lambda m: SECTIONS.index(m.split()[0].rstrip(":"))):
        for name, config in results.items():
            if metric not in config:
                continue
            s, other = config[metric], baseline.get(_baseline_metric(metric))
            versus = (
                "" if other is None or name == BASELINE else f"{advantage(metric, s['median'], other['median']):.1f}"
            )
            figures = " ".join(f"{s[k]:10.3f}" for k in ("median", "min", "max"))
            lines.append(f"{metric:52} {name:22} {figures}  {versus}")
    return "\n".join(lines)


def throughput_ratio(ours: dict, other: dict, form: str = "companies") -> float:
    """Ours over another's requests/s at c8, per repetition (measured seconds apart), median."""
    mine = ours[f"http {form} c8: throughput (req/s)"]["runs"]
    theirs = other["http data c8: throughput (req/s)"]["runs"]
    return statistics.median(a / b for a, b in zip(mine, theirs))


def check_targets(results: dict[str, dict], heavy: list[str], install: dict | None) -> list[dict[str, object]]:
    name, ours = next(iter(results.items()))
    checks = [
        {
            "target": f"{m} {op} {limit}",
            "configuration": name,
            "value": ours[m]["median"],
            "met": ours[m]["median"] <= limit if op == "<=" else ours[m]["median"] >= limit,
        }
        for m, limit, op in TARGETS
        if m in ours  # the unexplained form only with a model that explains
    ]
    for form in ("companies", bodies.UNEXPLAINED):
        if f"http {form} c8: throughput (req/s)" not in ours:
            continue
        for other, times, against in ((BASELINE, 20, "20x the baseline's"), (FLOOR, 0.75, "0.75 of the floor's")):
            ratio = throughput_ratio(ours, results[other], form)
            checks.append(
                {
                    "target": f"throughput at c8, {form}, >= {against} (median of paired repetitions)",
                    "configuration": name,
                    "value": ratio,
                    "met": ratio >= times,
                }
            )
    cold = (
        ours["cold: first prediction answered (s)"]["median"]
        / results[BASELINE]["cold: first prediction answered (s)"]["median"]
    )
    checks.append(
        {
            "target": "first prediction <= 1/4 of the baseline's (medians)",
            "configuration": name,
            "value": cold,
            "met": cold <= 0.25,
        }
    )
    if install is not None:
        megabytes = install["total_mib"] * (1 << 20) / 1e6
        checks.append(
            {
                "target": f"deployed dependencies <= {INSTALL_LIMIT_MB} MB installed",
                "configuration": "requirements.txt",
                "value": megabytes,
                "met": megabytes <= INSTALL_LIMIT_MB,
            }
        )
    checks.append(
        {
            "target": f"none of {', '.join(HEAVY)} imported by the function after a prediction",
            "configuration": name,
            "value": not heavy,
            "met": not heavy,
        }
    )
    return checks


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = load.wrk_version()
    if wrk is None:
        print("bench: wrk is not installed (apt-get install wrk); it drives the HTTP load", file=sys.stderr)
        return 2
    if not LEGACY_ARTIFACTS.is_dir():
        print(
            f"bench: {LEGACY_ARTIFACTS} is absent: the baseline reads the legacy service's files there", file=sys.stderr
        )
        return 2
    started = time.monotonic()
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_tool": wrk,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        configs = configurations(args.model, Path(scratch))
        print("measuring HTTP, all configurations in turn ...", flush=True)
        results = warm_servers(configs, args)
        for config in configs:
            if config.name != FLOOR:  # the floor has no model to load or call
                print(f"measuring cold starts and in-process, {config.name} ...", flush=True)
                results[config.name] |= cold_starts(config.target, args) | measure_inprocess(config, args)
    report["results"] = results
    if not args.no_install_size:
        print("measuring the installed size of requirements.txt ...", flush=True)
        report["install_size"] = install_size.installed_mib()
    report["targets"] = check_targets(results, heavy_modules_after_a_prediction(), report.get("install_size"))
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["elapsed_s"] = time.monotonic() - started
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{report['date'].replace(':', '').replace('+0000', 'Z')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    print(f"wrote {out}")
    return 0


def render(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"{report['date']}  {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, "
        f"load {m['load_average_at_start'][0]:.1f} -> {m['load_average_at_end'][0]:.1f}; "
        f"HTTP load by {report['load_tool'].split(' [')[0]}; {report['elapsed_s']:.0f} s; "
        + ("bytecode cached" if m["bytecode_cache"] else "no bytecode cache (PYTHONDONTWRITEBYTECODE)"),
        "",
        table(report["results"]),
        "",
    ]
    for name, config in report["results"].items():
        if name != FLOOR:
            lines.append(
                f"answer for the first body, {name}: "
                + ", ".join(f"{form} p_unsound={p:.7f}" for form, p in config["answers"].items())
            )
    if "install_size" in report:
        size = report["install_size"]
        lines.append(
            "installed size of requirements.txt (pip --target, with .pyc): "
            f"{size['total_mib']:.0f} MiB; " + ", ".join(f"{k} {v:.0f}" for k, v in size["largest_mib"].items())
        )
    lines.append("")
    lines += [
        f"[{'met' if t['met'] else 'NOT MET'}] {t['target']}: {t['value']:.3g}"
        if not isinstance(t["value"], bool)
        else f"[{'met' if t['met'] else 'NOT MET'}] {t['target']}"
        for t in report["targets"]
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
