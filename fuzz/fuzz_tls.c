/*
 * fuzz_tls.c - bytes from a client socket through the receiver's real
 * connection glue: receiver/conn.c and conn_tls.c's pump, BearSSL's server
 * engine as tls_server.c configures it, and behind it http_req and route
 * (or conn_plain.c's pump for the plain transport, flag 0x80).
 *
 * Setup, once per process and read-only afterwards: a libevent base,
 * rng_init, a SOCK_SEQPACKET pair standing in for the deployer, and two
 * struct rx with one site each, one with a test EC certificate and key,
 * one with RSA ones (below, made for this harness only with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1`
 * and `-newkey rsa:2048`).
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
 *   0x10  client mode: end with a close_notify instead of just closing the
 *         socket; raw and plain modes: once the stream is in, drain the
 *         receiver as SIGUSR1 does (conn_drain_all), which must end the
 *         connection and call rx->drained exactly once;
 *   0x20  serve with the RSA key and certificate instead of the EC ones
 *         (tls_server.c has a suite list for each);
 *   0x40  (without 0x20) the flaky receiver: EC keys, but request and
 *         idle timeouts of 0 s, so that their timers fire on the next loop
 *         pass, and a deployer that has gone (its end of the socketpair is
 *         closed), so that a deploy request is answered 503;
 *   0x80  a plain connection instead (conn_new_plain: what a Unix-socket
 *         listener behind a local TLS proxy accepts); the stream is the
 *         HTTP bytes themselves, written as in raw mode.
 * Then the client end is closed and the loop runs until the connection
 * is freed (rx.nconns back to 0).  Any message that reached the deployer
 * end must pass th_msg_decode.
 *
 * Between runs only the setup above survives, plus the receiver's master
 * DRBG, which advances (rng.c has no reset; BearSSL draws server randoms
 * and ECDHE keys from it, which no input can predict anyway).  The
 * redelivery table (dedupe.c) is emptied before and after each input.
 */
#include <bearssl.h>
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "dedupe.h"
#include "fuzz.h"
#include "msg.h"
#include "rng.h"
#include "rx.h"

#define FLAG_CLIENT       0x08u
#define FLAG_CLOSE_NOTIFY 0x10u /* client mode */
#define FLAG_DRAIN        0x10u /* raw and plain modes */
#define FLAG_RSA          0x20u
#define FLAG_FLAKY        0x40u
#define FLAG_PLAIN        0x80u

/* After this many chunks the rest of the stream goes in one piece. */
#define MAX_CHUNKS 64
/* Client-mode pump rounds; a session that needs more is cut short. */
#define MAX_ROUNDS 100000
/* Event loop passes after the client end is closed; the conn must be gone by then. */
#define MAX_CLOSE_PASSES 100

static const char ec_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
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

static const char ec_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9tWfE2kv8sYEmxtt\n"
    "U2Z10QndXkT8X43enYPeIi/rX7ihRANCAATfOQF6b78vENYysYCJD0RBkL7DU7ax\n"
    "HJzfxyrYgwq8Pgu0BMAonnkGGJ4giaFwFLedicJbChMojJT7SVAAZZh1\n"
    "-----END PRIVATE KEY-----\n";

/* An RSA-2048 pair made the same way (`-newkey rsa:2048`): flag 0x20. */
static const char rsa_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDITCCAgmgAwIBAgIUG9hoXRzr1HyW/nss45NdoQHJUcEwDQYJKoZIhvcNAQEL\n"
    "BQAwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMzE3NDMzNloYDzIxMjYx\n"
    "MTA5MTc0MzM2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwggEiMA0GCSqGSIb3DQEB\n"
    "AQUAA4IBDwAwggEKAoIBAQDGI2Ms1wnn6o0vKHi7mwowPhn9Oyg9aL0/sYMDvBiY\n"
    "qzk3Ryq2cvXif1lRL3/JYB/Jnv8NcLKHWD34SY9TLiFJQnpEQTwW1QfEWvhTu9so\n"
    "TU08Gl+GE7OiTIbEuyAC+5t1wR0LGljwsWQzSByPbDIemKFfTPRrriJEzqPtovuX\n"
    "DxjNuN2fZ6CHgCtghORAWSNeQlYYiZzs4VWI3Pb+kRZG44iGF8fCp0L/LrHiAiQ9\n"
    "37W/j2RfP9JTR+7EozqdkvHWmVZX1kD3WJp7P+VG1GhhxZxn50RLkHjlF5+vFKzt\n"
    "IT+lrDPMz75nA2Bnfv1x4zPfb+orIMFjy926pDxTp1GFAgMBAAGjaTBnMB0GA1Ud\n"
    "DgQWBBQ+AUT2htZYBfVAOo/+yfe27Fb6MDAfBgNVHSMEGDAWgBQ+AUT2htZYBfVA\n"
    "Oo/+yfe27Fb6MDAPBgNVHRMBAf8EBTADAQH/MBQGA1UdEQQNMAuCCWxvY2FsaG9z\n"
    "dDANBgkqhkiG9w0BAQsFAAOCAQEAK09XM5v1g+ur4ol9OQIH/tGi/UXLmJBRUEAV\n"
    "FYo0CzolrhFcVG59u6UQdrNX0UZDus82axjc2kI0lroTpZCYtX9xKkipQbDTqlm0\n"
    "bCe6Fxp0MO3rbS7eeVCeLbAfN7eV7j/y1TBkzPvsDUpA4lITu0rRZBrbKklYLgM4\n"
    "8Ikt2//qUr/096rS5myAwNerb+r5w7qe5vvWPpzfAuLFn8stAVOz1tUr3g1PyyAK\n"
    "LTAg/0DDfbAXLs40oDG5s8QYdhDxucAP5mVs+7MQ8EmWgCTPkziw8EknFwykpniQ\n"
    "8MamdywyCfrx7h9B80J9b++jnckym0IOXhvaRx71evkJ4JIr3g==\n"
    "-----END CERTIFICATE-----\n";

