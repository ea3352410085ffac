"""The source image in the explorer's state and its latent record (core/explore/source_image.py):
8-bit levels kept exactly through the record's PNG, a change of it a latent event, a new model
forgetting it, and hostile records refused in one line naming the place."""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from genstudio.core.errors import GenStudioError
from genstudio.core.explore.explore_session import ExploreSession, check_latent_record
from genstudio.core.explore.source_image import MAX_SIDE, SourceImage


def png_text(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_an_rgb_source_rounds_to_8_bits_and_its_record_gives_the_same_pixels():
    image = torch.rand(3, 5, 7)
    source = SourceImage.of(image, "the B -> A output of A: mnist #3")
    assert source.image.shape == (1, 3, 5, 7)
    assert torch.equal(source.image, (image * 255).round()[None] / 255)
    back = SourceImage.from_record(source.to_record(), "the record", shape=(3, 5, 7))
    assert torch.equal(back.image, source.image) and back.same_as(source) and back.index is None
    grey = SourceImage.of(np.full((1, 28, 28), 0.5, np.float32), "A: mnist #9", index=9)
    assert grey.to_record()["index"] == 9 and SourceImage.from_record(grey.to_record(), "x").index == 9


def test_the_session_keeps_its_source_in_the_record_and_forgets_it_for_another_model():
    session = ExploreSession()
    session.configure((8,), 0, "translation", "a.safetensors", decode_options={"direction": 0})
    events = []
    session.events.latent.connect(lambda s: events.append(s.source))
    source = SourceImage.of(torch.rand(1, 28, 28), "A: mnist #4", 4)
    session.set_source(source)
    session.set_source(SourceImage.of(source.image, "A: mnist #4", 4))      # the same image: no event
    assert events == [source] and session.current_image().options["source"] is source
    record = session.to_record()
    session.set_source(None)
    session.apply_record(record)
    assert session.source.same_as(source) and torch.equal(session.source.image, source.image)
    session.configure((8,), 0, "translation", "b.safetensors", decode_options={"direction": 0})
    assert session.source is None and "source" not in session.to_record()


@pytest.mark.parametrize("source, reason", [
    ("a picture", "an object with a name and a base64 PNG"),
    ({"name": "x", "png": "not base64 !"}, "not a readable PNG"),
    ({"name": "x", "png": base64.b64encode(b"GIF89a" + bytes(40)).decode()}, "not a readable PNG"),
    ({"name": "x", "png": png_text(np.zeros((2, MAX_SIDE + 1), np.uint8))}, f"at most {MAX_SIDE} px"),
    ({"name": "x", "png": png_text(np.zeros((4, 4, 4), np.uint8))}, "grey or RGB, not RGBA"),
    ({"name": "x", "png": png_text(np.zeros((4, 4), np.uint8)), "index": -1}, "'index' must be a whole number"),
    ({"name": "x", "png": png_text(np.zeros((4, 4), np.uint8)), "index": True}, "'index' must be a whole number"),
])
def test_hostile_sources_are_refused_in_one_line(source, reason):
    record = {"latent": [0.0] * 8, "source": source}
    with pytest.raises(GenStudioError) as error:
        check_latent_record(record, 8, "saved.json")
    message = str(error.value)
    assert message.startswith("saved.json: ") and reason in message and "\n" not in message


def test_a_source_of_another_shape_is_refused():
    record = SourceImage.of(torch.zeros(1, 4, 4), "x").to_record()
    with pytest.raises(GenStudioError, match=r"the record: a source image of shape \(1, 4, 4\), the model translates"):
        SourceImage.from_record(record, "the record", shape=(3, 4, 4))
