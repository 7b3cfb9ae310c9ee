/*
 * fuzz_tls.c - bytes from a client socket through the receiver's real
 * connection glue: receiver/conn.c's pump, BearSSL's server engine as
 * tls_server.c configures it, and behind it http_req and route.
 *
 * Setup, once per process and read-only afterwards: a struct rx with a
 * libevent base, a test EC certificate and key (below, made with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1`
 * for this harness only), rng_init, one site, and a SOCK_SEQPACKET pair
 * standing in for the deployer.
 *
 * Per input: a fresh socketpair; conn_new on one end, exactly as the
 * listener does after accept4; the harness plays the client on the other.
 * The input starts with the split prefix of fuzz.h; flag bits:
 *   0x08  client mode: the harness runs a BearSSL client that completes a
 *         real handshake, then sends the stream as application data, one
 *         record per chunk (this is how fuzzed requests reach conn.c's HTTP
 *         side: random bytes cannot finish an ECDHE handshake);
 *         otherwise raw mode: the stream is written to the socket as is,
 *         chunk by chunk (ClientHellos, records, garbage);
 *   0x10  client mode only: end with a close_notify instead of just
 *         closing the socket.
 * Then the client end is closed and the loop runs until the connection
 * is freed (rx.nconns back to 0).  Any message that reached the deployer
 * end must pass th_msg_decode.
 *
 * Between runs only the setup above survives, plus the receiver's master
 * DRBG, which advances (rng.c has no reset; BearSSL draws server randoms
 * and ECDHE keys from it, which no input can predict anyway).
 */
#include <bearssl.h>
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "fuzz.h"
#include "msg.h"
#include "rng.h"
#include "rx.h"

#define FLAG_CLIENT       0x08u
#define FLAG_CLOSE_NOTIFY 0x10u

/* After this many chunks the rest of the stream goes in one piece. */
#define MAX_CHUNKS 64
/* Client-mode pump rounds; a session that needs more is cut short. */
#define MAX_ROUNDS 100000
/* Event loop passes after the client end is closed; the conn must be gone by then. */
#define MAX_CLOSE_PASSES 100

static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBmzCCAUGgAwIBAgIUOwkUVUratF+BR+GTtjVFihE3AfAwCgYIKoZIzj0EAwIw\n"
                               "FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMzE3MzYyMloYDzIxMjYxMTA5\n"
                               "MTczNjIyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
                               "PQMBBwNCAATfOQF6b78vENYysYCJD0RBkL7DU7axHJzfxyrYgwq8Pgu0BMAonnkG\n"
                               "GJ4giaFwFLedicJbChMojJT7SVAAZZh1o28wbTAdBgNVHQ4EFgQUkpKCTPlr7fNJ\n"
                               "GmSoJrkGCKhESeIwHwYDVR0jBBgwFoAUkpKCTPlr7fNJGmSoJrkGCKhESeIwDwYD\n"
                               "VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI\n"
                               "zj0EAwIDSAAwRQIgO6TJKRl2g6rLZr5hN1cAiMd5DJ7rMwqLrD8Oa7uijQUCIQCq\n"
                               "QacnN6ZBdEIsXczDpgS/PWQJ7C82mXV2eePkESc3aw==\n"
                               "-----END CERTIFICATE-----\n";

static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9tWfE2kv8sYEmxtt\n"
                              "U2Z10QndXkT8X43enYPeIi/rX7ihRANCAATfOQF6b78vENYysYCJD0RBkL7DU7ax\n"
                              "HJzfxyrYgwq8Pgu0BMAonnkGGJ4giaFwFLedicJbChMojJT7SVAAZZh1\n"
                              "-----END PRIVATE KEY-----\n";

/* The same site as fuzz_http_req.c's one-site setup and tests/cases/. */
static unsigned char secret[] = "case-secret-0123456789";
static struct th_setup_site site = {
    .name = "blog",
    .path = "/hook",
    .branch = "main",
    .max_body = 1048576,
    .secret = secret,
    .secret_len = sizeof(secret) - 1,
};

