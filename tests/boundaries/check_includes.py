#!/usr/bin/env python3
"""The module boundaries in words (the compiler enforces them too, through include views).

Every quoted #include of a module's sources, public headers and unit tests must name
a header of the same module, or a public header of a module it depends on (directly
or through its dependencies), by its full path. Prints one line per violation, naming
the file, the line, the header and which module owns it, and exits 1; exits 0 when the
tree is clean. The module table is the modules.txt CMake writes from CMakeLists.txt.

    check_includes.py --root SOURCE_DIR --modules BUILD_DIR/modules.txt
    check_includes.py --self-test   # proves the check fails on a planted violation
"""
import argparse
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_SUFFIXES = ('.cpp', '.hpp', '.h', '.cc')


class Module:
    def __init__(self, name, folder, public, depends, borrows='-'):
        self.name = name
        self.folder = None if folder == '-' else folder
        self.public = [] if public == '-' else public.split(',')
        self.depends = [] if depends == '-' else depends.split(',')
        self.borrows = [] if borrows == '-' else borrows.split(',')


def read_modules(path):
    modules = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            modules[(line.split())[0]] = Module(*line.split())
    return modules


def reachable(modules, name):
    """The modules whose public headers `name` may include: its dependencies, transitively."""
    seen, todo = set(), list(modules[name].depends)
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(modules[d].depends)
    return seen


def header_owner(modules, header):
    """(module, is_public) for an include path, or None when no module owns it."""
    best = None
    for m in modules.values():
        for p in m.public:
            if header.startswith(p + '/') and (best is None or len(p) > best[2]):
                best = (m.name, True, len(p))
        if m.folder and header.startswith(m.folder + '/') and (best is None or len(m.folder) > best[2]):
            best = (m.name, m.folder in m.public, len(m.folder))
    return None if best is None else best[:2]


def file_module(modules, rel):
    """The module whose rules a file follows: its folder, its public header folder, or the
    folder of tests/unit that mirrors it; None for files no module owns."""
    if rel == 'relay/main.cpp':
        return 'app'
    parts = rel.split('/')
    if parts[:2] == ['tests', 'unit'] and len(parts) > 3:
        return parts[2] if parts[2] in modules else None
    if parts[0] == 'include':
        owner = header_owner(modules, '/'.join(parts[1:]))
        return owner[0] if owner else None
    owner = header_owner(modules, rel)
    return owner[0] if owner else None


def check(root, modules, borrowed=None):
    problems = []
    for top in ('relay', 'overlay', 'include', os.path.join('tests', 'unit')):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(d, f)
                rel = os.path.relpath(path, root)
                name = file_module(modules, rel)
                is_test = rel.startswith('tests/')
                if name is None:
                    problems.append(f'{rel}: belongs to no module (add its folder to CMakeLists.txt)')
                    continue
                allowed = reachable(modules, name)
                with open(path, errors='replace') as src:
                    for number, line in enumerate(src, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        header = m.group(1)
                        if '..' in header.split('/'):
                            problems.append(f'{rel}:{number}: "{header}": no relative includes; write the full path')
                            continue
                        if is_test and os.path.exists(os.path.join(d, header)):
                            continue  # a test's own helper beside it
                        if is_test and os.path.exists(os.path.join(root, 'tests', 'support', header)):
                            continue
                        owner = header_owner(modules, header)
                        if owner is None:
                            problems.append(f'{rel}:{number}: "{header}" is not a full path into a module')
                            continue
                        owner_name, public = owner
                        if owner_name == name:
                            continue
                        if not public and any(header.startswith(b + '/') for b in modules[name].borrows):
                            if borrowed is not None:
                                borrowed.append(f'{rel}:{number}: "{header}" (private to {owner_name}, borrowed by {name})')
                            continue
                        if not public:
                            problems.append(f'{rel}:{number}: "{header}" is private to module {owner_name}; '
                                            f'{name} may use only its public headers ({", ".join(modules[owner_name].public) or "none"})')
                        elif owner_name not in allowed:
                            problems.append(f'{rel}:{number}: "{header}" is module {owner_name}\'s, which {name} '
                                            f'does not depend on (CMakeLists.txt: DEPENDS {" ".join(modules[name].depends) or "-"})')
    return problems


def self_test():
    table = ('core relay/core anchorcast/core -\n'
             'hub relay/hub anchorcast/hub core\n'
             'egress relay/egress anchorcast/egress core,hub\n')
    files = {
        'relay/core/log.cpp': '#include "anchorcast/core/log.hpp"\n',
        'relay/hub/stream.cpp': '#include "relay/hub/gop_cache.hpp"\n#include "anchorcast/core/log.hpp"\n',
        'relay/egress/viewer.cpp': '#include "anchorcast/hub/hub.hpp"\n#include "anchorcast/core/log.hpp"\n',
        'tests/unit/hub/stream_test.cpp': '#include "relay/hub/gop_cache.hpp"\n',
    }
    bad = {
        'relay/egress/peek.cpp': '#include "relay/hub/gop_cache.hpp"\n',          # private
        'relay/hub/up.cpp': '#include "anchorcast/egress/viewer.hpp"\n',          # not a dependency
        'relay/core/rel.cpp': '#include "../hub/gop_cache.hpp"\n',               # relative
        'tests/unit/egress/viewer_test.cpp': '#include "relay/hub/gop_cache.hpp"\n',
    }
    with tempfile.TemporaryDirectory() as root:
        def write(tree):
            for rel, text in tree.items():
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                with open(os.path.join(root, rel), 'w') as f:
                    f.write(text)
        with open(os.path.join(root, 'modules.txt'), 'w') as f:
            f.write(table)
        modules = read_modules(os.path.join(root, 'modules.txt'))
        write(files)
        clean = check(root, modules)
        write(bad)
        found = check(root, modules)
    ok = not clean and len(found) == len(bad) and all(any(b in p for p in found) for b in bad)
    for p in clean + found:
        print('  ' + p)
    print('self-test: ' + ('passed' if ok else 'FAILED') + f' (clean tree: {len(clean)} problems; '
          f'planted {len(bad)} violations, found {len(found)})')
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--root')
    ap.add_argument('--modules')
    ap.add_argument('--self-test', action='store_true')
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.root or not args.modules:
        ap.error('--root and --modules are required (or --self-test)')
    borrowed = []
    problems = check(args.root, read_modules(args.modules), borrowed)
    for b in borrowed:
        print('borrowed, to be paid back: ' + b)
    for p in problems:
        print(p)
    print(f'module boundaries: {len(problems)} violation(s)' if problems else 'module boundaries: clean')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
