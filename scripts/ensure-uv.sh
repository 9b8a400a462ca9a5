# Sourced by demo.sh, test.sh and .ci/run: puts uv on PATH, installing it with pip when
# this machine has none. pip puts it beside the interpreter's scripts, which may not be on
# PATH yet (pyenv, user installs), so that folder is added.
if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet uv
    PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
    export PATH
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
