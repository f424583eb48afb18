"""Recorder streams shared by every reader: one connection per camera and kind.

:class:`Feed` is the connection core (lease, ``push.cgi`` START and STOP,
backoff, idle stop, disconnected cameras); :class:`VideoFeed` (GOP cache,
subscribers, audio clock) and :class:`JpegFeed` (latest picture, MJPEG
waiters) build on it.
"""

from __future__ import annotations

from .feed import Feed, FeedStats
from .jpeg import JpegFeed
from .video import FeedItem, VideoFeed, VideoFeedStats

__all__ = ["Feed", "FeedItem", "FeedStats", "JpegFeed", "VideoFeed", "VideoFeedStats"]
