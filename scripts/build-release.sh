#!/usr/bin/env bash
# The release binary (issue 20): optimised, the Swift runtime and Foundation linked in
# (--static-swift-stdlib; possible since no module uses URLSession, so libcurl is not needed),
# only the executable's own entry points exported (--no-export-dynamic: 681 dynamic symbols
# instead of 64,524) and unreferenced sections dropped (--gc-sections). NIO's dlsym lookup of the
# concurrency hook finds nothing in such a binary; Sources/hallpass/EventLoopExecutor.swift links
# to it instead. No RUNPATH ($ORIGIN is SwiftPM's default: nothing is loaded from beside the
# binary), only the C libraries it uses (--as-needed), and every symbol bound at start (-z now,
# so the relocation tables can be read-only, as Debian's hardening expects). What remains dynamic is
# Debian's C libraries: libsqlite3, libsodium, libncursesw, libqrencode, libstdc++, libc.
# `hallpass --version` names the commit (HALLPASS_COMMIT from scripts/build-commit.sh, read by
# Package.swift); "unknown" outside a git checkout.
# Prints the binary's path: .build/release/hallpass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh >&2
HALLPASS_COMMIT=$(scripts/build-commit.sh) && export HALLPASS_COMMIT
swift build -c release --static-swift-stdlib --product hallpass --disable-local-rpath \
  -Xlinker --no-export-dynamic -Xlinker --gc-sections -Xlinker --as-needed -Xlinker -z -Xlinker now >&2
echo "$PWD/.build/release/hallpass"
