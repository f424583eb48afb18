"""Tests of the NVR simulator itself, over real loopback HTTP."""
