/*
 * receiver_proc.h - start, watch, kill, restart and replace the receiver.
 */
#ifndef TH_RECEIVER_PROC_H
#define TH_RECEIVER_PROC_H

#include "deployer.h"

/* Creates the restart timer; call once before receiver_start. */
void receiver_proc_init(struct deployer *d);

/* Starts the current receiver now; fatal only if the very first start fails. */
void receiver_start(struct deployer *d);

/* Kills a receiver (SIGKILL); its exit is handled by receiver_reaped. */
void receiver_kill(struct rx_proc *rx, const char *why);

/* Stops reading a receiver's socketpair and SIGKILLs it, quietly. */
void receiver_end(struct rx_proc *rx);

/*
 * Called for every reaped child; returns 1 if pid was a receiver (the
 * current one is restarted, a draining one is not).
 */
int receiver_reaped(struct deployer *d, pid_t pid, int status);

/* Closes our ends so that every receiver exits on its own (shutdown). */
void receiver_stop(struct deployer *d);

/* 1 while any receiver process is alive. */
int receiver_any(const struct deployer *d);

/*
 * After a reload: the current receiver is told to drain (SIGUSR1: accept
 * nothing more, finish open connections, exit) and a new one starts with
 * the new config.  Messages from the draining one are still read until it
 * exits, and SIGKILL ends it request-timeout + 5 s after the signal.
 */
void receiver_replace(struct deployer *d);

/*
 * The index in the current config of site `idx` in rx's own list, or -1
 * if a reload has removed it.
 */
int receiver_site(const struct rx_proc *rx, unsigned idx);

#endif
