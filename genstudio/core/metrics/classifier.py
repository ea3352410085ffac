"""Feature spaces for the image metrics (docs/diagnostics.md, "features from a classifier").

Labelled image sets get a small CNN trained on the data set itself: its predicted classes feed the
class histogram, its 128-D penultimate features feed PRDC, NDB, duplicates, Fréchet distance and
diversity (the "Fréchet LeNet distance" idea: Inception weights are not available offline, and a
domain classifier is the better feature extractor for digits). Unlabelled image sets fall back to
PCA of the pixels (64-D), fit on the real images. A slice of a data set (`mnist[9000:]`, see
InMemoryDataset.cut_from) is measured in the whole set's space: one classifier per source, so the
figures of a slice and of the whole set compare. Every report names the space it used and the set
it was made from.

The classifier trains on 80 % of the data set and reports its accuracy on the other 20 % (MNIST's
bundled 10k test set: 8,000 / 2,000). It is cached as a safetensors file in a cache folder (default
`classifiers` in the user cache folder of genstudio.core.runtime.user_dirs: on Linux
$XDG_CACHE_HOME/genstudio/classifiers, else ~/.cache/genstudio/classifiers), keyed by a hash of
the data set's name, shape, labels and pixels, written atomically and loaded without pickle.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from pathlib import Path

import safetensors
import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.data.pixels import to_unit_float
from genstudio.core.errors import first_line
from genstudio.core.io.atomic import write_bytes_atomic
from genstudio.core.metrics import check_stop
from genstudio.core.runtime.user_dirs import user_cache_dir

log = logging.getLogger(__name__)

FORMAT = "genstudio-classifier"
# Bump when the network or its training recipe changes: the cache key changes, old files are ignored.
ARCH_VERSION = 1
FEATURE_DIM = 128
WIDTH = 16
TRAIN_STEPS = 1200           # x 128 images: ~19 epochs of 8,000 MNIST digits
BATCH_SIZE = 128
LEARNING_RATE = 3e-3
HOLDOUT_FRACTION = 0.2
SPLIT_SEED = 0
PCA_DIM = 64
PCA_FIT_SAMPLES = 10_000
EMBED_BATCH = 512          # images per forward: larger batches fall out of the CPU caches


def default_cache_dir() -> Path:
    """`classifiers` in the user cache folder: on Linux $XDG_CACHE_HOME/genstudio/classifiers, or
    ~/.cache/genstudio/classifiers (macOS ~/Library/Caches/genstudio/classifiers, Windows
    %LOCALAPPDATA%\\genstudio\\Cache\\classifiers)."""
    return user_cache_dir() / "classifiers"


def as_float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 or float [0, 1] images (n, C, H, W) -> float32 [0, 1] on the CPU."""
    return to_unit_float(images.detach().cpu())


class CNNClassifier(nn.Module):
    """(B, C, H, W) in [0, 1] -> class logits (B, classes) and penultimate features (B, 128).

    Two strided conv blocks (5x5 and 3x3, stride 2, 16 and 32 channels, batch norm) and a 128-unit
    ReLU layer: about 0.5 M multiply-adds per 28 px image. Striding from the first layer keeps
    every activation at <= 14x14: a first conv at full resolution made embedding 5-10x slower on
    CPU, the time going into moving its (B, 16, 28, 28) activations rather than into arithmetic.
    """

    def __init__(self, data_shape: tuple[int, int, int], num_classes: int):
        super().__init__()
        channels, height, width = data_shape
        if height < 4 or width < 4:
            raise ValueError(f"the feature classifier needs images of at least 4x4 pixels, got {height}x{width}")
        self.data_shape = (channels, height, width)
        h4, w4 = (height + 3) // 4, (width + 3) // 4                    # size after two stride-2 convs
        self.body = nn.Sequential(
            nn.Conv2d(channels, WIDTH, 5, stride=2, padding=2), nn.BatchNorm2d(WIDTH), nn.ReLU(),   # (B, 16, H/2, W/2)
            nn.Conv2d(WIDTH, 2 * WIDTH, 3, stride=2, padding=1), nn.BatchNorm2d(2 * WIDTH), nn.ReLU(),  # (B, 32, H/4, W/4)
            nn.Flatten(),
            nn.Linear(2 * WIDTH * h4 * w4, FEATURE_DIM), nn.ReLU(),                                 # (B, 128)
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x * 2 - 1)                                   # (B, 128)
        return self.head(self.dropout(features)), features


