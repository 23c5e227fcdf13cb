"""Augmentations that make chart images look like the ones a forecast office receives:
watermark logos, title lines, JPEG artefacts and crops (docs/research_lines/meteo.md).

Each transform takes and returns the results dict of :class:`vtt.datasets.MeteoChartDataset`
(``img``: an RGB PIL image; ``data_root``, ``is_meteo``, ``labels``, ``product``,
``product_name``). They change the image only: labels are never touched. Written with Pillow
because they are per-image compositing operations (pasting an RGBA logo, drawing text,
re-encoding JPEG) that torchvision's tensor transforms do not offer; geometric and colour
transforms come from torchvision through :class:`TorchVisionTransform`.
"""
import io
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vtt.registry import TRANSFORMS
from vtt.utils.errors import ConfigError

__all__ = ['LogoWatermark', 'ChartTitle', 'JpegCompress', 'RandomAreaCrop', 'find_cjk_font']

#: Font families that cover Chinese, tried in order by :func:`find_cjk_font`.
CJK_FAMILIES = ('Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei',
                'WenQuanYi Micro Hei', 'SimHei', 'Microsoft YaHei', 'PingFang SC',
                'AR PL UMing CN', 'Droid Sans Fallback')


def _check_range(name, value, low, high):
    value = tuple(float(v) for v in value)
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        raise ConfigError(f'{name} must be (min, max) with {low} <= min <= max <= {high}, '
                          f'got {value}')
    return value


def _check_prob(name, prob):
    if not 0.0 <= prob <= 1.0:
        raise ConfigError(f'{name}: prob must be in [0, 1], got {prob}')
    return float(prob)


@TRANSFORMS.register_module()
class LogoWatermark:
    """Paste a random logo from the logo library into a random corner, semi-transparent.

    Args:
        logo_dir (str): Folder of logo images (PNG with alpha). A relative path is taken
            relative to ``results['data_root']`` (the contract's ``logos/``). Defaults to
            ``'logos'``.
        prob (float): Share of images that get a logo; the plan asks for 20-50%. Defaults to
            0.35.
        alpha (tuple): Range of the logo's opacity. Defaults to (0.4, 0.9).
        scale (tuple): Range of the logo's width as a fraction of the image width. Defaults to
            (0.08, 0.18).
        margin (float): Distance from the corner as a fraction of the image width.

    Sets ``results['watermark']`` to the corner (``'top_left'`` ...) or None.
    """

    CORNERS = ('top_left', 'top_right', 'bottom_left', 'bottom_right')

    def __init__(self, logo_dir: str = 'logos', prob: float = 0.35,
                 alpha: Sequence[float] = (0.4, 0.9), scale: Sequence[float] = (0.08, 0.18),
                 margin: float = 0.02):
        self.logo_dir = logo_dir
        self.prob = _check_prob('LogoWatermark', prob)
        self.alpha = _check_range('LogoWatermark alpha', alpha, 0.0, 1.0)
        self.scale = _check_range('LogoWatermark scale', scale, 0.0, 1.0)
        self.margin = float(margin)
        self._cache = {}

    def logos(self, data_root: Optional[str]):
        folder = self.logo_dir
        if not osp.isabs(folder) and data_root:
            folder = osp.join(data_root, folder)
        if folder not in self._cache:
            if not osp.isdir(folder):
                raise FileNotFoundError(f'LogoWatermark: logo folder {folder} not found (the '
                                        f'data contract keeps logos in DATA_ROOT/logos/)')
            names = sorted(n for n in os.listdir(folder)
                           if n.lower().endswith(('.png', '.webp', '.gif')))
            if not names:
                raise FileNotFoundError(f'LogoWatermark: no PNG logos in {folder}')
            self._cache[folder] = [Image.open(osp.join(folder, n)).convert('RGBA')
                                   for n in names]
        return self._cache[folder]

    def __call__(self, results: dict) -> dict:
        results['watermark'] = None
        if np.random.rand() >= self.prob:
            return results
        logos = self.logos(results.get('data_root'))
        image = results['img'].convert('RGB')
        logo = logos[np.random.randint(len(logos))]
        width = max(4, int(image.width * np.random.uniform(*self.scale)))
        height = max(4, int(logo.height * width / logo.width))
        logo = logo.resize((width, height), Image.BILINEAR)
        alpha = np.asarray(logo.getchannel('A'), np.float32) * np.random.uniform(*self.alpha)
        mask = Image.fromarray(alpha.astype(np.uint8))
        corner = self.CORNERS[np.random.randint(4)]
        pad = int(self.margin * image.width)
        x = pad if corner.endswith('left') else image.width - width - pad
        y = pad if corner.startswith('top') else image.height - height - pad
        image.paste(logo.convert('RGB'), (max(0, x), max(0, y)), mask)
        results['img'] = image
        results['watermark'] = corner
        return results


