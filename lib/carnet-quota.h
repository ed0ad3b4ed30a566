/*
 * carnet-quota.h - see lib/quota.c.  Included by carnet.h; not to be included
 * on its own.
 */
#ifndef CARNET_QUOTA_H
#define CARNET_QUOTA_H

#endif
