"""Per-channel camera-control state (spec chapter 4), readable by tests.

The recorder only relays these commands to the camera and cannot report the
result, so the state is the simulator's bookkeeping: the last speeds sent, a
coarse position that each move command shifts by its speed (an i-PRO camera
keeps moving for about 2 s per command), focus and iris, stored presets and
AUX outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from custom_components.ipro_nvr.api.spec import CENTERING_GRID

# Zoom position range of the coarse model (0 = widest).
ZOOM_MAX = 64


@dataclass(frozen=True, slots=True)
class Position:
    """A coarse camera position: pan (+ right), tilt (+ down), zoom (+ tele)."""

    pan: int = 0
    tilt: int = 0
    zoom: int = 0


@dataclass(slots=True)
class PtzState:
    """What the simulator knows of one channel's camera control."""

    pan_speed: int = 0
    tilt_speed: int = 0
    zoom_speed: int = 0
    position: Position = field(default_factory=Position)
    # Last FOCUS / IRIS control ("FAR", "NEAR", "AUTO" / "OPEN", "CLOSE", "RESET").
    focus: str | None = None
    iris: str | None = None
    presets: dict[int, Position] = field(default_factory=dict)
    # Preset most recently gone to, None after any manual move.
    current_preset: int | None = None
    # AUX number (1..8) -> True when open; absent = never set.
    aux: dict[int, bool] = field(default_factory=dict)
    # Last click-to-center point, (X, Y) on the 0..32 grid.
    last_centering: tuple[int, int] | None = None
    commands: int = 0

    def describe(self) -> str:
        """One line for the console: where the camera points and what else is set."""
        p = self.position
        aux = ",".join(f"AUX{n}={'open' if on else 'closed'}" for n, on in sorted(self.aux.items()))
        return (
            f"position pan={p.pan} tilt={p.tilt} zoom={p.zoom}, "
            f"speed {self.pan_speed}/{self.tilt_speed}/{self.zoom_speed}, "
            f"preset={self.current_preset}, focus={self.focus}, iris={self.iris}"
            + (f", {aux}" if aux else "")
        )

    def move(self, pan: int | None, tilt: int | None, zoom: int | None) -> None:
        """Apply a directctrl command.

        An omitted axis is one "that does not operate" (spec 4.2.1): it does
        not move, so its speed is 0.
        """
        self.pan_speed, self.tilt_speed, self.zoom_speed = pan or 0, tilt or 0, zoom or 0
        p = self.position
        self.position = Position(
            pan=p.pan + self.pan_speed,
            tilt=p.tilt + self.tilt_speed,
            zoom=min(max(p.zoom + self.zoom_speed, 0), ZOOM_MAX),
        )
        if self.pan_speed or self.tilt_speed or self.zoom_speed:
            self.current_preset = None
        self.commands += 1

    def center_on(self, x: int, y: int) -> None:
        """Apply CENTERING: bring grid point (x, y) to the middle of the image.

        Mapping chosen (spec 4.2.3's figure): X grows
        to the *left* ((32, 0) is the top-left corner) and Y grows downwards, so
        a point right of the middle (x < 16) pans right, a point below (y > 16)
        tilts down.
        """
        middle = CENTERING_GRID // 2
        p = self.position
        self.position = Position(pan=p.pan + (middle - x), tilt=p.tilt + (y - middle), zoom=p.zoom)
        self.last_centering = (x, y)
        self.current_preset = None
        self.commands += 1

    def store_preset(self, number: int) -> None:
        """PRESETPRG: remember the current position under ``number``."""
        self.presets[number] = self.position
        self.commands += 1

    def go_to_preset(self, number: int) -> None:
        """PRESET: move to a stored position (an unset preset leaves the camera still)."""
        if number in self.presets:
            self.position = self.presets[number]
        self.pan_speed = self.tilt_speed = self.zoom_speed = 0
        self.current_preset = number
        self.commands += 1
