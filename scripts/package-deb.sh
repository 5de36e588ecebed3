#!/usr/bin/env bash
# The Debian package (issue 21): dist/hallpass_VERSION-REVISION_ARCH.deb from the static release
# binary ($HALLPASS_BIN, else scripts/build-release.sh). VERSION is what `hallpass --version`
# says (`hallpass 0.21.0 (commit …)`), or $HALLPASS_VERSION for a binary that cannot say; the
# newest entry of packaging/changelog must be that version (its revision is the package's).
# Contents: /usr/bin/hallpass (stripped), the conffile /etc/hallpass/hallpass.toml, the themes,
# hallpass.service, the hallpass account (sysusers.d), man pages (swift-argument-parser's
# generate-manual: $HALLPASS_GENERATE_MANUAL, else .build/generate-manual/debug/generate-manual,
# built when missing; HALLPASS_GENERATE_MANUAL=none leaves them out, for trials only), bash/zsh/fish
# completions, copyright, changelog, lintian overrides. Depends: from dpkg-shlibdeps.
# Built as an ordinary user's files with --root-owner-group: no fakeroot, no root needed.
# Reproducible: every time stamp is the changelog's (SOURCE_DATE_EPOCH).
# Prints the package's path as the last line of standard output; everything else goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { echo "package-deb: $*" >&2; }
die() { echo "package-deb: error: $*" >&2; exit 1; }

# Tools: dpkg-deb, dpkg-shlibdeps and dpkg-parsechangelog (dpkg-dev), strip and readelf
# (binutils); installed like scripts/bootstrap.sh does when missing.
need_packages() {
  local missing=() pkg sudo=""
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
need_packages dpkg-dev binutils gzip python3

bin=${HALLPASS_BIN:-}
if [ -z "$bin" ]; then
  bin=$(scripts/build-release.sh | tail -n 1)
fi
[ -f "$bin" ] && [ -x "$bin" ] || die "no executable binary at '$bin' (HALLPASS_BIN)"

# The version: `hallpass --version`, else HALLPASS_VERSION (a binary from before --version).
version_line=$("$bin" --version 2>/dev/null | head -n 1) || version_line=""
if [[ $version_line =~ ^hallpass\ ([0-9]+\.[0-9]+\.[0-9]+)\ \(commit\ ([0-9A-Za-z-]+)\)$ ]]; then
  version=${BASH_REMATCH[1]}
  commit=${BASH_REMATCH[2]}
  if [ -n "${HALLPASS_VERSION:-}" ] && [ "$HALLPASS_VERSION" != "$version" ]; then
    die "HALLPASS_VERSION=$HALLPASS_VERSION but $bin says '$version_line'"
  fi
elif [ -n "${HALLPASS_VERSION:-}" ]; then
  [[ $HALLPASS_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "HALLPASS_VERSION must be X.Y.Z, not '$HALLPASS_VERSION'"
  version=$HALLPASS_VERSION
  commit=unknown
  log "warning: $bin has no usable --version; packaging it as $version (HALLPASS_VERSION)"
else
  die "cannot tell the version: '$bin --version' printed '${version_line}', not 'hallpass X.Y.Z (commit HASH)'. Build a binary that has --version, or set HALLPASS_VERSION=X.Y.Z"
fi
[ "$commit" = unknown ] || [[ $commit != *-dirty ]] || log "warning: the binary was built from a checkout with uncommitted changes ($commit)"

deb_version=$(dpkg-parsechangelog -l packaging/changelog -S Version)
[ "${deb_version%-*}" = "$version" ] \
  || die "packaging/changelog's newest entry is $deb_version, but the binary is $version: add a changelog entry for $version-1"
maintainer=$(dpkg-parsechangelog -l packaging/changelog -S Maintainer)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l packaging/changelog -S Timestamp)}

case "$(readelf -h "$bin" | sed -n 's/^ *Machine: *//p')" in
  "Advanced Micro Devices X86-64") arch=amd64 ;;
  AArch64) arch=arm64 ;;
  *) die "$bin is for a machine this script does not know: $(readelf -h "$bin" | sed -n 's/^ *Machine: *//p')" ;;
esac

