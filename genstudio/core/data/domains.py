"""Two image domains for translation models, and the bundled pairs made from MNIST.

`two_domains(a, b)` is one data set whose images are A's then B's and whose labels are the domain
(0: A, 1: B), with label names "A: <a's name>" and "B: <b's name>". The smaller domain's images are
repeated (a seeded draw) until both hold as many, so a batch drawn at random holds about as many
of each, as the public code pairs A[i] with a random B. The two sets must have one image shape.

The bundled pairs split the 10,000 bundled test digits in two halves that share no image
(unpaired): A is the even-numbered digits as they are, B the odd-numbered ones changed by `thick`
(strokes one pixel thicker: a 3 x 3 maximum) or `inverted` (dark ink on white). Not the first and
the second 5,000: MNIST's test set is ordered by writer group, and the second half's writers differ
from the first's enough that the exact `thick` change of A scored precision 0.70 against B's own
0.90 (5,000 samples); an interleaved split has the same writers on both sides (0.89 against 0.89). The same changes apply to any image
set as the specs `thick:SPEC` and `inverted:SPEC` (data/spec.py), so each domain of a pair, and
the target domain a translation is diagnosed against, is a spec of its own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genstudio.core.data.dataset import InMemoryDataset
from genstudio.core.errors import DataError

DOMAIN_NAMES = ("A", "B")
# Keyword -> the two-domain spec it stands for.
BUNDLED_PAIRS = {
    "mnist-thick": "A=mnist[0:10000:2],B=thick:mnist[1:10000:2]",
    "mnist-inverted": "A=mnist[0:10000:2],B=inverted:mnist[1:10000:2]",
}
CHANGES = ("thick", "inverted")


def _ink_is_dark(images: torch.Tensor) -> bool:
    """True when the background is light: the mean border pixel of (up to) 500 images is above mid-grey."""
    sample = images[:500].float()
    border = torch.cat([sample[:, :, 0].flatten(), sample[:, :, -1].flatten()])
    return bool(border.mean() > 127)


def changed(dataset: InMemoryDataset, change: str) -> InMemoryDataset:
    """`dataset`'s images with thicker strokes ('thick': a 3 x 3 maximum of the ink, dark or light) or
    inverted ('inverted': 255 - x), labels kept. (N, C, H, W) uint8 in, the same shape out."""
    if dataset.is_points:
        raise DataError(f"{change}:{dataset.source}: 2-D points have no strokes to change")
    x = dataset.data
    if change == "thick":
        dark = _ink_is_dark(x)
        ink = 255 - x if dark else x
        thick = F.max_pool2d(ink.float(), 3, stride=1, padding=1).to(torch.uint8)
        data = 255 - thick if dark else thick
    elif change == "inverted":
        data = 255 - x
    else:
        raise DataError(f"unknown change '{change}': choose one of {', '.join(CHANGES)}")
    labels = None if dataset.labels is None else dataset.labels.clone()
    return InMemoryDataset(f"{dataset.name} ({change})", data, labels, list(dataset.label_names),
                           f"{change}:{dataset.source}")


def two_domains(a: InMemoryDataset, b: InMemoryDataset, seed: int = 0) -> InMemoryDataset:
    """One set of A's and B's images, labels the domain (0 / 1), the smaller one repeated to the
    larger's count. Its source is `A=<a's source>,B=<b's source>`, which loads it again."""
    for name, part in zip(DOMAIN_NAMES, (a, b)):
        if part.is_points:
            raise DataError(f"domain {name} ({part.source}): translation needs images, not 2-D points")
    if a.shape != b.shape:
        raise DataError(f"the two domains differ in image shape: A ({a.source}) is {list(a.shape)}, "
                        f"B ({b.source}) is {list(b.shape)}; give both the same size and channels "
                        f"(folder:PATH?size=N&channels=C)")
    count = max(len(a), len(b))
    g = torch.Generator().manual_seed(seed)

    def filled(part: InMemoryDataset) -> torch.Tensor:
        extra = count - len(part)
        if extra == 0:
            return part.data
        return torch.cat([part.data, part.data[torch.randint(len(part), (extra,), generator=g)]])

    data = torch.cat([filled(a), filled(b)])
    labels = torch.cat([torch.zeros(count, dtype=torch.long), torch.ones(count, dtype=torch.long)])
    return InMemoryDataset(f"{a.name} <-> {b.name}", data, labels, [f"A: {a.name}", f"B: {b.name}"],
                           f"A={a.source},B={b.source}", two_domains=True)


def names_two_domains(spec: str) -> bool:
    """Whether `spec` asks for two domains (A=...,B=... or a bundled pair), well formed or not."""
    text = spec.strip()
    return text.lower() in BUNDLED_PAIRS or text[:2].upper() == "A="


def split_domains(spec: str) -> tuple[str, str] | None:
    """('SPEC_A', 'SPEC_B') of a two-domain spec `A=SPEC_A,B=SPEC_B` (or a bundled pair's keyword);
    None for any other spec. B's spec is after the last ',B=', so A's may hold commas."""
    if not names_two_domains(spec):
        return None
    text = BUNDLED_PAIRS.get(spec.strip().lower(), spec.strip())
    cut = text.upper().rfind(",B=")
    if cut < 0:
        raise DataError(f"{spec}: a two-domain spec is A=SPEC,B=SPEC (',B=' not found)")
    first, second = text[2:cut].strip(), text[cut + 3:].strip()
    if not first or not second:
        raise DataError(f"{spec}: both domains need a spec (A=SPEC,B=SPEC)")
    return first, second
