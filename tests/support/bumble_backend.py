"""TEST ONLY: virtual heart-rate straps on Google's bumble stack, and a bleak backend over it.

Nothing in the product imports this module (it is not installed with it). It lets the tests run
the product's real bleak calls (``BleakScanner.discover``, ``find_device_by_filter``,
``BleakClient.connect``, ``read_gatt_char``, ``start_notify`` ...) against straps on a real
Bluetooth host stack:

* :class:`VirtualRadio`: one bumble ``LocalLink`` with one ``Controller`` + ``Host`` +
  ``Device`` acting as this machine's adapter (the central) and one per strap.
* :class:`VirtualStrap`: a peripheral with bumble's ``HeartRateService`` (measurement +
  body sensor location), ``BatteryService`` and ``DeviceInformationService``, advertising the
  Heart Rate UUID and its name, and pushing exact notification bytes from a script.
* :class:`BumbleScanner` / :class:`BumbleClient`: subclasses of bleak's ``BaseBleakScanner``
  / ``BaseBleakClient`` that build bleak's own ``BleakGATTService`` /
  ``BleakGATTCharacteristic`` / ``BleakGATTDescriptor`` objects from bumble's GATT client.
  They are passed through bleak's ``backend=`` arguments (:meth:`VirtualRadio.backend`); the
  command line takes the backend as ``biofeedback.cli.main(argv, backend=...)``.
  bleak's backend classes are not a stable API, which is one reason bleak is pinned.

bumble's ``LocalLink`` has no radio model: every advertisement arrives with RSSI -50 dBm. The
scanner reports the RSSI configured for each strap instead (``rssi_dbm``), so signal sorting
can be tested. A strap with ``"answers": false`` advertises but its controller ignores
connection requests, like a strap that has gone to sleep or is held by another phone; the
central's GATT requests then get no answer and the product's connect timeout must fire.

Script format (JSON; :func:`load_script`)::

    {"straps": [
      {"name": "Polar H10 A1", "address": "C1:00:00:00:00:01", "rssi_dbm": -48,
       "battery_pct": 87, "body_location": 1, "manufacturer": "Polar Electro Oy",
       "model": "H10", "firmware": "5.0.0", "answers": true, "advertise_heart_rate": true,
       "script": [
         {"notify": "103b5304", "after_s": 0.2},       # wait for a subscriber, sleep, send
         {"notify": "10485203", "after_s": 0.2, "repeat": 2},  # the same bytes twice
         {"drop": true, "after_s": 0.1, "away_s": 0.5},  # cut the link, silent for away_s
         {"wait_s": 1.0}
       ]}
    ]}

Every ``notify`` step first waits until the central is subscribed, so a script continues
after a drop only once the product has reconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str

from biofeedback.ble_backend import BleBackend

__all__ = [
    "BumbleClient",
    "BumbleScanner",
    "StrapSpec",
    "VirtualRadio",
    "VirtualStrap",
    "load_script",
]

log = logging.getLogger(__name__)

CENTRAL_ADDRESS = "F0:F0:F0:F0:F0:F0"

_PROPERTY_NAMES = (
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
)


def _bleak_uuid(uuid: Any) -> str:
    """bumble ``core.UUID`` -> bleak's normalised 128-bit lower-case string."""
    return normalize_uuid_str(uuid.to_hex_str("-").lower())


@dataclass
class StrapSpec:
    """One virtual strap (see the module docstring for the JSON keys)."""

    name: str
    address: str
    rssi_dbm: int = -60
    battery_pct: int | None = 90
    body_location: int | None = 1
    manufacturer: str | None = "Virtual Straps Ltd"
    model: str | None = "VH1"
    firmware: str | None = "1.0.0"
    answers: bool = True
    advertise_heart_rate: bool = True
    script: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StrapSpec:
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown virtual strap keys: {sorted(unknown)}")
        return cls(**{k: v for k, v in d.items()})


def load_script(path: str | os.PathLike[str]) -> VirtualRadio:
    """Read a virtual-straps JSON script and build (not yet start) its radio."""
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    return VirtualRadio([StrapSpec.from_dict(s) for s in doc["straps"]])


