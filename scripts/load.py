"""Load a running `bot serve` with concurrent clients and print what they got (status counts, latency).

.venv/bin/python scripts/load.py http://127.0.0.1:8000 --clients 64 --requests 400 [--key sk_...] [--json]

Each client asks development questions in turn (POST /v1/answers) and waits for the answer; the
figures are p50/p95 latency of answered (200) and shed (503) requests, and requests per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

QUESTIONS = [
    "I live in the UK and keep USDC on a US exchange; what protects me if it fails?",
    "Do I pay tax on staking rewards in the UK?",
    "Is my crypto protected by SIPC if my US broker fails?",
    "What does the GENIUS Act require of stablecoin issuers?",
    "Where do I report a crypto scam in the UK?",
]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(url: str, clients: int, requests: int, key: str | None, timeout: float) -> dict[str, Any]:
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    headers = {"X-API-Key": key} if key else {}
    client = httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=clients))

    def one(n: int) -> None:
        started = time.perf_counter()
        try:
            status = client.post(
                f"{url}/v1/answers", json={"question": QUESTIONS[n % len(QUESTIONS)]}, headers=headers
            ).status_code
        except httpx.HTTPError:
            status = 0
        with lock:
            results.append((status, time.perf_counter() - started))

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    client.close()
    ok = [s for status, s in results if status == 200]
    shed = [s for status, s in results if status == 503]
    return {
        "clients": clients,
        "requests": requests,
        "statuses": dict(Counter(status for status, _ in results)),
        "answered_p50_s": round(percentile(ok, 0.5), 3),
        "answered_p95_s": round(percentile(ok, 0.95), 3),
        "shed_p50_s": round(percentile(shed, 0.5), 3),
        "shed_p95_s": round(percentile(shed, 0.95), 3),
        "all_p50_s": round(statistics.median(s for _, s in results), 3),
        "answered_per_s": round(len(ok) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--key", default=None, help="a secret API key, if the server needs one")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.url.rstrip("/"), args.clients, args.requests, args.key, args.timeout)
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        print(f"{name:>16}: {value}")


if __name__ == "__main__":
    main()