def random_affine(x: torch.Tensor, generator: torch.Generator, degrees: float = 0.0, scale: float = 0.0,
                  shift: float = 0.0) -> torch.Tensor:
    """(B, C, H, W) -> same shape, each image rotated by U(-degrees, degrees), scaled by
    U(1 - scale, 1 + scale) and moved by U(-shift, shift) pixels along each axis (bilinear, zeros
    outside). The draws come in that order from `generator`, whichever of them are 0."""
    n, _, height, width = x.shape
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(degrees)
    factor = 1 + (torch.rand(n, generator=generator) * 2 - 1) * scale
    # affine_grid's coordinates span [-1, 1]: one pixel is 2 / side.
    offset = (torch.rand(n, 2, generator=generator) * 2 - 1) * torch.tensor([2.0 * shift / width, 2.0 * shift / height])
    cos, sin = torch.cos(angle) / factor, torch.sin(angle) / factor
    theta = torch.stack([torch.stack([cos, -sin, offset[:, 0]], 1),
                         torch.stack([sin, cos, offset[:, 1]], 1)], 1)    # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def _split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, held-out indices): a fixed 80/20 permutation of range(n)."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_hold = int(round(n * HOLDOUT_FRACTION))
    return perm[n_hold:], perm[:n_hold]


def _check_labelled_images(dataset: InMemoryDataset) -> None:
    if dataset.is_points:
        raise ValueError(f"{dataset.name}: 2-D points use their raw coordinates, not a feature classifier")
    if dataset.num_classes < 2 or dataset.labels is None:
        raise ValueError(f"{dataset.name}: the feature classifier needs a data set labelled with 2 or more classes")
    if len(dataset) < 50:
        raise ValueError(f"{dataset.name}: {len(dataset)} images are too few to train a feature classifier")


@torch.no_grad()
def _accuracy(model: CNNClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(images), EMBED_BATCH):
        logits, _ = model(as_float_images(images[start:start + EMBED_BATCH]))
        correct += int((logits.argmax(1) == labels[start:start + EMBED_BATCH]).sum())
    return correct / max(len(images), 1)


