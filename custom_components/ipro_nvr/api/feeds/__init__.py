"""Recorder streams shared by every reader: one connection per camera and kind."""

from __future__ import annotations

from .video import LiveFeed, LiveFeedStats, TimedAudio

__all__ = ["LiveFeed", "LiveFeedStats", "TimedAudio"]
