"""The release artefacts, tried the way users install them.

Every workspace member builds a wheel and an sdist that hold what they must (the package,
README, license, no tests); the providers and plugins require the core of their own
minor release, and the core's extras the providers of it. Then a fresh virtual
environment per extra runs ``pip install --find-links <built files>
'npa-migrations[<extra>]'`` (third-party packages come from the package index) and
migrates a real database: SQLite, and the PostgreSQL and MariaDB servers for those
extras.

The build and each extra's venv are made once per module and shared by its tests; pip's
download cache makes later runs cheap.
"""

from __future__ import annotations

import email
import json
import re
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from packaging.requirements import Requirement
from packaging.version import Version

from server_databases import fresh_database
from venv_helpers import ROOT, FreshVenv, build_distributions

EXAMPLES = ROOT / "examples" / "migrations"
MEMBERS = [ROOT / m for m in
           tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]]
#: the core's extras (SPEC §2) -> the npa entry-point names they install
EXTRAS = {"sqlite": {"sqlite"}, "postgres": {"postgres"}, "mysql": {"mysql"},
          "sqlserver": {"sqlserver"}, "oracle": {"oracle"},
          "all": {"sqlite", "postgres", "mysql", "sqlserver", "oracle"}}


def project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


VERSIONS = {project(m)["name"]: project(m)["version"] for m in MEMBERS}
CORE_VERSION = VERSIONS["npa-migrations"]


def stem(folder: Path) -> str:
    """``npa_migrations-0.1.0``: how a distribution's files are named."""
    meta = project(folder)
    return f"{meta['name'].replace('-', '_')}-{meta['version']}"


