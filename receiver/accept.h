/*
 * accept.h - accept connections without ever spinning.
 *
 * Accepting pauses while the connection cap is reached or the process is
 * out of file descriptors, and resumes when a connection closes (or after
 * a short back-off for EMFILE/ENFILE).
 */
#ifndef TH_ACCEPT_H
#define TH_ACCEPT_H

#include "rx.h"

/* Creates the listener events (fds already listening, non-blocking). */
int accept_setup(struct rx *rx);

/* Stops accepting for good and closes the listeners (draining). */
void accept_stop(struct rx *rx);

/* Re-enables accepting if it was paused and there is room again. */
void accept_resume(struct rx *rx);

#endif
