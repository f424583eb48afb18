"""Configuration of a simulated recorder."""

from __future__ import annotations

from dataclasses import dataclass, field
import datetime as dt
import time
from typing import TYPE_CHECKING

from custom_components.ipro_nvr.api.spec import (
    LOG_CAPACITY,
    MAX_CHANNELS,
    MAX_UIDS,
    PAN_TILT_RANGE_256,
    SPEC_PACING,
    UID_LIFETIME,
    UID_MAX_DIGITS,
    PacingPolicy,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def _default_wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class SimulatorConfig:
    """Everything that shapes one simulated recorder.

    Times: ``clock`` is the monotonic clock used for UID lifetimes, digest nonce
    lifetimes and pacing (tests may pass a fake one, see ``nvr_simulator.clock``);
    ``wall_clock`` gives the recorder's current time in UTC, from which log
    entries and recording ranges are derived in the recorder's local time.

    Local time and summer time (the spec is silent; this mirrors how i-PRO
    recorders are set up: a standard time zone plus a separate summer-time
    switch): ``utc_offset`` is the *standard* zone, printed as ``GMT+09:00`` in
    the logs; while ``summer_time`` is on, local time is one hour later than
    that and every date carries the summer-time flag ``1``. So
    ``UTC = local - utc_offset - (1 h if flag else 0)``.

    The simulator reads this object live: a test may change a field of a
    running simulator's config (for example ``password`` or ``summer_time``).
    """

    username: str = "admin"
    password: str = "password"  # noqa: S105 - the demo password, printed by scripts/develop
    model: int = 1  # spec 1.1: MODEL 1, 2 or 3
    # Registered camera channels (1..cameras); the recorder reports max_channels in total.
    cameras: int = 16
    max_channels: int = MAX_CHANNELS
    # Channel -> CAM_CONNECT state (0 not registered, 1 normal, 2 connection error).
    # Channels not listed: 1 for 1..cameras, 0 above. When left empty, the
    # simulator picks a realistic default: channel 4 in connection error when
    # cameras >= 4 (see Simulator.channel_states, which tests may change live).
    channel_states: dict[int, int] = field(default_factory=dict)
    https: bool = False
    uid_lifetime: float = UID_LIFETIME
    max_uids: int = MAX_UIDS
    # UIDs held from the start by other clients (viewers, apps) that keep them
    # alive: see UidTable.hold_for_others. Evicted by a login beyond max_uids.
    other_clients: int = 0
    # Digits of every issued UID (spec 6.1.1: "an integer up to 19 digits"). The
    # default is the widest, which does not fit a signed 64-bit integer.
    uid_digits: int = UID_MAX_DIGITS
    pacing: PacingPolicy = SPEC_PACING
    # Tolerance when checking the pacing journal, in seconds: timer and event-loop jitter
    # between the client's send and the arrival here. Capped at half the lane's interval,
    # so that requests sent without pacing are caught at any (test) speed.
    pacing_tolerance: float = 0.03
    # The answer to a command whose UID is unknown, expired or released. The spec defines
    # none (spec 6.1 and 6.2 give only the good answers): 403 by default; 401 (with a fresh
    # Digest challenge) as a recorder may answer a stale UID. The client re-logs in on either.
    invalid_uid_status: int = 403
    utc_offset: dt.timedelta = dt.timedelta(hours=9)
    summer_time: bool = False
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], dt.datetime] = _default_wall_clock
    # Seconds between spontaneous event-log entries (0 disables growth over time).
    event_interval: float = 0.0
    seed: int = 1
    # HTTP Digest authentication (RFC 7616). One challenge is sent per algorithm,
    # the preferred first; answers with MD5 or SHA-256 are accepted either way.
    realm: str = "i-PRO NVR"
    digest_algorithms: tuple[str, ...] = ("MD5",)
    nonce_lifetime: float = 300.0
    # Accepted PAN/TILT speeds: 256 accepts both spec variants (4.2.1 and 4.2.2);
    # 16 makes the simulator reject the 256-step values.
    pan_tilt_range: int = PAN_TILT_RANGE_256
    # Entries kept per log list (spec 5.1: at most 1000).
    log_capacity: int = LOG_CAPACITY
    # The log lists are broken into lines of this many characters, wherever the
    # break falls (even inside a quoted field, as in the spec's example); 0: one line.
    log_wrap_width: int = 100
    # -- live streams (push.cgi, see nvr_simulator.live) --
    # The synthetic pictures: size, pictures per second, keyframe interval and
    # the length of the loop that is encoded once per process and repeated.
    live_width: int = 320
    live_height: int = 180
    live_fps: int = 10
    live_gop_seconds: float = 1.0
    live_loop_seconds: float = 2.0
    # Largest RTP packet (header, extension and payload); larger NAL units are
    # sent as FU-A (H.264) / FU (H.265) fragments.
    live_mtu: int = 1400
    # Pack small NAL units into STAP-A / AP packets (the spec's figure sends
    # AUD, SPS, PPS and SEI each alone, which is the default).
    live_aggregate: bool = False
    # First RTP sequence number and timestamp of a stream; None: random, as the
    # spec says (set them near 65535 / 2**32 to test the wrap).
    live_initial_sequence: int | None = None
    live_initial_timestamp: int | None = None
    # JPEG vendor blocks (spec 2.3.5, which does not say): whether the u16
    # length counts its own two bytes, and whether a camera block follows the
    # recorder's. The client accepts both readings.
    live_jpeg_length_counts_itself: bool = True
    live_jpeg_camera_block: bool = True
    # Live audio (push.cgi COMP=AUDIO) of every camera: "AAC" (audio/48kaac-lc),
    # "G726" (audio/g.726-32k), "G711" (mu-law) or "G711A" (A-law); the spec names no
    # G.711 content type, so the simulator sends audio/g.711 and audio/pcma.
    # ``live_audio_codecs`` (channel -> codec) overrides it per camera.
    live_audio_codec: str = "AAC"
    live_audio_codecs: dict[int, str] = field(default_factory=dict)
    # Channel -> how far the camera's own clock is from the recorder's: the
    # camera time stamps of the live stream (0x0011/0x0012, spec 7.1.1) carry it.
    camera_clock_offsets: dict[int, dt.timedelta] = field(default_factory=dict)
    # G.711/G.726 goes out in parts of this many milliseconds (a multiple of 10;
    # AAC goes out one 1024-sample frame a part).
    live_audio_part_ms: int = 20
    # -- recordings and downloads (httpdl.cgi, see nvr_simulator.recordings) --
    # Channel -> how it records: "H264" (default), "H265" (MP4 downloads hold
    # HEVC) or "JPEG" (MP4 downloads of a JPEG camera answer status 2).
    recording_codecs: dict[int, str] = field(default_factory=dict)
    # Download files split where local time crosses a multiple of this many
    # minutes (0: one file per download).
    download_split_minutes: int = 30
    # Downloads served at once (across all UIDs); one more answers status 3.
    download_max_concurrent: int = 2
    # File data per multipart part.
    download_part_bytes: int = 256 * 1024
    # Generated downloads kept (least recently used dropped first).
    download_cache_entries: int = 4
