#!/bin/sh
# tests/demo/demo.sh [BUILD] - tailhook's main job on real input, start to
# finish: a signed GitHub push webhook arrives over TLS, and tailhook
# fetches the pushed commit, builds the Jekyll site in tests/demo/site/ as
# the site user and copies the result to the web root.
#
# Run through `make demo`, which installs jekyll (tests/deps.sh demo) and
# builds BUILD/tailhook first.  Everything happens in a temporary
# directory that is removed at the end, together with every process the
# demo started, also on failure or Ctrl-C.
#
# As root, the receiver runs as the system user _tailhook in an empty
# chroot and the site is built as the system user tailhook-demo (both are
# created if missing and left in place).  As another user, tailhook cannot
# switch users and runs everything as that user (it says so in its log).
#
# POSIX sh: needs git, rsync, curl, openssl, jekyll, procps (ps) and
# util-linux (setsid); no python.
set -eu

build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
case "$build" in
/*) ;;
*) build="$top/$build" ;;
esac
bin="$build/tailhook"

site_name=demo
site_user=tailhook-demo
rx_user=_tailhook
ready_timeout=10   # seconds for tailhook to listen and the receiver to be ready
deploy_timeout=120 # seconds for the deploy to finish (also the build timeout)
# The payload template's values that are replaced (push-payload.json is a
# byte-exact copy of drone/go-scm's GitHub push fixture).
tpl_ref=refs/heads/master
tpl_after=199eddf46df50de8d02e99bf1c5fdb4101338224

step=0
section() {
	step=$((step + 1))
	printf '\n== %s. %s\n' "$step" "$*"
}

say() {
	printf '   %s\n' "$*"
}

indent() {
	sed 's/^/   | /'
}

die() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	if [ -n "${log:-}" ] && [ -s "$log" ]; then
		printf '\n-- last lines of the tailhook log (%s) --\n' "$log" >&2
		tail -n 40 "$log" | indent >&2
	fi
	exit 1
}

# Every process below the given pid (children, grandchildren, ...).
# tailhook's deploy steps call setsid(), so a process group or session
# would miss them; the parent links do not.
descendants() {
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2; pids[++n] = $1 }
		END {
			want[root] = 1
			do {
				more = 0
				for (i = 1; i <= n; i++) {
					p = pids[i]
					if (!(p in want) && (parent[p] in want)) {
						want[p] = 1
						more = 1
					}
				}
			} while (more)
			for (p in want)
				if (p != root)
					print p
		}'
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# Stops tailhook with SIGTERM and waits up to $1 seconds for it to exit
# (it lets a running deploy finish first).  After that, tailhook and
# everything it started are stopped and killed.
stop_tailhook() {
	th_status=0
	[ -n "${th_pid:-}" ] || return 0
	if alive "$th_pid"; then
		kill -TERM "$th_pid" 2>/dev/null || true
		i=0
		while alive "$th_pid" && [ "$i" -lt $(($1 * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	if alive "$th_pid"; then
		printf 'demo: tailhook did not stop within %ss; killing it and its children\n' "$1" >&2
		# Freeze the whole tree first, so that nothing forks or is
		# reparented while it is being killed.
		kill -STOP "$th_pid" 2>/dev/null || true
		pids=$th_pid
		for _ in 1 2 3; do
			kids=$(descendants "$th_pid")
			# shellcheck disable=SC2086 # lists of pids
			[ -z "$kids" ] || kill -STOP $kids 2>/dev/null || true
			pids="$pids $kids"
		done
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
	fi
	wait "$th_pid" 2>/dev/null || th_status=$?
	th_pid=
}

T=
th_pid=
th_status=
log=
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$th_pid" ] && alive "$th_pid"; then
		printf 'demo: stopping tailhook (pid %s)\n' "$th_pid" >&2
		stop_tailhook 10
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'printf "\ndemo: interrupted\n" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The site user and the receiver must be able to read what is created here.
umask 022

for tool in git rsync curl openssl jekyll ps setsid; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is not installed (run: sh tests/deps.sh demo, as root)"
done
[ -x "$bin" ] || die "$bin missing (run: make all)"
[ -x "$build/tailhook-receiver" ] ||
	die "$build/tailhook-receiver missing (run: make all)"
[ -r /proc/sys/kernel/random/uuid ] || die "/proc/sys/kernel/random/uuid is not readable"

if [ "$(id -u)" -eq 0 ]; then
	root=1
else
	root=0
	site_user=$(id -un)
	rx_user=$site_user
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/tailhook-demo.XXXXXX")
chmod 0755 "$T"
# The site's own directory: checkout, releases and the live symlink.
S=$T/site
log=$T/tailhook.log

# The demo's own git commands (not tailhook's) use a private config: no
# user settings, a fixed author, and trust in the site user's bare repo.
printf '[safe]\n\tdirectory = *\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n' \
	>"$T/gitconfig"
g() {
	env HOME="$T" GIT_CONFIG_GLOBAL="$T/gitconfig" GIT_CONFIG_NOSYSTEM=1 \
		GIT_AUTHOR_NAME="tailhook demo" GIT_AUTHOR_EMAIL="demo@example.invalid" \
		GIT_COMMITTER_NAME="tailhook demo" GIT_COMMITTER_EMAIL="demo@example.invalid" \
		GIT_TERMINAL_PROMPT=0 git "$@"
}

printf 'tailhook demo: a signed GitHub push deploys a Jekyll site\n'
printf 'working directory: %s (removed at the end)\n' "$T"
"$bin" -V | indent

section "creating a bare repository that plays GitHub"
g init --quiet --bare "$T/remote.git"
g -C "$T/remote.git" symbolic-ref HEAD refs/heads/main
g init --quiet "$T/work"
g -C "$T/work" checkout --quiet -b main
g -C "$T/work" remote add origin "$T/remote.git"
cp -R "$here/site/." "$T/work/"
printf '/_site/\n/.jekyll-cache/\n' >"$T/work/.gitignore"
g -C "$T/work" add --all
g -C "$T/work" commit --quiet -m "Jekyll site: layout, two pages, a stylesheet"
g -C "$T/work" push --quiet origin main
say "remote:  $T/remote.git (branch main)"
say "commit:  $(g -C "$T/work" log -1 --format='%h %s')"
g -C "$T/work" ls-files | indent

section "making a TLS certificate and a webhook secret"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>"$T/openssl.err" || {
	cat "$T/openssl.err" >&2
	die "openssl could not make the certificate"
}
chmod 0600 "$T/key.pem"
chmod 0644 "$T/cert.pem"
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret")
secret=$(cat "$T/secret")
[ "${#secret}" -eq 64 ] || die "could not make a random secret"
say "certificate: $T/cert.pem (ECDSA P-256, CN and subjectAltName 127.0.0.1)"
say "key:         $T/key.pem (mode 0600)"
say "secret:      $T/secret (mode 0600, 64 hex digits shared with \"GitHub\")"

if [ "$root" -eq 1 ]; then
	section "creating the users (running as root)"
	for u in "$rx_user" "$site_user"; do
		if id -u "$u" >/dev/null 2>&1; then
			say "user $u exists"
		else
			useradd --system --no-create-home --shell /usr/sbin/nologin "$u" ||
				die "useradd $u failed"
			say "created system user $u"
		fi
	done
	say "$rx_user receives webhooks (chrooted to $T/empty);"
	say "$site_user runs git, jekyll and rsync."
	# The site user clones from the bare repo, so it must own it (git
	# refuses a repository owned by someone else).  tailhook creates the
	# checkout and the target for the site user in $S, which the site user
	# owns: the live symlink that publishes each release is replaced there.
	chown -R "$site_user:" "$T/remote.git"
	mkdir -m 0755 "$S"
	chown "$site_user:" "$S"
	mkdir -m 0755 "$T/empty"
else
	section "users (not running as root)"
	say "tailhook cannot switch users without root: the receiver and every"
	say "deploy step run as $(id -un), and tailhook warns about it in its log."
	say "(Run as root to see the sandboxed receiver and a separate site user.)"
	mkdir -m 0755 "$S"
	mkdir -m 0755 "$T/empty"
fi
mkdir -m 0700 "$T/state"

section "writing the configuration"
cfg=$T/tailhook.conf
(
	umask 077
	cat >"$cfg" <<EOF
# tailhook configuration for the demo.  Port 0: the kernel picks a free
# port, which tailhook logs as event=listen.
[server]
listen = 127.0.0.1:0
certificate = $T/cert.pem
key = $T/key.pem
user = $rx_user
chroot = $T/empty
state-dir = $T/state

[site $site_name]
path = /hook
provider = github
secret-file = $T/secret
branch = main
remote = $T/remote.git
checkout = $S/checkout
# An argv, not a shell command.  No disk cache: the build writes _site only.
build = jekyll build --source . --destination _site --disable-disk-cache --quiet
output = _site
target = $S/www
user = $site_user
timeout = $deploy_timeout
EOF
)
indent <"$cfg"
say ""
say "\$ tailhook -f $cfg -n"
"$bin" -f "$cfg" -n >"$T/check.out" 2>&1 || {
	indent <"$T/check.out"
	die "tailhook rejected the configuration"
}
indent <"$T/check.out"

section "starting tailhook"
# In a session of its own, so that a Ctrl-C reaches only this script,
# whose trap stops tailhook with SIGTERM like a service manager would.
setsid "$bin" -f "$cfg" </dev/null >"$log" 2>&1 &
th_pid=$!
say "pid $th_pid, log $log"
port=
i=0
while [ "$i" -lt $((ready_timeout * 10)) ]; do
	if [ -z "$port" ]; then
		port=$(sed -n 's/.*event=listen addr=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
	fi
	if [ -n "$port" ] && grep -q '^tailhook\[receiver\]: level=info event=ready' "$log"; then
		break
	fi
	alive "$th_pid" || die "tailhook exited during startup"
	sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || die "no event=listen line within ${ready_timeout}s"
grep -q '^tailhook\[receiver\]: level=info event=ready' "$log" ||
	die "the receiver was not ready within ${ready_timeout}s"
say "listening on https://127.0.0.1:$port/hook; the receiver is ready"

section "pushing a new commit that changes the home page"
now=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
new_text="Deployed by tailhook at $now."
sed "s|^<p id=\"deploy-status\">.*</p>\$|<p id=\"deploy-status\">$new_text</p>|" \
	"$T/work/index.md" >"$T/index.md.new"
mv "$T/index.md.new" "$T/work/index.md"
grep -qF "$new_text" "$T/work/index.md" || die "could not edit index.md"
g -C "$T/work" commit --quiet -am "Home page: $new_text"
g -C "$T/work" push --quiet origin main
sha=$(g -C "$T/work" rev-parse HEAD)
remote_sha=$(g -C "$T/remote.git" rev-parse refs/heads/main)
[ "$sha" = "$remote_sha" ] || die "the push did not update main in the bare repository"
say "pushed $(g -C "$T/work" log -1 --format='%h %s')"
g -C "$T/work" show --format= HEAD -- index.md | grep '^[-+]<p' | indent

section "sending the signed push webhook, as GitHub would"
body=$T/body.json
sed -e "s|^  \"ref\": \"$tpl_ref\",\$|  \"ref\": \"refs/heads/main\",|" \
	-e "s|^  \"after\": \"$tpl_after\",\$|  \"after\": \"$sha\",|" \
	"$here/push-payload.json" >"$body"
if ! grep -qx '  "ref": "refs/heads/main",' "$body" ||
	! grep -qx "  \"after\": \"$sha\"," "$body"; then
	die "the payload template tests/demo/push-payload.json has changed: \"ref\" or \"after\" not replaced"
fi
# Exactly those two lines differ from the template.
[ "$(diff "$here/push-payload.json" "$body" | grep -c '^>')" -eq 2 ] ||
	die "unexpected changes in the payload"
sig=$(openssl dgst -sha256 -hmac "$secret" <"$body" | awk '{print $NF}')
case "$sig" in
[0-9a-f]*) [ "${#sig}" -eq 64 ] || die "bad HMAC from openssl: $sig" ;;
*) die "bad HMAC from openssl: $sig" ;;
esac
delivery=$(cat /proc/sys/kernel/random/uuid)
say "body:      GitHub's push payload (Codertocat/Hello-World), $(wc -c <"$body") bytes,"
say "           with \"ref\": \"refs/heads/main\" and \"after\": \"$sha\""
say "headers:   X-GitHub-Event: push"
say "           X-GitHub-Delivery: $delivery"
say "           X-Hub-Signature-256: sha256=$sig"
say "\$ curl --cacert cert.pem --data-binary @body.json https://127.0.0.1:$port/hook"
status=$(curl -sS --max-time 10 --cacert "$T/cert.pem" \
	-H 'Content-Type: application/json' \
	-H 'User-Agent: GitHub-Hookshot/demo' \
	-H 'X-GitHub-Event: push' \
	-H "X-GitHub-Delivery: $delivery" \
	-H "X-Hub-Signature-256: sha256=$sig" \
	-H 'Expect:' \
	--data-binary "@$body" -o "$T/response" -w '%{http_code}' \
	"https://127.0.0.1:$port/hook") || die "curl failed"
say "HTTP status: $status"
say "response body:"
indent <"$T/response"
[ "$status" = 202 ] || die "expected HTTP 202 Accepted, got $status"

section "waiting for the deploy (git fetch, jekyll build, rsync)"
result=
i=0
while [ "$i" -lt $((deploy_timeout * 5)) ]; do
	if grep -q "event=deploy-done site=$site_name delivery=$delivery commit=$sha " "$log"; then
		result=deployed
		break
	fi
	if grep -q "event=deploy-failed site=$site_name delivery=$delivery " "$log"; then
		result=failed
		break
	fi
	alive "$th_pid" || die "tailhook exited during the deploy"
	sleep 0.2
	i=$((i + 1))
done
case "$result" in
deployed) ;;
failed)
	printf '\n-- tailhook log --\n' >&2
	indent <"$log" >&2
	log=
	die "the deploy failed (see event=deploy-failed above)"
	;;
*) die "no event=deploy-done within ${deploy_timeout}s" ;;
esac
say "$(grep "event=deploy-done site=$site_name delivery=$delivery" "$log" | sed 's/.*event=deploy-done //')"

section "the deployed site"
[ -f "$S/www/index.html" ] || die "$S/www/index.html is missing"
say "$S/www now holds:"
(cd "$S/www" && find . -type f | sed 's|^\./||' | sort) | indent
say "the changed line of $S/www/index.html:"
grep -F 'id="deploy-status"' "$S/www/index.html" | sed 's/^ *//' | indent
grep -qF "$new_text" "$S/www/index.html" ||
	die "the deployed index.html does not have the new text"
say "its footer (from TAILHOOK_COMMIT, which tailhook sets for the build):"
grep -F 'id="built-from"' "$S/www/index.html" | sed 's/^ *//' | indent
grep -qF "Built from commit $sha (delivery $delivery)" "$S/www/index.html" ||
	die "the deployed index.html was not built from $sha"
if [ "$root" -eq 1 ]; then
	say "owners: checkout $(stat -c %U "$S/checkout"), web root $(stat -c %U "$S/www")"
fi

section "stopping tailhook (SIGTERM)"
stop_tailhook 15
[ "$th_status" -eq 0 ] || die "tailhook exited with status $th_status"
say "tailhook has exited (status 0)"

section "tailhook's log"
indent <"$log"

printf '\ndemo: OK - commit %s was built and deployed from a signed push.\n' \
	"$(printf '%s' "$sha" | cut -c1-12)"
