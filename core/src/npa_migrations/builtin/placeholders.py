"""Placeholders: ``${name}`` in ``.sql`` migrations, replaced by a value per environment.

A schema name, a role to grant to, a tablespace: what differs between environments is
written ``${name}`` in the file and given in the configuration (``[tool.npa.placeholders]``
in pyproject.toml, ``[placeholders]`` in npa.toml) or the environment
(``NPA_PLACEHOLDER_<NAME>``, which wins). The rules, after Flyway's:

* a placeholder is ``${`` + a name (letters, digits, ``_``, not starting with a digit) +
  ``}``; names are case-insensitive;
* it is replaced everywhere in the file -- statements, strings, comments -- before the
  file is split into statements;
* ``$${name}`` is a literal ``${name}`` (the escape); other text with ``${`` that is not a
  placeholder (``${a+b}``) stays as it is;
* a placeholder with no value is an error naming the file, the line and the name, raised
  when the migration's statements are built -- before anything of the run executes;
* a migration's checksum is taken over the file before substitution, so a value that
  differs per environment is not an edit.

Python migrations build their SQL in Python and do not use placeholders.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from ..errors import ConfigurationError, MigrationSourceError

#: ``NPA_PLACEHOLDER_<NAME>``: a placeholder's value from the environment
ENV_PREFIX = "NPA_PLACEHOLDER_"
#: a placeholder, or its escaped form ``$${name}``
_PLACEHOLDER = re.compile(r"(?P<escape>\$)?\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


class Placeholders:
    """The values of the placeholders of one run.

    :param values: name -> value; values are written as text (``true``/``false`` for
        booleans).
    """

    def __init__(self, values: Mapping[str, Any] | None = None):
        self.values = {name.casefold(): _text(name, value)
                       for name, value in (values or {}).items()}

    @classmethod
    def configured(cls, settings: Any, environ: Mapping[str, str] | None = None
                   ) -> "Placeholders":
        """The values of a ``placeholders`` table of the configuration, with the
        ``NPA_PLACEHOLDER_<NAME>`` environment variables over them."""
        if settings is not None and not isinstance(settings, Mapping):
            raise ConfigurationError(
                "The 'placeholders' setting must be a table of name = value pairs, e.g. "
                "[tool.npa.placeholders] then schema_name = \"app\".")
        values = dict(settings or {})
        environ = os.environ if environ is None else environ
        for key, value in environ.items():
            if key.upper().startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
                values[key[len(ENV_PREFIX):]] = value
        return cls(values)

    def __bool__(self) -> bool:
        return bool(self.values)

    def substitute(self, text: str, source: str) -> str:
        """``text`` with every placeholder replaced and every ``$${name}`` made a literal
        ``${name}``.

        :param source: the file, for the error message.
        :raises MigrationSourceError: a placeholder has no value (the message names the
            file, the line and the placeholder).
        """
        if "${" not in text:
            return text

        def replace(match: re.Match) -> str:
            name = match["name"]
            if match["escape"]:
                return "${" + name + "}"
            value = self.values.get(name.casefold())
            if value is None:
                line = text.count("\n", 0, match.start()) + 1
                raise MigrationSourceError(
                    f"{source}: line {line}: placeholder ${{{name}}} has no value. Set it "
                    f"in [tool.npa.placeholders] (npa.toml: [placeholders]) or the "
                    f"environment variable {ENV_PREFIX}{name.upper()}; write $${{{name}}} "
                    "for a literal ${" + name + "}.")
            return value

        return _PLACEHOLDER.sub(replace, text)


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigurationError(
        f"Placeholder '{name}' has a value of type {type(value).__name__}; give a string "
        "or a number.")
