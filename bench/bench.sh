#!/bin/sh
# bench/bench.sh - what `make bench` and `make bench-smoke` run.
#
#   sh bench/bench.sh deps          install what the full benchmark needs
#   sh bench/bench.sh run BUILD [bench.py options...]
#                                   the full benchmark (docs/benchmarks.md)
#   sh bench/bench.sh smoke BUILD   tailhook alone, ~1 s per workload
#
# deps: as root, installs the peers and the clients from Debian (webhook,
# nginx, gunicorn, python3-flask, wrk, jekyll, ...) without starting any
# of their system services; otherwise prints the apt-get line to run.
# run/smoke: hand over to bench/bench.py, which raises the open-file limit
# (10,000 idle connections need it on both ends), starts every tool on
# 127.0.0.1, stops all it started (also on Ctrl-C) and writes the report.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
packages="webhook nginx gunicorn python3-flask wrk jekyll curl openssl git rsync \
procps python3 libssl-dev"

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

policy=/usr/sbin/policy-rc.d
policy_made=0
drop_policy() {
	if [ "$policy_made" -eq 1 ]; then
		rm -f "$policy"
		policy_made=0
	fi
}

deps() {
	missing=$(missing_packages)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: missing packages; run: sudo apt-get install -y --no-install-recommends $missing" >&2
		exit 1
	fi
	echo "bench: installing: $missing"
	# nginx (and webhook, once configured) would start as system services
	# on install; the benchmark starts its own instances and nothing else.
	if [ ! -e "$policy" ]; then
		trap drop_policy EXIT
		trap 'drop_policy; exit 130' INT
		trap 'drop_policy; exit 143' TERM
		printf '#!/bin/sh\n# bench/bench.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		policy_made=1
	fi
	apt-get update
	# shellcheck disable=SC2086 # a word list on purpose
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
	drop_policy
	missing=$(missing_packages)
	if [ -n "$missing" ]; then
		echo "bench: still missing after apt-get install: $missing" >&2
		exit 1
	fi
}

cmd=${1:-}
case "$cmd" in
deps)
	deps
	;;
run | smoke)
	[ $# -ge 2 ] || {
		echo "usage: sh bench/bench.sh run|smoke BUILD [options]" >&2
		exit 2
	}
	build=$2
	shift 2
	if [ "$cmd" = smoke ]; then
		exec /usr/bin/python3 "$here/bench.py" --build "$build" --smoke \
			--out "$build/bench/benchmarks-smoke.md" "$@"
	fi
	exec /usr/bin/python3 "$here/bench.py" --build "$build" "$@"
	;;
*)
	echo "usage: sh bench/bench.sh deps | run BUILD [options] | smoke BUILD" >&2
	exit 2
	;;
esac
