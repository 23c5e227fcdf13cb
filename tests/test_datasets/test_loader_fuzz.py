"""Property-based fuzzing of every loader (see vtt.testing.loader_fuzz): whatever hypothesis
does to a valid input, the loader either loads it correctly or raises vtt's user error naming
the file; never a bare exception from deep inside, never a hang."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vtt.testing.loader_fuzz import MUTATIONS, TARGETS, fuzz_one, mutate

operations = st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 2 ** 31 - 1)),
                      min_size=1, max_size=3)


@pytest.mark.parametrize('name', sorted(TARGETS))
def test_valid_input_loads(name, tmp_path):
    outcome = fuzz_one(TARGETS[name], [], folder=str(tmp_path))
    assert outcome.kind == 'loaded', outcome


@pytest.mark.parametrize('name', sorted(TARGETS))
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_mutated_input_loads_or_names_the_file(name, ops, tmp_path_factory):
    folder = tmp_path_factory.mktemp(name)
    outcome = fuzz_one(TARGETS[name], ops, folder=str(folder))
    assert outcome.kind in ('loaded', 'rejected'), outcome


def test_mutations_are_deterministic_and_do_change_the_input():
    data = b'a,b,c\n1,2,3\n4,5,6\n'
    for op in MUTATIONS:
        assert mutate(data, [(op, 12345)]) == mutate(data, [(op, 12345)])
    assert mutate(data, [('empty', 0)]) == b''
    assert mutate(data, [('truncate', 5)]) == data[:5]
    assert mutate(data, [('cell', 7)]) != data


def test_known_bad_inputs_name_file_and_place(tmp_path):
    from vtt.datasets.csv_timeseries import load_timeseries_csv
    from vtt.datasets.ucr import load_ucr_tsv
    from vtt.utils.errors import DataFormatError
    tsv = tmp_path / 'X_TRAIN.tsv'
    tsv.write_bytes(b'1\t0.5\t0.7\n2\t0.1\t\xff0.2\n')
    with pytest.raises(DataFormatError, match=r'X_TRAIN.tsv: line 2, column 7: byte 0xff'):
        load_ucr_tsv(str(tsv))
    csv = tmp_path / 'bad.csv'
    csv.write_text('sample_id,label,a_0,a_1\ns0,x,1.0,2.0\ns1,y,nan,3.0\n')
    with pytest.raises(DataFormatError, match=r'bad.csv.*line 3'):
        load_timeseries_csv(str(csv), layout='wide', id_column='sample_id')
    # a UTF-16 file written by a spreadsheet program (with its byte-order mark) is read
    csv.write_text('sample_id,label,a_0,a_1\ns0,x,1.0,2.0\ns1,y,4.0,3.0\n', encoding='utf-16')
    assert load_timeseries_csv(str(csv), layout='wide', id_column='sample_id')['data'].shape \
        == (2, 1, 2)


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path):
    import torch

    from vtt.utils.compat import safe_torch_load
    from vtt.utils.errors import DataFormatError
    path = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {'w': torch.zeros(4)}}, path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataFormatError, match=r'epoch_1.pth: not a readable checkpoint'):
        safe_torch_load(str(path))
