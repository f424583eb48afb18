"""Recordings for Home Assistant: clip and thumbnail views, the clip cache, downloads.

The media browser tree itself is ``media_source.py`` at the top of the
integration, where Home Assistant looks for the platform.
"""
