"""SYNTHETIC weather-chart-like images in the meteo data contract (not real charts).

Real forecast-office charts are not distributed, so the demos and tests run on images drawn
here. Each product is defined by its required + optional elements (:data:`PRODUCTS`); an image
of a product draws exactly the elements of its label, so element labels are exact. Elements:

* ``pressure``: isobars (contours of a smooth field) with values, H/L centres
* ``height``: thick geopotential-height contours with 3-digit values
* ``wind``: wind barbs on a grid, following the gradient of a stream field
* ``temperature``: warm-cold shading with a colour bar
* ``precipitation``: rain-rate patches (green-blue) with a colour bar
* ``radar_echo``: reflectivity cells in the dBZ palette
* ``satellite_cloud``: grey infrared-like cloud texture
* ``front``: cold (triangles) or warm (semicircles) fronts
* ``typhoon_track``: a track with position dots and typhoon symbols

Every chart has a coastline, a lat/lon grid and a title with a valid time. Negatives
(``is_meteo: 0``) include HARD ones that share the charts' ingredients: business line charts
and bar charts with legends and titles, smooth colour fields, and maps that are not weather
charts (plain base maps with coastlines, grids and place names; terrain maps with elevation
tints and contour lines); the easy ones are tables, text pages and photo-like noise.

Drawing is vectorised numpy (fields, contours, shading) plus Pillow (lines, text); writing
the collection is atomic (a temporary folder renamed into place).
"""
import json
import os
import os.path as osp
import shutil
import tempfile
import time
from typing import Dict, Tuple

import numpy as np
import yaml
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from vtt.utils.errors import ConfigError

__all__ = ['ELEMENTS', 'PRODUCTS', 'NEGATIVE_KINDS', 'draw_chart', 'draw_negative',
           'write_meteo_charts']

#: id -> (zh, en, aliases)
ELEMENTS: Dict[str, Tuple[str, str, Tuple[str, ...]]] = {
    'pressure': ('气压场', 'pressure field', ('等压线', '气压', 'isobars')),
    'height': ('位势高度', 'geopotential height', ('高度场', 'geopotential')),
    'wind': ('风场', 'wind field', ('风力', '风速', 'wind barbs')),
    'temperature': ('温度', 'temperature', ('气温', 'temp')),
    'precipitation': ('降水', 'precipitation', ('降雨', '雨量', 'rain')),
    'radar_echo': ('雷达回波', 'radar echo', ('雷达', 'reflectivity', '雷达降水')),
    'satellite_cloud': ('卫星云图', 'satellite cloud', ('云图', 'infrared cloud')),
    'front': ('锋面', 'front', ('冷锋', '暖锋')),
    'typhoon_track': ('台风路径', 'typhoon track', ('台风', 'tropical cyclone track')),
}

#: id -> (zh, title, required elements, optional elements); element sets overlap on purpose.
PRODUCTS = {
    'surface_pressure': ('地面气压场', 'Surface pressure', ('pressure', ), ('front', )),
    'surface_analysis': ('地面分析图', 'Surface analysis', ('pressure', 'front'), ('wind', )),
    '850hpa_wind_temperature': ('850hPa风场和温度', '850hPa wind and temperature',
                                ('wind', 'temperature'), ('height', )),
    '500hpa_height_wind': ('500hPa高度场和风场', '500hPa height and wind', ('height', 'wind'),
                           ('temperature', )),
    '500hpa_height_temperature': ('500hPa高度和温度', '500hPa height and temperature',
                                  ('height', 'temperature'), ()),
    '2m_temperature': ('2米气温', '2 m temperature', ('temperature', ), ()),
    '24h_max_wind': ('24小时最大风速', '24 h maximum wind', ('wind', ), ()),
    '24h_precipitation': ('24小时降水量', '24 h precipitation', ('precipitation', ),
                          ('pressure', )),
    'precipitation_wind': ('降水和风场', 'Precipitation and wind', ('precipitation', 'wind'),
                           ()),
    'radar_composite': ('雷达组合反射率', 'Radar composite reflectivity', ('radar_echo', ), ()),
    'satellite_ir': ('红外卫星云图', 'Infrared satellite', ('satellite_cloud', ), ('front', )),
    'typhoon_forecast': ('台风路径预报', 'Typhoon track forecast', ('typhoon_track', ),
                         ('satellite_cloud', 'wind')),
}

