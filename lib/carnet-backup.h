/*
 * carnet-backup.h - backups of lists, restores, whole-store snapshots.
 * Included by carnet.h; not to be included on its own.
 */
#ifndef CARNET_BACKUP_H
#define CARNET_BACKUP_H

#endif
