"""The local state under var/ (a generated SECRET_KEY, the broker's folders): made by `make var`, never at import.

Importing the settings writes nothing (tests, linters and type checkers import them); `python -m
hlht_portal.local_state` — which every make target that starts the portal runs first — makes what a single-machine
install needs and is idempotent. Django-free: it runs before the settings can be loaded.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
# kombu's filesystem transport polls these; it makes none of them but the control folder, and that one only in place.
BROKER_FOLDERS = ("celery/queue", "celery/processed", "celery/control")


def var_dir() -> Path:
    return Path(os.environ.get("HLHT_VAR_DIR") or BASE_DIR / "var")


def uses_filesystem_broker() -> bool:
    return os.environ.get("CELERY_BROKER_URL", "filesystem://").startswith("filesystem://")


def stored_secret_key(var: Path) -> str | None:
    """The generated key, or None before `prepare` has run."""
    try:
        return (var / SECRET_KEY_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def prepare(var: Path, *, secret_key: bool, broker_folders: bool) -> list[Path]:
    """Make var/ and, where asked, a secret key and the broker's folders; keep what exists. Returns what it made."""
    made = []
    if not var.is_dir():
        var.mkdir(parents=True)
        made.append(var)
    if secret_key:
        try:
            # O_EXCL: two first starts at once keep one key (the second finds the file and leaves it).
            fd = os.open(var / SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(50))
            made.append(var / SECRET_KEY_FILE)
    if broker_folders:
        for folder in BROKER_FOLDERS:
            if not (var / folder).is_dir():
                (var / folder).mkdir(parents=True)
                made.append(var / folder)
    return made


def main() -> None:
    var = var_dir()
    made = prepare(var, secret_key=not os.environ.get("SECRET_KEY"), broker_folders=uses_filesystem_broker())
    for path in made:
        print(f"made {path}")


if __name__ == "__main__":
    main()
