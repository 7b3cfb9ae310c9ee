/*
 * receiver_proc.h - start, watch, kill and restart the receiver.
 */
#ifndef TH_RECEIVER_PROC_H
#define TH_RECEIVER_PROC_H

#include "deployer.h"

/* Creates the restart timer; call once before receiver_start. */
void receiver_proc_init(struct deployer *d);

/* Starts a receiver now; fatal only if the very first start fails. */
void receiver_start(struct deployer *d);

/* Kills the receiver (SIGKILL); the exit is handled by receiver_exited. */
void receiver_kill(struct deployer *d, const char *why);

/* Called from the SIGCHLD handler when the receiver's pid was reaped. */
void receiver_exited(struct deployer *d, int status);

/* Stops reading the socketpair and SIGKILLs the receiver, quietly. */
void receiver_end(struct deployer *d);

/* Closes our end so the receiver exits on its own (shutdown). */
void receiver_stop(struct deployer *d);

#endif
