"""The status bar names the device the open model decodes on, its weights' memory and the last
decode time; View -> Decode on lists every device (those absent disabled, with the reason), is
remembered in the settings, and re-opens the model on the chosen device with the same latent."""

import numpy as np
import torch
from PySide6.QtCore import QSettings

from genstudio.core.io.open_model import open_model
from genstudio.core.runtime.devices import device_availability, module_bytes, resolve_device
from genstudio.ui.model_list import demo_checkpoints


def test_status_bar_and_device_menu(qtbot, window, tmp_path):
    gan = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        window.open_path(gan)
    best = resolve_device("auto")
    status = window.decode_status.text()
    assert status.startswith(best.type) and "weights" in status
    qtbot.waitUntil(lambda: "decode" in window.decode_status.text() and "ms" in window.decode_status.text(),
                    timeout=10000)
    assert window.decode_status.weights == module_bytes(open_model(gan).model) > 0

    actions = window.decode_device.actions
    assert set(actions) == {"auto", "cpu", "cuda", "mps"} and actions["auto"].isChecked()
    for name, (available, reason) in device_availability().items():
        assert actions[name].isEnabled() == available and actions[name].toolTip() == reason
    latent = window.session.z.clone()
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        actions["cpu"].trigger()
    assert window.decode_status.text().startswith("cpu")
    assert torch.equal(window.session.z, latent)                      # the same latent, decoded again
    assert np.isfinite(window.explore.last_image).all()
    window.settings.sync()
    reread = QSettings(window.settings.fileName(), QSettings.IniFormat)
    assert reread.value("decode/device") == "cpu"
