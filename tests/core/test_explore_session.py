"""The explorer's state without Qt: events fire on each change, and the latent record round-trips."""

import json

import numpy as np
import pytest
import torch

from genstudio.core.errors import GenStudioError
from genstudio.core.explore.explore_session import ExploreSession, read_latent_record
from genstudio.core.latent import seeded_latents, slerp


def session_with_events():
    session = ExploreSession()
    seen = []
    for name in ("latent", "directions", "path", "settings"):
        getattr(session.events, name).connect(lambda s, n=name: seen.append(n))
    session.configure((8,), num_classes=3, family="gan", checkpoint="model.safetensors")
    seen.clear()
    return session, seen


def test_seed_temperature_and_class_drive_the_latent():
    session, seen = session_with_events()
    session.set_seed(5)
    assert seen == ["settings", "latent"]
    assert torch.equal(session.z, seeded_latents(1, (8,), 5)[0])
    session.set_temperature(0.5)
    assert torch.allclose(session.z, 0.5 * seeded_latents(1, (8,), 5)[0])
    seen.clear()
    session.set_label(2)
    assert seen == ["settings"] and session.labels(3).tolist() == [2, 2, 2]


def test_directions_move_from_a_base_and_rebase():
    session, seen = session_with_events()
    start = session.z.clone()
    directions = torch.eye(8)[:3]
    session.set_directions(directions, np.array([0.5, 0.2, 0.1]))
    assert seen == ["directions"]
    session.move_direction(0, 2.0)
    session.move_direction(2, -1.0)
    assert torch.allclose(session.z, start + 2.0 * directions[0] - directions[2])
    session.rebase()
    assert session.alphas == [0.0, 0.0, 0.0] and torch.equal(session.base, session.z)
    session.move_dimension(4, 3.5)
    assert session.z[4] == 3.5


def test_interpolation_follows_t_and_the_path_setting():
    session, seen = session_with_events()
    session.randomise_endpoints(seed=11)
    assert "path" in seen and session.t == 0.0 and torch.allclose(session.z, session.a)
    session.set_t(0.3)
    assert torch.allclose(session.z, slerp(session.a, session.b, 0.3))
    session.set_spherical(False)
    assert torch.allclose(session.z, session.a + 0.3 * (session.b - session.a))
    assert session.path_latents(5).shape == (5, 8)


def test_record_round_trip_and_file(tmp_path):
    session, _ = session_with_events()
    session.set_seed(3)
    session.randomise_endpoints(seed=1)
    session.set_t(0.6)
    session.set_label(1)
    session.move_dimension(0, -2.0)
    path = session.save_record(tmp_path / "latent.json")
    other = ExploreSession()
    other.configure((8,), 3, "gan", "model.safetensors")
    other.apply_record(read_latent_record(path, 8))
    assert torch.equal(other.z, session.z) and torch.equal(other.a, session.a) and torch.equal(other.b, session.b)
    assert (other.t, other.spherical, other.label) == (0.6, True, 1)
    assert json.loads(path.read_text())["format"] == "genstudio-latent"


@pytest.mark.parametrize("content,reason", [
    ("{not json", "not a readable JSON latent record"),
    ('{"latent": [1, 2]}', "a latent of 2 values, the model takes 8"),
    ('{"latent": [1, 2, 3, 4, 5, 6, 7, "x"]}', "'latent' must be a list of finite numbers"),
    ('{"latent": [0, 0, 0, 0, 0, 0, 0, 0], "interpolation": {"a": [1]}}', "end points a and b of 8 values"),
])
def test_bad_records_say_why(tmp_path, content, reason):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(GenStudioError) as exc:
        read_latent_record(path, 8)
    assert reason in str(exc.value) and str(path) in str(exc.value)


def test_edits_in_a_declared_space_travel_in_the_record_and_reset_clears_them():
    from genstudio.core.families.stylegan.style_space import W_SPACE

    session, events = session_with_events()
    session.configure((8,), num_classes=3, family="stylegan", checkpoint="model.safetensors", latent_spaces=(W_SPACE,))
    z = session.z.clone()
    directions = torch.eye(3, 6)
    with pytest.raises(ValueError, match="'middling' is not a layer group of W"):
        session.set_edit_directions("w", "middling", directions, np.array([0.5, 0.3, 0.2]))
    session.set_edit_directions("w", "coarse", directions, np.array([0.5, 0.3, 0.2]))
    assert session.space_edit() is None                                    # no offset yet: nothing to apply
    session.move_edit(1, 2.5)
    edit = session.space_edit()
    assert edit.group == "coarse" and edit.alphas.tolist() == [0.0, 2.5, 0.0] and torch.equal(session.z, z)
    assert torch.equal(session.decode_options_with_edit()["style_edit"].offset, 2.5 * directions[1])
    assert "style_edit" not in session.decode_options
    record = session.to_record()
    # The record format the app wrote before spaces were declared: 'style_edit' with layers, k, alphas.
    assert record["style_edit"] == {"layers": "coarse", "k": 3, "alphas": [0.0, 2.5, 0.0]}
    other, _ = session_with_events()
    other.configure((8,), num_classes=3, family="stylegan", checkpoint="model.safetensors", latent_spaces=(W_SPACE,))
    other.apply_record(json.loads(json.dumps(record)))
    assert other.edit_space is W_SPACE and other.edit_group == "coarse" and other.edit_directions is None
    other.set_edit_directions("w", "coarse", directions, np.array([0.5, 0.3, 0.2]))   # as the explorer recomputes them
    assert other.edit_alphas == [0.0, 2.5, 0.0]
    assert other.edit_options(record)["style_edit"].alphas.tolist() == [0.0, 2.5, 0.0]
    session.reset()
    assert session.space_edit() is None and events.count("latent") >= 3
    for bad in ({"layers": "everything", "k": 1, "alphas": [1.0]}, {"layers": "all", "k": 2, "alphas": [1.0]}):
        with pytest.raises(GenStudioError, match="'style_edit' needs layers \\(one of all, coarse, middle, fine\\)"):
            other.apply_record({**record, "style_edit": bad})
    plain, _ = session_with_events()                    # a model without the space: the edit is not its to apply
    plain.apply_record(record)
    assert plain.edit_space is None and "style_edit" not in plain.to_record()
