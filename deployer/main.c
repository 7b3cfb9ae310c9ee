/*
 * main.c - tailhook: the privileged deployer, and the process entry point.
 *
 * It reads the config, the certificate, the key and the secrets, binds the
 * listeners (or takes them from systemd) and starts the unprivileged
 * receiver.  From then on it only reads fixed-size deploy requests from
 * the receiver's socketpair and the control socket, and runs deploys of
 * configured sites from their configured branches.  SIGHUP reloads,
 * SIGTERM stops after the running deploys (a second one aborts them).
 */
#include <errno.h>
#include <event2/event.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "deploy_queue.h"
#include "deployer.h"
#include "listeners.h"
#include "load.h"
#include "log.h"
#include "receiver_proc.h"
#include "reload.h"

static void usage(void)
{
	fprintf(stderr, "usage: tailhook -f FILE [-n]\n"
	                "       tailhook -f FILE -t SITE\n"
	                "       tailhook -V\n");
	exit(2);
}

static void die_config(const char *msg)
{
	fprintf(stderr, "%s\n", msg);
	exit(1);
}

/*
 * Next to tailhook (the build tree, or both in one directory), else in
 * ../libexec/tailhook/ (make install): no path is compiled in, so a moved
 * installation still finds its receiver.
 */
static void find_receiver(struct deployer *d)
{
	char self[PATH_MAX];
	const char *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		fatal("event=setup step=readlink-self");
	self[n] = '\0';
	dir = dirname(self);
	snprintf(d->receiver_path, sizeof(d->receiver_path), "%s/tailhook-receiver", dir);
	if (access(d->receiver_path, X_OK) == 0)
		return;
	snprintf(d->receiver_path, sizeof(d->receiver_path),
	         "%s/../libexec/tailhook/tailhook-receiver", dir);
	if (access(d->receiver_path, X_OK) < 0)
		fatal("event=setup path=%s/tailhook-receiver reason=\"tailhook-receiver must be "
		      "next to tailhook or in ../libexec/tailhook\"",
		      dir);
}

static void maybe_finish(struct deployer *d)
{
	if (d->stopping && !receiver_any(d) && deploy_queue_running(d) == 0)
		event_base_loopexit(d->base, NULL);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct deployer *d = arg;
	int status;
	pid_t pid;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (!receiver_reaped(d, pid, status))
			deploy_queue_reaped(d, pid, status);
	maybe_finish(d);
}

static void abort_deploys(struct deployer *d, const char *why)
{
	if (deploy_queue_running(d) == 0)
		return;
	log_warnx("event=stop reason=\"%s\" note=\"killing the running steps; the next start "
	          "catches up\"",
	          why);
	deploy_queue_abort(d);
}

static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	abort_deploys(arg, "deploys still running at the stop deadline");
}

/* First SIGTERM: stop accepting, let running deploys end.  Second: abort them. */
static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct deployer *d = arg;
	struct timeval tv = {0, 0};

	(void)what;
	if (d->stopping) {
		abort_deploys(d, "second signal");
		return;
	}
	log_info("event=stop signal=%s running_deploys=%u", sigabbrev_np((int)sig),
	         deploy_queue_running(d));
	d->stopping = 1;
	receiver_stop(d);
	/* A tailhook -t waiting for a running deploy still gets its result. */
	control_stop_listening(d);
	deploy_queue_drop_pending(d);
	tv.tv_sec = (time_t)deploy_queue_max_timeout(d);
	d->stop_ev = evtimer_new(d->base, on_stop_deadline, d);
	if (tv.tv_sec > 0 && d->stop_ev != NULL)
		evtimer_add(d->stop_ev, &tv);
	maybe_finish(d);
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct deployer *d = arg;

	(void)sig;
	(void)what;
	if (!d->stopping)
		reload(d);
}

static void watch_signal(struct deployer *d, int sig, event_callback_fn fn)
{
	struct event *ev = evsignal_new(d->base, sig, fn, d);

	if (ev == NULL || event_add(ev, NULL) < 0)
		fatalx("event=setup reason=\"cannot install signal handlers\"");
}

static void run(struct deployer *d)
{
	char err[600];

	d->base = event_base_new();
	if (d->base == NULL)
		fatalx("event=setup reason=\"event_base_new failed\"");
	watch_signal(d, SIGCHLD, on_sigchld);
	watch_signal(d, SIGTERM, on_sigterm);
	watch_signal(d, SIGINT, on_sigterm);
	watch_signal(d, SIGHUP, on_sighup);
	if (control_open(d, err, sizeof(err)) < 0)
		fatalx("event=setup reason=\"%s\"", err);
	receiver_proc_init(d);
	receiver_start(d);
	deploy_queue_init(d);
	deploy_queue_catch_up(d);
	event_base_dispatch(d->base);
	control_close(d);
	log_info("event=exit status=0");
}

