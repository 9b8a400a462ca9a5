"""Fresh virtual environments for tests that install distributions the way users do.

``FreshVenv(path)`` creates a venv with pip, ``install()`` runs plain ``pip install``
(local paths, or requirements resolved from the configured index, plus a folder of built
distributions with ``find_links``), and ``run()`` runs one of its console scripts or its
Python with the ``NPA_*`` variables of the test run removed, so nothing of the
workspace's configuration leaks in. ``build_distributions()`` builds every wheel and
sdist of the workspace into a folder, as a release would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
SQLITE = ROOT / "providers" / "npa-sqlite"


class FreshVenv:
    """A new virtual environment at ``path`` (created at once, with pip)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        venv.create(self.path, with_pip=True)
        self.bin = self.path / "bin"
        self.python = self.bin / "python"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("NPA_") and k != "VIRTUAL_ENV"}

    def install(self, *requirements: str | Path, find_links: Path | None = None,
                timeout: float = 600) -> None:
        """``pip install`` the requirements (local paths or names) in one resolve; names
        are also looked up in the folder ``find_links`` (built distributions)."""
        links = ["--find-links", str(find_links)] if find_links else []
        subprocess.run([self.python, "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *links, *map(str, requirements)],
                       check=True, timeout=timeout, env=self.env)

    def run(self, program: str, *args: str | Path, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        """Run ``program`` (``"python"``, ``"npa"``, ...) from the venv; output captured."""
        return subprocess.run([self.bin / program, *map(str, args)], capture_output=True,
                              text=True, env=self.env, cwd=cwd, timeout=timeout)


def build_distributions(out: Path, timeout: float = 600) -> Path:
    """Build the wheel and the sdist of every workspace member into ``out`` (``uv build
    --all-packages``: each wheel is built from its sdist, so a file the sdist lacks
    breaks the wheel); returns ``out``."""
    subprocess.run([shutil.which("uv") or "uv", "build", "--all-packages", "--quiet",
                    "--out-dir", str(out)], check=True, timeout=timeout, cwd=ROOT)
    return Path(out)
