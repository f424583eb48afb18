"""Start Home Assistant even when this interpreter's patch version is too old.

Home Assistant 2026.x states Python >= 3.13.2, while some machines only have
3.13.0/3.13.1, which runs it fine. When the interpreter is older than Home
Assistant's stated minimum we say so in one line and skip that one check;
everything else is Home Assistant's own ``__main__``.
"""

from __future__ import annotations

import sys

from homeassistant import __main__ as hass_main
from homeassistant.const import REQUIRED_PYTHON_VER


def main() -> int:
    """Run Home Assistant's command line entry point."""
    if sys.version_info[:3] < REQUIRED_PYTHON_VER:
        wanted = ".".join(map(str, REQUIRED_PYTHON_VER))
        have = ".".join(map(str, sys.version_info[:3]))
        print(f"hass_launcher: Python {have} is below Home Assistant's {wanted}; starting anyway.")
        hass_main.validate_python = lambda: None
    return hass_main.main()


if __name__ == "__main__":
    sys.exit(main())
