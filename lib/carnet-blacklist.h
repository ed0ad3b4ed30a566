/*
 * carnet-blacklist.h - see lib/blacklist.c.  Included by carnet.h; not to be included
 * on its own.
 */
#ifndef CARNET_BLACKLIST_H
#define CARNET_BLACKLIST_H

#endif
