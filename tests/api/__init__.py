"""Tests of the recorder client, against the simulator over real loopback HTTP."""