def source_files(folder: Path) -> set[str]:
    """The files of a member's import package(s), relative to ``src/``."""
    src = folder / "src"
    return {str(p.relative_to(src)) for p in src.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


# the build ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    return build_distributions(tmp_path_factory.mktemp("dist"))


@pytest.mark.slow
def test_every_member_builds_a_wheel_and_an_sdist(dist):
    expected = set()
    for folder in MEMBERS:
        expected |= {f"{stem(folder)}-py3-none-any.whl", f"{stem(folder)}.tar.gz"}
    assert {p.name for p in dist.iterdir() if p.suffix in {".whl", ".gz"}} == expected


@pytest.mark.slow
@pytest.mark.parametrize("folder", MEMBERS, ids=lambda m: m.name)
def test_a_wheel_holds_its_package_and_license_and_no_tests(dist, folder):
    with zipfile.ZipFile(dist / f"{stem(folder)}-py3-none-any.whl") as wheel:
        names = set(wheel.namelist())
        meta = email.message_from_bytes(wheel.read(f"{stem(folder)}.dist-info/METADATA"))
    assert source_files(folder) <= names
    assert not [n for n in names if n.split("/")[0] == "tests" or "/tests/" in n
                or n.endswith("conftest.py")]
    assert f"{stem(folder)}.dist-info/licenses/LICENSE" in names
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Description-Content-Type"] == "text/markdown"
    assert len(meta.get_payload().splitlines()) > 5, "the README is the PyPI page"


@pytest.mark.slow
@pytest.mark.parametrize("folder", MEMBERS, ids=lambda m: m.name)
def test_an_sdist_holds_what_a_build_needs(dist, folder):
    with tarfile.open(dist / f"{stem(folder)}.tar.gz") as sdist:
        members = sdist.getmembers()
    top = f"{stem(folder)}/"
    names = {m.name.removeprefix(top) for m in members}
    assert {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE"} <= names
    assert {f"src/{f}" for f in source_files(folder)} <= names
    assert not [m.name for m in members if m.issym() or m.islnk()]
    license_text = (ROOT / "LICENSE").read_bytes()
    assert (folder / "LICENSE").read_bytes() == license_text  # one license, copied per member


def test_npa_requirements_are_ranges_of_this_release():
    """A provider or plugin needs the core of its own minor release (0.x: a minor release
    may change the provider API), and so do the core's extras and the provider template."""
    requirements: list[tuple[str, str]] = []
    for folder in [*MEMBERS, ROOT / "examples" / "plugins" / "npa-jsonlog"]:
        meta = project(folder)
        for req in [*meta.get("dependencies", []),
                    *(r for extra in meta.get("optional-dependencies", {}).values()
                      for r in extra)]:
            requirements.append((meta["name"], req))
    template = ROOT / "cookiecutter-provider" / "{{cookiecutter.project_slug}}"
    requirements += [("cookiecutter-provider", r) for r in
                     re.findall(r'"(npa-[^"]+)"', (template / "pyproject.toml").read_text())]
    version = Version(CORE_VERSION)
    assert set(VERSIONS.values()) == {CORE_VERSION}, "the distributions are released together"
    checked = 0
    for owner, text in requirements:
        req = Requirement(text)
        if req.name not in VERSIONS:
            continue
        checked += 1
        assert version in req.specifier, f"{owner}: {text} excludes {version}"
        assert Version(f"{version.major}.{version.minor + 1}") not in req.specifier, (
            f"{owner}: {text} has no upper bound below the next minor release")
        if version.minor:
            assert Version(f"{version.major}.{version.minor - 1}.999") not in req.specifier, (
                f"{owner}: {text} admits an older minor release")
    assert checked >= 19  # 7 providers/plugins + 11 extras + template (2) + example


#: the extras of the framework helpers (npa_migrations.frameworks): the framework alone
FRAMEWORK_EXTRAS = {"starlette": {"starlette"}, "flask": {"flask"}, "django": {"django"}}


def test_the_core_has_the_documented_extras():
    extras = project(ROOT / "core")["optional-dependencies"]
    assert {name: {Requirement(r).name for r in reqs} for name, reqs in extras.items()} == {
        **{name: {f"npa-{p}" for p in plugins} for name, plugins in EXTRAS.items()},
        **FRAMEWORK_EXTRAS}
    documented = (ROOT / "docs" / "installing.md").read_text(encoding="utf-8")
    for name in FRAMEWORK_EXTRAS:
        assert f"`npa-migrations[{name}]`" in documented


# installing from the built files -------------------------------------------------------
@pytest.fixture(scope="module")
def venv_with(dist, tmp_path_factory):
    """``venv_with("postgres")``: a venv where ``pip install --find-links <dist>
    'npa-migrations[postgres]'`` ran, made on first use and shared."""
    made: dict[str, FreshVenv] = {}

    def get(extra: str) -> FreshVenv:
        if extra not in made:
            env = FreshVenv(tmp_path_factory.mktemp(f"venv-{extra}"))
            env.install(f"npa-migrations[{extra}]", find_links=dist)
            made[extra] = env
        return made[extra]

    return get


def check_installed(env: FreshVenv, extra: str) -> None:
    """The venv runs the built files (not the checkout) with exactly the extra's plugins."""
    where = env.run("python", "-c", "import npa_migrations; print(npa_migrations.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(env.path), where.stdout
    listed = env.run("npa", "providers", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = json.loads(listed.stdout)["plugins"]
    assert {row["name"] for row in plugins} == EXTRAS[extra]
    assert {row["version"] for row in plugins} == {CORE_VERSION}


def migrate_examples(env: FreshVenv, url: str, cwd: Path) -> None:
    up = env.run("npa", "-d", url, "-m", EXAMPLES, "migrate", "up", cwd=cwd)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "4 migrations applied successfully" in up.stdout
    status = env.run("npa", "-d", url, "-m", EXAMPLES, "migrate", "status", "--json", cwd=cwd)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["current"] == "20251120090000_SeedProducts"


@pytest.mark.slow
def test_the_sqlite_extra_installs_and_migrates(venv_with, tmp_path):
    env = venv_with("sqlite")
    check_installed(env, "sqlite")
    database = tmp_path / "app.db"
    migrate_examples(env, f"sqlite:///{database}", tmp_path)
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM products")) == 2
    engine.dispose()
    # a database whose provider is not installed names the extra that brings it (SPEC §3)
    missing = env.run("npa", "-d", "postgresql://u:pw@localhost/x", "migrate", "status")
    assert missing.returncode == 2
    assert ("No provider for 'postgresql'. Install it: pip install 'npa-migrations[postgres]'"
            in missing.stderr)


@pytest.mark.slow
@pytest.mark.parametrize(("extra", "backend"), [("postgres", "postgresql"),
                                                ("mysql", "mariadb")])
def test_a_server_extra_installs_and_migrates_its_server(venv_with, tmp_path, extra, backend):
    env = venv_with(extra)
    check_installed(env, extra)
    with fresh_database(backend, "npa_pkg") as url:
        migrate_examples(env, url.render_as_string(hide_password=False), tmp_path)
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM products")) == 2
        engine.dispose()


@pytest.mark.slow
def test_the_all_extra_installs_every_provider(venv_with, tmp_path):
    env = venv_with("all")
    check_installed(env, "all")
    migrate_examples(env, f"sqlite:///{tmp_path / 'app.db'}", tmp_path)
    # SQL Server and Oracle: no server here, but their providers load and write scripts
    for url in ("mssql+pyodbc://app@db/app?driver=ODBC+Driver+18+for+SQL+Server",
                "oracle://app@db:1521/?service_name=APP"):
        script = env.run("npa", "-d", url, "-m", EXAMPLES, "migrate", "up", "--sql",
                         "--offline", cwd=tmp_path)
        assert script.returncode == 0, script.stdout + script.stderr
        assert "CREATE TABLE" in script.stdout.upper()
