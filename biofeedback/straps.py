"""Finding heart-rate straps: a bleak scan filtered on the Heart Rate service.

:func:`scan` lists the straps in range (name, address, RSSI), strongest signal first.
:func:`find_strap` looks for one address. Both run bleak's public API (``BleakScanner``) and
accept a :class:`~biofeedback.ble_backend.BleBackend`, which the tests use to run the same
calls against virtual straps.

When Bluetooth cannot be used (no adapter, radio off, no permission, no BlueZ or D-Bus on
Linux) bleak raises one of several exceptions depending on the platform;
:func:`bluetooth_unavailable` turns them into :class:`BluetoothUnavailable`, a
:class:`~biofeedback.errors.UserError` whose message is one sentence saying what to do.

bleak is an optional dependency (the ``ble`` extra) and is imported lazily, so the rest of the
program works without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from biofeedback import gatt
from biofeedback.ble_backend import DEFAULT_BACKEND, BleBackend
from biofeedback.errors import UserError

__all__ = [
    "BleBackend",
    "BluetoothUnavailable",
    "FoundStrap",
    "bluetooth_unavailable",
    "find_strap",
    "run_scan",
    "scan",
]

log = logging.getLogger(__name__)


class BluetoothUnavailable(UserError):
    """Bluetooth cannot be used on this machine right now; the message says what to do."""


@dataclass(frozen=True)
class FoundStrap:
    """A heart-rate strap seen while scanning.

    Attributes
    ----------
    name : str or None
        Advertised local name (or the OS's name for the device).
    address : str
        Bluetooth address; on macOS a UUID the OS assigns per machine.
    rssi_dbm : int
        Received signal strength in dBm (closer to 0 is stronger).
    device : BLEDevice
        What to connect with (connecting by the device object, not the address string, avoids
        a second scan and works on every platform).
    """

    name: str | None
    address: str
    rssi_dbm: int
    device: Any = field(compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "rssi_dbm": self.rssi_dbm}


def _import_bleak() -> Any:
    try:
        import bleak
    except ImportError as exc:  # pragma: no cover - bleak is installed in the dev setup
        raise BluetoothUnavailable(
            "Bluetooth support is not installed: install it with "
            "`pip install 'coregulation-monitor[ble]'`."
        ) from exc
    return bleak


@contextlib.contextmanager
def _plain_bluetooth_errors() -> Iterator[None]:
    """Re-raise "Bluetooth cannot be used here" errors as :class:`BluetoothUnavailable`."""
    try:
        yield
    except Exception as exc:
        friendly = bluetooth_unavailable(exc)
        if friendly is not None:
            raise friendly from exc
        raise


def bluetooth_unavailable(exc: BaseException) -> BluetoothUnavailable | None:
    """Translate an exception from bleak's scanner or client into one sentence for the user.

    Returns ``None`` for exceptions that do not mean "Bluetooth cannot be used here" (a single
    failed connection, a strap that went away ...).

    Covers: ``BleakBluetoothNotAvailableError`` (no adapter, radio off, permission denied, on
    every platform), ``BleakDBusError`` naming a missing BlueZ service or denied access, and the
    ``OSError`` bleak lets through when the D-Bus system bus socket does not exist or refuses
    the connection (Linux without BlueZ, containers).
    """
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

    if isinstance(exc, BluetoothUnavailable):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        from bleak.exc import BleakBluetoothNotAvailableReason as R

        reason = exc.reason
        if reason == R.POWERED_OFF:
            msg = "Bluetooth is turned off: turn it on and try again."
        elif reason in (R.NO_BLUETOOTH, R.NO_BLE_CENTRAL_ROLE):
            msg = (
                "No Bluetooth Low Energy adapter was found: plug one in or enable the "
                "built-in one, then try again."
            )
        elif reason in (R.DENIED_BY_USER, R.DENIED_BY_SYSTEM, R.DENIED_BY_UNKNOWN):
            msg = _permission_sentence()
        else:
            msg = f"Bluetooth is not available ({exc.args[0]}): check that it is on and try again."
        return BluetoothUnavailable(msg)
    if isinstance(exc, BleakDBusError):
        name = exc.dbus_error
        if name in (
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.NameHasNoOwner",
        ):
            return BluetoothUnavailable(
                "The BlueZ Bluetooth service is not running: start it with "
                "`sudo systemctl start bluetooth` and try again."
            )
        if name == "org.freedesktop.DBus.Error.AccessDenied":
            return BluetoothUnavailable(_permission_sentence())
        if name == "org.bluez.Error.NotReady":
            return BluetoothUnavailable("Bluetooth is turned off: turn it on and try again.")
        return None
    if isinstance(exc, PermissionError):
        return BluetoothUnavailable(_permission_sentence())
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError) and sys.platform.startswith(
        "linux"
    ):
        return BluetoothUnavailable(
            "Bluetooth is not available: no BlueZ service was found on the D-Bus system bus; "
            "install BlueZ 5.55 or newer and start it with `sudo systemctl start bluetooth` "
            "(containers and WSL usually have no Bluetooth)."
        )
    return None


def _permission_sentence() -> str:
    if sys.platform == "darwin":
        return (
            "This program may not use Bluetooth: allow your terminal app in System Settings > "
            "Privacy & Security > Bluetooth, then start it again."
        )
    if sys.platform.startswith("linux"):
        return (
            "This user may not use Bluetooth: add it to the `bluetooth` group "
            "(`sudo usermod -aG bluetooth $USER`), log out and in, and try again."
        )
    return (
        "This program may not use Bluetooth: allow Bluetooth access for apps in the system "
        "privacy settings and try again."
    )


async def scan(
    timeout_s: float = 5.0,
    *,
    backend: BleBackend = DEFAULT_BACKEND,
) -> list[FoundStrap]:
    """Scan for straps advertising the Heart Rate service (0x180D).

    Parameters
    ----------
    timeout_s : float
        How long to listen, seconds.
    backend : BleBackend
        bleak backend override (tests); the platform backend by default.

    Returns
    -------
    list of FoundStrap
        Strongest signal (highest RSSI, dBm) first; ties in address order. Empty when none is
        in range.

    Raises
    ------
    BluetoothUnavailable
        Bluetooth cannot be used here (see :func:`bluetooth_unavailable`).
    """
    bleak = _import_bleak()
    with _plain_bluetooth_errors():
        found = await bleak.BleakScanner.discover(
            timeout=timeout_s,
            return_adv=True,
            service_uuids=[gatt.HEART_RATE_SERVICE_UUID],
            **_scanner_kwargs(backend),
        )
    straps = [
        FoundStrap(adv.local_name or dev.name, dev.address, int(adv.rssi), dev)
        for dev, adv in found.values()
    ]
    straps.sort(key=lambda s: (-s.rssi_dbm, s.address))
    return straps


async def find_strap(
    address: str,
    timeout_s: float = 10.0,
    *,
    backend: BleBackend = DEFAULT_BACKEND,
) -> FoundStrap | None:
    """Scan until the strap with ``address`` (case-insensitive; a UUID on macOS) advertises.

    Returns it (with the ``BLEDevice`` to connect with and its signal strength), or ``None``
    when it was not seen within ``timeout_s`` seconds. Raises :class:`BluetoothUnavailable`
    like :func:`scan`.
    """
    bleak = _import_bleak()
    wanted = address.lower()
    seen: dict[str, Any] = {}

    def match(device: Any, adv: Any) -> bool:
        if str(device.address).lower() != wanted:
            return False
        seen["adv"] = adv
        return True

    with _plain_bluetooth_errors():
        device = await bleak.BleakScanner.find_device_by_filter(
            match,
            timeout=timeout_s,
            service_uuids=[gatt.HEART_RATE_SERVICE_UUID],
            **_scanner_kwargs(backend),
        )
    if device is None:
        return None
    adv = seen.get("adv")
    name = (adv.local_name if adv is not None else None) or device.name
    rssi = int(adv.rssi) if adv is not None else 0
    return FoundStrap(name, str(device.address), rssi, device)


def _scanner_kwargs(backend: BleBackend) -> dict[str, Any]:
    return {} if backend.scanner is None else {"backend": backend.scanner}


def run_scan(timeout_s: float, backend: BleBackend = DEFAULT_BACKEND) -> list[FoundStrap]:
    """Blocking :func:`scan` for the command line (runs its own event loop)."""

    async def _go() -> list[FoundStrap]:
        if backend.start is not None:
            await backend.start()
        try:
            return await scan(timeout_s, backend=backend)
        finally:
            if backend.stop is not None:
                await backend.stop()

    return asyncio.run(_go())