class VirtualStrap:
    """A peripheral that advertises the Heart Rate service and plays its script."""

    def __init__(self, radio: VirtualRadio, spec: StrapSpec) -> None:
        self.radio = radio
        self.spec = spec
        self.sent: list[bytes] = []
        self.drops = 0
        self.subscribed = asyncio.Event()
        self.script_done = asyncio.Event()
        self._away = False
        self._task: asyncio.Task[None] | None = None
        self.device: Any = None
        self.hrm: Any = None

    async def start(self) -> None:
        from bumble import hci
        from bumble.controller import Controller
        from bumble.core import AdvertisingData
        from bumble.device import Device
        from bumble.host import Host
        from bumble.profiles.battery_service import BatteryService
        from bumble.profiles.device_information_service import DeviceInformationService
        from bumble.profiles.heart_rate_service import HeartRateService
        from bumble.transport.common import AsyncPipeSink

        spec = self.spec
        controller_cls = Controller if spec.answers else _silent_controller_class()
        controller = controller_cls(
            f"strap:{spec.name}", link=self.radio.link, public_address=spec.address
        )
        device = Device(
            name=spec.name,
            address=hci.Address(spec.address),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        location = (
            None
            if spec.body_location is None
            else HeartRateService.BodySensorLocation(spec.body_location)
        )
        hr_service = HeartRateService(
            # The measurement is notify-only (not readable); bumble requires a reader anyway.
            read_heart_rate_measurement=lambda _c: HeartRateService.HeartRateMeasurement(0),
            body_sensor_location=location,
        )
        device.add_service(hr_service)
        self.hrm = hr_service.heart_rate_measurement_characteristic
        if spec.battery_pct is not None:
            device.add_service(BatteryService(lambda _c: int(spec.battery_pct or 0)))
        if spec.manufacturer or spec.model or spec.firmware:
            device.add_service(
                DeviceInformationService(
                    manufacturer_name=spec.manufacturer,
                    model_number=spec.model,
                    firmware_revision=spec.firmware,
                )
            )
        device.advertising_data = bytes(
            AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (
                        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        # 0x180D (Heart Rate) or, for a gadget that is no strap, 0x180F only.
                        bytes.fromhex("0d18" if spec.advertise_heart_rate else "0f18"),
                    ),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, spec.name.encode()),
                ]
            )
        )
        device.on("connection", self._on_connection)
        device.on("characteristic_subscription", self._on_subscription)
        self.device = device
        await device.power_on()
        await self._advertise()
        self._task = asyncio.get_running_loop().create_task(
            self._run_script(), name=f"virtual-strap:{spec.name}"
        )

    async def _advertise(self) -> None:
        if not self._away and not self.device.connections:
            await self.device.start_advertising(
                advertising_interval_min=20, advertising_interval_max=20
            )

    def _on_connection(self, connection: Any) -> None:
        def gone(_reason: int) -> None:
            self.subscribed.clear()
            if not self._away:
                asyncio.get_running_loop().create_task(self._advertise())

        connection.on("disconnection", gone)

    def _on_subscription(
        self, _connection: Any, characteristic: Any, notify: bool, _indicate: bool
    ) -> None:
        if characteristic is self.hrm or getattr(characteristic, "handle", None) == getattr(
            self.hrm, "handle", -1
        ):
            if notify:
                self.subscribed.set()
            else:
                self.subscribed.clear()

    async def notify(self, payload: bytes) -> None:
        """Push ``payload`` exactly as given to every subscribed central."""
        self.sent.append(bytes(payload))
        await self.device.notify_subscribers(self.hrm, bytes(payload))

    async def drop(self, away_s: float) -> None:
        """Cut the link from the strap's side and stay silent for ``away_s`` seconds."""
        from bumble import hci

        self._away = True
        self.drops += 1
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        for conn in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await conn.disconnect(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        self.subscribed.clear()
        await asyncio.sleep(away_s)
        self._away = False
        await self._advertise()

    async def _run_script(self) -> None:
        try:
            for step in self.spec.script:
                if "notify" in step:
                    await self.subscribed.wait()
                    await asyncio.sleep(float(step.get("after_s", 0.0)))
                    payload = bytes.fromhex(str(step["notify"]).replace(" ", ""))
                    for _ in range(int(step.get("repeat", 1))):
                        await self.notify(payload)
                elif step.get("drop"):
                    await self.subscribed.wait()
                    await asyncio.sleep(float(step.get("after_s", 0.0)))
                    await self.drop(float(step.get("away_s", 0.5)))
                elif "wait_s" in step:
                    await asyncio.sleep(float(step["wait_s"]))
                else:
                    raise ValueError(f"unknown virtual strap script step: {step!r}")
        finally:
            self.script_done.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _quiet_late_hci_replies(loop: asyncio.AbstractEventLoop) -> None:
    """Log, instead of printing a traceback for, an HCI reply that bumble's host receives after
    the command's waiter was cancelled (it happens when a session stops mid-command); every
    other loop error keeps the loop's normal handling."""
    previous = loop.get_exception_handler()

    def handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, asyncio.InvalidStateError) and "Host.on_packet" in repr(
            context.get("handle")
        ):
            log.debug("virtual radio: late HCI reply after a cancelled command ignored")
            return
        if previous is not None:
            previous(lp, context)
        else:
            lp.default_exception_handler(context)

    loop.set_exception_handler(handler)


