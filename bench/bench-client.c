/*
 * bench-client.c - the two load shapes of the benchmark that wrk cannot make.
 *
 *   bench-client load PORT REQUEST-FILE SECONDS CONNS full|resume
 *       CONNS connections at once, each opening a new TLS connection per
 *       request: connect, handshake (a fresh one, or resuming the session
 *       the previous connection of that slot got), send REQUEST-FILE (a
 *       whole HTTP request with "Connection: close"), read the answer up
 *       to the server's close.  New requests start for SECONDS; then the
 *       ones in flight get up to 5 s.  Prints one JSON object.
 *
 *   bench-client hold PORT N silent|dribble HOLD-SECONDS OPEN-SECONDS
 *       Opens N connections, at most 256 being set up at a time, for at
 *       most OPEN-SECONDS.  silent: TCP only, never a byte.  dribble: a
 *       full TLS handshake, then an HTTP request head that never ends,
 *       one byte every 5 s.  Prints {"event":"opened",...} when all are
 *       open (or OPEN-SECONDS passed), holds them HOLD-SECONDS more and
 *       prints {"event":"done",...}: how many the server closed, and how
 *       long they had lived.
 *
 * Only 127.0.0.1.  Every loop is bounded in time.  The certificate is not
 * verified (the benchmark makes it itself); the handshake is otherwise
 * the OpenSSL default a client such as curl or wrk offers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECONDS    3600
#define MAX_CONNS      65536
#define SETUP_PARALLEL 256
#define SETUP_TIMEOUT  15000 /* ms for one connection's connect + handshake */
#define REQ_TIMEOUT    10000 /* ms for one request in `load` */
#define DRAIN_MS       5000
#define DRIBBLE_MS     5000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-client: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-client load PORT REQUEST-FILE SECONDS CONNS full|resume\n"
	                "       bench-client hold PORT N silent|dribble HOLD-SECONDS "
	                "OPEN-SECONDS\n");
	exit(2);
}

static long num_arg(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

/* Raises the soft fd limit to what `want` needs (and the hard one if we may). */
static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		struct rlimit up = {want, want};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want) {
		fprintf(stderr, "bench-client: RLIMIT_NOFILE is %llu, %llu needed (ulimit -n)\n",
		        (unsigned long long)rl.rlim_cur, (unsigned long long)want);
		exit(2);
	}
}

static SSL_CTX *make_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		ERR_print_errors_fp(stderr);
		exit(2);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Sessions are kept by hand, per slot, only in `resume` mode. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

