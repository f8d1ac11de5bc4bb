#!/usr/bin/env bash
# Builds a static, HTTP(S)-only libcurl for the wheels into PREFIX (default build/wheels/deps),
# from Debian's source package of the libcurl the machine has installed (Debian's patches
# applied). The wheel then carries no LDAP, Kerberos, SASL, SSH, RTMP, IDN, PSL, HTTP/2 or GnuTLS
# libraries on curl's account: talking to AWS needs HTTP/1.1 over OpenSSL and gzip (zlib is one
# of the system libraries manylinux allows). The CA bundle default stays Debian's
# (/etc/ssl/certs/ca-certificates.crt); AWS_CA_BUNDLE overrides it.
#
# apt runs with its own source list and state under build/wheels/apt (deb-src for bookworm), so
# the system's apt configuration is neither needed nor changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${1:-build/wheels/deps}
WORK=build/wheels/curl
version=$(dpkg-query -W -f='${Version}' libcurl4-openssl-dev)
stamp="$PREFIX/.curl-$version"
[ -f "$stamp" ] && exit 0

codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
apt_dir=$PWD/$WORK/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$WORK/src"
cat >"$apt_dir/sources.list" <<SOURCES
deb-src http://deb.debian.org/debian $codename main
deb-src http://deb.debian.org/debian $codename-updates main
deb-src http://deb.debian.org/debian-security $codename-security main
SOURCES
apt_options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root
  -qq)
echo "build_static_curl: curl $version from Debian's source package"
apt-get "${apt_options[@]}" update
rm -rf "$WORK/src"/*
(cd "$WORK/src" && apt-get "${apt_options[@]}" source --download-only "curl=$version" >/dev/null &&
  dpkg-source -x ./*.dsc curl >/dev/null)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
rm -rf "$WORK/build"
cmake -S "$WORK/src/curl" -B "$WORK/build" -G Ninja --log-level=WARNING "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PWD/$PREFIX" \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF \
  -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF \
  -DHTTP_ONLY=ON -DCURL_USE_OPENSSL=ON -DUSE_NGHTTP2=OFF -DUSE_LIBIDN2=OFF -DCURL_USE_LIBPSL=OFF \
  -DCURL_USE_LIBSSH2=OFF -DCURL_USE_GSSAPI=OFF -DCURL_DISABLE_LDAP=ON -DCURL_BROTLI=OFF \
  -DCURL_ZSTD=OFF
cmake --build "$WORK/build" >/dev/null
cmake --install "$WORK/build" >/dev/null
touch "$stamp"