def train_classifier(dataset: InMemoryDataset, steps: int = TRAIN_STEPS, seed: int = 0,
                     progress=None, should_stop=None) -> tuple[CNNClassifier, dict]:
    """Train the CNN on 80 % of a labelled image set; return it (eval mode) and a JSON-able summary
    with its accuracy on the held-out 20 %. Runs on the CPU and leaves the global RNG untouched."""
    _check_labelled_images(dataset)
    images, labels = dataset.data.cpu(), dataset.labels.cpu()
    train_idx, hold_idx = _split(len(dataset))
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        model = CNNClassifier(dataset.shape, dataset.num_classes)
        optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
        # One-cycle: warm up, then anneal to ~0, which is what lets ~20 epochs reach 98+ %.
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, LEARNING_RATE, total_steps=steps)
        model.train()
        for step in range(steps):
            if step % 10 == 0:     # ~0.1 s apart: quitting the app mid-training waits no longer
                check_stop(should_stop, "training the feature classifier")
                if progress is not None:
                    progress(step / steps, f"training the feature classifier on {dataset.name} ({step}/{steps} steps)")
            batch = train_idx[torch.randint(len(train_idx), (BATCH_SIZE,), generator=generator)]
            # 8,000 digits are too few for a safe 98 % without augmentation; with it MNIST reaches
            # about 99 % held out.
            x = random_affine(as_float_images(images[batch]), generator, degrees=10, scale=0.1, shift=2)  # (128, C, H, W)
            logits, _ = model(x)
            loss = F.cross_entropy(logits, labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    info = {
        "holdout_accuracy": _accuracy(model, images[hold_idx], labels[hold_idx]),
        "train_samples": len(train_idx),
        "holdout_samples": len(hold_idx),
        "train_seconds": time.perf_counter() - start,
        "steps": steps,
        "batch_size": BATCH_SIZE,
    }
    return model, info


# --- the cache ------------------------------------------------------------------------------
def dataset_key(dataset: InMemoryDataset) -> str:
    """Hex SHA-256 of the data set's name, shape, label names, labels and pixels, and ARCH_VERSION."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"name": dataset.name, "shape": list(dataset.shape), "size": len(dataset),
                              "label_names": list(dataset.label_names), "arch": ARCH_VERSION}).encode())
    if dataset.labels is not None:
        digest.update(dataset.labels.cpu().contiguous().numpy().tobytes())
    digest.update(dataset.data.cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def classifier_path(dataset: InMemoryDataset, cache_dir: str | Path | None = None) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset.name)[:40] or "data"
    return Path(cache_dir or default_cache_dir()) / f"{slug}-{dataset_key(dataset)[:16]}.safetensors"


def _save(path: Path, model: CNNClassifier, header: dict) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = safetensors.torch.save(tensors, metadata={"genstudio": json.dumps(header)})
    write_bytes_atomic(path, payload)


def _load(path: Path, key: str) -> tuple[CNNClassifier, dict]:
    """Rebuild the CNN from a cache file; ValueError when the file is not the one for `key`."""
    with safetensors.safe_open(str(path), framework="pt") as handle:
        header = json.loads((handle.metadata() or {}).get("genstudio", "{}"))
    if header.get("format") != FORMAT or header.get("key") != key:
        raise ValueError("not a classifier for this data set")
    model = CNNClassifier(tuple(header["data_shape"]), int(header["num_classes"]))
    model.load_state_dict(safetensors.torch.load_file(str(path)))
    return model.eval(), header


class ClassifierFeatures:
    """The CNN's predicted classes and 128-D penultimate features for images of the data set's shape."""

    kind = "classifier"

    def __init__(self, model: CNNClassifier, header: dict, path: Path | None):
        self.model = model.eval()
        self.header = header
        self.path = path
        self.dim = FEATURE_DIM
        self.num_classes = int(header["num_classes"])
        self.class_names = list(header["label_names"])

    @torch.inference_mode()
    def embed_probabilities(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (n, C, H, W) uint8 or [0, 1] floats -> features (n, 128) float32 and class
        probabilities p(y | x) (n, classes) float32."""
        if tuple(images.shape[1:]) != self.model.data_shape:
            raise ValueError(f"images of shape {tuple(images.shape[1:])} do not match the classifier's "
                             f"{self.model.data_shape}")
        features, probabilities = [], []
        for start in range(0, len(images), EMBED_BATCH):
            logits, h = self.model(as_float_images(images[start:start + EMBED_BATCH]))
            features.append(h)
            probabilities.append(logits.softmax(1))
        if not features:
            return torch.zeros(0, self.dim), torch.zeros(0, self.num_classes)
        return torch.cat(features), torch.cat(probabilities)

    def embed(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (n, C, H, W) uint8 or [0, 1] floats -> features (n, 128) float32, classes (n,) int64."""
        features, probabilities = self.embed_probabilities(images)
        return features, probabilities.argmax(1)

    def describe(self) -> dict:
        h = self.header
        return {
            "space": "classifier",
            "dim": self.dim,
            # A file cached before headers held the source gives only the set's name.
            "description": (f"{self.dim}-D penultimate ReLU features of a 2-conv-layer CNN trained on "
                            f"{h.get('source') or h['dataset']} ({h['train_samples']} images; held-out accuracy "
                            f"{100 * h['holdout_accuracy']:.2f} % on {h['holdout_samples']})"),
            "holdout_accuracy": h["holdout_accuracy"],
            "train_samples": h["train_samples"],
            "holdout_samples": h["holdout_samples"],
            "cache_file": str(self.path) if self.path else None,
        }


def load_or_train_classifier(dataset: InMemoryDataset, cache_dir: str | Path | None = None,
                             progress=None, should_stop=None, steps: int = TRAIN_STEPS) -> ClassifierFeatures:
    """The cached classifier for `dataset`, training and caching it first (`steps` steps) when there
    is none. A cache file that cannot be read (truncated, another version) is retrained and replaced."""
    _check_labelled_images(dataset)
    key = dataset_key(dataset)
    path = classifier_path(dataset, cache_dir)
    if path.exists():
        try:
            model, header = _load(path, key)
            return ClassifierFeatures(model, header, path)
        except Exception as exc:  # any unreadable cache file is rebuilt, never trusted
            reason = first_line(exc)
            log.warning("%s: ignoring the cached classifier (%s); training a new one", path, reason)
    model, info = train_classifier(dataset, steps, progress=progress, should_stop=should_stop)
    header = {"format": FORMAT, "arch_version": ARCH_VERSION, "key": key, "dataset": dataset.name,
              "source": dataset.source, "data_shape": list(dataset.shape), "num_classes": dataset.num_classes,
              "label_names": list(dataset.label_names), **info}
    try:
        _save(path, model, header)
    except OSError as exc:  # a read-only cache only costs a retrain next time
        log.warning("%s: cannot cache the classifier (%s)", path, exc)
        path = None
    return ClassifierFeatures(model, header, path)


class PCAFeatures:
    """Fallback for unlabelled images: the top 64 principal components of the pixels (no classes)."""

    kind = "pca"
    num_classes = 0
    class_names: list[str] = []

    def __init__(self, dataset: InMemoryDataset, dim: int = PCA_DIM, fit_samples: int = PCA_FIT_SAMPLES,
                 seed: int = 0):
        from sklearn.decomposition import PCA  # imported here: only unlabelled sets need it

        if dataset.is_points:
            raise ValueError(f"{dataset.name}: 2-D points use their raw coordinates, not PCA features")
        self.data_shape = tuple(dataset.shape)
        n = min(fit_samples, len(dataset))
        index = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n]
        pixels = as_float_images(dataset.data[index.to(dataset.device)]).flatten(1)   # (n, P)
        self.dim = min(dim, n, pixels.shape[1])
        pca = PCA(n_components=self.dim, svd_solver="randomized", random_state=seed).fit(pixels.numpy())
        self.mean = torch.from_numpy(pca.mean_).float()                               # (P,)
        self.components = torch.from_numpy(pca.components_).float()                   # (dim, P)
        self.explained = float(pca.explained_variance_ratio_.sum())
        self.fit_samples = n
        self.dataset_source = dataset.source or dataset.name

    @torch.inference_mode()
    def embed(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        """images (n, C, H, W) -> PCA coordinates (n, dim) float32; no classes (None)."""
        if tuple(images.shape[1:]) != self.data_shape:
            raise ValueError(f"images of shape {tuple(images.shape[1:])} do not match the data's {self.data_shape}")
        out = [(as_float_images(images[s:s + EMBED_BATCH]).flatten(1) - self.mean) @ self.components.T
               for s in range(0, len(images), EMBED_BATCH)]
        return (torch.cat(out) if out else torch.zeros(0, self.dim)), None

    def describe(self) -> dict:
        return {
            "space": "pca",
            "dim": self.dim,
            "description": (f"PCA of pixels to {self.dim}-D, fit on {self.fit_samples} real images of "
                            f"{self.dataset_source} ({100 * self.explained:.1f} % of the variance); "
                            "the data set has no labels, so no classifier and no class metrics"),
            "explained_variance": self.explained,
            "fit_samples": self.fit_samples,
        }


def feature_space(dataset: InMemoryDataset, cache_dir: str | Path | None = None, progress=None,
                  should_stop=None) -> ClassifierFeatures | PCAFeatures:
    """The classifier for a labelled image set (cached), else PCA of pixels; for a slice, those of the
    whole set it was cut from (one classifier per source: diagnosing `mnist[9000:]` trains none of its own)."""
    if dataset.is_points:
        raise ValueError(f"{dataset.name}: 2-D points use their raw coordinates, not a feature space")
    whole = dataset if dataset.cut_from is None else dataset.cut_from
    if whole.num_classes >= 2:
        return load_or_train_classifier(whole, cache_dir, progress, should_stop)
    return PCAFeatures(whole)