/* A non-blocking TCP connection to 127.0.0.1:port being set up; -1 on error. */
static int tcp_start(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int tcp_connected(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

static void ep_set(int ep, int op, int fd, unsigned events, unsigned idx)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u32 = idx;
	if (epoll_ctl(ep, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL)
		die("epoll_ctl");
}

static int cmp_u32(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of a sorted array, nearest rank. */
static unsigned pct(const unsigned *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/* ---- load --------------------------------------------------------------- */

enum lphase { L_FREE, L_CONNECT, L_HANDSHAKE, L_WRITE, L_READ };

struct lslot {
	enum lphase ph;
	int fd;
	SSL *ssl;
	SSL_SESSION *sess;
	long long t0; /* us */
	size_t woff;
	char head[16];
	size_t hlen;
};

struct lstats {
	unsigned long started, done, resumed;
	unsigned long err_connect, err_handshake, err_io, err_timeout, err_nostatus;
	unsigned long status[6]; /* 1xx..5xx by first digit */
	unsigned *lat;           /* us */
	size_t nlat, caplat;
	char version[32], cipher[64], group[32];
};

static void lslot_close(int ep, struct lslot *s, int clean)
{
	if (s->ssl != NULL) {
		/* Mark a clean end without writing: the server has closed, and
		 * a session from an unclean end could not be resumed. */
		if (clean)
			SSL_set_shutdown(s->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		ep_set(ep, EPOLL_CTL_DEL, s->fd, 0, 0);
		close(s->fd);
		s->fd = -1;
	}
	s->ph = L_FREE;
}

static void lslot_start(int ep, SSL_CTX *ctx, struct lslot *s, unsigned idx, int resume, int port,
                        struct lstats *st)
{
	st->started++;
	s->t0 = now_us();
	s->woff = 0;
	s->hlen = 0;
	s->fd = tcp_start(port);
	if (s->fd < 0) {
		st->err_connect++;
		s->ph = L_FREE;
		return;
	}
	s->ssl = SSL_new(ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
		st->err_connect++;
		lslot_close(ep, s, 0);
		return;
	}
	SSL_set_tlsext_host_name(s->ssl, "127.0.0.1");
	if (resume && s->sess != NULL)
		SSL_set_session(s->ssl, s->sess);
	s->ph = L_CONNECT;
	ep_set(ep, EPOLL_CTL_ADD, s->fd, EPOLLOUT, idx);
}

static void record_latency(struct lstats *st, long long us)
{
	if (st->nlat == st->caplat) {
		size_t cap = st->caplat ? st->caplat * 2 : 65536;
		unsigned *p = realloc(st->lat, cap * sizeof(*p));
		if (p == NULL)
			die("realloc");
		st->lat = p;
		st->caplat = cap;
	}
	st->lat[st->nlat++] = us > 0xffffffffLL ? 0xffffffffU : (unsigned)us;
}

static void note_tls(struct lstats *st, SSL *ssl)
{
	int nid;
	const char *name;

	if (st->version[0] != '\0')
		return;
	snprintf(st->version, sizeof(st->version), "%s", SSL_get_version(ssl));
	snprintf(st->cipher, sizeof(st->cipher), "%s", SSL_get_cipher_name(ssl));
	nid = SSL_get_negotiated_group(ssl);
	name = nid > 0 ? OBJ_nid2sn(nid & ~TLSEXT_nid_unknown) : NULL;
	snprintf(st->group, sizeof(st->group), "%s", name != NULL ? name : "?");
}

/* Drives one slot after an event; returns when it must wait again. */
static void lslot_step(int ep, struct lslot *s, unsigned idx, const char *req, size_t reqlen,
                       struct lstats *st)
{
	char buf[4096];
	int rc, err;

	for (;;) {
		switch (s->ph) {
		case L_FREE:
			return;
		case L_CONNECT:
			if (!tcp_connected(s->fd)) {
				st->err_connect++;
				lslot_close(ep, s, 0);
				return;
			}
			s->ph = L_HANDSHAKE;
			break;
		case L_HANDSHAKE:
			rc = SSL_connect(s->ssl);
			if (rc == 1) {
				if (SSL_session_reused(s->ssl))
					st->resumed++;
				note_tls(st, s->ssl);
				s->ph = L_WRITE;
				break;
			}
			err = SSL_get_error(s->ssl, rc);
			if (err == SSL_ERROR_WANT_READ) {
				ep_set(ep, EPOLL_CTL_MOD, s->fd, EPOLLIN, idx);
				return;
			}
			if (err == SSL_ERROR_WANT_WRITE) {
				ep_set(ep, EPOLL_CTL_MOD, s->fd, EPOLLOUT, idx);
				return;
			}
			st->err_handshake++;
			ERR_clear_error();
			lslot_close(ep, s, 0);
			return;
		case L_WRITE:
			rc = SSL_write(s->ssl, req + s->woff, (int)(reqlen - s->woff));
			if (rc > 0) {
				s->woff += (size_t)rc;
				if (s->woff == reqlen) {
					s->ph = L_READ;
					ep_set(ep, EPOLL_CTL_MOD, s->fd, EPOLLIN, idx);
				}
				break;
			}
			err = SSL_get_error(s->ssl, rc);
			if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
				ep_set(ep, EPOLL_CTL_MOD, s->fd,
				       err == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN, idx);
				return;
			}
			st->err_io++;
			ERR_clear_error();
			lslot_close(ep, s, 0);
			return;
		case L_READ:
			rc = SSL_read(s->ssl, buf, sizeof(buf));
			if (rc > 0) {
				size_t take = sizeof(s->head) - s->hlen;
				if (take > (size_t)rc)
					take = (size_t)rc;
				memcpy(s->head + s->hlen, buf, take);
				s->hlen += take;
				break;
			}
			err = SSL_get_error(s->ssl, rc);
			if (err == SSL_ERROR_WANT_READ)
				return;
			if (err == SSL_ERROR_WANT_WRITE) {
				ep_set(ep, EPOLL_CTL_MOD, s->fd, EPOLLOUT, idx);
				return;
			}
			ERR_clear_error();
			/* The end of the answer: close_notify or EOF. */
			if (s->hlen >= 12 && memcmp(s->head, "HTTP/1.", 7) == 0 &&
			    s->head[9] >= '1' && s->head[9] <= '5') {
				st->status[s->head[9] - '0']++;
				st->done++;
				record_latency(st, now_us() - s->t0);
				if (s->sess != NULL)
					SSL_SESSION_free(s->sess);
				s->sess = SSL_get1_session(s->ssl);
				lslot_close(ep, s, 1);
			} else {
				st->err_nostatus++;
				lslot_close(ep, s, 0);
			}
			return;
		}
	}
}

static int run_load(int port, const char *reqfile, long seconds, long conns, int resume)
{
	SSL_CTX *ctx = make_ctx();
	struct lstats st;
	struct lslot *slots = calloc((size_t)conns, sizeof(*slots));
	struct epoll_event evs[256];
	FILE *f = fopen(reqfile, "rb");
	char *req;
	long reqlen = 0;
	long long t_start, t_end, t_drain, now, elapsed_us;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long i;
	int n, active;

	memset(&st, 0, sizeof(st));
	if (f == NULL || slots == NULL || ep < 0)
		die(reqfile);
	if (fseek(f, 0, SEEK_END) < 0 || (reqlen = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) < 0)
		die(reqfile);
	req = malloc((size_t)reqlen);
	if (req == NULL || fread(req, 1, (size_t)reqlen, f) != (size_t)reqlen)
		die(reqfile);
	fclose(f);
	raise_nofile((rlim_t)conns + 64);

	t_start = now_ms();
	t_end = t_start + seconds * 1000;
	t_drain = t_end + DRAIN_MS;
	for (i = 0; i < conns; i++) {
		slots[i].fd = -1;
		lslot_start(ep, ctx, &slots[i], (unsigned)i, resume, port, &st);
	}
	for (;;) {
		now = now_ms();
		if (now >= t_drain)
			break;
		n = epoll_wait(ep, evs, 256, 50);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			unsigned idx = evs[i].data.u32;
			lslot_step(ep, &slots[idx], idx, req, (size_t)reqlen, &st);
		}
		now = now_ms();
		active = 0;
		for (i = 0; i < conns; i++) {
			struct lslot *s = &slots[i];
			if (s->ph != L_FREE && now * 1000 - s->t0 > REQ_TIMEOUT * 1000LL) {
				st.err_timeout++;
				lslot_close(ep, s, 0);
			}
			if (s->ph == L_FREE && now < t_end)
				lslot_start(ep, ctx, s, (unsigned)i, resume, port, &st);
			active += s->ph != L_FREE;
		}
		if (now >= t_end && active == 0)
			break;
	}
	elapsed_us = (t_end - t_start) * 1000;
	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u32);
	printf("{\"mode\":\"%s\",\"conns\":%ld,\"seconds\":%ld,\"started\":%lu,\"done\":%lu,"
	       "\"rate\":%.1f,\"resumed\":%lu,\"p50_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
	       "\"s2xx\":%lu,\"s3xx\":%lu,\"s4xx\":%lu,\"s5xx\":%lu,"
	       "\"err_connect\":%lu,\"err_handshake\":%lu,\"err_io\":%lu,\"err_timeout\":%lu,"
	       "\"err_nostatus\":%lu,\"tls_version\":\"%s\",\"cipher\":\"%s\",\"group\":\"%s\"}\n",
	       resume ? "resume" : "full", conns, seconds, st.started, st.done,
	       (double)st.done * 1e6 / (double)elapsed_us, st.resumed, pct(st.lat, st.nlat, 50),
	       pct(st.lat, st.nlat, 99), st.nlat ? st.lat[st.nlat - 1] : 0, st.status[2],
	       st.status[3], st.status[4], st.status[5], st.err_connect, st.err_handshake,
	       st.err_io, st.err_timeout, st.err_nostatus, st.version, st.cipher, st.group);
	return 0;
}

/* ---- hold --------------------------------------------------------------- */

enum hstate { H_TODO, H_CONNECT, H_HANDSHAKE, H_OPEN, H_CLOSED, H_FAILED };

struct hconn {
	enum hstate st;
	int fd;
	SSL *ssl;
	long long t_setup, t_open, t_closed; /* ms */
	unsigned sent;
};

/* Connections open right now, and the most that were open at once. */
static size_t open_now, open_peak;

static void note_open(void)
{
	if (++open_now > open_peak)
		open_peak = open_now;
}

static const char slow_head[] = "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: application/json\r\nX-Slow: ";

static void hconn_close(int ep, struct hconn *c, enum hstate st)
{
	if (c->st == H_OPEN)
		open_now--;
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		ep_set(ep, EPOLL_CTL_DEL, c->fd, 0, 0);
		close(c->fd);
		c->fd = -1;
	}
	c->st = st;
	c->t_closed = now_ms();
}

/* The server may send something (an alert, a 408) before it closes; only
 * the close counts. */
static int server_closed(struct hconn *c)
{
	char buf[2048];
	int rc, err;
	ssize_t n;

	if (c->ssl == NULL) {
		while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0)
			;
		return n == 0 || (errno != EAGAIN && errno != EINTR);
	}
	while ((rc = SSL_read(c->ssl, buf, sizeof(buf))) > 0)
		;
	err = SSL_get_error(c->ssl, rc);
	ERR_clear_error();
	return err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
}

