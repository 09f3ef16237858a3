"""Takedown on a real Synapse on loopback: how long from a TCO removal order accepted by the
lawful-request API to the message gone for another user (a matrix-nio client sees the
redaction), and what the pre-send check costs on every message send.

Peers in the same run: the law's one hour (3,600 s) for removal; the same Synapse version
without the Trustdesk module for the send latency. Goals (issue 8): removal p50 < 2 s,
check overhead p50 <= 10 ms.

    .venv/bin/python benchmarks/takedown.py [--orders 20] [--sends 200]

Needs `make synapse` (Synapse in .venv-synapse). Reuses the end-to-end tests' harness
(tests/platform/matrix) to start Trustdesk and Synapse. The last line is key=value pairs."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nio import RoomGetEventResponse, RoomSendResponse  # noqa: E402

from tests.emergency.synapse_tco import confirm_by_callback, file_order, police_agency  # noqa: E402
from tests.platform.matrix.conftest import PASSWORD, MatrixUser, make_trustdesk, module_config  # noqa: E402
from tests.platform.matrix.synapse_server import SynapseServer  # noqa: E402
from trustdesk.platform.matrix.adapter import MatrixPlatform  # noqa: E402
from trustdesk.platform.matrix.admin import SynapseAdmin  # noqa: E402

ORDERS_PER_AGENCY = 5  # the legal domain flags an agency sending 10 an hour as a possible campaign


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def redacted(reader: MatrixUser, room: str, event_id: str) -> bool:
    response = reader.run(reader.client.room_get_event(room, event_id))
    return isinstance(response, RoomGetEventResponse) and not response.event.source.get("content")


def wait_redacted(reader: MatrixUser, room: str, event_id: str, *, seconds: float = 30) -> float:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if redacted(reader, room, event_id):
            return time.perf_counter()
        time.sleep(0.005)
    raise RuntimeError(f"{event_id} still visible after {seconds}s")


def send(user: MatrixUser, room: str, text: str) -> str:
    response = user.send(room, text)
    if not isinstance(response, RoomSendResponse):
        raise RuntimeError(f"send refused: {response}")
    return response.event_id


def poster(synapse: SynapseServer, reader: MatrixUser, room: str, name: str) -> MatrixUser:
    user = MatrixUser(synapse, f"poster_{name}")
    reader.run(reader.client.room_invite(room, user.user_id))
    user.join(room)
    return user


def measure_removals(trustdesk, synapse: SynapseServer, orders: int) -> tuple[list[float], list[float]]:
    reader = MatrixUser(synapse, "reader")
    room = reader.create_room(name="takedown")
    container, removal_s, accept_s = trustdesk.container, [], []
    for n in range((orders + ORDERS_PER_AGENCY - 1) // ORDERS_PER_AGENCY):
        agency = police_agency(container, code=f"police-{n}")
        first = file_order(trustdesk.url, agency.token, send(poster(synapse, reader, room, f"o{n}"), room, f"onboarding {n}"))
        confirm_by_callback(container, first.json()["request"]["id"])
        for i in range(min(ORDERS_PER_AGENCY, orders - n * ORDERS_PER_AGENCY)):
            # a fresh poster each time: enforcement's strikes suspend an account after a terrorism removal
            event_id = send(poster(synapse, reader, room, f"p{n}x{i}"), room, f"terrorist content {n}.{i}")
            start = time.perf_counter()
            response = file_order(trustdesk.url, agency.token, event_id)
            accepted = time.perf_counter()
            if response.status_code != 201:
                raise RuntimeError(response.text)
            removal_s.append(wait_redacted(reader, room, event_id) - start)
            accept_s.append(accepted - start)
    return removal_s, accept_s


def measure_sends(checked: SynapseServer, plain: SynapseServer, sends: int) -> tuple[list[float], list[float]]:
    """Alternate sends on the two servers so that both see the same machine load."""
    rooms = []
    for server in (checked, plain):
        user = MatrixUser(server, "sender")
        rooms.append((user, user.create_room(name="latency")))
    timings: tuple[list[float], list[float]] = ([], [])
    for n in range(sends + 20):
        for k, (user, room) in enumerate(rooms):
            start = time.perf_counter()
            send(user, room, f"an ordinary message number {n}")
            if n >= 20:  # warm-up
                timings[k].append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--sends", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="td-takedown-"))
    trustdesk = make_trustdesk(f"sqlite:///{work / 'trustdesk.db'}", work / "td")
    trustdesk.start()
    checked = SynapseServer(work / "checked", module_config=module_config(trustdesk, work / "checked"))
    plain = SynapseServer(work / "plain")
    try:
        checked.start()
        plain.start()
        bot = checked.register("trustdesk-bot", PASSWORD, admin=True)
        trustdesk.container.platform = MatrixPlatform(
            admin=SynapseAdmin(base_url=checked.url, token=bot),
            bot_user_id=checked.user_id("trustdesk-bot"),
            server_name="trustdesk.test",
        )
        removal_s, accept_s = measure_removals(trustdesk, checked, args.orders)
        with_s, without_s = measure_sends(checked, plain, args.sends)
    finally:
        plain.stop()
        checked.stop()
        trustdesk.stop()
    overhead_ms = (statistics.median(with_s) - statistics.median(without_s)) * 1000
    print(f"removal (API accepted order -> redaction seen by the other user), {len(removal_s)} orders:")
    print(
        f"  p50 {statistics.median(removal_s):.3f} s, p90 {percentile(removal_s, 0.9):.3f} s, max {max(removal_s):.3f} s "
        f"(the law: 3600 s); API answer p50 {statistics.median(accept_s):.3f} s"
    )
    print(
        f"send latency, {len(with_s)} sends each: with the Trustdesk check p50 {statistics.median(with_s) * 1000:.1f} ms, "
        f"plain Synapse p50 {statistics.median(without_s) * 1000:.1f} ms"
    )
    met = statistics.median(removal_s) < 2 and overhead_ms <= 10
    print(
        f"orders={len(removal_s)} removal_p50_s={statistics.median(removal_s):.3f} removal_p90_s={percentile(removal_s, 0.9):.3f} "
        f"removal_max_s={max(removal_s):.3f} api_accept_p50_s={statistics.median(accept_s):.3f} law_s=3600 "
        f"sends={len(with_s)} send_p50_with_check_ms={statistics.median(with_s) * 1000:.2f} "
        f"send_p50_plain_ms={statistics.median(without_s) * 1000:.2f} check_overhead_p50_ms={overhead_ms:.2f} "
        f"goal_removal_p50_s=2 goal_check_overhead_p50_ms=10 goals_met={str(met).lower()}"
    )


if __name__ == "__main__":
    main()
