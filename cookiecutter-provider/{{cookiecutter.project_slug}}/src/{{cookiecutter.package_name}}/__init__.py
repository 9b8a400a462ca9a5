"""{{ cookiecutter.description }}.

Serves ``{{ cookiecutter.url_scheme }}://`` URLs; registered in the ``npa`` entry-point group
(see :mod:`{{ cookiecutter.package_name }}.plugin`).
"""

__version__ = "{{ cookiecutter.version }}"