static const char rsa_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDGI2Ms1wnn6o0v\n"
    "KHi7mwowPhn9Oyg9aL0/sYMDvBiYqzk3Ryq2cvXif1lRL3/JYB/Jnv8NcLKHWD34\n"
    "SY9TLiFJQnpEQTwW1QfEWvhTu9soTU08Gl+GE7OiTIbEuyAC+5t1wR0LGljwsWQz\n"
    "SByPbDIemKFfTPRrriJEzqPtovuXDxjNuN2fZ6CHgCtghORAWSNeQlYYiZzs4VWI\n"
    "3Pb+kRZG44iGF8fCp0L/LrHiAiQ937W/j2RfP9JTR+7EozqdkvHWmVZX1kD3WJp7\n"
    "P+VG1GhhxZxn50RLkHjlF5+vFKztIT+lrDPMz75nA2Bnfv1x4zPfb+orIMFjy926\n"
    "pDxTp1GFAgMBAAECggEAB8H+8hSBWMlAOeZ1w7KwVW85CUc1riHZtxK2NIE63U9m\n"
    "8BkjPP2HTxT5ZEpd0H6o//XvupD9DHuSAZSvvewCdaHas61yMtqocTG2o2Cplgxg\n"
    "x8eokdFXqTUh2bYR7Mv5LEUhY/vmG5Z2e+OI6ryrwbLsLpUOxOCOiu8kT/ufqixl\n"
    "ZjvxSNC6we6ScZ2jqW0AHU68Nd3kdAZrTtEuAuSMov65+BNJCkRvMd4NKtnjekJe\n"
    "QxmCuIwIOq6YZmMqj/fyZqh6G1zeTg5D+NRpr518I2EFovaS3m8K7oIZDReibvX5\n"
    "nMGHZi1URaV22WEZxGEDw95CQsYmWD+AqPjMO4Q2CQKBgQD8Qwo+C6BVD/oKKbTx\n"
    "gIkI3RFlZBsUJSfwEiO7Ln+WWLlqxHdUU0c7ZS6bpMEtpZpCq94pz3FJCujYh4YV\n"
    "Za7wqJp46TZToX04HFgTsDSa+aM1JS5w6z7BgBS9GXLz6OKOX2UOyTLmdjEEECdA\n"
    "z+EECi0JkJ6hP7NTO0DhU5tm1wKBgQDJEwdDhGnBuTyqExZ0id+DbY1fL4hxC0dU\n"
    "lGe95o9AhkWONm11eZqL3IUSW61GysSy+vkUC9c8/XbsPSg5dRik73RQLeEB/pq7\n"
    "puX4saTQtm9ST6usXe8C3NPW5JQAltxEDrGt7DHZcIx5lpl32Jo3U8Mp7awdgeQs\n"
    "RWDXRwkrAwKBgC9XOXXZYrZz8B22JAHqeE0Uh646ciZ+rpcMIG6BVGpXrjxOMIK/\n"
    "ui94Vp3Y9nPljySR8nhwOLdXd8ki7dPYKFN7oLmuMobRWJmOIC1ZtRWcYbeYibWh\n"
    "QD66FapDO2Jwwwuq9WEn+whrB9nWWjd8i6LhcgBIhqyGMtYc2ZkvwoszAoGAHqdG\n"
    "+TULhlv98pOcXcHTEE84OSWe8FTe1/cT5bBrcFPH8Mk9YKZcOCwzITxWqy8oU3zN\n"
    "UhAIDSU65wLfyfqe+i4DFmIYJlyxLCBieMpkLOlTCUJaEpnzYQVXSjBom7pj9AAl\n"
    "eDVE2Dg/Qh4CYXHk+MBNRWwVTB5MMa+V9tu+ew8CgYEAygo8a1SVwdp2C5pZukrR\n"
    "mJ2woDHE4Uw5abIaXUP4swDnAKm5GIkrq6L5lxVd34eAlfyWfXg9RET15WSFyctL\n"
    "IfbiGl6BCNbJ+Kfn/+6hFp5qT9EXNZqDCpv306LkLiR5k3Ix2hPS1/2zm+gZoHBQ\n"
    "7Ds83tTkVZwdbdQE2A6FRxE=\n"
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