# Every key the loader knows must be documented in the conffile (commented or not).
keys=$(python3 - Sources/HallpassSettings/SettingsLoader.swift <<'EOF'
import re, sys
source = open(sys.argv[1], encoding="utf-8").read()
match = re.search(r"static let keys\s*=\s*\[(.*?)\]", source, re.S)
assert match, "SettingsLoader.keys not found"
print(" ".join(re.findall(r'"([a-z_]+)"', match.group(1))))
EOF
)
for key in $keys; do
  grep -Eq "^#?$key = " packaging/hallpass.toml || die "packaging/hallpass.toml does not document '$key' (SettingsLoader.keys)"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
# A debhelper-like tree, so that dpkg-shlibdeps finds the package: debian/control, debian/hallpass/.
mkdir -p "$stage/debian"
pkg=$stage/debian/hallpass
mkdir -p "$pkg/DEBIAN"

# The binary: without symbols (dh_strip's options), and without the RUNPATH ($ORIGIN) SwiftPM
# adds unless built with --disable-local-rpath: nothing is loaded from beside /usr/bin/hallpass.
install -D -m 0755 "$bin" "$pkg/usr/bin/hallpass"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$pkg/usr/bin/hallpass"
if readelf -d "$pkg/usr/bin/hallpass" | grep -Eq '\((RUNPATH|RPATH)\)'; then
  need_packages chrpath
  chrpath -d "$pkg/usr/bin/hallpass" >&2
fi
hp=$pkg/usr/bin/hallpass
log "binary: $(stat -c %s "$bin") bytes, stripped $(stat -c %s "$hp") bytes ($version, commit $commit)"

# The configuration: a conffile, and it must load (the store commands parse every server key;
# HALLPASS_DB keeps the check away from /var/lib/hallpass).
install -D -m 0644 packaging/hallpass.toml "$pkg/etc/hallpass/hallpass.toml"
if ! check=$(cd "$stage" && env -i PATH=/usr/bin:/bin HALLPASS_DB="$stage/check.db" "$hp" scopes list --config "$pkg/etc/hallpass/hallpass.toml" 2>&1); then
  die "the binary refuses packaging/hallpass.toml: $check"
fi
rm -f "$stage"/check.db*

