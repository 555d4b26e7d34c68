"""The project's requirements (runtime and dev) with Django replaced by the newest release line,
one per line: CI runs the suite on it too, while pyproject.toml stays on the LTS."""

import re
import sys
import tomllib

NEWEST = sys.argv[1] if len(sys.argv) > 1 else "Django>=6.1,<6.2"

with open("pyproject.toml", "rb") as source:
    project = tomllib.load(source)["project"]
for requirement in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
    name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
    print(NEWEST if name.lower() == "django" else requirement)
