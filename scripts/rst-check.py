#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Parse reStructuredText files with docutils and fail on any warning or
# error (a malformed table, a bad section underline, an unknown role).
# The kernel's Sphinx build reports the same problems, but needs a kernel
# tree; this catches them in `make docs`.
import sys

import docutils.core
import docutils.utils


def check(path):
    with open(path, encoding="utf-8") as f:
        src = f.read()
    try:
        docutils.core.publish_doctree(
            src, source_path=path,
            settings_overrides={"report_level": 2, "halt_level": 2,
                                "warning_stream": False})
    except docutils.utils.SystemMessage as e:
        print(f"rst: {e}", file=sys.stderr)
        return False
    return True


def main():
    ok = all([check(p) for p in sys.argv[1:]])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