install -D -m 0644 -t "$pkg/usr/share/hallpass/themes" Themes/*.toml
install -D -m 0644 packaging/hallpass.service "$pkg/usr/lib/systemd/system/hallpass.service"
install -D -m 0644 packaging/hallpass.sysusers "$pkg/usr/lib/sysusers.d/hallpass.conf"

# Man pages, one per command (hallpass.1, hallpass.users.add.1, …), dated like the changelog.
# generate-manual is an executable target of swift-argument-parser, not a product our package can
# build: it is built from the checkout as its own package, in its own scratch directory (a
# minute, once), never mixed with our build.
manual_scratch=$root/.build/generate-manual
generate_manual=${HALLPASS_GENERATE_MANUAL:-$manual_scratch/debug/generate-manual}
if [ "$generate_manual" = none ]; then
  log "warning: HALLPASS_GENERATE_MANUAL=none: the package has NO man pages (a trial build only)"
else
  if [ ! -x "$generate_manual" ]; then
    [ -z "${HALLPASS_GENERATE_MANUAL:-}" ] || die "HALLPASS_GENERATE_MANUAL=$generate_manual is not executable"
    parser=$root/.build/checkouts/swift-argument-parser
    [ -d "$parser" ] || swift package resolve >&2
    log "building generate-manual (swift-argument-parser $(git -C "$parser" describe --tags 2>/dev/null || echo checkout))"
    swift build --package-path "$parser" --scratch-path "$manual_scratch" --product generate-manual >&2
    generate_manual=$manual_scratch/debug/generate-manual
  fi
  mkdir -p "$stage/man" "$pkg/usr/share/man/man1"
  "$generate_manual" "$hp" --multi-page --date "$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)" \
    --output-directory "$stage/man" >&2
  compgen -G "$stage/man/*.1" >/dev/null || die "generate-manual wrote no pages"
  # A subcommand's page names it "hallpass users add" in NAME, which whatis (lexgrog) cannot
  # parse (lintian: bad-whatis-entry). NAME gets the page's own name (hallpass.users.add), and
  # the synopsis keeps the command as typed.
  python3 - "$stage"/man/*.1 <<'PY'
import os, re, sys
for path in sys.argv[1:]:
    lines = open(path, encoding="utf-8").read().split("\n")
    section, spoken, out = None, None, []
    for line in lines:
        if line.startswith(".Sh "):
            section = line[4:]
        m = re.fullmatch(r'\.Nm "([^"]+)"', line)
        if section == "NAME" and m:
            spoken = m.group(1)
            line = ".Nm " + os.path.basename(path)[:-2]
        elif section == "SYNOPSIS" and spoken and line == ".Nm":
            line, spoken = f'.Nm "{spoken}"', None
        out.append(line)
    open(path, "w", encoding="utf-8").write("\n".join(out))
PY
  for page in "$stage"/man/*.1; do
    gzip -9n -c "$page" > "$pkg/usr/share/man/man1/$(basename "$page").gz"
  done
  chmod 0644 "$pkg"/usr/share/man/man1/*
fi

# Completions, from the binary itself.
mkdir -p "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
  "$pkg/usr/share/fish/vendor_completions.d"
# bash-completion sources the file: no #! line.
"$hp" --generate-completion-script bash | sed '1{/^#!/d}' > "$pkg/usr/share/bash-completion/completions/hallpass"
"$hp" --generate-completion-script zsh > "$pkg/usr/share/zsh/vendor-completions/_hallpass"
"$hp" --generate-completion-script fish > "$pkg/usr/share/fish/vendor_completions.d/hallpass.fish"
chmod 0644 "$pkg/usr/share/bash-completion/completions/hallpass" "$pkg/usr/share/zsh/vendor-completions/_hallpass" \
  "$pkg/usr/share/fish/vendor_completions.d/hallpass.fish"

# Documentation: changelog, copyright (Hallpass and what the static binary carries), NOTICE.
doc=$pkg/usr/share/doc/hallpass
mkdir -p "$doc"
gzip -9n -c packaging/changelog > "$doc/changelog.Debian.gz"
python3 packaging/copyright.py --commit "$commit" --notice "$stage/NOTICE" > "$doc/copyright"
gzip -9n -c "$stage/NOTICE" > "$doc/NOTICE.gz"
chmod 0644 "$doc"/*
install -D -m 0644 packaging/lintian-overrides "$pkg/usr/share/lintian/overrides/hallpass"

# Control files.
install -m 0755 packaging/postinst packaging/prerm packaging/postrm "$pkg/DEBIAN/"
echo /etc/hallpass/hallpass.toml > "$pkg/DEBIAN/conffiles"
printf 'Source: hallpass\n\nPackage: hallpass\nArchitecture: %s\n' "$arch" > "$stage/debian/control"
shlibs=$(cd "$stage" && dpkg-shlibdeps -O -edebian/hallpass/usr/bin/hallpass 2> "$stage/shlibdeps.log") \
  || { cat "$stage/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
[ ! -s "$stage/shlibdeps.log" ] || sed 's/^/  /' "$stage/shlibdeps.log" >&2
shlibs=$(sed -n 's/^shlibs:Depends=//p' <<< "$shlibs")
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies for $hp"
# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up; 1 per directory or link.
installed_size=$(find "$pkg" -mindepth 1 -path "$pkg/DEBIAN" -prune -o -printf '%y %s\n' \
  | awk '$1 == "f" { total += int(($2 + 1023) / 1024) } $1 != "f" { total += 1 } END { print total }')
cat > "$pkg/DEBIAN/control" <<EOF
Package: hallpass
Version: $deb_version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $shlibs, systemd-sysusers | adduser
Section: net
Priority: optional
Description: OAuth 2.0 device authorization server with a terminal consent screen
 Hallpass is an OAuth 2.0 and OpenID Connect authorization server for the
 device authorization grant (RFC 8628): a headless device (a kiosk, a TV, a
 CLI on a server) asks for a code, and a person approves it from a terminal,
 locally with "hallpass approve" or over SSH with nothing installed on their
 side. Any standard OAuth client library works unmodified.
 .
 The package runs it as the hallpass.service systemd unit, as the hallpass
 system user, on SQLite in /var/lib/hallpass or on PostgreSQL; the service is
 configured in /etc/hallpass/hallpass.toml and is not enabled on installation.
EOF
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort \
  | grep -vxF -f <(sed 's|^/||' DEBIAN/conffiles) | xargs -d '\n' md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"

find "$pkg" -type d -exec chmod 0755 {} +
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p dist
deb=$root/dist/hallpass_${deb_version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
log "package: $(stat -c %s "$deb") bytes, Installed-Size $installed_size KiB; Depends: $shlibs, systemd-sysusers | adduser"
echo "$deb"
