#!/usr/bin/env bash
# Builds static, trimmed libcurl, libpq and cpp-httplib for the wheels into PREFIX (default build/wheels/deps),
# from Debian's source packages of the versions the machine has installed (Debian's patches
# applied). Linked statically, they bring only what the product uses into the wheel:
#
# - libcurl: HTTP and HTTPS over OpenSSL with gzip (zlib is a system library manylinux allows).
#   Debian's shared libcurl also pulls in LDAP, Kerberos, SASL, SSH, RTMP, IDN, PSL, HTTP/2,
#   brotli, zstd and (through RTMP and LDAP) GnuTLS with its own dependencies.
# - libpq: TCP and Unix-socket connections with OpenSSL, without LDAP service lookup and
#   Kerberos (GSSAPI) authentication, which pull in OpenLDAP, SASL, GnuTLS and MIT Kerberos.
# - cpp-httplib (dms-local's HTTP server): with OpenSSL and zlib, without brotli, and compiled
#   with cmake/glibcxx_compat.h like the core (Debian's shared build needs libstdc++ 3.4.30).
#
# The CA bundle default stays Debian's (/etc/ssl/certs/ca-certificates.crt); AWS_CA_BUNDLE
# overrides it. apt runs with its own source list and state under build/wheels/apt (deb-src
# lines for this release), so the system's apt configuration is neither needed nor changed.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

PREFIX=$PWD/${1:-build/wheels/deps}
WORK=$PWD/build/wheels
launcher=()
command -v ccache >/dev/null && launcher=(ccache)

apt_options=(-qq -o "Dir::Etc::SourceList=$WORK/apt/sources.list"
  -o Dir::Etc::SourceParts=/nonexistent -o "Dir::State::Lists=$WORK/apt/lists"
  -o "Dir::Cache=$WORK/apt/cache" -o APT::Sandbox::User=root)

# The machine's own Debian archives (whatever mirror its apt uses), as deb-src entries of the
# release's main, updates and security suites; third-party repositories are left out.
debian_source_entries() {
  python3 - "$1" <<'PY'
import glob, re, sys

codename = sys.argv[1]
suites = {codename, f"{codename}-updates", f"{codename}-security"}
entries = []
for path in glob.glob("/etc/apt/sources.list") + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    for line in open(path, encoding="utf-8"):
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            entries.append((words[1], words[2]))
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path, encoding="utf-8").read()):
        fields = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(("#", " ")):
                key, value = line.split(":", 1)
                fields[key.strip()] = value.split()
        if "deb" in fields.get("Types", []) and fields.get("Enabled", ["yes"]) != ["no"]:
            entries += [(uri, suite) for uri in fields.get("URIs", []) for suite in fields.get("Suites", [])]
for uri, suite in dict.fromkeys(entries):
    if suite in suites:
        print(f"deb-src {uri} {suite} main")
PY
}

apt_update() {
  local codename
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
  debian_source_entries "$codename" >"$WORK/apt/sources.list"
  if [ ! -s "$WORK/apt/sources.list" ]; then
    echo "build_wheel_deps: no Debian $codename archive in /etc/apt/sources.list*" >&2
    exit 1
  fi
  apt-get "${apt_options[@]}" update
}

