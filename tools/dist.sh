#!/usr/bin/env bash
# `make dist`: the `make install` layout as a release tarball.
#
#   DISTDIR/NAME.tar.gz      NAME/ = the installed tree (relocatable) plus
#                            NAME/SHA256SUMS of every file in it
#   DISTDIR/SHA256SUMS       the tarball's SHA-256 (sha256sum -c SHA256SUMS)
#
# The archive is reproducible: sorted names, owner 0, file times set to the
# last commit's, gzip without a timestamp.
#
# Usage: tools/dist.sh DISTDIR NAME   (after cargo build --release)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
distdir="${1:?usage: tools/dist.sh DISTDIR NAME}"
name="${2:?usage: tools/dist.sh DISTDIR NAME}"
mkdir -p "$distdir"
distdir="$(cd "$distdir" && pwd)"
stage="$distdir/.stage"
rm -rf "$stage"
mkdir -p "$stage/$name"

"$root/tools/install.sh" "$stage/$name" release >/dev/null
(cd "$stage/$name" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort \
    | xargs -d '\n' sha256sum > SHA256SUMS)

mtime="$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
    -cf - "$name" | gzip -n -9 > "$distdir/$name.tar.gz"
rm -rf "$stage"
(cd "$distdir" && sha256sum "$name.tar.gz" > SHA256SUMS)
echo "$distdir/$name.tar.gz"
cat "$distdir/SHA256SUMS"