/* One more byte of a head that never ends; returns -1 if the server is gone. */
static int dribble(struct hconn *c)
{
	char b;
	int rc, err;

	b = c->sent < sizeof(slow_head) - 1 ? slow_head[c->sent] : 'a';
	rc = SSL_write(c->ssl, &b, 1);
	if (rc == 1) {
		c->sent++;
		return 0;
	}
	err = SSL_get_error(c->ssl, rc);
	ERR_clear_error();
	return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? 0 : -1;
}

static void hconn_step(int ep, SSL_CTX *ctx, struct hconn *c, unsigned idx, int tls, unsigned *ring,
                       size_t *ring_tail, size_t n)
{
	int rc, err;

	if (c->st == H_CONNECT) {
		if (!tcp_connected(c->fd))
			return hconn_close(ep, c, H_FAILED);
		if (!tls) {
			c->st = H_OPEN;
			note_open();
			c->t_open = now_ms();
			ep_set(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLRDHUP, idx);
			return;
		}
		c->ssl = SSL_new(ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
			return hconn_close(ep, c, H_FAILED);
		SSL_set_tlsext_host_name(c->ssl, "127.0.0.1");
		c->st = H_HANDSHAKE;
	}
	if (c->st == H_HANDSHAKE) {
		rc = SSL_connect(c->ssl);
		if (rc == 1) {
			c->st = H_OPEN;
			note_open();
			c->t_open = now_ms();
			ep_set(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLRDHUP, idx);
			if (dribble(c) < 0)
				return hconn_close(ep, c, H_CLOSED);
			ring[*ring_tail % n] = idx;
			(*ring_tail)++;
			return;
		}
		err = SSL_get_error(c->ssl, rc);
		ERR_clear_error();
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			ep_set(ep, EPOLL_CTL_MOD, c->fd,
			       err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, idx);
			return;
		}
		return hconn_close(ep, c, H_FAILED);
	}
	if (c->st == H_OPEN && server_closed(c))
		hconn_close(ep, c, H_CLOSED);
}

