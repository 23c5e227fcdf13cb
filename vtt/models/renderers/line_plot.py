"""Vectorised time-series-to-image renderer (the vision branch's input)."""
import math
from typing import Optional, Sequence

import torch
from torch import nn

from vtt.registry import MODELS

__all__ = ['TimeSeriesRenderer', 'VARIATE_PALETTE']

# 20 well-separated line colours (matplotlib's tab20 order, as RGB in [0, 1]); variate i gets
# colour i mod 20.
VARIATE_PALETTE = (
    (0.122, 0.467, 0.706), (1.000, 0.498, 0.055), (0.173, 0.627, 0.173), (0.839, 0.153, 0.157),
    (0.580, 0.404, 0.741), (0.549, 0.337, 0.294), (0.890, 0.467, 0.761), (0.498, 0.498, 0.498),
    (0.737, 0.741, 0.133), (0.090, 0.745, 0.812), (0.682, 0.780, 0.910), (1.000, 0.733, 0.471),
    (0.596, 0.875, 0.541), (1.000, 0.596, 0.588), (0.773, 0.690, 0.835), (0.769, 0.612, 0.580),
    (0.969, 0.714, 0.824), (0.780, 0.780, 0.780), (0.859, 0.859, 0.553), (0.620, 0.855, 0.898),
)