/* One receiver per key type; both share the event base and the deployer end. */
struct server {
	struct rx rx;
	br_x509_pkey pkey;      /* the leaf's public key, which the client pins */
	unsigned char key[512]; /* the bytes pkey points to (EC point, or RSA n then e) */
};

static struct {
	int ready;
	struct event_base *base;
	int deployer_fd; /* the deployer's end of both rx.sockpair */
	struct server ec, rsa, flaky;
} g;

void fuzz_tls_teardown(void)
{
	if (!g.ready)
		return;
	tls_keys_free(&g.ec.rx.keys);
	tls_keys_free(&g.rsa.rx.keys);
	tls_keys_free(&g.flaky.rx.keys);
	event_base_free(g.base);
	close(g.ec.rx.sockpair);
	close(g.flaky.rx.sockpair);
	close(g.deployer_fd);
	memset(&g, 0, sizeof(g));
}

/* Copies the leaf's public key out of the decoder, which owns the bytes. */
static void keep_server_key(struct server *sv)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	const br_x509_certificate *leaf = &sv->rx.keys.chain[0];

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, leaf->data, leaf->data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	FUZZ_CHECK(pk != NULL);
	sv->pkey = *pk;
	if (pk->key_type == BR_KEYTYPE_EC) {
		FUZZ_CHECK(pk->key.ec.qlen <= sizeof(sv->key));
		memcpy(sv->key, pk->key.ec.q, pk->key.ec.qlen);
		sv->pkey.key.ec.q = sv->key;
	} else {
		FUZZ_CHECK(pk->key.rsa.nlen + pk->key.rsa.elen <= sizeof(sv->key));
		memcpy(sv->key, pk->key.rsa.n, pk->key.rsa.nlen);
		memcpy(sv->key + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
		sv->pkey.key.rsa.n = sv->key;
		sv->pkey.key.rsa.e = sv->key + pk->key.rsa.nlen;
	}
}

static void server_init(struct server *sv, const char *cert, size_t cert_len, const char *key,
                        size_t key_len, int sockpair)
{
	char err[160];

	sv->rx.setup.handshake_timeout = 3600;
	sv->rx.setup.head_timeout = 3600;
	sv->rx.setup.request_timeout = 3600;
	sv->rx.setup.idle_timeout = 3600;
	sv->rx.setup.max_connections = 16;
	sv->rx.body_budget = (size_t)64 << 20; /* as receiver/main.c sets it */
	sv->rx.setup.sites = &site;
	sv->rx.setup.nsites = 1;
	/* No listeners: accept_resume (called from conn_end) has nothing to do. */
	sv->rx.accepting = 1;
	sv->rx.base = g.base;
	sv->rx.sockpair = sockpair;
	FUZZ_CHECK(tls_keys_load(&sv->rx.keys, cert, cert_len, key, key_len, err, sizeof(err)) ==
	           0);
	keep_server_key(sv);
}

static void setup(void)
{
	int sp[2];

	memset(&g, 0, sizeof(g));
	g.base = event_base_new();
	FUZZ_CHECK(g.base != NULL);
	FUZZ_CHECK(rng_init() == 0);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	g.deployer_fd = sp[1];
	server_init(&g.ec, ec_cert_pem, sizeof(ec_cert_pem) - 1, ec_key_pem, sizeof(ec_key_pem) - 1,
	            sp[0]);
	server_init(&g.rsa, rsa_cert_pem, sizeof(rsa_cert_pem) - 1, rsa_key_pem,
	            sizeof(rsa_key_pem) - 1, sp[0]);
	server_init(&g.flaky, ec_cert_pem, sizeof(ec_cert_pem) - 1, ec_key_pem,
	            sizeof(ec_key_pem) - 1, sp[0]);
	g.flaky.rx.setup.request_timeout = 0;
	g.flaky.rx.setup.idle_timeout = 0;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	close(sp[1]);
	g.flaky.rx.sockpair = sp[0];
	FUZZ_CHECK(g.ec.rx.keys.key_type == BR_KEYTYPE_EC);
	FUZZ_CHECK(g.rsa.rx.keys.key_type == BR_KEYTYPE_RSA);
	g.ready = 1;
	atexit(fuzz_tls_teardown);
}