static void hold_report(const struct hconn *cs, size_t n, const char *event, long long t0,
                        long long t_opened)
{
	size_t i, open = 0, closed = 0, failed = 0, never = 0, nl = 0;
	unsigned *life = malloc(n * sizeof(*life));

	if (life == NULL)
		die("malloc");
	for (i = 0; i < n; i++) {
		switch (cs[i].st) {
		case H_OPEN:
			open++;
			break;
		case H_CLOSED:
			closed++;
			life[nl++] = (unsigned)(cs[i].t_closed - cs[i].t_open);
			break;
		case H_FAILED:
			failed++;
			break;
		default:
			never++;
		}
	}
	qsort(life, nl, sizeof(*life), cmp_u32);
	printf("{\"event\":\"%s\",\"t_ms\":%lld,\"open_ms\":%lld,\"open\":%zu,\"peak_open\":%zu,"
	       "\"closed_by_server\":%zu,\"failed\":%zu,\"not_started\":%zu,"
	       "\"life_min_ms\":%u,\"life_p50_ms\":%u,\"life_max_ms\":%u}\n",
	       event, now_ms() - t0, t_opened - t0, open, open_peak, closed, failed, never,
	       nl ? life[0] : 0, pct(life, nl, 50), nl ? life[nl - 1] : 0);
	fflush(stdout);
	free(life);
}

