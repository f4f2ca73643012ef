"""A fleet's broker users: one per box, named as its device id, with a password of its own,
and one ACL for all of them (Mosquitto's ``pattern`` lines: %u is the user, so a box may
write only its own topics, and a box holding another's password is that box, not itself).

    moodcast fleet-users shop1 shop2 … --out /etc/mosquitto/moodcast

writes ``passwd`` (Mosquitto's own PBKDF2-SHA512 format, as mosquitto_passwd writes it),
``acl``, and ``devices.csv`` (device, password: what each box's mqtt.username/password are).
Adding a box later: run it again with every box (existing passwords are kept).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

from moodcast.config.errors import MoodcastError

FLEET_USER = "fleet"
_DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ITERATIONS = 101  # what mosquitto_passwd 2.0 uses


def password_line(user: str, password: str, salt: bytes | None = None) -> str:
    """``user:$7$101$salt$hash``: Mosquitto 2's password file entry."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS, 64)
    return (f"{user}:$7${ITERATIONS}${base64.b64encode(salt).decode()}"
            f"${base64.b64encode(digest).decode()}")  # fmt: skip


def acl_text(prefix: str = "moodcast") -> str:
    return f"""# moodcast fleet ACL: each box's user is named as its device id (mqtt.username =
# mqtt.device_id); %u below is that name, so a box writes only its own topics.
pattern write {prefix}/%u/#
pattern write homeassistant/device/%u/config
pattern read {prefix}/%u/cmd/#
pattern read {prefix}/%u/instance
pattern read {prefix}/%u/plays/ack
pattern read {prefix}/%u/fleet/cmd
pattern read homeassistant/status

# The fleet service: reads every box; writes play-log acknowledgements and group commands.
user {FLEET_USER}
topic read {prefix}/#
topic write {prefix}/+/plays/ack
topic write {prefix}/+/fleet/cmd
"""


def write_users(devices: Sequence[str], out: Path, prefix: str = "moodcast") -> dict[str, str]:
    """The three files for ``devices`` (and the fleet's own user) in ``out``; each user's
    password (kept from an earlier devices.csv there, new ones made)."""
    bad = [d for d in devices if not _DEVICE.match(d) or d == FLEET_USER]
    if bad:
        raise MoodcastError(f"not device ids: {', '.join(map(repr, bad))}",
                            "use 1 to 64 letters, digits, '-' and '_' (and not"
                            " 'fleet')")  # fmt: skip
    if not devices:
        raise MoodcastError("no devices given", "name every box's device id")
    out.mkdir(parents=True, exist_ok=True)
    known = _known(out / "devices.csv")
    passwords = {u: known.get(u) or secrets.token_urlsafe(18)
                 for u in (*sorted(set(devices)), FLEET_USER)}  # fmt: skip
    _private(out / "passwd", "".join(password_line(u, p) + "\n" for u, p in passwords.items()))
    (out / "acl").write_text(acl_text(prefix))
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["device", "password"])
    writer.writerows(passwords.items())
    _private(out / "devices.csv", table.getvalue())
    return passwords


def _known(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    rows = list(csv.reader(path.read_text().splitlines()))
    return {r[0]: r[1] for r in rows[1:] if len(r) == 2}


def _private(path: Path, text: str) -> None:
    """Written readable by its owner only (passwords), replaced whole."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def cmd_fleet_users(args: argparse.Namespace) -> int:
    out: Path = args.out
    passwords = write_users(args.devices, out, args.prefix)
    print(
        f"wrote {out}/passwd, {out}/acl and {out}/devices.csv ({len(passwords) - 1} boxes and"
        f" the fleet's user). In mosquitto.conf: password_file {out}/passwd, acl_file"
        f" {out}/acl, allow_anonymous false; on each box mqtt.username = its device id,"
        " mqtt.password = its line of devices.csv."
    )
    return 0
