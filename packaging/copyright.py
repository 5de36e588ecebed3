#!/usr/bin/env python3
"""Writes the package's /usr/share/doc/hallpass/copyright (DEP-5) to standard output, and with
--notice FILE the NOTICE files of the bundled Swift packages (Apache-2.0 section 4(d)).

/usr/bin/hallpass is a static release build: besides Hallpass's own code it carries the Swift
runtime and Foundation of the toolchain (--static-swift-stdlib) and every Swift package the
product links, from Package.resolved and .build/checkouts. Each gets its own paragraph, with
its license as its LICENSE file says; a license this script cannot tell stops the build.
Run by scripts/package-deb.sh from the repository root."""
import argparse
import json
import os
import re
import sys

MAINTAINER = "Hallpass maintainers <maintainers@users.noreply.h-seed-0823098a.example>"

APACHE = """\
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License. You may obtain a copy of
 the License at http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 License for the specific language governing permissions and limitations under
 the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in /usr/share/common-licenses/Apache-2.0."""

MIT = """\
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE."""

UNICODE = """\
 UNICODE LICENSE V3
 .
 COPYRIGHT AND PERMISSION NOTICE
 .
 Copyright © 2016-2024 Unicode, Inc.
 .
 NOTICE TO USER: Carefully read the following legal agreement. BY
 DOWNLOADING, INSTALLING, COPYING OR OTHERWISE USING DATA FILES, AND/OR
 SOFTWARE, YOU UNEQUIVOCALLY ACCEPT, AND AGREE TO BE BOUND BY, ALL OF THE
 TERMS AND CONDITIONS OF THIS AGREEMENT. IF YOU DO NOT AGREE, DO NOT
 DOWNLOAD, INSTALL, COPY, DISTRIBUTE OR USE THE DATA FILES OR SOFTWARE.
 .
 Permission is hereby granted, free of charge, to any person obtaining a
 copy of data files and any associated documentation (the "Data Files") or
 software and any associated documentation (the "Software") to deal in the
 Data Files or Software without restriction, including without limitation
 the rights to use, copy, modify, merge, publish, distribute, and/or sell
 copies of the Data Files or Software, and to permit persons to whom the
 Data Files or Software are furnished to do so, provided that either (a)
 this copyright and permission notice appear with all copies of the Data
 Files or Software, or (b) this copyright and permission notice appear in
 associated Documentation.
 .
 THE DATA FILES AND SOFTWARE ARE PROVIDED "AS IS", WITHOUT WARRANTY OF ANY
 KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT OF
 THIRD PARTY RIGHTS.
 .
 IN NO EVENT SHALL THE COPYRIGHT HOLDER OR HOLDERS INCLUDED IN THIS NOTICE
 BE LIABLE FOR ANY CLAIM, OR ANY SPECIAL INDIRECT OR CONSEQUENTIAL DAMAGES,
 OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS,
 WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION,
 ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THE DATA
 FILES OR SOFTWARE.
 .
 Except as contained in this notice, the name of a copyright holder shall
 not be used in advertising or otherwise to promote the sale, use or other
 dealings in these Data Files or Software without prior written
 authorization of the copyright holder."""

ZLIB = """\
 This software is provided 'as-is', without any express or implied
 warranty.  In no event will the authors be held liable for any damages
 arising from the use of this software.
 .
 Permission is granted to anyone to use this software for any purpose,
 including commercial applications, and to alter it and redistribute it
 freely, subject to the following restrictions:
 .
 1. The origin of this software must not be misrepresented; you must not
    claim that you wrote the original software. If you use this software
    in a product, an acknowledgment in the product documentation would be
    appreciated but is not required.
 2. Altered source versions must be plainly marked as such, and must not be
    misrepresented as being the original software.
 3. This notice may not be removed or altered from any source distribution."""

COPYRIGHT_LINE = re.compile(r"^\W*((?:copyright\b\s*(?:\(c\)|©)?|\(c\)\s*(?=\d))\s*\S.*)$", re.I)
NOT_A_HOLDER = re.compile(r"copyright (notice|owner|license|statement|string|\[yyyy\]|holder)", re.I)


def license_of(path):
    head = open(path, encoding="utf-8", errors="replace").read(4000)
    if "Apache License" in head and "Version 2.0" in head:
        return "Apache-2.0"
    if "Permission is hereby granted, free of charge" in head:
        return "MIT"
    return None


def holders(*paths):
    """The copyright lines of a LICENSE or NOTICE file (not the license's own uses of the word)."""
    found = []
    for path in paths:
        if not path or not os.path.exists(path):
            continue
        for line in open(path, encoding="utf-8", errors="replace").readlines()[:80]:
            m = COPYRIGHT_LINE.match(line.strip())
            if m and not NOT_A_HOLDER.search(line) and len(m.group(1)) < 120:
                text = re.sub(r"^(copyright\b\s*(\(c\)|©)?|\(c\))\s*", "", m.group(1), flags=re.I).strip()
                if text and text not in found:
                    found.append(text)
    return found


def first(directory, pattern):
    if not os.path.isdir(directory):
        return None
    names = sorted(n for n in os.listdir(directory) if re.match(pattern, n, re.I))
    return os.path.join(directory, names[0]) if names else None


