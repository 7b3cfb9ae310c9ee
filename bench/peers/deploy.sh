#!/bin/sh
# bench/peers/deploy.sh REMOTE WORKDIR - the deploy script the classic
# setups run from their hook for workload 8 (push-to-live of the demo
# Jekyll site): the same steps as tailhook's deploy worker (fetch the
# branch, reset hard, clean, build, rsync into the web root), with
# bench-mark recording when git starts and when the build starts and ends.
# WORKDIR holds checkout/ (cloned once by the benchmark), www/ and marks.
set -eu
remote=$1
work=$2
mark="$(dirname "$0")/bench-mark"
# The bare repository belongs to the site user of tailhook's deploys; git,
# and the upload-pack it starts, must accept it (a global config: the local
# transport drops config given on the command line or in GIT_CONFIG_*).
GIT_CONFIG_GLOBAL=$work/gitconfig
export GIT_CONFIG_GLOBAL
[ -f "$GIT_CONFIG_GLOBAL" ] || printf '[safe]\n\tdirectory = *\n' >"$GIT_CONFIG_GLOBAL"
"$mark" point "$work/marks" git
cd "$work/checkout"
git fetch --quiet --no-tags "$remote" refs/heads/main
git reset --quiet --hard FETCH_HEAD
git clean -ffdxq
"$mark" run "$work/marks" build \
	jekyll build --source . --destination _site --disable-disk-cache --quiet
rsync -a --delete --exclude=/.git _site/ "$work/www/"
