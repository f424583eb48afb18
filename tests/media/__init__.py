"""Tests of the client's media path (custom_components.ipro_nvr.api.media)."""
