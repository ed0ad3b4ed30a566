/*
 * carnet-template.h - see lib/template.c.  Included by carnet.h; not to be included
 * on its own.
 */
#ifndef CARNET_TEMPLATE_H
#define CARNET_TEMPLATE_H

#endif
