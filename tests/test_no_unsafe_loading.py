"""Nothing in vtt or its tools unpickles untrusted data, except the restricted HAPT reader."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNSAFE = re.compile(r'pickle\.loads?\(|weights_only\s*=\s*False|allow_pickle\s*=\s*True|'
                    r'read_pickle\(|joblib\.load\(|dill\.load|cloudpickle\.load')
ALLOWED = {os.path.join('vtt', 'utils', 'legacy_pickle.py')}


def test_no_unrestricted_unpickling_in_vtt_or_tools():
    found = []
    for top in ('vtt', 'tools'):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, ROOT)
                if rel in ALLOWED:
                    continue
                with open(path, encoding='utf-8') as handle:
                    for number, line in enumerate(handle, start=1):
                        match = UNSAFE.search(line)
                        if match and not line[:match.start()].endswith('``'):  # prose
                            found.append(f'{rel}:{number}: {line.strip()}')
    assert not found, 'unrestricted unpickling:\n' + '\n'.join(found)


def test_the_pattern_catches_what_it_should():
    for text in ('pickle.load(f)', 'torch.load(p, weights_only=False)', 'np.load(p, '
                 'allow_pickle=True)', 'pd.read_pickle(p)', 'pickle.loads(b)'):
        assert UNSAFE.search(text), text
    assert not UNSAFE.search('torch.load(p, weights_only=True)')
