#!/bin/sh
# Builds dist/relance_<version>_<arch>.deb with dpkg-deb from a staged tree.
# Called by `make deb` (see the Makefile and README, "Deployment"); environment:
#   STAGE       a tree already filled by `make install DESTDIR=$STAGE PREFIX=/usr`
#   VERSION     package version (0.4.0)
#   ARCH        Debian architecture (dpkg --print-architecture)
#   OUTPUT      the .deb to write
#   STRICT      1: refuse a binary that needs libraries no Debian package provides
#               (the Swift runtime in /opt/swift): the real package is built with
#               --static-swift-stdlib. 0: warn only (tests package the debug binary).
#   STRIP       yes: strip the binary (symbols off: 3× smaller)
#   MAINTAINER  the Maintainer field
#   COMPRESS    dpkg-deb compressor: xz (default), gzip, zstd or none (tests: fast)
set -eu

: "${STAGE:?}" "${VERSION:?}" "${ARCH:?}" "${OUTPUT:?}"
STRICT=${STRICT:-1}
STRIP=${STRIP:-yes}
COMPRESS=${COMPRESS:-xz}
MAINTAINER=${MAINTAINER:-Relance maintainers <relance@localhost>}
here=$(cd "$(dirname "$0")" && pwd)
bin="$STAGE/usr/bin/relance"

[ -x "$bin" ] || { echo "build-deb: $bin is missing (make install DESTDIR=$STAGE PREFIX=/usr first)" >&2; exit 1; }
[ -f "$STAGE/etc/relance/relance.yaml" ] || { echo "build-deb: $STAGE/etc/relance/relance.yaml is missing" >&2; exit 1; }

# Libraries outside the system library directories (the Swift runtime of /opt/swift):
# no Debian package provides them.
foreign=$(ldd "$bin" | awk '$2 == "=>" && $3 !~ /^\/(usr\/)?lib(32|64|x32)?\// { print ($3 == "not" ? $1 " (not found)" : $3) }')
if [ -n "$foreign" ]; then
    if [ "$STRICT" = 1 ]; then
        echo "build-deb: $bin needs libraries no Debian package provides:" >&2
        echo "$foreign" | sed 's/^/    /' >&2
        echo "build-deb: build it with swift build -c release --static-swift-stdlib" >&2
        exit 1
    fi
    echo "build-deb: warning: this package only runs where these exist (test package):"
    echo "$foreign" | sed 's/^/    /'
fi

if [ "$STRIP" = yes ]; then
    strip --strip-unneeded "$bin"
fi

# Depends: what the binary links (dpkg-shlibdeps: package names and minimal versions
# from the symbols used), plus adduser for postinst.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian"
printf 'Source: relance\n\nPackage: relance\nArchitecture: any\n' >"$work/debian/control"
cp "$bin" "$work/relance"
shlibs=$(cd "$work" && dpkg-shlibdeps -O --ignore-missing-info -e relance 2>"$work/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { cat "$work/shlibdeps.log" >&2; echo "build-deb: dpkg-shlibdeps found no dependency" >&2; exit 1; }
# The letters font: fontconfig finds it at run time, no library links it.
depends="adduser, fonts-dejavu-core, $shlibs"

mkdir -p "$STAGE/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" "$here/deb/control.in" >"$STAGE/DEBIAN/control"
echo /etc/relance/relance.yaml >"$STAGE/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$here/deb/$script" "$STAGE/DEBIAN/$script"
done
install -m 0644 "$here/deb/copyright" "$STAGE/usr/share/doc/relance/copyright"

mkdir -p "$(dirname "$OUTPUT")"
dpkg-deb --root-owner-group -Z"$COMPRESS" --build "$STAGE" "$OUTPUT"
echo "Depends: $depends"