static int run_hold(int port, long n, int tls, long hold_s, long open_s)
{
	SSL_CTX *ctx = tls ? make_ctx() : NULL;
	struct hconn *cs = calloc((size_t)n, sizeof(*cs));
	unsigned *ring = calloc((size_t)n, sizeof(*ring));
	size_t ring_head = 0, ring_tail = 0, next = 0;
	struct epoll_event evs[256];
	long long t0 = now_ms(), t_opened = 0, t_end = 0, now;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long i;
	int k, setting_up;

	if (cs == NULL || ring == NULL || ep < 0)
		die("setup");
	raise_nofile((rlim_t)n + 64);
	for (i = 0; i < n; i++)
		cs[i].fd = -1;
	for (;;) {
		now = now_ms();
		/* Start connections while fewer than SETUP_PARALLEL are being set
		 * up; only those started so far can be, and none after opening. */
		setting_up = 0;
		for (i = 0; t_opened == 0 && i < (long)next; i++) {
			struct hconn *c = &cs[i];
			if (c->st != H_CONNECT && c->st != H_HANDSHAKE)
				continue;
			if (now - c->t_setup > SETUP_TIMEOUT)
				hconn_close(ep, c, H_FAILED);
			else
				setting_up++;
		}
		while (t_opened == 0 && next < (size_t)n && setting_up < SETUP_PARALLEL) {
			struct hconn *c = &cs[next];
			c->t_setup = now;
			c->fd = tcp_start(port);
			if (c->fd < 0) {
				c->st = H_FAILED;
			} else {
				c->st = H_CONNECT;
				ep_set(ep, EPOLL_CTL_ADD, c->fd, EPOLLOUT, (unsigned)next);
				setting_up++;
			}
			next++;
		}
		if (t_opened == 0 &&
		    ((next == (size_t)n && setting_up == 0) || now - t0 > open_s * 1000)) {
			t_opened = now;
			t_end = now + hold_s * 1000;
			/* Too slow to set up within OPEN-SECONDS: given up. */
			for (i = 0; i < (long)next; i++)
				if (cs[i].st == H_CONNECT || cs[i].st == H_HANDSHAKE)
					hconn_close(ep, &cs[i], H_FAILED);
			hold_report(cs, (size_t)n, "opened", t0, t_opened);
		}
		if (t_opened != 0 && now >= t_end)
			break;
		/* One byte per open connection every DRIBBLE_MS, oldest first. */
		while (tls && ring_head < ring_tail) {
			struct hconn *c = &cs[ring[ring_head % (size_t)n]];
			if (c->st != H_OPEN) {
				ring_head++;
				continue;
			}
			if (now - c->t_open < (long long)c->sent * DRIBBLE_MS)
				break;
			ring_head++;
			if (dribble(c) < 0) {
				hconn_close(ep, c, H_CLOSED);
				continue;
			}
			ring[ring_tail % (size_t)n] = (unsigned)(c - cs);
			ring_tail++;
		}
		k = epoll_wait(ep, evs, 256, 20);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < k; i++) {
			unsigned idx = evs[i].data.u32;
			hconn_step(ep, ctx, &cs[idx], idx, tls, ring, &ring_tail, (size_t)n);
		}
	}
	hold_report(cs, (size_t)n, "done", t0, t_opened);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && strcmp(argv[1], "load") == 0) {
		int resume = strcmp(argv[6], "resume") == 0;
		if (!resume && strcmp(argv[6], "full") != 0)
			usage();
		return run_load((int)num_arg(argv[2], 1, 65535), argv[3],
		                num_arg(argv[4], 1, MAX_SECONDS), num_arg(argv[5], 1, 4096),
		                resume);
	}
	if (argc == 7 && strcmp(argv[1], "hold") == 0) {
		int tls = strcmp(argv[4], "dribble") == 0;
		if (!tls && strcmp(argv[4], "silent") != 0)
			usage();
		return run_hold((int)num_arg(argv[2], 1, 65535), num_arg(argv[3], 1, MAX_CONNS),
		                tls, num_arg(argv[5], 0, MAX_SECONDS),
		                num_arg(argv[6], 1, MAX_SECONDS));
	}
	usage();
	return 2;
}
