/*
 * reload.h - SIGHUP: re-read the config, the certificate, the key and the
 * secrets; switch only if everything is valid.
 */
#ifndef TH_RELOAD_H
#define TH_RELOAD_H

#include "deployer.h"

/*
 * Loads and fully checks the config file again.  On any error the old
 * config stays in force and "event=reload result=failed error=..." names
 * FILE:LINE.  Otherwise running deploys go on with the config they started
 * with, a new receiver starts with the new material and the old one drains
 * (receiver_replace).
 */
void reload(struct deployer *d);

#endif
