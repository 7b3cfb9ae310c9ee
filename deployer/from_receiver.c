/*
 * from_receiver.c - read and validate requests from the receiver.
 */
#include "from_receiver.h"

#include <errno.h>
#include <sys/socket.h>

#include "deploy_queue.h"
#include "log.h"
#include "receiver_proc.h"

void deploy_request_recv(int fd, short what, void *arg)
{
	struct deployer *d = arg;
	unsigned char buf[TH_MSG_SIZE + 1];
	struct th_msg m;
	enum th_msg_err e;
	ssize_t n;

	(void)what;
	/* MSG_TRUNC makes recv report a packet's real size even if it is larger. */
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0) {
		/* End of file when the receiver dies, or (SOCK_SEQPACKET) an empty
		 * packet from a live one, which no correct receiver sends.  The
		 * kernel closes a dying process's fds before it can be reaped, so
		 * the two cannot be told apart reliably: either way this receiver
		 * is done, and SIGCHLD restarts it. */
		log_info("event=receiver-eof pid=%ld note=\"socketpair closed or empty packet\"",
		         (long)d->rx_pid);
		receiver_end(d);
		return;
	}
	if (n < 0) {
		receiver_kill(d, "socketpair error");
		return;
	}
	e = th_msg_decode(&m, buf, (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n,
	                  (unsigned)d->cfg.nsites);
	if ((size_t)n > TH_MSG_SIZE)
		e = TH_MSG_ESIZE;
	if (e != TH_MSG_OK) {
		log_warnx("event=protocol-violation pid=%ld bytes=%zd reason=\"%s\"",
		          (long)d->rx_pid, n, th_msg_strerror(e));
		receiver_kill(d, "protocol violation");
		return;
	}
	deploy_queue_add(d, &m);
}
