"""Tests through Home Assistant."""
