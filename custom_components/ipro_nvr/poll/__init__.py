"""What the status and log polls feed: new-entry tracking and the problems they show.

The coordinators themselves are ``coordinator.py`` at the top of the integration
(Home Assistant's common-modules rule).
"""