/* Lets the receiver run until it would block. */
static void serve(void)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(g.base, EVLOOP_NONBLOCK);
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

static void raw_session(const struct server *sv, int fd, struct fuzz_split *sp, const uint8_t *data,
                        size_t size)
{
	size_t chunks = 0;

	while (size > 0 && sv->rx.nconns > 0) {
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

static void client_start(struct client *cl, const struct server *sv)
{
	static const unsigned char seed[32] = "tailhook fuzz client seed";

	br_ssl_client_init_full(&cl->cc, &cl->xc, NULL, 0);
	if (sv->pkey.key_type == BR_KEYTYPE_EC)
		br_x509_knownkey_init_ec(&cl->kk, &sv->pkey.key.ec,
		                         BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	else
		br_x509_knownkey_init_rsa(&cl->kk, &sv->pkey.key.rsa,
		                          BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
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

static void client_session(const struct server *sv, int fd, struct fuzz_split *sp,
                           const uint8_t *data, size_t size, int close_notify)
{
	struct client *cl = malloc(sizeof(*cl));
	size_t chunks = 0;
	int idle = 0;

	if (cl == NULL)
		return;
	client_start(cl, sv);
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

/* How often rx->drained ran in this input (reset at its start). */
static int drained_calls;

static void on_drained(struct rx *rx)
{
	(void)rx;
	drained_calls++;
}

/* Starts a drain; returns whether the connection was still open. */
static int start_drain(struct server *sv)
{
	int open = sv->rx.nconns > 0;

	drained_calls = 0;
	sv->rx.draining = 1;
	sv->rx.drained = on_drained;
	conn_drain_all(&sv->rx);
	serve();
	return open;
}

/* Every deploy request the receiver sent must be one the deployer accepts. */
static void check_deployer_end(const struct server *sv)
{
	unsigned char buf[TH_MSG_SIZE + 16];
	struct th_msg m;
	ssize_t n;

	while ((n = recv(g.deployer_fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		FUZZ_CHECK(n == TH_MSG_SIZE);
		FUZZ_CHECK(th_msg_decode(&m, buf, (size_t)n, (unsigned)sv->rx.setup.nsites) ==
		           TH_MSG_OK);
	}
}

int fuzz_tls_one(const uint8_t *data, size_t size)
{
	struct fuzz_split sp;
	struct server *sv;
	int fds[2], client, drain = 0;

	if (!g.ready)
		setup();
	fuzz_split_init(&sp, &data, &size);
	/* to_deployer.c remembers each deploy it sends; nothing may carry over. */
	dedupe_reset();
	if (sp.flags & FLAG_RSA)
		sv = &g.rsa;
	else
		sv = (sp.flags & FLAG_FLAKY) ? &g.flaky : &g.ec;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
	FUZZ_CHECK(sv->rx.nconns == 0);
	if (sp.flags & FLAG_PLAIN)
		conn_new_plain(&sv->rx, fds[0], "fuzz");
	else
		conn_new(&sv->rx, fds[0], "fuzz");
	FUZZ_CHECK(sv->rx.nconns == 1);
	client = (sp.flags & FLAG_CLIENT) && !(sp.flags & FLAG_PLAIN);
	if (client) {
		client_session(sv, fds[1], &sp, data, size, (sp.flags & FLAG_CLOSE_NOTIFY) != 0);
	} else {
		raw_session(sv, fds[1], &sp, data, size);
		if (sp.flags & FLAG_DRAIN)
			drain = 1 + start_drain(sv);
	}
	close(fds[1]);
	for (int i = 0; i < MAX_CLOSE_PASSES && sv->rx.nconns > 0; i++)
		event_base_loop(g.base, EVLOOP_NONBLOCK);
	FUZZ_CHECK(sv->rx.nconns == 0);
	if (drain) {
		FUZZ_CHECK(drained_calls == drain - 1);
		sv->rx.draining = 0;
		sv->rx.drained = NULL;
	}
	check_deployer_end(sv);
	dedupe_reset();
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
