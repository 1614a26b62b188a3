#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Turn verbose pyverbs (unittest) logs into TAP, comparing uet with rxe.

usage: pyverbs-tap.py [--ids IDS_FILE] UET_LOG RXE_LOG
       pyverbs-tap.py --pending IDS_FILE LOG

One TAP line per uet test: a pass or a skip is "ok" (a skip says why), a
failure, an error or a test that never reported (its module timed out or
could not load) is "not ok".  Then one more TAP line for the goal of
the transport issue: uet passes at least as many tests as rxe; and
comments listing the tests rxe passes and uet does not.

IDS_FILE lists every test id of the suite (run_tests.py --list-tests), so
that a test missing from a log is reported rather than forgotten.  With
--pending, print the ids of IDS_FILE that LOG shows neither finished nor
started: what is left to run after pyverbs-run.sh killed a hung run.

unittest prints "test_x (tests.mod.Class.test_x)", then the docstring's
first line if there is one, then " ... ok|FAIL|ERROR|skipped 'why'".
pyverbs-run.sh adds a line "PYVERBS-TIMEOUT ..." when it had to kill a
run: the test running then counts as an error.
"""
import re
import sys

START = re.compile(r'^(test\S*) \((tests\.[\w.]+)\)')
RESULT = re.compile(r' \.\.\. (ok|FAIL|ERROR|expected failure|'
                    r'unexpected success|skipped.*)$')
TIMEOUT = re.compile(r'^PYVERBS-TIMEOUT')


def parse_log(log):
    """Map each test id LOG shows started to its result (None: no result
    yet), and tell whether a run was killed."""
    results = {}
    timed_out = False
    current = None
    with open(log, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if TIMEOUT.match(line):
                timed_out = True
                # The test that was running when the run was killed.
                if current is not None:
                    results[current] = 'ERROR (hung: killed)'
                current = None
                continue
            m = START.match(line)
            if m:
                current = m.group(2)
                results.setdefault(current, None)
            r = RESULT.search(line)
            if r and current is not None:
                results[current] = r.group(1)
                current = None
    return results, timed_out


def parse(log, ids):
    """Map test id -> 'ok', 'FAIL', 'ERROR...', "skipped 'why'" or
    'NOT RUN (why)', for every id of IDS and every test in LOG."""
    try:
        seen, timed_out = parse_log(log)
    except OSError:
        return {t: 'NOT RUN (no log)' for t in ids}
    results = {t: r if r is not None else 'ERROR (no result)'
               for t, r in seen.items()}
    why = 'a run timed out' if timed_out else 'no result'
    for t in ids:
        results.setdefault(t, f'NOT RUN ({why})')
    return results


def counts(results):
    c = {'passed': 0, 'failed': 0, 'errors': 0, 'skipped': 0, 'not run': 0}
    for r in results.values():
        if r in ('ok', 'expected failure'):
            c['passed'] += 1
        elif r.startswith('skipped'):
            c['skipped'] += 1
        elif r.startswith('FAIL') or r == 'unexpected success':
            c['failed'] += 1
        elif r.startswith('ERROR'):
            c['errors'] += 1
        else:
            c['not run'] += 1
    return c


def fmt(c):
    return ', '.join(f'{v} {k}' for k, v in c.items())


def main():
    args = sys.argv[1:]
    ids = []
    if len(args) == 3 and args[0] == '--pending':
        seen, _ = parse_log(args[2])
        with open(args[1]) as f:
            for t in (line.strip() for line in f):
                if t and t not in seen:
                    print(t)
        return
    if len(args) >= 2 and args[0] == '--ids':
        with open(args[1]) as f:
            ids = [line.strip() for line in f if line.strip()]
        args = args[2:]
    if len(args) != 2:
        sys.exit(__doc__)
    uet, rxe = parse(args[0], ids), parse(args[1], ids)

    n = 0
    for test, res in uet.items():
        n += 1
        if res in ('ok', 'expected failure'):
            print(f'ok {n} pyverbs uet0 {test}')
        elif res.startswith('skipped'):
            why = res[len('skipped'):].strip()
            print(f'ok {n} pyverbs uet0 {test} # SKIP {why}')
        else:
            print(f'not ok {n} pyverbs uet0 {test} ({res}; '
                  f'rxe0: {rxe.get(test)})')

    cu, cr = counts(uet), counts(rxe)
    print(f'# pyverbs summary: uet0 passes {cu["passed"]}, rxe0 passes '
          f'{cr["passed"]} (uet0: {fmt(cu)}; rxe0: {fmt(cr)})')
    # The goal of the transport issue: uet0 passes at least as many tests
    # as rxe0 in the same boot.  Its failures and errors are TAP failures
    # above; a test that did not finish is one too.  rxe must have run, or
    # there is nothing to compare.
    bad = cu['failed'] + cu['errors'] + cu['not run']
    n += 1
    ok = cr['passed'] > 0 and cu['passed'] >= cr['passed']
    print(f'{"ok" if ok else "not ok"} {n} pyverbs uet0 passes '
          f'{cu["passed"]} tests, rxe0 {cr["passed"]} in the same boot '
          f'(uet0: {bad} failures, errors or not run)')
    for t, r in rxe.items():
        if r == 'ok' and uet.get(t) != 'ok':
            print(f'#   rxe0 passes, uet0 does not: {t} ({uet.get(t)})')


if __name__ == '__main__':
    main()
