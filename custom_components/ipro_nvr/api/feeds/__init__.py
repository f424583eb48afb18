"""Recorder streams shared by every reader: one connection per camera and kind.

:class:`Feed` is the connection core (lease, ``push.cgi`` START and STOP,
backoff, idle stop, disconnected cameras); :class:`VideoFeed` (GOP cache,
subscribers, audio clock) and :class:`JpegFeed` (latest picture, MJPEG
waiters) build on it; :class:`LastPictures` keeps a recorder's last JPEG of
each camera beyond one feed's life.
"""

from __future__ import annotations

from .feed import Feed, FeedStats
from .jpeg import JpegFeed
from .last_pictures import LastPictures
from .video import FeedItem, VideoFeed, VideoFeedStats

__all__ = [
    "Feed",
    "FeedItem",
    "FeedStats",
    "JpegFeed",
    "LastPictures",
    "VideoFeed",
    "VideoFeedStats",
]
