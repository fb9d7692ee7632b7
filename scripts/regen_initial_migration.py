#!/usr/bin/env python3
"""(Developers, before the first release only) rebuild migration 0001 from the current models.

While no database outside development has been migrated, the schema history is kept as one initial
revision, regenerated whenever models change, so parallel work never creates parallel heads. After the
first release this script refuses to run (there will be a 0002) and `etalage db revision -m ...` is used.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from alembic import command

from etalage.db import MIGRATIONS_DIR, alembic_config, import_all_models

VERSIONS = MIGRATIONS_DIR / "versions"
NAME = "0001_initial_schema.py"


def main() -> int:
    others = [p for p in VERSIONS.glob("*.py") if p.name != NAME]
    if any(p.name[:4].isdigit() and p.name[:4] != "0001" for p in others):
        print("There are later migrations; add a new revision with 'etalage db revision -m ...' instead.")
        return 1
    import_all_models()  # the metadata autogenerate compares with
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        cfg = alembic_config(url)
        cfg.set_main_option("version_locations", tmp)
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001", version_path=tmp)
        generated = next(Path(tmp).glob("0001_*.py"))
        text = generated.read_text().replace("Revises: \n", "Revises: (none)\n")
        target = VERSIONS / NAME
        partial = VERSIONS / f".{NAME}.{os.getpid()}"
        partial.write_text(text)
        for p in VERSIONS.glob("0001_*.py"):
            if p.name != NAME:
                p.unlink()
        partial.replace(target)  # atomic, so a concurrent test run never sees half a file
    print(f"wrote {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
