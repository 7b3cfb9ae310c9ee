#!/bin/sh
# tests/deps.sh [demo] - make sure the Debian 12 packages that building and
# testing tailhook need are installed.
#
# Quiet when everything is present.  As root, installs what is missing
# (apt-get update once, then install without recommends).  Otherwise prints
# one line naming the command to run and exits 1.  `demo` adds what
# `make demo` needs.  libclang-rt-14-dev holds the sanitizer and libFuzzer
# runtimes; llvm-14 has llvm-profdata and llvm-cov for make fuzz-coverage.
#
# POSIX sh on purpose: this runs first, possibly in a minimal chroot that
# has nothing but dpkg, apt and make.
set -eu

packages="build-essential clang libevent-dev libbearssl-dev libjsmn-dev \
libseccomp-dev libinih-dev libcmocka-dev pkg-config git rsync curl openssl \
ca-certificates python3 python3-pytest clang-format cppcheck procps passwd systemd man-db groff-base wrk libssl-dev \
libclang-rt-14-dev llvm-14"

for arg in "$@"; do
	case "$arg" in
	demo) packages="$packages jekyll" ;;
	*)
		echo "usage: sh tests/deps.sh [demo]" >&2
		exit 2
		;;
	esac
done

# Prints the packages of $packages that are not installed, space-separated.
missing_packages() {
	out=""
	for p in $packages; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$status" in
		*" installed") ;;
		*) out="${out:+$out }$p" ;;
		esac
	done
	printf '%s' "$out"
}

# Site users must be able to reach paths below /.  A root directory that
# others cannot search (seen in chroots made with mktemp -d) breaks every
# multi-user daemon, tailhook's deploys and tests included.
root_searchable() {
	[ -n "$(find / -maxdepth 0 -perm -o+x 2>/dev/null)" ]
}
if [ "$(id -u)" -eq 0 ] && ! root_searchable; then
	echo "tailhook: / is not searchable by other users; running chmod go+x / so that site users can reach their files"
	chmod go+x /
fi

missing=$(missing_packages)
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tailhook: missing packages; run: sudo apt-get install -y $missing" >&2
	exit 1
fi

echo "tailhook: installing: $missing"
apt-get update
# shellcheck disable=SC2086 # $missing is a word list on purpose
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing

missing=$(missing_packages)
if [ -n "$missing" ]; then
	echo "tailhook: still missing after apt-get install: $missing" >&2
	exit 1
fi
