/*
 * listeners.h - open the TLS listening sockets (the deployer binds, so a
 * port below 1024 needs no privilege in the receiver).
 */
#ifndef TH_LISTENERS_H
#define TH_LISTENERS_H

#include <stddef.h>

/*
 * Opens one non-blocking listening socket per spec ("a.b.c.d:port" or
 * "[v6]:port").  Logs "event=listen addr=..." with the bound port.
 * Returns 0, or -1 with a message in err.
 */
int listeners_open(char *const *specs, size_t n, int *fds, char *err, size_t errlen);

#endif
