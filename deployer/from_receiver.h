/*
 * from_receiver.h - the deployer's end of the trust boundary.
 *
 * Its twin is receiver/to_deployer.c.  Reads one SOCK_SEQPACKET packet at
 * a time; anything but one valid struct th_msg is a protocol violation
 * and the receiver is killed and replaced.
 */
#ifndef TH_FROM_RECEIVER_H
#define TH_FROM_RECEIVER_H

#include "deployer.h"

/* libevent callback for our end of a socketpair (arg: its struct rx_proc). */
void deploy_request_recv(int fd, short what, void *arg);

#endif
