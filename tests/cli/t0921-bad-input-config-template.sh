#!/usr/bin/env bash
# Bad input, part 2 (issue 9): the corpus in tests/data/bad/ (MANIFEST)
# for the configuration (--config: YAML with anchors, aliases, wrong
# types, bad indentation, NUL bytes, several documents) and the templates
# (carnet-template add and edit: unbalanced braces, empty fields, NUL,
# byte order marks, too long; carnet-template import: bad JSON, wrong
# values).  Each: the documented exit status, a clear message (file,
# line and column where there is one), the store unchanged.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/badinput.sh"
bad_setup

bad_run 'config/*' 'template/*' 'template-import/*'
done_testing