NEGATIVE_KINDS = ('line_chart', 'bar_chart', 'table', 'text_page', 'photo_noise',
                  'smooth_field', 'base_map', 'terrain_map')
#: Negative kinds that share a chart's ingredients: axes, legends and titles (business
#: charts), colour fields, and maps with coastlines, grids and contour lines but no weather.
HARD_NEGATIVES = ('line_chart', 'bar_chart', 'smooth_field', 'base_map', 'terrain_map')

_LOGO_TEXTS = ('NMC', 'CMA', 'WX', 'MET', 'OBS', 'NWP')


# --------------------------------------------------------------------------- fields
def _smooth_field(rng, h, w, bumps=6, scale=0.25):
    """A smooth random field ``[h, w]`` in about [-1, 1]: a sum of Gaussian bumps."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= h
    xx /= w
    field = np.zeros((h, w), np.float32)
    for _ in range(bumps):
        cy, cx = rng.uniform(-0.1, 1.1, 2)
        sy, sx = rng.uniform(0.5, 1.5, 2) * scale
        field += rng.uniform(-1, 1) * np.exp(-((yy - cy)**2 / (2 * sy**2) +
                                               (xx - cx)**2 / (2 * sx**2)))
    field += rng.uniform(-0.5, 0.5) * xx + rng.uniform(-0.5, 0.5) * yy
    return field / max(1e-6, float(np.abs(field).max()))


def _contour_mask(field, interval):
    """Pixels where ``field`` crosses a multiple of ``interval`` (1-pixel isolines)."""
    level = np.floor(field / interval)
    mask = np.zeros(field.shape, bool)
    mask[:, 1:] |= level[:, 1:] != level[:, :-1]
    mask[1:, :] |= level[1:, :] != level[:-1, :]
    return mask


def _colormap(values, name):
    from matplotlib import colormaps
    return (colormaps[name](np.clip(values, 0, 1))[..., :3] * 255).astype(np.uint8)


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _colour_bar(draw, box, name, rng, font):
    x0, y0, x1, y1 = box
    ramp = _colormap(np.linspace(0, 1, y1 - y0)[::-1], name)
    for i, colour in enumerate(ramp):
        draw.line([(x0, y0 + i), (x1, y0 + i)], fill=tuple(int(c) for c in colour))
    draw.rectangle(box, outline=(0, 0, 0))
    for k in range(4):
        y = y0 + k * (y1 - y0) // 3
        draw.text((x1 + 2, y - 5), str(int(rng.integers(0, 40)) + 10 * k), fill=(0, 0, 0),
                  font=font)


def _map_colours(rng):
    """Sea and land colours of a base map, jittered a little per image."""
    sea = np.clip(np.array([235, 245, 255]) + rng.normal(0, 6, 3), 0, 255).astype(np.uint8)
    land = np.clip(np.array([245, 240, 225]) + rng.normal(0, 6, 3), 0, 255).astype(np.uint8)
    return sea, land


# --------------------------------------------------------------------------- elements
def _draw_pressure(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    field = _smooth_field(rng, h, w)
    canvas[_contour_mask(field, 0.2)] = (30, 30, 160)
    for _ in range(3):
        y, x = int(rng.integers(10, h - 20)), int(rng.integers(10, w - 30))
        draw.text((x, y), str(int(1000 + 20 * field[y, x])), fill=(30, 30, 160), font=font)
    for extreme, letter, colour in ((np.argmax, 'H', (0, 0, 200)), (np.argmin, 'L',
                                                                       (200, 0, 0))):
        y, x = np.unravel_index(extreme(field), field.shape)
        draw.text((min(int(x), w - 14), min(int(y), h - 16)), letter, fill=colour,
                  font=_font(16))


def _draw_height(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    field = _smooth_field(rng, h, w, bumps=3, scale=0.4)
    mask = _contour_mask(field, 0.25)
    mask[1:] |= mask[:-1]  # thick lines
    canvas[mask] = (120, 0, 140)
    for _ in range(3):
        y, x = int(rng.integers(10, h - 20)), int(rng.integers(10, w - 30))
        draw.text((x, y), str(int(576 + 8 * field[y, x])), fill=(120, 0, 140), font=font)


def _draw_temperature(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    field = _smooth_field(rng, h, w, bumps=4, scale=0.35)
    shade = _colormap((field + 1) / 2, 'RdYlBu_r')
    canvas[:] = (0.55 * shade + 0.45 * canvas).astype(np.uint8)
    return 'RdYlBu_r'


def _draw_precipitation(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    field = _smooth_field(rng, h, w, bumps=10, scale=0.12)
    rain = field > 0.25
    shade = _colormap((field - 0.25) / 0.75 * 0.8 + 0.2, 'GnBu')
    canvas[rain] = shade[rain]
    return 'GnBu'


def _draw_radar(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    palette = np.array([(0, 236, 236), (0, 160, 246), (0, 200, 0), (255, 255, 0),
                        (255, 144, 0), (255, 0, 0)], np.uint8)
    field = np.clip(_smooth_field(rng, h, w, bumps=14, scale=0.06), 0, None)
    field = field + rng.normal(0, 0.04, field.shape).astype(np.float32) * (field > 0.1)
    level = np.clip((field * 8).astype(int), 0, len(palette))
    echo = level > 0
    canvas[echo] = palette[level[echo] - 1]
    cx, cy = w // 2, h // 2
    for radius in (h // 4, h // 2 - 4):
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=(90, 90, 90))


def _draw_satellite(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    noise = sum(
        np.kron(rng.random((h // s + 1, w // s + 1)), np.ones((s, s)))[:h, :w] / s**0.5
        for s in (2, 4, 8, 16, 32))
    noise = (noise - noise.min()) / (np.ptp(noise) + 1e-6)
    cloud = np.clip((noise + 0.5 * _smooth_field(rng, h, w) - 0.2) * 1.6, 0, 1)
    grey = (40 + 215 * cloud).astype(np.uint8)[..., None]
    canvas[:] = (0.85 * grey + 0.15 * canvas).astype(np.uint8)


def _polyline(rng, h, w, n=6):
    x = np.linspace(rng.uniform(0.05, 0.3) * w, rng.uniform(0.7, 0.95) * w, n)
    y = rng.uniform(0.2, 0.8) * h + np.cumsum(rng.normal(0, h * 0.06, n))
    return [(float(a), float(np.clip(b, 5, h - 5))) for a, b in zip(x, y)]


def _draw_front(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    cold = rng.random() < 0.5
    colour = (0, 60, 230) if cold else (230, 30, 30)
    points = _polyline(rng, h, w)
    draw.line(points, fill=colour, width=3)
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        if cold:
            draw.polygon([(mx - 5, my), (mx + 5, my), (mx, my - 8)], fill=colour)
        else:
            draw.pieslice([mx - 6, my - 6, mx + 6, my + 6], 180, 360, fill=colour)


def _draw_wind(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    stream = _smooth_field(rng, h, w, bumps=4, scale=0.4)
    gy, gx = np.gradient(stream)
    step = max(16, min(h, w) // 10)
    for y in range(step // 2, h, step):
        for x in range(step // 2, w, step):
            u, v = -gy[y, x], gx[y, x]  # along the stream lines
            norm = np.hypot(u, v) + 1e-9
            dx, dy = u / norm * step * 0.45, v / norm * step * 0.45
            tip = (x + dx, y + dy)
            draw.line([(x, y), tip], fill=(20, 20, 20), width=1)
            speed = int(1 + 4 * min(1.0, norm * h * 3))
            for k in range(min(speed, 3)):  # barbs at the tail
                bx, by = x + dx * k * 0.2, y + dy * k * 0.2
                draw.line([(bx, by), (bx - dy * 0.4, by + dx * 0.4)], fill=(20, 20, 20))


def _draw_typhoon(canvas, draw, rng, font):
    h, w = canvas.shape[:2]
    points = _polyline(rng, h, w, n=8)[::-1]
    draw.line(points, fill=(200, 0, 0), width=2)
    for i, (x, y) in enumerate(points):
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(200, 0, 0) if i < 4 else (255, 140, 0))
    x, y = points[0]
    for angle in (0, 180):  # the two-armed typhoon symbol
        draw.arc([x - 9, y - 9, x + 9, y + 9], angle, angle + 120, fill=(200, 0, 0), width=2)


class _DeferredDraw:
    """Records a drawer's ``ImageDraw`` calls and replays them after its numpy pixel work, so
    its strokes and text land on top of its own shading."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, args, kwargs))
        return record

    def replay(self, image: Image.Image) -> None:
        draw = ImageDraw.Draw(image)
        for name, args, kwargs in self.calls:
            getattr(draw, name)(*args, **kwargs)


