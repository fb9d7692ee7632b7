#!/usr/bin/env python3
"""The README's two commands, needing nothing but Python 3.11+:

    python3 dev.py run    set up, build the demo marketplace (first time) and serve it on :8000
    python3 dev.py test   set up, lint, and run the whole test suite (SQLite, then PostgreSQL if configured)

Set-up means: a virtual environment in .venv with Etalage and its dependencies, and for the tests the
Debian packages the suite drives (ffmpeg for video, chromium for browser tests) when they can be installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".dev-stamp"
SYSTEM_PACKAGES = {"ffmpeg": "ffmpeg", "chromium": "chromium", "fc-list": "fonts-dejavu-core"}


def sh(*cmd: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, check=check).returncode


def setup(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("Etalage needs Python 3.11 or newer.")
    if not PY.exists():
        sh(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if not (STAMP.exists() and STAMP.read_text() == digest):
        sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        sh(PY, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]" if extras else ".")
        STAMP.write_text(digest)
    # An editable install leaves the package uncompiled; where PYTHONDONTWRITEBYTECODE is set, every start
    # would compile ~260 modules again (0.4 s). Up-to-date files are skipped, so this is quick.
    subprocess.run([str(PY), "-m", "compileall", "-q", "src"], cwd=ROOT, stdout=subprocess.DEVNULL, check=False)


def system_packages() -> None:
    missing = [pkg for cmd, pkg in SYSTEM_PACKAGES.items() if shutil.which(cmd) is None]
    if not missing:
        return
    if shutil.which("apt-get") is None or (hasattr(os, "geteuid") and os.geteuid() != 0):
        print(f"note: {', '.join(missing)} not installed and cannot be installed here; the tests that need "
              "them will be skipped and say why.", flush=True)
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env, check=False) != 0:
        sh("apt-get", "update", "-q", env=env, check=False)
        sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env, check=False)


def run(args: list[str]) -> int:
    setup("")
    return sh(BIN / "etalage", "run", *args, check=False)


def test(args: list[str]) -> int:
    setup("test")
    system_packages()
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    code = sh(BIN / "ruff", "check", "src", "tests", "bench", check=False)
    code |= sh(PY, "-m", "pytest", *args, env=dict(env, ETALAGE_TEST_DB="sqlite"), check=False)
    if os.environ.get("ETALAGE_TEST_DATABASE_URL"):
        print("\n=== the same suite on PostgreSQL ===", flush=True)
        code |= sh(PY, "-m", "pytest", *args, env=dict(env, ETALAGE_TEST_DB="postgres"), check=False)
    else:
        print("\nnote: PostgreSQL pass skipped: set ETALAGE_TEST_DATABASE_URL "
              "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the suite on it too.")
    return code


def main() -> int:
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
