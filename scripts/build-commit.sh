#!/usr/bin/env bash
# Prints the commit `hallpass --version` names (issue 21): the short hash of HEAD, with -dirty
# when tracked files differ from it; nothing outside a git checkout. scripts/build-release.sh and
# scripts/test.sh export it as HALLPASS_COMMIT, which Package.swift compiles in.
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || exit 0
git diff --quiet HEAD 2>/dev/null || commit+=-dirty
echo "$commit"
