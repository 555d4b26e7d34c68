"""The project's requirements (runtime and dev) with Django replaced by the newest release line,
one per line: CI runs the suite on it too, while pyproject.toml stays on the LTS.

With `--capped`, only the packages whose metadata caps Django below the newest release although
their code runs on it (the suite on the newest Django is the proof): the Makefile installs those
without their dependencies, after the rest, which are printed without them.
"""

import re
import sys
import tomllib

# django-prometheus 2.5.0 (its newest) declares Django<6.1.
CAPPED = {"django-prometheus"}

capped_only = "--capped" in sys.argv[1:]
arguments = [argument for argument in sys.argv[1:] if argument != "--capped"]
NEWEST = arguments[0] if arguments else "Django>=6.1,<6.2"

with open("pyproject.toml", "rb") as source:
    project = tomllib.load(source)["project"]
for requirement in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
    name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
    if (name.lower() in CAPPED) != capped_only:
        continue
    print(NEWEST if name.lower() == "django" else requirement)
