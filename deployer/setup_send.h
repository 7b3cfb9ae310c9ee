/*
 * setup_send.h - build the receiver's start-up blob from the config.
 *
 * Its twin is the decoder in common/setup_blob.c, called by receiver/main.c.
 */
#ifndef TH_SETUP_SEND_H
#define TH_SETUP_SEND_H

#include "deployer.h"

/*
 * Writes the blob into a new sealed memfd and returns its fd (close-on-
 * exec; the caller moves it to TH_FD_SETUP in the child), or -1.
 */
int setup_send_memfd(const struct deployer *d);

#endif