static void open_listeners(struct deployer *d)
{
	char err[600];
	size_t i;
	int plain;

	if (d->activated) {
		if (d->cfg.nlisten > 0)
			log_warnx("event=setup note=\"listen lines ignored: the sockets come from "
			          "systemd\"");
		return;
	}
	if (d->cfg.nlisten == 0)
		die_config("no 'listen' in [server] and no sockets from systemd (LISTEN_FDS)");
	for (i = 0; i < d->cfg.nlisten; i++, d->nlisten++) {
		d->listen_fds[i] = listener_open(d->cfg.listen[i], &plain, err, sizeof(err));
		if (d->listen_fds[i] < 0)
			fatalx("event=setup reason=\"%s\"", err);
		d->listen_plain[i] = (unsigned char)plain;
		d->listen_spec[i] = strdup(d->cfg.listen[i]);
	}
}

/* No daemon answers: deploy once here, as the daemon's worker would. */
static int deploy_once(struct deployer *d, size_t i)
{
	char err[600], text[600];
	struct th_msg m;
	int status;
	pid_t pid;

	if (load_check_paths(d, 1, err, sizeof(err)) < 0)
		die_config(err);
	memset(&m, 0, sizeof(m));
	m.magic = TH_MSG_MAGIC;
	m.version = TH_MSG_VERSION;
	m.site = (uint16_t)i;
	memset(m.commit, '0', TH_COMMIT_HEX);
	snprintf(m.delivery, sizeof(m.delivery), "manual");
	printf("tailhook: site=%s deploy=started note=\"no daemon running: deploying here\"\n",
	       d->cfg.sites[i].name);
	fflush(stdout);
	pid = deploy_fork(d, i, &m, DEPLOY_MANUAL);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		fatal("event=deploy-failed site=%s delivery=manual step=fork",
		      d->cfg.sites[i].name);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : DEPLOY_FAILED;
	control_describe(d, i, status, text, sizeof(text));
	printf("tailhook: %s\n", text);
	return status == DEPLOY_OK ? 0 : 1;
}

/* tailhook -f FILE -t SITE: ask the running daemon, else deploy here. */
static int manual(struct deployer *d, const char *file, const char *site)
{
	char err[600];
	int i, status = -1, rc;

	if (load_config(d, file, err, sizeof(err)) < 0)
		die_config(err);
	i = config_site_index(&d->cfg, site);
	if (i < 0) {
		snprintf(err, sizeof(err), "%s: no [site %s]", file, site);
		die_config(err);
	}
	rc = control_request(d->cfg.state_dir, site, &status, err, sizeof(err));
	if (rc < 0)
		die_config(err);
	if (rc == 0)
		return status == DEPLOY_OK ? 0 : 1;
	return deploy_once(d, (size_t)i);
}

int main(int argc, char **argv)
{
	static struct deployer d;
	const char *file = NULL, *site = NULL;
	char err[600];
	int ch, check_only = 0, n;

	log_init("deployer");
	while ((ch = getopt(argc, argv, "f:nt:Vh")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 't':
			site = optarg;
			break;
		case 'V':
			printf("tailhook %s\n", TH_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (file == NULL || optind != argc || (site != NULL && check_only))
		usage();
	d.privileged = geteuid() == 0;
	d.ctl_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	if (site != NULL)
		return manual(&d, file, site);
	/* First, before anything else takes fds 3 and up. */
	n = listeners_from_systemd(d.listen_fds, d.listen_plain, TH_MAX_LISTEN, err, sizeof(err));
	if (n < 0)
		die_config(err);
	d.nlisten = (size_t)n;
	d.activated = n > 0;
	if (load_config(&d, file, err, sizeof(err)) < 0 ||
	    load_check_paths(&d, !check_only, err, sizeof(err)) < 0)
		die_config(err);
	if (check_only) {
		printf("%s: configuration ok (%zu site%s)\n", file, d.cfg.nsites,
		       d.cfg.nsites == 1 ? "" : "s");
		return 0;
	}
	if (!d.privileged)
		log_warnx("event=setup reason=\"not running as root: cannot switch users; the "
		          "receiver and every step run as uid %u\"",
		          (unsigned)geteuid());
	find_receiver(&d);
	open_listeners(&d);
	run(&d);
	return 0;
}
