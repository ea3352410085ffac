"""A folder saved by Hugging Face diffusers opens in the window, from File > Open model folder and
dropped on it, and the explorer shows the image DDIM decodes from the starting noise."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

UNET = dict(sample_size=8, in_channels=1, out_channels=1, layers_per_block=1, block_out_channels=(8, 16),
            norm_num_groups=4, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "UpBlock2D"), attention_head_dim=8)


def test_a_diffusers_folder_opens_from_the_menu_and_by_dropping(qtbot, window, monkeypatch, tmp_path):
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    unet = diffusers.UNet2DModel(**UNET)
    pipeline, bare = tmp_path / "pipe", tmp_path / "bare"
    diffusers.DDIMPipeline(unet=unet, scheduler=diffusers.DDIMScheduler()).save_pretrained(pipeline)
    unet.save_pretrained(bare)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(pipeline))
    file_menu = window.menuBar().actions()[0].menu()
    action = next(a for a in file_menu.actions() if "diffusers folder" in a.text())
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=60000):
        action.trigger()
        assert "diffusers DDIMPipeline" in window.statusBar().currentMessage()
    assert window.opened.path == pipeline and window.opened.family == "diffusion"
    assert window.opened.card.origin == "diffusers"
    assert not window.banner.isVisible()
    image = window.explore.last_image                      # (C, H, W) in [0, 1]
    assert image.shape == (1, 8, 8) and np.isfinite(image).all() and image.std() > 0
    assert str(pipeline.resolve()) in window.models.recent()

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bare))])
    event = QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=60000):
        window.dropEvent(event)
        assert "no scheduler config" in window.statusBar().currentMessage()
    assert window.opened.path == bare and window.opened.card.preset == "UNet2DModel"


def test_a_folder_that_is_refused_says_why_and_keeps_the_open_model(qtbot, window, tmp_path):
    from genstudio.ui.model_list import demo_checkpoints

    demo = next(p for p in demo_checkpoints() if p.stem == "gan-mnist")
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(demo)
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "model_index.json").write_text('{"_class_name": ["pipeline", "MyPipeline"]}')
    window.drop_path(folder)
    assert "custom pipeline" in window.banner.label.text() and str(folder) in window.banner.label.text()
    assert window.opened.path == demo
