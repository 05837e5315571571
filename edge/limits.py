"""The size limits of a ruleset and of what the core reads, in one place.

A ruleset is authored by people but read by every visitor's browser, so its size is
bounded where it is built: the compiler refuses a ruleset past any of these limits
with a sentence naming it (the file's size before it is parsed, then the counts before
any experience is compiled, so a huge file fails fast; the artifact's size last).
docs/notes/compiler-cli.md lists them with their reasons.

>>> MAX_EXPERIENCES, MAX_ARTIFACT_BYTES
(1000, 1048576)
"""

from __future__ import annotations

__all__ = [
    "MAX_ARTIFACT_BYTES",
    "MAX_COMBINATIONS",
    "MAX_CONDITION_DEPTH",
    "MAX_EXPERIENCES",
    "MAX_REGEX_INPUT",
    "MAX_SLOTS",
    "MAX_SOURCE_BYTES",
    "MAX_VARIANTS",
]

# DESIGN §10 budgets decide() for 200 experiences and 20 slots; decide walks every
# candidate of a slot, so these leave five and ten times that room and bound its work.
MAX_EXPERIENCES = 1000
# Every slot is also one querySelectorAll per page view in the browser.
MAX_SLOTS = 200
# Variants of one experience: a split test has 2-5, a bandit rarely 10; each variant
# needs its share of traffic to learn anything.
MAX_VARIANTS = 20
# Combinations of one multivariate experience (its variants): each needs its share of
# traffic, and a 2^6 full factorial, or a fraction of 7-8 two-level factors, is already
# more than most sites can fill; a design past it must be cut to a fraction or fewer factors.
MAX_COMBINATIONS = 64
# A combination's id (its level ids joined with ".") is the variant an exposure carries:
# the event API takes names of at most 64 bytes (lambdas/models/events.py MAX_NAME_BYTES).
MAX_COMBINATION_ID = 64
# Levels of nested conditions ($and, $or, $nor, $not, $elemMatch, segments inlined
# where they are used). Audiences written by people nest 3-6 levels; compiling and
# evaluating conditions recurses once per level.
MAX_CONDITION_DEPTH = 32
# The artifact every visitor downloads and keeps (the demo's is ~6 KB, the budget 10 KB).
MAX_ARTIFACT_BYTES = 1024 * 1024
# The YAML source, checked before it is parsed (parsing is the slow part: ~6 s per MB
# with the pure-Python YAML reader). Twice the artifact limit leaves room for comments.
MAX_SOURCE_BYTES = 2 * MAX_ARTIFACT_BYTES
# `$regex` and its kin read at most this many characters of a value. Rules match URLs,
# paths, referrers and campaign names; the sitemap protocol caps URLs at 2,048
# characters and Internet Explorer did at 2,083, so sites keep under that and no real
# value is cut; a crafted one (a 100 KB query string) is. Patterns that can backtrack
# for minutes are refused outright (edge.conditions._regex), but even an ordinary one is
# quadratic when searched from every start: `\d+x` takes ~11 ms on 2,048 digits and
# 30 s on 100,000.
MAX_REGEX_INPUT = 2048