def find_cjk_font() -> Optional[str]:
    """The path of an installed font that covers Chinese, or None."""
    from matplotlib import font_manager
    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return installed[family]
    return None


def _is_latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


@TRANSFORMS.register_module()
class ChartTitle:
    """Write a title line from a template, above the chart or in its emptiest area.

    The template is formatted with the results (``product``, ``product_name``) plus a random
    ``date`` and ``year``. With a CJK-capable font (``font_path``, or one found among
    :data:`CJK_FAMILIES`) the Chinese template is used; without one, a title with CJK
    characters would draw as empty boxes, so ``fallback_template`` (Latin text) is used
    instead and ``results['title_font']`` says ``'fallback'``.

    Args:
        template (str): For charts. Defaults to ``'{product_name}'`` (the zh name).
        fallback_template (str): For charts when no CJK font is available. Defaults to
            ``'{product} {date}'``.
        negative_templates (Sequence[str]): For non-weather images (so a title is not a
            give-away of a chart). Defaults to a few report-style titles.
        font_path (str, optional): A TrueType/OpenType font file.
        size (int): Font size in pixels. Defaults to 16.
        prob (float): Share of images that get a title. Defaults to 1.0.
        above_prob (float): Share of titles placed in a new white strip above the image (the
            image grows by one line); the others go to the flattest area. Defaults to 0.5.
        colour_jitter (int): Each RGB channel of the text colour is drawn from
            ``[0, colour_jitter]`` (near-black). Defaults to 40.
    """

    def __init__(self, template: str = '{product_name}',
                 fallback_template: str = '{product} {date}',
                 negative_templates: Sequence[str] = ('Quarterly report {year}',
                                                      'Sales by region, {date}',
                                                      'Project status {year}'),
                 font_path: Optional[str] = None, size: int = 16, prob: float = 1.0,
                 above_prob: float = 0.5, colour_jitter: int = 40):
        self.template = template
        self.fallback_template = fallback_template
        self.negative_templates = tuple(negative_templates)
        self.prob = _check_prob('ChartTitle', prob)
        self.above_prob = _check_prob('ChartTitle above_prob', above_prob)
        self.colour_jitter = int(colour_jitter)
        self.size = int(size)
        if font_path is not None and not osp.isfile(font_path):
            raise FileNotFoundError(f'ChartTitle: font_path {font_path} not found')
        self.font_path = font_path or find_cjk_font()
        self.cjk = self.font_path is not None
        if self.font_path is None:
            from matplotlib import font_manager
            self.font_path = font_manager.findfont('DejaVu Sans')
        self.font = ImageFont.truetype(self.font_path, self.size)

    def text(self, results: dict) -> Tuple[str, str]:
        year = int(np.random.randint(2015, 2027))
        fields = dict(product=results.get('product') or '',
                      product_name=results.get('product_name') or results.get('product') or '',
                      year=year, date=f'{year}-{np.random.randint(1, 13):02d}-'
                      f'{np.random.randint(1, 29):02d} {np.random.choice([8, 20]):02d}:00')
        if not results.get('is_meteo'):
            template = self.negative_templates[np.random.randint(len(self.negative_templates))]
            return template.format(**fields), 'font'
        text = self.template.format(**fields)
        if self.cjk or _is_latin(text):
            return text, 'font'
        return self.fallback_template.format(**fields), 'fallback'

    def __call__(self, results: dict) -> dict:
        results['title'] = None
        if np.random.rand() >= self.prob:
            return results
        text, kind = self.text(results)
        image = results['img'].convert('RGB')
        left, top, right, bottom = self.font.getbbox(text)
        text_w, text_h = right - left, bottom - top
        colour = tuple(int(c) for c in np.random.randint(0, self.colour_jitter + 1, 3))
        if np.random.rand() < self.above_prob:
            strip = text_h + 8
            grown = Image.new('RGB', (image.width, image.height + strip), (255, 255, 255))
            grown.paste(image, (0, strip))
            image, (x, y) = grown, (max(2, (image.width - text_w) // 2), 4 - top)
        else:
            x, y = self._flattest(image, text_w, text_h)
            y -= top
        ImageDraw.Draw(image).text((x, y), text, fill=colour, font=self.font)
        results.update(img=image, title=text, title_font=kind)
        return results

    @staticmethod
    def _flattest(image, width, height):
        """Top-left corner of the ``width x height`` box with the least grey-level variance,
        among a grid of candidate positions (integral images: one pass, any box size)."""
        grey = np.asarray(image.convert('L'), np.float64)
        h, w = grey.shape
        width, height = min(width, w - 1), min(height, h - 1)
        def integral(a):
            return np.pad(a.cumsum(0).cumsum(1), ((1, 0), (1, 0)))

        s1, s2 = integral(grey), integral(grey**2)
        ys = np.linspace(0, h - height - 1, 12).astype(int)
        xs = np.linspace(0, w - width - 1, 12).astype(int)
        yy, xx = np.meshgrid(ys, xs, indexing='ij')

        def box(s):
            return s[yy + height, xx + width] - s[yy, xx + width] - s[yy + height, xx] + s[yy, xx]

        area = width * height
        variance = box(s2) / area - (box(s1) / area)**2
        i, j = np.unravel_index(np.argmin(variance), variance.shape)
        return int(xx[i, j]), int(yy[i, j])


@TRANSFORMS.register_module()
class JpegCompress:
    """Re-encode as JPEG at a random quality (block and ringing artefacts of web images).

    Args:
        quality (tuple): Range of the JPEG quality (1-95). Defaults to (30, 90).
        prob (float): Share of images re-encoded. Defaults to 0.5.
    """

    def __init__(self, quality: Sequence[int] = (30, 90), prob: float = 0.5):
        self.quality = tuple(int(q) for q in _check_range('JpegCompress quality', quality, 1, 95))
        self.prob = _check_prob('JpegCompress', prob)

    def __call__(self, results: dict) -> dict:
        results['jpeg_quality'] = None
        if np.random.rand() >= self.prob:
            return results
        quality = int(np.random.randint(self.quality[0], self.quality[1] + 1))
        buffer = io.BytesIO()
        results['img'].convert('RGB').save(buffer, format='JPEG', quality=quality)
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            results['img'] = decoded.convert('RGB')
        results['jpeg_quality'] = quality
        return results


@TRANSFORMS.register_module()
class RandomAreaCrop:
    """Crop a random window that keeps a random fraction of the image's area, with the
    image's aspect ratio (the plan's "random crop keeping 0.5-0.8"); resize afterwards with
    ``TorchVisionTransform(transform='Resize')``.

    Args:
        area (tuple): Range of the kept area fraction. Defaults to (0.5, 0.8).
        prob (float): Share of images cropped. Defaults to 1.0.
    """

    def __init__(self, area: Sequence[float] = (0.5, 0.8), prob: float = 1.0):
        self.area = _check_range('RandomAreaCrop area', area, 0.01, 1.0)
        self.prob = _check_prob('RandomAreaCrop', prob)

    def __call__(self, results: dict) -> dict:
        results['crop_box'] = None
        if np.random.rand() >= self.prob:
            return results
        image = results['img']
        side = np.sqrt(np.random.uniform(*self.area))
        width, height = max(1, round(image.width * side)), max(1, round(image.height * side))
        x = np.random.randint(0, image.width - width + 1)
        y = np.random.randint(0, image.height - height + 1)
        box = (int(x), int(y), int(x + width), int(y + height))
        results['img'] = image.crop(box)
        results['crop_box'] = box
        return results
