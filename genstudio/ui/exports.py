"""The File menu's exports: an image grid, the image as shown, the A -> B strip and GIF, a walk
through key latents (GIF or MP4), the style-mixing grid, and saving / loading the latent record.

Each export asks its dialog, then decodes in the renderer on a channel of its own ("export-<n>",
so none drops another; Cancel and Escape stop it) and reports through the window: its status bar,
its error banner and its `exported` signal (the path written). The window owns one `Exports`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from genstudio.core.errors import GenStudioError, first_line
from genstudio.core.explore.grid_latents import grid_latents
from genstudio.core.explore.walk import walk_labels, walk_latents
from genstudio.core.families.family import Capability
from genstudio.core.families.stylegan.style_space import GROUPS
from genstudio.core.io.export import latents_path, save_grid
from genstudio.core.latent import parse_seeds
from genstudio.core.requests.render_requests import ExportImages
from genstudio.core.requests.space_requests import ExportMixingGrid
from genstudio.ui import file_dialogs
from genstudio.ui.export_dialog import GridExportDialog, StyleMixingDialog, WalkDialog


class Exports:
    def __init__(self, window):
        self.window = window                # dialogs' parent; status, errors, `exported`; the open model
        self.session = window.session
        self.renderer = window.renderer
        self._count = 0                     # numbers each export's channel
        self.renderer.done.connect(self._written)
        self.renderer.failed.connect(self._failed)

    # --- guards ---------------------------------------------------------------------------------
    def _save_path(self, title: str, suggestion: str, file_filter: str, kind: str = "exports") -> str | None:
        return file_dialogs.save_file(self.window, kind, title, suggestion, file_filter)

    def _needs_model(self) -> bool:
        if self.window.opened is None:
            self.window.show_error("open a model first")
            return False
        return True

    def _needs_path(self) -> bool:
        if not self._needs_model():
            return False
        if not self.session.has_path:
            self.window.show_error("set interpolation end points A and B first")
            return False
        return True

    # --- grid and the image as shown ------------------------------------------------------------
    def export_grid_dialog(self) -> None:
        if not self._needs_model():
            return
        dialog = GridExportDialog(self.window, seed=self.session.seed, num_classes=self.session.num_classes)
        if dialog.exec() != GridExportDialog.Accepted:
            return
        path = self._save_path("Export image grid", "genstudio-grid.png", "PNG image (*.png)")
        if path:
            self.export_grid(Path(path), dialog.values())

    def export_grid(self, path: Path, values: dict) -> None:
        """A grid of seeds, or of the current latent along the principal directions or varied
        (core/grid_latents.py); its latents go in a JSON beside it."""
        s = self.session
        try:
            latents = grid_latents(values.get("kind", "seeds"), values["rows"], values["cols"], values["seed"],
                                   s.temperature, s.z, s.directions)
        except ValueError as exc:
            self.window.show_error(f"grid export: {exc}")
            return
        about = {"checkpoint": s.checkpoint, "grid": values.get("kind", "seeds"), "seed": values["seed"]}
        labels = s.labels(len(latents))
        if labels is not None and values.get("class_per_row"):
            # Row r is class r (mod the class count): (rows * cols,) in the grid's row-major order.
            labels = torch.arange(values["rows"]).repeat_interleave(values["cols"]) % s.num_classes
            about["classes"] = "one per row"
        self.export(ExportImages(path, latents, labels, kind="grid", cols=values["cols"],
                                 padding=values["padding"], scale=values["scale"],
                                 options=s.decode_options_with_edit(), about=about))

    def export_shown(self, path: Path, scale: int = 1) -> Path | None:
        """The explorer's image exactly as shown (its pixels, upscaled `scale` times), with the
        latent record that reproduces it beside it."""
        image = self.window.explore.last_image
        if image is None or image.ndim != 3:
            self.window.show_error("export as shown: no image is shown")
            return None
        written = save_grid(image[None], path, cols=1, padding=0, scale=scale)
        self.session.save_record(latents_path(written))
        self.window.show_status(f"wrote {written}")
        self.window.exported.emit(str(written))
        return written

    def export_shown_dialog(self) -> None:
        if self._needs_model():
            path = self._save_path("Export the image as shown", "genstudio-image.png", "PNG image (*.png)")
            if path:
                self.export_shown(Path(path), self.window.explore_actions.copy_scale)

    # --- walks, strips, GIFs --------------------------------------------------------------------
    def export_walk_dialog(self) -> None:
        if not self._needs_model():
            return
        dialog = WalkDialog(self.window, seed=self.session.seed, has_path=self.session.has_path,
                            map_points=len(self.window.map.picked_latents()))
        if dialog.exec() != WalkDialog.Accepted:
            return
        values = dialog.values()
        suffix = values["format"]
        path = self._save_path("Export a walk", f"genstudio-walk.{suffix}", f"{suffix.upper()} (*.{suffix})")
        if path:
            self.export_walk(Path(path), values)

    def walk_keys(self, values: dict) -> torch.Tensor:
        """(K, D) key latents: seeds, the A/B pair, the points picked on the latent map (in the order
        picked), or the latents of a JSON (an export's, or a latent record)."""
        s = self.session
        if values["keys"] == "seeds":
            return torch.stack([s.seeded_latent(seed) for seed in parse_seeds(values["seeds"])])
        if values["keys"] == "ab":
            if not s.has_path:
                raise ValueError("set A and B first")
            return torch.stack([s.a, s.b])
        if values["keys"] == "map":
            picked = self.window.map.picked_latents()
            if len(picked) < 2:
                raise ValueError("pick at least two points on the latent map first")
            return torch.as_tensor(picked, dtype=torch.float32).reshape(len(picked), -1)
        path = Path(values["file"])
        try:
            record = json.loads(path.read_bytes())
            rows = record["latents"] if "latents" in record else [record["latent"]]
            keys = torch.tensor(rows, dtype=torch.float32).reshape(len(rows), -1)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a file of latents ({first_line(exc)})") from None
        if keys.shape[1] != s.latent_dim:
            raise ValueError(f"{path}: its latents have {keys.shape[1]} numbers, this model takes {s.latent_dim}")
        return keys

    def export_walk(self, path: Path, values: dict) -> None:
        """A walk through key latents with slerp between them (core/walk.py), as a GIF or an MP4."""
        s = self.session
        try:
            keys = self.walk_keys(values)
            frames = walk_latents(keys, values["frames"], loop=values["loop"], spherical=s.spherical)
        except ValueError as exc:
            self.window.show_error(f"walk: {exc}")
            return
        about = {"checkpoint": s.checkpoint, "walk": values["keys"], "keys": keys.tolist(), "loop": values["loop"],
                 "fps": values["fps"]}
        labels = s.labels(len(frames))
        if labels is not None and values["keys"] == "ab":
            # A and B keep a class each: every frame the class of its nearer end, as in the explorer's strip.
            labels = walk_labels(torch.tensor([s.a_label, s.b_label]), values["frames"], values["loop"])
        self.export(ExportImages(path, frames, labels, kind=values["format"],
                                 frame_ms=round(1000 / values["fps"]), scale=values["scale"], boomerang=False,
                                 options=s.decode_options_with_edit(), about=about))

    def export_strip_dialog(self) -> None:
        if self._needs_path():
            path = self._save_path("Export interpolation strip", "genstudio-strip.png", "PNG image (*.png)")
            if path:
                latents = self.session.path_latents()
                self.export(ExportImages(Path(path), latents, self.session.path_labels(len(latents)), kind="strip",
                                         scale=2, options=self.session.decode_options_with_edit()))

    def export_gif_dialog(self, frames: int = 24) -> None:
        if self._needs_path():
            path = self._save_path("Export interpolation GIF", "genstudio-path.gif", "GIF animation (*.gif)")
            if path:
                latents = self.session.path_latents(frames)
                self.export(ExportImages(Path(path), latents, self.session.path_labels(frames), kind="gif", scale=4,
                                         options=self.session.decode_options_with_edit()))

    # --- style mixing ---------------------------------------------------------------------------
    def export_style_mixing_dialog(self) -> None:
        """The StyleGAN paper's mixing grid for a model with a W space (File menu; enabled for those)."""
        if not self._needs_model():
            return
        if not self.window.opened.has(Capability.STYLE_SPACE):
            self.window.show_error("style mixing needs a style-based model (one with a W space)")
            return
        chosen = self.session.decode_options.get("mix_layers", 0)
        dialog = StyleMixingDialog(self.window, seed=self.session.seed,
                                   layers=GROUPS[chosen - 1] if chosen else "coarse")
        if dialog.exec() != StyleMixingDialog.Accepted:
            return
        path = self._save_path("Export style-mixing grid", "genstudio-style-mixing.png", "PNG image (*.png)")
        if path:
            self.export_style_mixing(Path(path), dialog.values())

    def export_style_mixing(self, path: Path, values: dict) -> None:
        try:
            seeds_a, seeds_b = parse_seeds(values["seeds_a"]), parse_seeds(values["seeds_b"])
        except ValueError as exc:
            self.window.show_error(f"style mixing: {exc}")
            return
        label = self.session.label if self.session.num_classes else None
        self.export(ExportMixingGrid(path, seeds_a, seeds_b, values["layers"], label, values["scale"],
                                     dict(self.session.decode_options)))

    # --- the renderer ---------------------------------------------------------------------------
    def export(self, request) -> None:
        """Exports decode in the renderer, each on a channel of its own (none may drop another)."""
        self._count += 1
        channel = f"export-{self._count}"
        self.renderer.submit(channel, request)
        self.window.explore.track_decode(channel, f"writing {request.path.name}")   # Cancel / Esc stop it
        self.window.show_status(f"writing {request.path}\u2026")

    def _written(self, channel: str, result, ms: float) -> None:
        if channel.startswith("export-"):
            self.window.show_status(f"wrote {result}")
            self.window.exported.emit(str(result))

    def _failed(self, channel: str, message: str) -> None:
        if channel.startswith("export-"):
            self.window.show_error(f"export failed: {message}")

    # --- the latent record ----------------------------------------------------------------------
    def save_latent_dialog(self) -> None:
        if self._needs_model():
            path = self._save_path("Save latent", "genstudio-latent.json", "JSON (*.json)", kind="latents")
            if path:
                try:
                    self.window.show_status(f"wrote {self.session.save_record(path)}")
                    self.window.exported.emit(str(path))
                except OSError as exc:
                    self.window.show_error(f"{path}: {exc}")

    def load_latent_dialog(self) -> None:
        if not self._needs_model():
            return
        path = file_dialogs.open_file(self.window, "latents", "Load latent", "JSON (*.json)")
        if path:
            try:
                self.window.explore.load_latent_json(path)
            except GenStudioError as exc:
                self.window.show_error(str(exc))
