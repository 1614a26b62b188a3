#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Count TAP/KTAP results in test logs and print "N passed, M failed".

A kselftest run nests each test's own KTAP output under "# " prefixes and
ends it with a top-level result line.  Leaf results are counted: the
nested ones when a test printed them, otherwise the top-level line; a
test whose top-level result is "not ok" although every nested result
passed (it crashed or exited non-zero afterwards) counts one failure.
"""
import re
import sys

RESULT = re.compile(r'^((?:# )*)(not ok|ok)\b(.*)$')


def count(lines):
    passed = failed = skipped = 0
    nested = []          # results seen since the last top-level result
    for line in lines:
        m = RESULT.match(line.rstrip('\n'))
        if not m:
            continue
        depth = len(m.group(1)) // 2
        ok = m.group(2) == 'ok'
        skip = '# SKIP' in m.group(3) or '# skip' in m.group(3)
        if depth > 0:
            nested.append((ok, skip))
            continue
        if nested:
            # Only the innermost level holds leaves.
            p = sum(1 for o, s in nested if o and not s)
            f = sum(1 for o, s in nested if not o)
            k = sum(1 for o, s in nested if s)
            if not ok and f == 0:
                f = 1
        else:
            p, f, k = (ok and not skip), (not ok), skip
        passed, failed, skipped = passed + p, failed + f, skipped + k
        nested = []
    return passed, failed, skipped


def main():
    total = [0, 0, 0]
    for path in sys.argv[1:]:
        with open(path, errors='replace') as f:
            for i, n in enumerate(count(f)):
                total[i] += n
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')
    return 1 if total[1] else 0


if __name__ == '__main__':
    sys.exit(main())
