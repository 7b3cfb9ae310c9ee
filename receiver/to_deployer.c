/*
 * to_deployer.c - send the fixed deploy request to the deployer.
 */
#include "to_deployer.h"

#include <sys/socket.h>
#include <sys/types.h>

int deploy_request_send(int fd, const struct th_msg *m)
{
	ssize_t n = send(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}