# Shading first, then lines on top.
_DRAW_ORDER = ('satellite_cloud', 'temperature', 'precipitation', 'radar_echo', 'height',
               'pressure', 'front', 'wind', 'typhoon_track')
_DRAWERS = dict(pressure=_draw_pressure, height=_draw_height, wind=_draw_wind,
                temperature=_draw_temperature, precipitation=_draw_precipitation,
                radar_echo=_draw_radar, satellite_cloud=_draw_satellite, front=_draw_front,
                typhoon_track=_draw_typhoon)


def draw_chart(product: str, elements, rng: np.random.Generator,
               size: Tuple[int, int] = (320, 240)) -> Image.Image:
    """A synthetic chart of ``product`` showing exactly ``elements`` (ids), RGB, ``size`` =
    (width, height)."""
    w, h = size
    title_h = 18
    map_h = h - title_h
    canvas = np.empty((map_h, w, 3), np.uint8)
    land = _smooth_field(rng, map_h, w, bumps=5, scale=0.3) > rng.uniform(-0.2, 0.2)
    canvas[:], canvas[land] = _map_colours(rng)
    font = _font(10)
    bars = []
    for element in _DRAW_ORDER:
        if element in elements:
            strokes = _DeferredDraw()
            cmap = _DRAWERS[element](canvas, strokes, rng, font)  # pixels now, strokes after
            image = Image.fromarray(canvas)
            strokes.replay(image)
            canvas = np.array(image)
            if cmap:
                bars.append(cmap)
    image = Image.fromarray(canvas)
    array = np.array(image)
    array[_contour_mask(land.astype(np.float32), 1.0)] = (90, 90, 90)  # coastline
    array[:, ::max(20, w // 8)] = (array[:, ::max(20, w // 8)] * 0.7).astype(np.uint8)
    array[::max(20, map_h // 6)] = (array[::max(20, map_h // 6)] * 0.7).astype(np.uint8)
    full = Image.new('RGB', (w, h), (255, 255, 255))
    full.paste(Image.fromarray(array), (0, title_h))
    draw = ImageDraw.Draw(full)
    margin = map_h // 8
    for i, name in enumerate(bars):
        x0 = w - 14 - 26 * i
        _colour_bar(draw, (x0 - 10, title_h + margin, x0, h - margin), name, rng, font)
    hour = int(rng.choice([0, 6, 8, 12, 18, 20]))
    valid = f'{int(rng.integers(2015, 2027))}-{int(rng.integers(1, 13)):02d}-' \
            f'{int(rng.integers(1, 29)):02d} {hour:02d}:00'
    draw.text((4, 3), f'{PRODUCTS[product][1]}  valid {valid}', fill=(0, 0, 0), font=_font(11))
    return full


# --------------------------------------------------------------------------- negatives
def draw_negative(kind: str, rng: np.random.Generator,
                  size: Tuple[int, int] = (320, 240)) -> Image.Image:
    """A non-weather image of ``kind`` (one of :data:`NEGATIVE_KINDS`)."""
    w, h = size
    font = _font(10)
    if kind == 'smooth_field':
        field = _smooth_field(rng, h, w, bumps=int(rng.integers(2, 6)), scale=0.4)
        name = str(rng.choice(['viridis', 'plasma', 'RdYlBu_r', 'coolwarm', 'magma']))
        return Image.fromarray(_colormap((field + 1) / 2, name))
    if kind in ('base_map', 'terrain_map'):
        return _draw_map(kind, rng, size)
    if kind == 'photo_noise':
        base = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((w, h), Image.BICUBIC)
        noisy = np.asarray(image, np.float32) + rng.normal(0, 12, (h, w, 3))
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))
    image = Image.new('RGB', (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if kind == 'text_page':
        for y in range(10, h - 10, 14):
            words = ' '.join('x' * int(rng.integers(2, 9)) for _ in range(int(rng.integers(4,
                                                                                          9))))
            draw.text((10, y), words, fill=(20, 20, 20), font=font)
        return image
    if kind == 'table':
        rows, cols = int(rng.integers(5, 12)), int(rng.integers(3, 7))
        for r in range(rows + 1):
            draw.line([(8, 8 + r * (h - 16) / rows), (w - 8, 8 + r * (h - 16) / rows)],
                      fill=(0, 0, 0))
        for c in range(cols + 1):
            draw.line([(8 + c * (w - 16) / cols, 8), (8 + c * (w - 16) / cols, h - 8)],
                      fill=(0, 0, 0))
        for r in range(rows):
            for c in range(cols):
                draw.text((12 + c * (w - 16) / cols, 10 + r * (h - 16) / rows),
                          f'{rng.uniform(0, 999):.1f}', fill=(0, 0, 0), font=font)
        return image
    # business charts: axes, title, legend
    x0, y0, x1, y1 = int(0.11 * w), int(0.1 * h), int(0.78 * w), int(0.9 * h)
    draw.line([(x0, y1), (x1, y1)], fill=(0, 0, 0))
    draw.line([(x0, y0), (x0, y1)], fill=(0, 0, 0))
    tick = int(rng.integers(5, 50))
    for k in range(5):
        y = y1 - k * (y1 - y0) / 4
        draw.text((4, y - 5), f'{k * tick}', fill=(0, 0, 0), font=font)
    series = int(rng.integers(1, 4))
    colours = [tuple(int(c) for c in rng.integers(0, 200, 3)) for _ in range(series)]
    n = int(rng.integers(5, 13))
    for s, colour in enumerate(colours):
        values = np.clip(np.cumsum(rng.normal(0, 0.15, n)) + rng.uniform(0.3, 0.7), 0.05, 1)
        xs = np.linspace(x0 + 8, x1 - 8, n)
        if kind == 'bar_chart':
            width = max(2.0, (x1 - x0) / n / (series + 1))
            for x, v in zip(xs, values):
                left = x - width * series / 2 + s * width
                draw.rectangle([left, y1 - v * (y1 - y0), left + width - 1, y1], fill=colour)
        else:
            draw.line([(float(x), float(y1 - v * (y1 - y0))) for x, v in zip(xs, values)],
                      fill=colour, width=2)
        draw.rectangle([x1 + 8, y0 + 14 * s, x1 + 18, y0 + 14 * s + 8], fill=colour)
        draw.text((x1 + 22, y0 + 14 * s - 2), f'series {s + 1}', fill=(0, 0, 0), font=font)
    draw.text((x0, 4), f'Quarterly report {int(rng.integers(2015, 2027))}', fill=(0, 0, 0),
              font=_font(11))
    return image


def _draw_map(kind, rng, size):
    """A map that is not a weather chart: a plain base map (coastline, grid, place names) or
    a terrain map (elevation tints and contour lines, like a height or temperature chart's)."""
    w, h = size
    elevation = _smooth_field(rng, h, w, bumps=7, scale=0.2)
    land = elevation > rng.uniform(-0.3, 0.0)
    canvas = np.empty((h, w, 3), np.uint8)
    canvas[:], canvas[land] = _map_colours(rng)  # the charts' own base-map colours
    if kind == 'terrain_map':
        tint = _colormap((elevation + 1) / 2, 'terrain')
        canvas[land] = tint[land]
        canvas[_contour_mask(elevation, 0.15) & land] = (110, 80, 50)
    canvas[_contour_mask(land.astype(np.float32), 1.0)] = (90, 90, 90)
    canvas[:, ::max(20, w // 8)] = (canvas[:, ::max(20, w // 8)] * 0.75).astype(np.uint8)
    canvas[::max(20, h // 6)] = (canvas[::max(20, h // 6)] * 0.75).astype(np.uint8)
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    font = _font(10)
    for _ in range(int(rng.integers(3, 8))):
        x, y = int(rng.integers(5, w - 40)), int(rng.integers(5, h - 12))
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(0, 0, 0))
        draw.text((x + 4, y - 5), 'Town' + str(int(rng.integers(1, 99))), fill=(0, 0, 0),
                  font=font)
    return image


def _draw_logo(text: str, rng: np.random.Generator, size: int = 48) -> Image.Image:
    logo = Image.new('RGBA', (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    colour = tuple(int(c) for c in rng.integers(0, 180, 3)) + (255, )
    draw.ellipse([1, 1, size - 2, size - 2], outline=colour, width=3)
    draw.text((size // 2, size // 2), text, fill=colour, font=_font(13), anchor='mm')
    return logo


# --------------------------------------------------------------------------- collection
def write_meteo_charts(root: str, seed: int = 0, num_meteo: int = 480, num_negative: int = 240,
                       size: Tuple[int, int] = (320, 240), hard_fraction: float = 0.6,
                       optional_prob: float = 0.5) -> dict:
    """Write a SYNTHETIC chart collection in the meteo data contract to ``root``.

    The same ``seed`` and arguments give the same files. The collection is built in a
    temporary folder next to ``root`` and renamed into place at the end, so ``root`` is either
    absent or complete; an existing ``root`` is an error (delete it to regenerate).

    Args:
        root (str): Folder to create (``images/``, ``labels.jsonl``, ``labels.yaml``,
            ``logos/``).
        seed (int): Generator seed. Defaults to 0.
        num_meteo (int): Charts, spread evenly over the :data:`PRODUCTS`. Defaults to 480.
        num_negative (int): Non-weather images. Defaults to 240.
        size (tuple): (width, height). Defaults to (320, 240), the gate's input size.
        hard_fraction (float): Share of negatives drawn from :data:`HARD_NEGATIVES`.
        optional_prob (float): Probability that each optional element of a product is drawn.

    Returns:
        dict: ``images``, ``seconds``, ``images_per_s``, ``root``.
    """
    # the map below the 18-pixel title needs room for its labels (pressure values sit 10-20
    # pixels from the edges): narrower or lower charts cannot be drawn
    if size[0] < 48 or size[1] < 64:
        raise ConfigError(f'size must be at least 48 x 64 pixels (width, height), got {size}')
    if osp.exists(root):
        raise FileExistsError(f'{root} exists; delete it to generate the synthetic charts again')
    parent = osp.dirname(osp.abspath(root))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.', dir=parent)
    start = time.perf_counter()
    try:
        os.makedirs(osp.join(tmp, 'images'))
        os.makedirs(osp.join(tmp, 'logos'))
        logo_rng = np.random.default_rng([seed, 1])
        for text in _LOGO_TEXTS:
            _draw_logo(text, logo_rng).save(osp.join(tmp, 'logos', f'{text.lower()}.png'))
        vocab = dict(
            elements=[dict(id=k, zh=zh, en=en, aliases=list(al))
                      for k, (zh, en, al) in ELEMENTS.items()],
            products=[dict(id=k, zh=zh, elements=list(req), optional_elements=list(opt))
                      for k, (zh, _, req, opt) in PRODUCTS.items()])
        with open(osp.join(tmp, 'labels.yaml'), 'w', encoding='utf-8') as handle:
            yaml.safe_dump(vocab, handle, allow_unicode=True, sort_keys=False)
        products = list(PRODUCTS)
        lines = []
        for i in range(num_meteo + num_negative):
            rng = np.random.default_rng([seed, 0, i])
            name = f'images/{i:05d}.png'
            source = f'office_{i % 3}'
            if i < num_meteo:
                product = products[i % len(products)]
                _, _, required, optional = PRODUCTS[product]
                drawn = set(required) | {e for e in optional if rng.random() < optional_prob}
                image = draw_chart(product, drawn, rng, size)
                labels = [e for e in ELEMENTS if e in drawn]
                record = dict(path=name, is_meteo=1, labels=labels, product=product,
                              source=source)
            else:
                pool = HARD_NEGATIVES if rng.random() < hard_fraction else NEGATIVE_KINDS
                kind = str(rng.choice(pool))
                image = draw_negative(kind, rng, size)
                record = dict(path=name, is_meteo=0, labels=[], product=None, source=source,
                              kind=kind)
            image.save(osp.join(tmp, name))
            lines.append(json.dumps(record, ensure_ascii=False))
        with open(osp.join(tmp, 'labels.jsonl'), 'w', encoding='utf-8') as handle:
            handle.write('\n'.join(lines) + '\n')
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    total = num_meteo + num_negative
    return dict(images=total, seconds=seconds, images_per_s=total / max(seconds, 1e-9),
                root=root)