@MODELS.register_module()
class TimeSeriesRenderer(nn.Module):
    """Draw each series as an anti-aliased line plot, a whole batch at once.

    The image of a series depends only on its own window: values are min-max normalised per
    series (a flat series is drawn at mid height), so any per-variate affine normalisation done
    before does not change the picture. Each variate is drawn in its own colour on white.

    Multi-scale: ``scales=(1.0, 0.5, 0.25)`` stacks horizontal bands that show the full window,
    its last half and its last quarter (each band normalised on its own), so short-term shape is
    visible at a larger size. Everything is torch tensor arithmetic (no matplotlib, no Python loop
    over samples or pixels), runs on the input's device and is deterministic.

    For every pixel column the line covers the vertical span between the polyline's heights at
    the column's left and right edges (so steep segments stay connected); a pixel's coverage falls
    off linearly with its distance from that span beyond ``line_width / 2`` (one-pixel
    anti-aliasing).

    Args:
        image_size (int): Height and width of the square image. Defaults to 224.
        line_width (float): Line thickness in pixels. Defaults to 2.0.
        margin (int): Empty border in pixels. Defaults to 4.
        scales (Sequence[float]): Fractions of the window shown, one band each.
        palette (Sequence): RGB colours in [0, 1], indexed by variate.
        chunk_size (int): Series rendered per chunk, bounding peak memory.
        out_dtype (str): ``'float32'`` (in [0, 1], what the vision encoder takes) or
            ``'uint8'`` (in [0, 255], for saving or display).
    """

    def __init__(self,
                 image_size: int = 224,
                 line_width: float = 2.0,
                 margin: int = 4,
                 scales: Sequence[float] = (1.0, ),
                 palette: Optional[Sequence[Sequence[float]]] = None,
                 chunk_size: int = 32,
                 out_dtype: str = 'float32'):
        super().__init__()
        if not scales or any(not 0 < s <= 1 for s in scales):
            raise ValueError(f'scales must be fractions in (0, 1], got {scales}')
        self.image_size = int(image_size)
        self.line_width = float(line_width)
        self.margin = int(margin)
        self.scales = tuple(float(s) for s in scales)
        self.chunk_size = int(chunk_size)
        if out_dtype not in ('float32', 'uint8'):
            raise ValueError(f"out_dtype must be 'float32' or 'uint8', got {out_dtype!r}")
        self.out_dtype = getattr(torch, out_dtype)
        palette = torch.tensor(palette or VARIATE_PALETTE, dtype=torch.float32)
        self.register_buffer('palette', palette, persistent=False)
        band = self.image_size // len(self.scales)
        if band < 2 * self.margin + 4:
            raise ValueError(f'image_size {image_size} too small for {len(self.scales)} bands')

    def extra_repr(self) -> str:
        return (f'image_size={self.image_size}, line_width={self.line_width}, '
                f'margin={self.margin}, scales={self.scales}')

    def cache_key(self) -> tuple:
        """Every setting that changes the pixels (for caches of features of the images)."""
        return (type(self).__name__, self.image_size, self.line_width, self.margin, self.scales,
                str(self.out_dtype), tuple(self.palette.flatten().tolist()))

    def _band(self, series: torch.Tensor, height: int):
        """Line plot of ``series [N, L]`` in a band of ``height`` rows, as row indices
        ``[N, K, W]`` (long) and their coverage in [0, 1] ``[N, K, W]``."""
        n, length = series.shape
        width, margin = self.image_size, self.margin
        low = series.amin(dim=1, keepdim=True)
        span = series.amax(dim=1, keepdim=True) - low
        unit = torch.where(span > 1e-8, (series - low) / span.clamp_min(1e-8),
                           torch.full_like(series, 0.5))
        # Pixel coordinates: rows grow downwards, so high values sit near the top.
        ys = margin + (1.0 - unit) * (height - 1 - 2 * margin)
        if length == 1:
            ys = ys.expand(n, 2)
            length = 2
        step = (width - 1 - 2 * margin) / (length - 1)
        cols = torch.arange(width, device=series.device, dtype=series.dtype)

        def height_at(position: torch.Tensor) -> torch.Tensor:
            # Linear interpolation of the polyline at x = position (clamped to its extent).
            t = ((position - margin) / step).clamp(0, length - 1)
            k = t.floor().long().clamp(max=length - 2)
            frac = (t - k).unsqueeze(0)
            return ys[:, k] * (1 - frac) + ys[:, k + 1] * frac

        left, right = height_at(cols - 0.5), height_at(cols + 0.5)
        reach = 1.0 + self.line_width / 2  # coverage reaches zero this far beyond the span
        inside = (cols >= margin) & (cols <= width - 1 - margin)
        # Columns outside the plot get an empty span, hence zero coverage.
        top = torch.where(inside, torch.minimum(left, right), torch.full_like(left, 1e4)) - reach
        bottom = torch.where(inside, torch.maximum(left, right),
                             torch.full_like(left, -1e4)) + reach
        # Only a window of rows around each column's span can be covered: evaluate coverage
        # there ([N, K, W] with K << height) and scatter it into the image, instead of computing
        # a distance for every pixel. The window is shifted to stay inside the band.
        extent = float((bottom - top).clamp_min(0).max()) if n else 0.0
        window = int(min(height, math.ceil(extent) + 2))
        start = top.floor().clamp(0, height - window)
        rows = start.unsqueeze(1) + torch.arange(
            window, device=series.device, dtype=series.dtype).view(1, -1, 1)
        coverage = torch.minimum(rows - top.unsqueeze(1), bottom.unsqueeze(1) - rows).clamp_(0, 1)
        return rows.long(), coverage

    def _render_chunk(self, series: torch.Tensor, colours: torch.Tensor,
                      out: torch.Tensor) -> None:
        """Render ``series [n, L]`` into the preallocated ``out [n, 3, H, W]``."""
        length = series.shape[1]
        heights = [self.image_size // len(self.scales)] * len(self.scales)
        heights[-1] += self.image_size - sum(heights)
        full = 255.0 if out.dtype == torch.uint8 else 1.0
        out.fill_(full)  # white background
        shade = ((colours - 1.0) * full).view(-1, 3, 1, 1)
        row0 = 0
        for scale, height in zip(self.scales, heights):
            keep = max(2, math.ceil(scale * length)) if length > 1 else 1
            rows, coverage = self._band(series[:, length - keep:], height)
            # Blend white towards the variate's colour by the line coverage.
            values = full + coverage.unsqueeze(1) * shade
            if out.dtype == torch.uint8:
                values = values.round_()
            index = rows.unsqueeze(1).expand(-1, 3, -1, -1)
            out[:, :, row0:row0 + height].scatter_(2, index, values.to(out.dtype))
            row0 += height

    @torch.no_grad()
    def forward(self, series: torch.Tensor, variate_index: Optional[torch.Tensor] = None,
                out: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Render series to images.

        Args:
            series (Tensor): ``[N, T]`` one series per image, or ``[B, V, T]`` (variate ``v``
                is then drawn in colour ``v``).
            variate_index (Tensor, optional): ``[N]`` colour index per series for ``[N, T]``
                input. Defaults to 0.
            out (Tensor, optional): A contiguous ``[N, 3, H, W]`` tensor of the renderer's
                ``out_dtype`` to render into. Reusing one buffer across calls saves the cost of
                touching freshly allocated memory, which dominates at large batches.

        Returns:
            Tensor: images ``[N, 3, H, W]`` or ``[B, V, 3, H, W]``; float in [0, 1], or uint8
            in [0, 255] when the renderer was built with ``out_dtype='uint8'``.
        """
        batch_shape = series.shape[:-1]
        if series.dim() == 3:
            b, v, _ = series.shape
            variate_index = torch.arange(v, device=series.device).repeat(b)
        elif series.dim() != 2:
            raise ValueError(f'series must be [N, T] or [B, V, T], got {tuple(series.shape)}')
        flat = series.reshape(-1, series.shape[-1]).float()
        if variate_index is None:
            variate_index = torch.zeros(flat.shape[0], dtype=torch.long, device=flat.device)
        palette = self.palette.to(flat.device)
        colours = palette[variate_index.to(flat.device).long() % palette.shape[0]]
        size = self.image_size
        shape = (flat.shape[0], 3, size, size)
        if out is None:
            out = torch.empty(shape, dtype=self.out_dtype, device=flat.device)
        elif out.shape != shape or out.dtype != self.out_dtype or not out.is_contiguous():
            raise ValueError(f'out must be a contiguous {self.out_dtype} tensor of shape {shape}')
        # Chunks keep the temporaries small enough for the allocator to reuse them.
        for i in range(0, flat.shape[0], self.chunk_size):
            self._render_chunk(flat[i:i + self.chunk_size], colours[i:i + self.chunk_size],
                               out[i:i + self.chunk_size])
        return out.reshape(*batch_shape, 3, self.image_size, self.image_size)
