/*
 * from_receiver.c - read and validate requests from a receiver.
 */
#include "from_receiver.h"

#include <errno.h>
#include <sys/socket.h>

#include "deploy_queue.h"
#include "log.h"
#include "receiver_proc.h"

void deploy_request_recv(int fd, short what, void *arg)
{
	struct rx_proc *rx = arg;
	unsigned char buf[TH_MSG_SIZE + 1];
	struct th_msg m;
	enum th_msg_err e;
	ssize_t n;
	int site;

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
		         (long)rx->pid);
		receiver_end(rx);
		return;
	}
	if (n < 0) {
		receiver_kill(rx, "socketpair error");
		return;
	}
	/* Indexes are checked against the config this receiver was started with. */
	e = th_msg_decode(&m, buf, (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n,
	                  (unsigned)rx->nsites);
	if ((size_t)n > TH_MSG_SIZE)
		e = TH_MSG_ESIZE;
	if (e != TH_MSG_OK) {
		log_warnx("event=protocol-violation pid=%ld bytes=%zd reason=\"%s\"", (long)rx->pid,
		          n, th_msg_strerror(e));
		receiver_kill(rx, "protocol violation");
		return;
	}
	site = receiver_site(rx, m.site);
	if (site < 0) {
		log_info("event=deploy-dropped site=%s delivery=%s reason=\"removed by a reload\"",
		         rx->sites[m.site], m.delivery);
		return;
	}
	m.site = (uint16_t)site;
	deploy_queue_add(rx->d, &m);
}
