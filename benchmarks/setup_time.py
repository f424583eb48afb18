"""Seconds from the config flow's *Submit* to the entry loaded with its entities (real pacing).

Run: .venv/bin/python -m benchmarks.setup_time   (about half a minute)

Against the simulator with the spec's pacing (3 s between commands), 8
cameras, in a Home Assistant of the test harness: the user flow is submitted
(``async_configure``) and timed until it returns with the entry LOADED and its
entities in the state machine; then until the first log poll has brought the
recorder's zone (the disk times are read again in it). Prints every command
the recorder saw, with its second after *Submit*. Timings are wall-clock; the
simulator runs in this process (milliseconds of work against seconds of pacing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import tempfile
import time

from homeassistant import loader
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_test_home_assistant

from custom_components.ipro_nvr import client_factory
from custom_components.ipro_nvr.api.spec import SPEC_PACING
from custom_components.ipro_nvr.const import CONF_USE_HTTPS, CONF_VERIFY_SSL, DOMAIN
from nvr_simulator import SimulatorConfig, run_simulator
from nvr_simulator.server import RunningSimulator

PASSWORD = "bench-password"  # noqa: S105 - the simulator's, for this run only
CAMERAS = 8
LABEL = 52


def _line(label: str, value: str) -> None:
    print(f"{label:<{LABEL}}{value}", flush=True)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(60):
        while not condition():  # noqa: ASYNC110 - a figure, not a test
            await asyncio.sleep(0.01)


async def _run(hass: HomeAssistant, sim: RunningSimulator) -> None:
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load custom_components/ from here
    client_factory.CLIENT_PACING = SPEC_PACING  # type: ignore[misc]
    data = {
        CONF_HOST: sim.host,
        CONF_PORT: sim.port,
        CONF_USE_HTTPS: False,
        CONF_VERIFY_SSL: False,
        CONF_USERNAME: sim.config.username,
        CONF_PASSWORD: PASSWORD,
    }
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    # The form was just shown: the recorder's lane is free, as for a person typing.
    await asyncio.sleep(SPEC_PACING.command_interval + 0.2)
    sim.journal.clear()
    wall_start = sim.config.clock()
    started = time.perf_counter()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    entry = result["result"]
    registry = er.async_get(hass)

    def entities_shown() -> bool:
        entries = er.async_entries_for_config_entry(registry, entry.entry_id)
        return bool(entries) and all(
            hass.states.get(e.entity_id) is not None for e in entries if e.disabled_by is None
        )

    await _until(lambda: entry.state is ConfigEntryState.LOADED and entities_shown())
    loaded = time.perf_counter() - started
    shown = len(er.async_entries_for_config_entry(registry, entry.entry_id))
    logs = entry.runtime_data.log_coordinator
    await _until(lambda: logs.data is not None)
    zone_known = time.perf_counter() - started

    print(f"Setup with the spec's pacing ({SPEC_PACING.command_interval:g} s per command)")
    _line("Submit -> entry loaded, entities shown", f"{loaded:.1f} s ({shown} entities)")
    _line("Submit -> logs polled, disk times in recorder zone", f"{zone_known:.1f} s")
    commands = [
        f"{entry_.cgi.removesuffix('.cgi')} {entry_.time - wall_start:.1f}"
        for entry_ in sim.journal.entries
    ]
    _line("commands (seconds after Submit)", ", ".join(commands))
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def main() -> None:
    config = SimulatorConfig(
        password=PASSWORD, pacing=SPEC_PACING, cameras=CAMERAS, channel_states={4: 1}
    )
    async with run_simulator(config) as sim:
        with tempfile.TemporaryDirectory() as config_dir:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                await _run(hass, sim)


if __name__ == "__main__":
    asyncio.run(main())