@functools.cache
def _silent_controller_class() -> type:
    from bumble.controller import Controller

    class SilentController(Controller):
        """Advertises but ignores every connection request."""

        def on_le_connect_ind(self, packet: Any) -> None:
            log.debug("%s: ignoring a connection request", self.name)

    return SilentController


class VirtualRadio:
    """A bumble ``LocalLink`` with this machine's virtual adapter and some virtual straps.

    Create in any thread; :meth:`start` (awaited in the event loop that will run bleak) powers
    everything on, :meth:`stop` ends the scripts. Started again from another event loop, it
    powers on afresh there, with the scripts from their beginning. :meth:`backend` gives the
    bleak backend classes bound to this radio.
    """

    def __init__(self, specs: Sequence[StrapSpec]) -> None:
        self.specs = list(specs)
        self.link: Any = None
        self.central: Any = None
        self.straps: dict[str, VirtualStrap] = {}
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def strap(self, address: str) -> VirtualStrap:
        return self.straps[address.upper()]

    def rssi_for(self, address: str) -> int | None:
        s = self.straps.get(address.upper())
        return None if s is None else s.spec.rssi_dbm

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._started and self._loop is loop:
            return
        # Started before in another event loop (a command that scans first and then runs the
        # session on its worker loop): power on a fresh radio with the same straps here.
        self._loop = loop
        self.straps = {}
        from bumble import hci
        from bumble.controller import Controller
        from bumble.device import Device
        from bumble.host import Host
        from bumble.link import LocalLink
        from bumble.transport.common import AsyncPipeSink

        _quiet_late_hci_replies(asyncio.get_running_loop())
        self.link = LocalLink()
        controller = Controller("central", link=self.link, public_address=CENTRAL_ADDRESS)
        self.central = Device(
            name="central",
            address=hci.Address(CENTRAL_ADDRESS),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        await self.central.power_on()
        for spec in self.specs:
            strap = VirtualStrap(self, spec)
            self.straps[spec.address.upper()] = strap
            await strap.start()
        self._started = True

    async def stop(self) -> None:
        for strap in self.straps.values():
            await strap.stop()

    def backend(self) -> BleBackend:
        """bleak backend classes bound to this radio, plus its start/stop hooks."""
        scanner = type("BumbleScanner", (BumbleScanner,), {"radio": self})
        client = type("BumbleClient", (BumbleClient,), {"radio": self})
        return BleBackend(
            scanner=scanner, client=client, start=self.start, stop=self.stop, name="bumble"
        )


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend over a :class:`VirtualRadio` (see :meth:`VirtualRadio.backend`)."""

    radio: VirtualRadio

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **_kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode != "passive"
        self._listening = False

    async def start(self) -> None:
        central = self.radio.central
        if central is None:
            raise BleakError("virtual radio is not started")
        if central.scanning:
            raise BleakError("org.bluez.Error.InProgress: scanning already in progress")
        self.seen_devices = {}
        central.on("advertisement", self._on_advertisement)
        self._listening = True
        await central.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        central = self.radio.central
        if self._listening:
            central.remove_listener("advertisement", self._on_advertisement)
            self._listening = False
        if central.scanning:
            await central.stop_scanning()

    def _on_advertisement(self, adv: Any) -> None:
        from bumble.core import AdvertisingData

        data = adv.data
        uuids: list[str] = []
        for kind in (
            AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        ):
            for group in data.get_all(kind):
                uuids.extend(_bleak_uuid(u) for u in group)
        if not self.is_allowed_uuid(uuids):
            return
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        address = str(adv.address).split("/")[0]
        rssi = self.radio.rssi_for(address)
        tx = adv.tx_power if adv.tx_power != adv.TX_POWER_NOT_AVAILABLE else None
        ad = AdvertisementData(
            local_name=name,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=tx,
            rssi=int(adv.rssi if rssi is None else rssi),
            platform_data=(adv,),
        )
        device = self.create_or_update_device(address, address, name, adv.address, ad)
        self.call_detection_callbacks(device, ad)


class BumbleClient(BaseBleakClient):
    """bleak client backend over a :class:`VirtualRadio` (see :meth:`VirtualRadio.backend`)."""

    radio: VirtualRadio

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._peer_address = (
            address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._connection: Any = None
        self._peer: Any = None
        self._closing = False
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return int(self._connection.att_mtu) if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        from bumble.core import InvalidStateError
        from bumble.device import Peer

        central = self.radio.central
        peer_address = self._peer_address or self.address
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    connection = await central.connect(peer_address, timeout=None)
                except InvalidStateError as exc:
                    raise BleakError(
                        "org.bluez.Error.InProgress: another connection is being made"
                    ) from exc
                self._connection = connection
                connection.on("disconnection", self._on_disconnection)
                peer = Peer(connection)
                await peer.discover_all()
                self._peer = peer
                self.services = self._build_services(peer, connection)
        except BaseException:
            await self._abort()
            raise

    async def _abort(self) -> None:
        """Clean up after a failed or cancelled connect."""
        central = self.radio.central
        self._closing = True
        conn, self._connection = self._connection, None
        try:
            async with asyncio.timeout(1.0):
                if conn is not None:
                    await conn.disconnect()
                elif central.is_le_connecting:
                    await central.cancel_connection()
        except (Exception, asyncio.CancelledError) as exc:
            log.debug("virtual central: cleanup after failed connect: %r", exc)
            if conn is not None:
                # The peer never answered; drop the half-open link locally.
                central.connections.pop(conn.handle, None)

    def _build_services(self, peer: Any, connection: Any) -> BleakGATTServiceCollection:
        coll = BleakGATTServiceCollection()
        for sp in peer.services:
            service = BleakGATTService(sp, sp.handle, _bleak_uuid(sp.uuid))
            coll.add_service(service)
            for cp in sp.characteristics:
                props = [name for bit, name in _PROPERTY_NAMES if int(cp.properties) & bit]
                char = BleakGATTCharacteristic(
                    cp,
                    cp.handle,
                    _bleak_uuid(cp.uuid),
                    props,  # type: ignore[arg-type]
                    lambda: max(20, int(connection.att_mtu) - 3),
                    service,
                )
                coll.add_characteristic(char)
                for dp in cp.descriptors:
                    coll.add_descriptor(
                        BleakGATTDescriptor(dp, dp.handle, _bleak_uuid(dp.type), char)
                    )
        return coll

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        conn = self._connection
        if conn is None:
            return
        self._closing = True
        try:
            await conn.disconnect()
        finally:
            self._connection = None
            self._peer = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError(
            "the virtual straps backend does not pair (heart-rate straps need no pairing)"
        )

    async def unpair(self) -> None:
        raise BleakError(
            "the virtual straps backend does not pair (heart-rate straps need no pairing)"
        )

    def _require_peer(self) -> Any:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        from bumble.att import ATT_Error

        try:
            return bytearray(await self._require_peer().read_value(characteristic.obj))
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        from bumble.att import ATT_Error

        try:
            return bytearray(await self._require_peer().read_value(descriptor.obj))
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        from bumble.att import ATT_Error

        try:
            await self._require_peer().write_value(
                characteristic.obj, bytes(data), with_response=response
            )
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        from bumble.att import ATT_Error

        try:
            await self._require_peer().write_value(descriptor.obj, bytes(data), with_response=True)
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = on_value
        await self._require_peer().subscribe(characteristic.obj, on_value)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        subscriber = self._subscribers.pop(characteristic.handle, None)
        await self._require_peer().unsubscribe(characteristic.obj, subscriber)
