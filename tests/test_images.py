"""Offline image sets: bundled photos, views, preprocessing, folders."""

import numpy as np
import pytest

pytest.importorskip("skimage", reason="image sets need scikit-image (pip install 'ftm[extract]')")

from ftm.extract.featureset import array_sha256  # noqa: E402
from ftm.models.preprocessing import Preprocessing, preprocess  # noqa: E402
from ftm.extract.images import (  # noqa: E402
    DEFAULT_VIEWS,
    View,
    bundled_photos,
    crop_box,
    folder_photos,
    preprocessed_batches,
)

PREP = Preprocessing(224, (127.0, 127.0, 127.0), (128.0, 128.0, 128.0))


def test_crop_boxes_hand_computed():
    assert crop_box(300, 451, View("centre", 0.875)) == (19, 94, 262, 262)
    assert crop_box(300, 451, View("c", 0.6, "bottom-right")) == (120, 271, 180, 180)
    assert crop_box(300, 451, View("c", 0.6, "top-right")) == (0, 271, 180, 180)
    assert crop_box(10, 10, View("c", 1.0, "bottom-left")) == (0, 0, 10, 10)
    assert crop_box(28, 30, View("full", 1.0, "full")) == (0, 0, 28, 30)
    with pytest.raises(ValueError, match="fraction"):
        View("bad", 0.0)
    with pytest.raises(ValueError, match="anchor"):
        View("bad", 0.5, "middle")


def test_preprocess_normalizes_with_the_model_mean_and_std():
    flat = np.full((40, 60, 3), 127, np.uint8)
    assert np.array_equal(preprocess(flat, (0, 0, 40, 40), PREP), np.zeros((3, 224, 224), np.float32))
    white = np.full((40, 60, 3), 255, np.uint8)
    out = preprocess(white, (0, 10, 40, 40), PREP)
    assert out.dtype == np.float32 and out.shape == (3, 224, 224)
    assert np.allclose(out, 1.0)  # (255 - 127) / 128


def test_bundled_photos_give_at_least_100_distinct_inputs():
    photos = bundled_photos()
    assert len(photos) == 21 and len({p.label for p in photos}) == 21
    assert {p.name.split("/")[0] for p in photos} == {"skimage", "sklearn", "matplotlib"}
    metas, digests = [], set()
    for batch_meta, batch in preprocessed_batches(photos, DEFAULT_VIEWS, PREP, batch_size=64):
        metas += batch_meta
        digests |= {array_sha256(x) for x in batch}
        assert batch.dtype == np.float32 and batch.shape[1:] == (3, 224, 224)
    assert len(metas) == len(digests) == 126
    assert len({m.name for m in metas}) == 126


def test_folder_photos_label_by_subfolder(tmp_path):
    from PIL import Image

    (tmp_path / "cats").mkdir()
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / "cats" / "b.png")
    Image.fromarray(np.full((30, 40), 200, np.uint8)).save(tmp_path / "a.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    photos = folder_photos(tmp_path)
    assert [(p.name, p.label) for p in photos] == [("a.jpg", None), ("cats/b.png", "cats")]
    assert photos[0].load().shape == (30, 40, 3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image file"):
        folder_photos(tmp_path / "empty")
    with pytest.raises(NotADirectoryError):
        folder_photos(tmp_path / "missing")



def test_balanced_subset_takes_whole_images_in_turn_from_each_class():
    from ftm.extract.images import Photo, balanced_subset

    photos = [Photo(name, label, lambda: None) for name, label in
              [("a/1", "a"), ("a/2", "a"), ("a/3", "a"), ("b/1", "b"), ("b/2", "b"), ("c", None)]]  # fmt: skip
    assert [p.name for p in balanced_subset(photos, 3)] == ["a/1", "b/1", "c"]
    assert [p.name for p in balanced_subset(photos, 5)] == ["a/1", "a/2", "b/1", "b/2", "c"]
    assert len(balanced_subset(photos, 99)) == 6
    with pytest.raises(ValueError, match=">= 1"):
        balanced_subset(photos, 0)


def test_full_view_resizes_the_whole_image():
    from ftm.extract.images import FULL_VIEWS

    image = np.zeros((28, 28, 3), np.uint8)
    image[:, 14:] = 255
    (meta,), batch = next(preprocessed_batches([_photo(image)], FULL_VIEWS, PREP, 4))
    assert meta.box == (0, 0, 28, 28) and batch.shape == (1, 3, 224, 224)
    assert batch[0, 0, :, :100].max() < 0 < batch[0, 0, :, 124:].min()  # left dark, right bright: nothing cropped


def _photo(image):
    from ftm.extract.images import Photo

    return Photo("test/image", "x", lambda: image)
