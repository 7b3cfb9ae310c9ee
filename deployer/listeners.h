/*
 * listeners.h - open the listening sockets (the deployer binds, so a port
 * below 1024 needs no privilege in the receiver), or take them from
 * systemd (socket activation).
 */
#ifndef TH_LISTENERS_H
#define TH_LISTENERS_H

#include <stddef.h>

/*
 * Opens one non-blocking listening socket for spec: "a.b.c.d:port" or
 * "[v6]:port" (TLS), or "unix:/path" (plain HTTP behind a local proxy; a
 * stale socket file is replaced, the new one is mode 0666: the directory
 * decides who may connect).  Logs "event=listen addr=...".  Returns the fd
 * and sets *plain, or -1 with a message in err.
 */
int listener_open(const char *spec, int *plain, char *err, size_t errlen);

/*
 * Socket activation: if LISTEN_PID is our pid, takes the LISTEN_FDS
 * sockets passed from fd 3 on (stream sockets that listen: AF_INET and
 * AF_INET6 are TLS, AF_UNIX plain), makes them non-blocking and
 * close-on-exec, and unsets the variables.  Returns how many (0 if not
 * activated), or -1 with err.
 */
int listeners_from_systemd(int *fds, unsigned char *plain, size_t max, char *err, size_t errlen);

#endif
