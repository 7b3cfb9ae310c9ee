/*
 * to_deployer.h - the receiver's end of the trust boundary.
 *
 * Its twin is deployer/from_receiver.c.  The only thing the receiver can
 * ever say to the deployer is one struct th_msg (common/msg.h).
 */
#ifndef TH_TO_DEPLOYER_H
#define TH_TO_DEPLOYER_H

#include "msg.h"

/*
 * Sends one message as one SOCK_SEQPACKET packet without blocking.
 * Returns 0 on success, -1 if the deployer is gone or its queue is full.
 */
int deploy_request_send(int fd, const struct th_msg *m);

#endif
