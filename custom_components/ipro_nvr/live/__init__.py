"""Live video for Home Assistant: the loopback MPEG-TS relay and what it needs.

``relay.py`` serves each camera's shared live feed (``api.feeds``) as MPEG-TS
to Home Assistant's stream component, ``ts_muxer.py`` and ``audio_transcoder.py``
write the TS packets (audio as AAC), ``keyframe_snapshot.py`` decodes a still
from a keyframe and ``placeholder_picture.py`` draws the picture shown before any.
"""