def paragraph(fields):
    out = []
    for name, value in fields:
        lines = value.split("\n")
        out.append(f"{name}: {lines[0]}")
        out.extend(line if line.startswith(" ") else " " + line for line in lines[1:])
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--notice", help="write the bundled packages' NOTICE files here")
    args = parser.parse_args()

    pins = json.load(open("Package.resolved"))["pins"]
    paragraphs = [paragraph([
        ("Format", "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"),
        ("Upstream-Name", "hallpass"),
        ("Upstream-Contact", MAINTAINER),
        ("Source", f"the Hallpass git repository, commit {args.commit} (not published)"),
        ("Comment", "/usr/bin/hallpass is a static release build. Besides Hallpass's own\n"
                    "code it contains the Swift runtime and Foundation of the Swift toolchain\n"
                    "and the Swift packages below, each under its own license; their NOTICE\n"
                    "files are in /usr/share/doc/hallpass/NOTICE.gz. At run time it links\n"
                    "Debian's libsqlite3, libsodium, libncursesw, libqrencode, libstdc++ and\n"
                    "libc dynamically (see the package's Depends)."),
    ])]
    paragraphs.append(paragraph([
        ("Files", "*"),
        ("Copyright", f"2026 {MAINTAINER}"),
        ("License", "no-license-granted\n"
                    " The Hallpass repository contains no license file and its sources state no\n"
                    " license: its authors have not granted any license to copy, modify or\n"
                    " redistribute Hallpass. Ask them before passing this package on."),
    ]))
    paragraphs.append(paragraph([
        ("Files", "swift-toolchain/usr/lib/swift_static/*"),
        ("Copyright", "2014-2026 Apple Inc. and the Swift project authors"),
        ("License", "Apache-2.0 with Swift Runtime Library exception\n"
                    + APACHE + "\n .\n"
                    " Runtime Library Exception to the Apache 2.0 License: As an exception, if\n"
                    " you use this Software to compile your source code and portions of this\n"
                    " Software are embedded into the binary product as a result, you may\n"
                    " redistribute such product without providing attribution as would\n"
                    " otherwise be required by Sections 4(a), 4(b) and 4(d) of the License."),
        ("Comment", "The Swift standard library, Foundation and their runtime libraries,\n"
                    "linked in by swift build --static-swift-stdlib (from the toolchain,\n"
                    "not this repository)."),
    ]))
    paragraphs.append(paragraph([
        ("Files", "swift-toolchain/usr/lib/swift_static/linux/lib_FoundationICU.a"),
        ("Copyright", "2016-2024 Unicode, Inc."),
        ("License", "Unicode-3.0\n" + UNICODE),
        ("Comment", "ICU code and data inside Foundation (swift-foundation-icu)."),
    ]))

    notices = []
    for pin in sorted(pins, key=lambda p: p["identity"]):
        name = re.sub(r"\.git$", "", pin["location"].rstrip("/").rsplit("/", 1)[-1])
        checkout = os.path.join(".build", "checkouts", name)
        license_file = first(checkout, r"^licen[cs]e")
        if not license_file:
            sys.exit(f"copyright.py: no LICENSE file in {checkout} (run `swift package resolve`)")
        kind = license_of(license_file)
        if not kind:
            sys.exit(f"copyright.py: cannot tell the license of {license_file}: add it to packaging/copyright.py")
        notice_file = first(checkout, r"^notices?(\.txt)?$")
        version = pin["state"].get("version") or pin["state"].get("revision", "")[:12]
        owners = holders(license_file, notice_file) or [f"the {name} authors ({pin['location']})"]
        paragraphs.append(paragraph([
            ("Files", f".build/checkouts/{name}/*"),
            ("Copyright", "\n".join(owners)),
            ("License", kind),
            ("Comment", f"{name} {version}, {pin['location']}"),
        ]))
        # Code vendored inside a package: llhttp in swift-nio, zlib in swift-nio-extras (symbols
        # prefixed cnioextras_z_), toml++ in TOMLKit.
        for directory, _, files in sorted(os.walk(os.path.join(checkout, "Sources"))):
            for file in sorted(files):
                path = os.path.join(directory, file)
                inner = license_of(path) if re.match(r"^licen[cs]e", file, re.I) else None
                if file == "toml.hpp":
                    inner = "MIT"
                if file == "deflate.c" and "Jean-loup Gailly" in open(path, errors="replace").read(400):
                    inner = "Zlib"
                if inner:
                    paragraphs.append(paragraph([
                        ("Files", os.path.relpath(directory) + "/*"),
                        ("Copyright", "\n".join(holders(path) or [f"see {os.path.relpath(path)}"])),
                        ("License", inner),
                    ]))
        if notice_file:
            notices.append(f"==> {name} {version} ({pin['location']}) <==\n"
                           + open(notice_file, encoding="utf-8", errors="replace").read().strip() + "\n")

    paragraphs.append(paragraph([("License", "Apache-2.0\n" + APACHE)]))
    paragraphs.append(paragraph([("License", "MIT\n" + MIT)]))
    paragraphs.append(paragraph([("License", "Zlib\n" + ZLIB)]))
    sys.stdout.write("\n\n".join(paragraphs) + "\n")
    if args.notice:
        with open(args.notice, "w", encoding="utf-8") as f:
            f.write("NOTICE files of the Swift packages linked into /usr/bin/hallpass\n\n" + "\n".join(notices))


if __name__ == "__main__":
    main()
