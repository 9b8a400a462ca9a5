"""Refuse names that cannot be a URL scheme, a distribution and an import package."""

import re
import sys

SCHEME = "{{ cookiecutter.url_scheme }}"
PACKAGE = "{{ cookiecutter.package_name }}"
CLASS = "{{ cookiecutter.__camel_name }}Provider"

if not re.fullmatch(r"[a-z][a-z0-9]*", SCHEME):
    sys.exit(f"url_scheme '{SCHEME}' must be lowercase letters and digits, starting with a "
             "letter (it is the URL scheme, e.g. acme:///app.db, and the provider's name).")
if not PACKAGE.isidentifier():
    sys.exit(f"package_name '{PACKAGE}' is not a Python identifier; use e.g. npa_{SCHEME}.")
if not CLASS.isidentifier():
    sys.exit(f"provider_name gives the class name '{CLASS}', which is not a Python "
             "identifier; use letters, digits, spaces or hyphens.")
