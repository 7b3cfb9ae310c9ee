/*
 * to_deployer.c - send the fixed deploy request to the deployer.
 */
#include "to_deployer.h"

#include <sys/socket.h>
#include <sys/types.h>

#include "clock.h"
#include "dedupe.h"

int deploy_request_send(int fd, const struct th_msg *m)
{
	ssize_t n = send(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n != (ssize_t)sizeof(*m))
		return -1;
	/* Only a request that reached the deployer makes a redelivery a duplicate. */
	dedupe_note(m, mono_ms());
	return 0;
}
