#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Turn a verbose pyverbs (unittest) log into TAP lines for chosen modules.

usage: pyverbs-tap.py LOG MODULE...   e.g. pyverbs-tap.py run.log test_device

unittest prints "test_x (tests.mod.Class.test_x)", then the docstring's
first line if there is one, then " ... ok|FAIL|ERROR|skipped 'why'".
"""
import re
import sys

START = re.compile(r'^(test\S*) \((tests\.(\w+)\.[\w.]+)\)')
RESULT = re.compile(r' \.\.\. (ok|FAIL|ERROR|expected failure|skipped.*)$')


def main():
    log, modules = sys.argv[1], set(sys.argv[2:])
    n = 0
    current = None
    with open(log, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            m = START.match(line)
            if m:
                current = m.group(2) if m.group(3) in modules else None
            r = RESULT.search(line)
            if not r or current is None:
                continue
            n += 1
            res = r.group(1)
            if res == 'ok':
                print(f'ok {n} pyverbs {current}')
            elif res.startswith('skipped'):
                print(f'ok {n} pyverbs {current} # SKIP {res[8:]}')
            else:
                print(f'not ok {n} pyverbs {current} ({res})')
            current = None
    if n == 0:
        print('not ok 1 pyverbs: no result found for ' + ' '.join(modules))


if __name__ == '__main__':
    main()