# unpack SOURCE_PACKAGE VERSION DIR: Debian's source package, patched, in DIR/src.
unpack() {
  rm -rf "$3"
  mkdir -p "$3"
  (cd "$3" && apt-get "${apt_options[@]}" source --download-only "$1=$2" >/dev/null &&
    dpkg-source -x ./*.dsc src >/dev/null)
}

build_curl() {
  local version=$1 dir=$WORK/curl
  echo "build_wheel_deps: libcurl $version (static, HTTP and HTTPS only)"
  unpack curl "$version" "$dir"
  cmake -S "$dir/src" -B "$dir/build" -G Ninja --log-level=WARNING \
    ${launcher:+-DCMAKE_C_COMPILER_LAUNCHER=ccache} \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF \
    -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF \
    -DHTTP_ONLY=ON -DCURL_USE_OPENSSL=ON -DUSE_NGHTTP2=OFF -DUSE_LIBIDN2=OFF \
    -DCURL_USE_LIBPSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_GSSAPI=OFF -DCURL_DISABLE_LDAP=ON \
    -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF
  cmake --build "$dir/build" >/dev/null
  cmake --install "$dir/build" >/dev/null
}

build_libpq() {
  local version=$1 source_package=$2 dir=$WORK/libpq
  echo "build_wheel_deps: libpq $version (static, without LDAP and GSSAPI)"
  unpack "$source_package" "$version" "$dir"
  (cd "$dir/src" &&
    CC="${launcher[*]} gcc" CFLAGS="-O2 -fPIC" ./configure --quiet --prefix="$PREFIX" \
      --with-openssl --without-ldap --without-gssapi --without-icu --without-readline \
      --without-zlib --without-lz4 --without-zstd >/dev/null &&
    make -s -j"$(nproc)" -C src/include >/dev/null &&
    # utils/errcodes.h and the other generated headers src/common includes.
    make -s -C src/backend generated-headers >/dev/null &&
    make -s -j"$(nproc)" -C src/common >/dev/null &&
    make -s -j"$(nproc)" -C src/port >/dev/null &&
    make -s -j"$(nproc)" -C src/interfaces/libpq all-static-lib >/dev/null)
  mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
  cp "$dir/src/src/interfaces/libpq/libpq.a" "$dir/src/src/common/libpgcommon_shlib.a" \
    "$dir/src/src/port/libpgport_shlib.a" "$PREFIX/lib/"
  cp "$dir/src/src/interfaces/libpq/libpq-fe.h" "$dir/src/src/include/postgres_ext.h" \
    "$dir/src/src/include/pg_config_ext.h" "$PREFIX/include/"
  # What a static libpq needs after it, in link order (PostgreSQL's own libpq.pc lists the
  # shared library only).
  cat >"$PREFIX/lib/pkgconfig/libpq.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libpq
Description: PostgreSQL client library (static, for the wheels)
Version: ${version%%-*}
Libs: -L\${libdir} -lpq -lpgcommon_shlib -lpgport_shlib -lssl -lcrypto -lm
Cflags: -I\${includedir}
PC
}

build_httplib() {
  local version=$1 dir=$WORK/httplib
  echo "build_wheel_deps: cpp-httplib $version (static, OpenSSL and zlib)"
  unpack cpp-httplib "$version" "$dir"
  local defines=(-DCPPHTTPLIB_OPENSSL_SUPPORT -DCPPHTTPLIB_ZLIB_SUPPORT)
  python3 "$dir/src/split.py" --out "$dir/split" >/dev/null
  "${launcher[@]}" g++ -std=c++17 -O2 -fPIC "${defines[@]}" -include "$PWD/cmake/glibcxx_compat.h" \
    -c "$dir/split/httplib.cc" -o "$dir/httplib.o"
  mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
  rm -f "$PREFIX/lib/libcpp-httplib.a"
  ar rcs "$PREFIX/lib/libcpp-httplib.a" "$dir/httplib.o"
  cp "$dir/split/httplib.h" "$PREFIX/include/"
  cat >"$PREFIX/lib/pkgconfig/cpp-httplib.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: cpp-httplib
Description: A C++ HTTP/HTTPS server and client library (static, for the wheels)
Version: ${version%%-*}
Libs: -L\${libdir} -lcpp-httplib -lssl -lcrypto -lz -pthread
Cflags: -I\${includedir} ${defines[*]}
PC
}

curl_version=$(dpkg-query -W -f='${Version}' libcurl4-openssl-dev)
pq_version=$(dpkg-query -W -f='${Version}' libpq-dev)
pq_source=$(dpkg-query -W -f='${source:Package}' libpq-dev)
httplib_version=$(dpkg-query -W -f='${Version}' libcpp-httplib-dev)
stamp="$PREFIX/.built-curl-$curl_version-libpq-$pq_version-httplib-$httplib_version-$(
  sha256sum cmake/glibcxx_compat.h | cut -c1-12)"
[ -f "$stamp" ] && exit 0

rm -rf "$PREFIX"
apt_update
build_curl "$curl_version"
build_libpq "$pq_version" "$pq_source"
build_httplib "$httplib_version"
touch "$stamp"
