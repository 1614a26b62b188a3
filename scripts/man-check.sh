#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Every man page in directory $1 renders with "man -l" without a warning,
# names itself in NAME, and has a SYNOPSIS.
set -u

dir=${1:?usage: man-check.sh DIR}
rc=0
for f in "$dir"/*.[1-9]; do
	out=$(MANWIDTH=80 man -l --warnings=w "$f" 2>&1 >/dev/null)
	if [ -n "$out" ]; then
		echo "$f: $out"
		rc=1
	fi
	page=$(MANWIDTH=80 man -l "$f" 2>/dev/null)
	name=$(basename "$f")
	name=${name%.*}
	if ! grep -A2 '^NAME' <<<"$page" | grep -q -- "$name"; then
		echo "$f: NAME does not name $name"
		rc=1
	fi
	if ! grep -q '^SYNOPSIS' <<<"$page"; then
		echo "$f: no SYNOPSIS"
		rc=1
	fi
	echo "$f: ok"
done
exit $rc
