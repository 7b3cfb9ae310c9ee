/*
 * main.c - tailhook: the privileged deployer, and the process entry point.
 *
 * It reads the config, the certificate, the key and the secrets, binds the
 * listeners and starts the unprivileged receiver.  From then on it only
 * reads fixed-size deploy requests from the receiver's socketpair and runs
 * deploys of configured sites from their configured branches.
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

#include "deploy_queue.h"
#include "deployer.h"
#include "listeners.h"
#include "log.h"
#include "paths.h"
#include "receiver_proc.h"
#include "tls_keys.h"

static void usage(void)
{
	fprintf(stderr, "usage: tailhook -f FILE [-n]\n       tailhook -V\n");
	exit(2);
}

static void die_config(const char *msg)
{
	fprintf(stderr, "%s\n", msg);
	exit(1);
}

static void load_tls(struct deployer *d)
{
	struct tls_keys k;
	char err[400], why[200];

	d->cert_pem = paths_read_file(d->cfg.certificate, &d->cert_len, err, sizeof(err));
	if (d->cert_pem == NULL)
		die_config(err);
	d->key_pem = paths_read_file(d->cfg.key, &d->key_len, err, sizeof(err));
	if (d->key_pem == NULL)
		die_config(err);
	if (tls_keys_load(&k, d->cert_pem, d->cert_len, d->key_pem, d->key_len, why, sizeof(why)) <
	    0) {
		snprintf(err, sizeof(err), "%s, %s: %s", d->cfg.certificate, d->cfg.key, why);
		die_config(err);
	}
	tls_keys_free(&k);
}

static void lookup_user(const char *name, const char *what, struct th_user *u)
{
	char err[300];

	if (user_lookup(name, u) < 0) {
		snprintf(err, sizeof(err), "%s: %s user '%s' does not exist", "config", what, name);
		die_config(err);
	}
	if (u->uid == 0) {
		snprintf(err, sizeof(err), "%s: %s user '%s' must not be root", "config", what,
		         name);
		die_config(err);
	}
}

static void load_users(struct deployer *d)
{
	size_t i;

	d->site_users = calloc(d->cfg.nsites, sizeof(*d->site_users));
	d->sites = calloc(d->cfg.nsites, sizeof(*d->sites));
	if (d->site_users == NULL || d->sites == NULL)
		fatal("event=setup");
	if (!d->privileged)
		return;
	lookup_user(d->cfg.user, "receiver", &d->rx_user);
	for (i = 0; i < d->cfg.nsites; i++)
		lookup_user(d->cfg.sites[i].user, "site", &d->site_users[i]);
}

static void find_receiver(struct deployer *d)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		fatal("event=setup step=readlink-self");
	self[n] = '\0';
	snprintf(d->receiver_path, sizeof(d->receiver_path), "%s/tailhook-receiver", dirname(self));
	if (access(d->receiver_path, X_OK) < 0)
		fatal("event=setup path=%s reason=\"tailhook-receiver must be next to tailhook\"",
		      d->receiver_path);
}

static void maybe_finish(struct deployer *d)
{
	if (d->stopping && d->rx_pid <= 0 && deploy_queue_running(d) == 0)
		event_base_loopexit(d->base, NULL);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct deployer *d = arg;
	int status;
	pid_t pid;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == d->rx_pid)
			receiver_exited(d, status);
		else
			deploy_queue_reaped(d, pid, status);
	}
	maybe_finish(d);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct deployer *d = arg;

	(void)what;
	if (d->stopping)
		return;
	log_info("event=stop signal=%s running_deploys=%u", sigabbrev_np((int)sig),
	         deploy_queue_running(d));
	d->stopping = 1;
	receiver_stop(d);
	maybe_finish(d);
}

static void run(struct deployer *d)
{
	struct event *ev_chld, *ev_term, *ev_int;

	d->base = event_base_new();
	if (d->base == NULL)
		fatalx("event=setup reason=\"event_base_new failed\"");
	ev_chld = evsignal_new(d->base, SIGCHLD, on_sigchld, d);
	ev_term = evsignal_new(d->base, SIGTERM, on_sigterm, d);
	ev_int = evsignal_new(d->base, SIGINT, on_sigterm, d);
	if (ev_chld == NULL || ev_term == NULL || ev_int == NULL || event_add(ev_chld, NULL) ||
	    event_add(ev_term, NULL) || event_add(ev_int, NULL))
		fatalx("event=setup reason=\"cannot install signal handlers\"");
	receiver_proc_init(d);
	receiver_start(d);
	event_base_dispatch(d->base);
	log_info("event=exit status=0");
}

int main(int argc, char **argv)
{
	static struct deployer d;
	const char *file = NULL;
	char err[600];
	int ch, check_only = 0;

	log_init("deployer");
	while ((ch = getopt(argc, argv, "f:nVh")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'V':
			printf("tailhook %s\n", TH_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (file == NULL || optind != argc)
		usage();
	d.privileged = geteuid() == 0;
	if (config_load(&d.cfg, file, 1, geteuid(), err, sizeof(err)) < 0)
		die_config(err);
	load_tls(&d);
	load_users(&d);
	if (paths_check(&d, !check_only, err, sizeof(err)) < 0)
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
	signal(SIGPIPE, SIG_IGN);
	if (listeners_open(d.cfg.listen, d.cfg.nlisten, d.listen_fds, err, sizeof(err)) < 0)
		fatalx("event=setup reason=\"%s\"", err);
	run(&d);
	return 0;
}
