"""Camera control for Home Assistant: the entity base that the camera, button, select
and switch platforms and the control actions share.
"""
