"""`make bench`: run every benchmark module (benchmarks/<name>.py with a main()).

`python -m benchmarks.run ingest profile` runs only those.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def main(argv: list[str]) -> int:
    names = argv or sorted(
        module.name for module in pkgutil.iter_modules(benchmarks.__path__) if module.name not in {"run"}
        and not module.name.startswith("_")
    )
    for name in names:
        print(f"\n=== benchmark: {name} ===", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        saved_argv = sys.argv
        sys.argv = [f"benchmarks.{name}"]  # each main() parses its own options; run with defaults
        try:
            module.main()
        finally:
            sys.argv = saved_argv
        print(f"=== {name}: {time.perf_counter() - started:.1f}s ===", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
