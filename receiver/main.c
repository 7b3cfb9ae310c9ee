/*
 * main.c - the receiver: unprivileged, sandboxed, faces the network.
 *
 * Started only by the deployer (fork + exec of this image), with:
 *   fd 3  the socketpair to the deployer (SOCK_SEQPACKET)
 *   fd 4  a memfd holding the setup blob (sites, secrets, certificate, key)
 *   fd 5+ the listening sockets, already bound
 * It reads the setup, locks itself down, and then serves HTTPS until the
 * deployer closes the socketpair.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accept.h"
#include "conn.h"
#include "log.h"
#include "rng.h"
#include "rx.h"
#include "sandbox.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
/*
 * Sanitizer builds only (make check's build-asan): LeakSanitizer's exit-time
 * check clones a tracer thread, which the seccomp filter rightly kills.
 * ASan and UBSan proper stay on; the deployer and the unit tests still run
 * the leak check.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif
#endif

static void read_setup(struct rx *rx)
{
	struct stat st;
	unsigned char *buf;
	ssize_t n;

	if (fstat(TH_FD_SETUP, &st) < 0 || st.st_size <= 0 || st.st_size > (64 << 20))
		fatalx("event=setup reason=\"no setup blob on fd %d: start tailhook, not "
		       "tailhook-receiver\"",
		       TH_FD_SETUP);
	buf = malloc((size_t)st.st_size);
	if (buf == NULL)
		fatal("event=setup");
	n = pread(TH_FD_SETUP, buf, (size_t)st.st_size, 0);
	if (n != st.st_size || setup_decode(&rx->setup, buf, (size_t)n) < 0)
		fatalx("event=setup reason=\"malformed setup blob\"");
	explicit_bzero(buf, (size_t)n);
	free(buf);
	close(TH_FD_SETUP);
	if (rx->setup.nlisten > sizeof(rx->listen_fds) / sizeof(rx->listen_fds[0]))
		fatalx("event=setup reason=\"too many listeners\"");
}

static void load_keys(struct rx *rx)
{
	char err[160];

	if (tls_keys_load(&rx->keys, rx->setup.cert_pem, rx->setup.cert_len, rx->setup.key_pem,
	                  rx->setup.key_len, err, sizeof(err)) < 0)
		fatalx("event=setup reason=\"%s\"", err);
	/* The decoded key is all the receiver keeps; drop the PEM copy. */
	explicit_bzero(rx->setup.key_pem, rx->setup.key_len);
}

/* The deployer never writes to us: readable means it has gone away. */
static void sockpair_cb(evutil_socket_t fd, short what, void *arg)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);

	(void)what;
	(void)arg;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_info("event=exit reason=\"deployer closed the socketpair\"");
		_exit(0);
	}
}

/* The receiver leaves with _exit: it has no buffered output to flush. */
static void drain_done(struct rx *rx)
{
	(void)rx;
	log_info("event=exit reason=\"drained: every connection finished\"");
	_exit(0);
}

static void drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rx *rx = arg;

	(void)fd;
	(void)what;
	log_warnx("event=exit reason=\"drain deadline passed\" open_connections=%u", rx->nconns);
	_exit(0);
}

/*
 * SIGUSR1 from the deployer (a reload): a new receiver already serves new
 * connections; this one finishes what it has in flight and exits.
 */
static void drain_cb(evutil_socket_t sig, short what, void *arg)
{
	struct rx *rx = arg;
	struct timeval tv = {(time_t)rx->setup.request_timeout + 1, 0};

	(void)sig;
	(void)what;
	if (rx->draining)
		return;
	rx->draining = 1;
	log_info("event=drain open_connections=%u", rx->nconns);
	accept_stop(rx);
	evtimer_add(rx->drain_deadline, &tv);
	conn_drain_all(rx);
	if (rx->nconns == 0)
		drain_done(rx);
}

/* Room for at least one body of the largest max-body, and never less than
 * 64 MiB: enough for bursts of ordinary deliveries (most are a few KB). */
static size_t body_budget(const struct th_setup *s)
{
	size_t i, budget = (size_t)64 << 20;

	for (i = 0; i < s->nsites; i++)
		if (s->sites[i].max_body > budget)
			budget = (size_t)s->sites[i].max_body;
	return budget;
}

static void prepare_loop(struct rx *rx)
{
	size_t i;

	rx->body_budget = body_budget(&rx->setup);
	rx->sockpair = TH_FD_SOCKPAIR;
	rx->nlisten = rx->setup.nlisten;
	for (i = 0; i < rx->nlisten; i++)
		rx->listen_fds[i] = TH_FD_LISTEN0 + (int)i;
	rx->base = event_base_new();
	if (rx->base == NULL)
		fatalx("event=setup reason=\"event_base_new failed\"");
	rx->sockpair_ev = event_new(rx->base, rx->sockpair, EV_READ | EV_PERSIST, sockpair_cb, rx);
	/* Registered before the sandbox: sigaction is not on the allow-list. */
	rx->drained = drain_done;
	rx->drain_ev = evsignal_new(rx->base, SIGUSR1, drain_cb, rx);
	rx->drain_deadline = evtimer_new(rx->base, drain_deadline_cb, rx);
	if (rx->sockpair_ev == NULL || event_add(rx->sockpair_ev, NULL) < 0 ||
	    rx->drain_ev == NULL || rx->drain_deadline == NULL ||
	    event_add(rx->drain_ev, NULL) < 0 || accept_setup(rx) < 0)
		fatalx("event=setup reason=\"cannot register events\"");
}

int main(void)
{
	static struct rx rx;
	struct tm tm;
	time_t t = 0;
	long pid = (long)getpid();

	log_init("receiver");
	signal(SIGPIPE, SIG_IGN);
	read_setup(&rx);
	/* Nothing but stdio, the socketpair and the listeners stays open. */
	close_range(TH_FD_LISTEN0 + rx.setup.nlisten, ~0U, 0);
	load_keys(&rx);
	prepare_loop(&rx);

	/*
	 * Lockdown, in this order, before the first accept.  Everything that
	 * needs the filesystem, the time zone or the system RNG is done first.
	 */
	tzset();
	gmtime_r(&t, &tm);
	/* Per-connection TLS state (~37 KB) gets its own mapping, so a closed
	 * connection's memory goes back to the system instead of the heap. */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	if (rng_init() < 0)
		fatal("event=sandbox step=getrandom");
	sandbox_drop_privileges(&rx.setup);
	sandbox_limits(rx.setup.max_connections + 32);
	if (sandbox_seccomp() < 0)
		fatalx("event=sandbox step=seccomp reason=\"cannot install the filter\"");

	log_info("event=ready sites=%zu listeners=%u pid=%ld", rx.setup.nsites, rx.setup.nlisten,
	         pid);
	event_base_dispatch(rx.base);
	return 0;
}
