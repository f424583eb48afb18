"""A recorder's last pictures: one per camera, bounded in bytes and in age."""

from __future__ import annotations

from custom_components.ipro_nvr.api import LastPictures


def test_the_newest_picture_of_a_camera_replaces_its_older_one() -> None:
    pictures = LastPictures()
    pictures.keep(1, b"old", 10.0)
    pictures.keep(1, b"newer", 11.0)
    assert pictures.get(1, 12.0) == (b"newer", 11.0)
    assert pictures.size == len(b"newer")
    assert pictures.get(2, 12.0) is None


def test_pictures_beyond_the_byte_bound_drop_the_oldest_first() -> None:
    pictures = LastPictures(max_bytes=10)
    pictures.keep(1, b"aaaa", 1.0)
    pictures.keep(2, b"bbbb", 2.0)
    pictures.keep(3, b"cccc", 3.0)  # 12 bytes: camera 1's, the oldest, goes
    assert pictures.get(1, 4.0) is None
    assert pictures.get(2, 4.0) == (b"bbbb", 2.0)
    assert pictures.get(3, 4.0) == (b"cccc", 3.0)
    assert pictures.size == 8
    # A picture larger than the bound alone is kept (the newest), the others go.
    pictures.keep(4, b"d" * 20, 5.0)
    assert pictures.get(4, 6.0) is not None
    assert pictures.get(2, 6.0) is None
    assert pictures.size == 20


def test_a_picture_older_than_the_age_bound_is_not_served() -> None:
    pictures = LastPictures(max_age=60.0)
    pictures.keep(1, b"picture", 100.0)
    assert pictures.get(1, 160.0) == (b"picture", 100.0)
    assert pictures.get(1, 160.5) is None


def test_clear_drops_everything() -> None:
    pictures = LastPictures()
    pictures.keep(1, b"picture", 1.0)
    pictures.clear()
    assert pictures.get(1, 1.0) is None
    assert pictures.size == 0
