#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Turn verbose pyverbs (unittest) logs into TAP, comparing uet with rxe.

usage: pyverbs-tap.py UET_LOG RXE_LOG

One TAP line per test in UET_LOG, then one line that holds if every test
rxe passes also passes on uet or is skipped there as unsupported.

unittest prints "test_x (tests.mod.Class.test_x)", then the docstring's
first line if there is one, then " ... ok|FAIL|ERROR|skipped 'why'".
"""
import re
import sys

START = re.compile(r'^(test\S*) \((tests\.[\w.]+)\)')
RESULT = re.compile(r' \.\.\. (ok|FAIL|ERROR|expected failure|skipped.*)$')
UNSUPPORTED = re.compile(r'not supported|unsupported|EOPNOTSUPP', re.I)


def parse(log):
    """Map test id -> 'ok', 'FAIL', 'ERROR' or "skipped 'why'"."""
    results = {}
    current = None
    with open(log, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            m = START.match(line)
            if m:
                current = m.group(2)
            r = RESULT.search(line)
            if r and current is not None:
                results[current] = r.group(1)
                current = None
    return results


def main():
    uet, rxe = parse(sys.argv[1]), parse(sys.argv[2])
    n = 0
    for test, res in uet.items():
        n += 1
        if res == 'ok':
            print(f'ok {n} pyverbs {test}')
        elif res.startswith('skipped'):
            print(f'ok {n} pyverbs {test} # SKIP {res[8:]}')
        else:
            print(f'not ok {n} pyverbs {test} ({res}; rxe: {rxe.get(test)})')

    missing = [t for t, r in rxe.items() if r == 'ok' and
               not (uet.get(t) == 'ok' or
                    (uet.get(t, '').startswith('skipped') and
                     UNSUPPORTED.search(uet[t])))]
    n += 1
    passed = sum(r == 'ok' for r in uet.values())
    rxe_passed = sum(r == 'ok' for r in rxe.values())
    verdict = 'ok' if uet and rxe and not missing else 'not ok'
    print(f'{verdict} {n} pyverbs: uet0 passes {passed} of {len(uet)}, '
          f'rxe0 {rxe_passed} of {len(rxe)}; every rxe pass passes on uet0 '
          'or is skipped as unsupported')
    for t in missing:
        print(f'#   rxe passes, uet0 does not: {t} ({uet.get(t)})')


if __name__ == '__main__':
    main()