static struct {
	int ready;
	struct rx rx;
	int deployer_fd;      /* the deployer's end of rx.sockpair */
	br_x509_pkey pkey;    /* the server's public key, for the client */
	unsigned char q[133]; /* its EC point */
} g;

void fuzz_tls_teardown(void)
{
	if (!g.ready)
		return;
	tls_keys_free(&g.rx.keys);
	event_base_free(g.rx.base);
	close(g.rx.sockpair);
	close(g.deployer_fd);
	memset(&g, 0, sizeof(g));
}

/* The leaf's public key, which the client pins instead of checking a chain. */
static void keep_server_key(void)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, g.rx.keys.chain[0].data, g.rx.keys.chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	FUZZ_CHECK(pk != NULL && pk->key_type == BR_KEYTYPE_EC);
	FUZZ_CHECK(pk->key.ec.qlen <= sizeof(g.q));
	memcpy(g.q, pk->key.ec.q, pk->key.ec.qlen);
	g.pkey = *pk;
	g.pkey.key.ec.q = g.q;
}

static void setup(void)
{
	char err[160];
	int sp[2];

	memset(&g, 0, sizeof(g));
	g.rx.setup.handshake_timeout = 3600;
	g.rx.setup.head_timeout = 3600;
	g.rx.setup.request_timeout = 3600;
	g.rx.setup.idle_timeout = 3600;
	g.rx.setup.max_connections = 16;
	g.rx.setup.sites = &site;
	g.rx.setup.nsites = 1;
	/* No listeners: accept_resume (called from conn_end) has nothing to do. */
	g.rx.accepting = 1;
	g.rx.base = event_base_new();
	FUZZ_CHECK(g.rx.base != NULL);
	FUZZ_CHECK(tls_keys_load(&g.rx.keys, cert_pem, sizeof(cert_pem) - 1, key_pem,
	                         sizeof(key_pem) - 1, err, sizeof(err)) == 0);
	FUZZ_CHECK(rng_init() == 0);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	g.rx.sockpair = sp[0];
	g.deployer_fd = sp[1];
	keep_server_key();
	g.ready = 1;
	atexit(fuzz_tls_teardown);
}

/* Lets the receiver run until it would block. */
static void serve(void)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(g.rx.base, EVLOOP_NONBLOCK);
}

/* Reads and drops what the server sent, so that it never blocks on a full socket. */
static void drain(int fd)
{
	unsigned char buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* Returns 0 once the server end is gone. */
static int send_all(int fd, const uint8_t *p, size_t n)
{
	for (int tries = 0; n > 0 && tries < 1000; tries++) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			serve();
			drain(fd);
		} else {
			return 0;
		}
	}
	return n == 0;
}

static size_t next_chunk(struct fuzz_split *sp, size_t *chunks, size_t left)
{
	if (++*chunks > MAX_CHUNKS)
		return left;
	return fuzz_split_next(sp, left);
}

static void raw_session(int fd, struct fuzz_split *sp, const uint8_t *data, size_t size)
{
	size_t chunks = 0;

	while (size > 0 && g.rx.nconns > 0) {
		size_t n = next_chunk(sp, &chunks, size);

		if (!send_all(fd, data, n))
			break;
		data += n;
		size -= n;
		serve();
		drain(fd);
	}
}

struct client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc; /* required by init_full, replaced by kk */
	br_x509_knownkey_context kk;
	unsigned char buf[BR_SSL_BUFSIZE_BIDI];
};

