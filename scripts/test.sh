#!/usr/bin/env bash
# Runs the whole Hallpass test suite: Swift unit, store and HTTP tests, then the end-to-end and
# interoperability tests that drive the built binary with third-party OAuth clients.
# Installs what is missing (Debian packages, a Python venv with pinned test clients) first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --tests
# The PostgreSQL store's tests need a server: a throwaway one unless HALLPASS_TEST_POSTGRES names one.
if [ -z "${HALLPASS_TEST_POSTGRES:-}" ]; then
  eval "$(scripts/throwaway-postgres.sh start)"
  trap 'scripts/throwaway-postgres.sh stop "$HALLPASS_TEST_POSTGRES_DIR"' EXIT
fi
# `hallpass --version` names this commit; the e2e suite checks it (test_operations.py).
HALLPASS_COMMIT=$(scripts/build-commit.sh) && export HALLPASS_COMMIT
swift build --build-tests
swift test --skip-build
# The parsers that read strangers' input, fuzzed for 30 s each (longer by hand: scripts/fuzz.sh 600).
scripts/fuzz.sh "${HALLPASS_FUZZ_SECONDS:-30}"
venv=.venv-test
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
HALLPASS_BIN="$PWD/.build/debug/hallpass" "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/e2e \
  --ignore Tests/e2e/test_package.py
# The Debian package (issue 21), built by scripts/package-deb.sh from the static release binary
# (scripts/build-release.sh: 8 to 12 minutes cold, the one release build CI makes, so CI also
# runs that binary), installed with dpkg, run as its unit says, purged (Tests/e2e/test_package.py;
# needs root, as CI is). The debug build cannot stand in: linking it with --static-swift-stdlib
# after the dynamic build leaves objects whose autolink entries break either link.
HALLPASS_BIN="$(scripts/build-release.sh)" "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/e2e/test_package.py
