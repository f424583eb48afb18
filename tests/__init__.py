"""Tests for the i-PRO NVR integration, its client and its simulator."""