static void client_start(struct client *cl)
{
	static const unsigned char seed[32] = "tailhook fuzz client seed";

	br_ssl_client_init_full(&cl->cc, &cl->xc, NULL, 0);
	br_x509_knownkey_init_ec(&cl->kk, &g.pkey.key.ec, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(&cl->cc.eng, &cl->kk.vtable);
	br_ssl_engine_set_buffer(&cl->cc.eng, cl->buf, sizeof(cl->buf), 1);
	br_ssl_engine_inject_entropy(&cl->cc.eng, seed, sizeof(seed));
	FUZZ_CHECK(br_ssl_client_reset(&cl->cc, "localhost", 0) == 1);
}

/*
 * One round of the client: move records both ways, take application data,
 * hand the next chunk over.  Returns 1 on progress, 0 if idle, -1 when the
 * session is over (closed engine or socket).
 */
static int client_round(struct client *cl, int fd, struct fuzz_split *sp, size_t *chunks,
                        const uint8_t **data, size_t *size, int close_notify)
{
	br_ssl_engine_context *eng = &cl->cc.eng;
	unsigned st = br_ssl_engine_current_state(eng);
	unsigned char *buf;
	size_t len;
	ssize_t n;

	if (st & BR_SSL_CLOSED)
		return -1;
	if (st & BR_SSL_SENDREC) {
		buf = br_ssl_engine_sendrec_buf(eng, &len);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			br_ssl_engine_sendrec_ack(eng, (size_t)n);
			return 1;
		}
		return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
	}
	if (st & BR_SSL_RECVAPP) {
		br_ssl_engine_recvapp_buf(eng, &len);
		br_ssl_engine_recvapp_ack(eng, len);
		return 1;
	}
	if ((st & BR_SSL_SENDAPP) && *size > 0) {
		size_t want = next_chunk(sp, chunks, *size);
		buf = br_ssl_engine_sendapp_buf(eng, &len);
		if (want > len)
			want = len;
		memcpy(buf, *data, want);
		br_ssl_engine_sendapp_ack(eng, want);
		br_ssl_engine_flush(eng, 0);
		*data += want;
		*size -= want;
		return 1;
	}
	if ((st & BR_SSL_SENDAPP) && close_notify) {
		br_ssl_engine_close(eng);
		return 1;
	}
	if (st & BR_SSL_RECVREC) {
		buf = br_ssl_engine_recvrec_buf(eng, &len);
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n > 0) {
			br_ssl_engine_recvrec_ack(eng, (size_t)n);
			return 1;
		}
		return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
	}
	return 0;
}

static void client_session(int fd, struct fuzz_split *sp, const uint8_t *data, size_t size,
                           int close_notify)
{
	struct client *cl = malloc(sizeof(*cl));
	size_t chunks = 0;
	int idle = 0;

	if (cl == NULL)
		return;
	client_start(cl);
	/* Quiet for a few rounds in a row, with the server run in between: done. */
	for (int round = 0; round < MAX_ROUNDS && idle < 4; round++) {
		int rc = client_round(cl, fd, sp, &chunks, &data, &size, close_notify);
		if (rc < 0)
			break;
		idle = rc > 0 ? 0 : idle + 1;
		serve();
	}
	free(cl);
}

/* Every deploy request the receiver sent must be one the deployer accepts. */
static void check_deployer_end(void)
{
	unsigned char buf[TH_MSG_SIZE + 16];
	struct th_msg m;
	ssize_t n;

	while ((n = recv(g.deployer_fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		FUZZ_CHECK(n == TH_MSG_SIZE);
		FUZZ_CHECK(th_msg_decode(&m, buf, (size_t)n, (unsigned)g.rx.setup.nsites) ==
		           TH_MSG_OK);
	}
}

int fuzz_tls_one(const uint8_t *data, size_t size)
{
	struct fuzz_split sp;
	int sv[2];

	if (!g.ready)
		setup();
	fuzz_split_init(&sp, &data, &size);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	FUZZ_CHECK(g.rx.nconns == 0);
	conn_new(&g.rx, sv[0], "fuzz");
	FUZZ_CHECK(g.rx.nconns == 1);
	if (sp.flags & FLAG_CLIENT)
		client_session(sv[1], &sp, data, size, (sp.flags & FLAG_CLOSE_NOTIFY) != 0);
	else
		raw_session(sv[1], &sp, data, size);
	close(sv[1]);
	for (int i = 0; i < MAX_CLOSE_PASSES && g.rx.nconns > 0; i++)
		event_base_loop(g.rx.base, EVLOOP_NONBLOCK);
	FUZZ_CHECK(g.rx.nconns == 0);
	check_deployer_end();
	return 0;
}

#ifndef FUZZ_NO_MAIN
/* Setting up before the first input keeps its allocations out of leak checks. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_tls_one(data, size);
}
#endif
