/*
 * carnet-backup.h - backups of lists (lib/backup.c), restores, and
 * whole-store snapshots (lib/snapshot.c).
 * Included by carnet.h; not to be included on its own.
 */
#ifndef CARNET_BACKUP_H
#define CARNET_BACKUP_H

/* ---------------------------------------------------------------------
 * Backups of lists (lib/backup.c)
 *
 * A backup is one file, gzip-compressed NDJSON: a header object
 *	{"carnet_backup":1,"schema_version":1,"folder":"…","list":"…",
 *	 "list_id":"uuid","fields":[…],"reason":"import","rows":N,
 *	 "created_at":"2026-11-22T08:30:00Z","user":"…"}
 * then one object per member, as `carnet-contacts export --format ndjson`
 * writes them.  Its SHA-256, size and row count are kept in the store.
 */

enum cn_backup_reason {
	CN_BACKUP_IMPORT = 0,
	CN_BACKUP_DELETE,
	CN_BACKUP_RESTORE,
	CN_BACKUP_MANUAL,
};

const char *cn_backup_reason_name(enum cn_backup_reason r);

/* Where and when backups are taken: from the configuration. */
struct cn_backup_policy {
	const char *dir;	/* the backup directory (created 0700) */
	int enabled;		/* automatic backups, globally */
	const char *user;	/* who takes them */
	long retention_days;	/* prune: older than this (30) */
	long keep_last;		/* prune: always keep the newest N per list */
	int auto_prune;		/* prune after each automatic backup */
};

struct cn_backup_info {
	int64_t id;
	char folder[128];
	char list[256];
	enum cn_backup_reason reason;
	int64_t created_at;
	int64_t rows;
	int64_t size;
	char sha256[65];
	char file[4096];
	int schema_version;
	char user[128];
};

/*
 * Takes a backup of the list list_id inside the caller's open write
 * transaction (the rows are read in it, the record is inserted in it: if
 * the caller rolls back, the record goes and cn_backup_discard() removes
 * the file).  Skipped (returns 0) when policy is NULL, automatic backups
 * are off, or the list's own switch is off — except for
 * CN_BACKUP_MANUAL.  Returns the backup id, 0 if skipped, -1 with err.
 * The file is written atomically (temporary file, fsync, rename), 0600.
 */
int64_t cn_backup_list(struct cn_store *st, const struct cn_backup_policy *p,
		       int64_t list_id, enum cn_backup_reason why,
		       struct cn_err *err);
/* Removes the file of a backup whose transaction was rolled back. */
void cn_backup_discard(struct cn_store *st, int64_t id);

/*
 * A manual backup of list (in folder): reads the list in a read
 * transaction, so imports running at the same time are not blocked, then
 * records it.  Returns the id, or -1 with err (CN_ENOINPUT: no list).
 */
int64_t cn_backup_create(struct cn_store *st, const struct cn_backup_policy *p,
			 const char *folder, const char *list,
			 struct cn_err *err);

typedef int (*cn_backup_fn)(void *ctx, const struct cn_backup_info *b);

/* Calls fn for each backup (of folder and list when not NULL), by folder,
 * list and date.  Stops when fn returns non-zero.  Returns 0 or -1. */
int cn_backups_each(struct cn_store *st, const char *folder, const char *list,
		    cn_backup_fn fn, void *ctx, struct cn_err *err);
/* Fills b with backup id.  Returns 0, or -1 (CN_ENOINPUT: no backup). */
int cn_backup_get(struct cn_store *st, int64_t id, struct cn_backup_info *b,
		  struct cn_err *err);

/*
 * Checks a backup: the file exists, its size and SHA-256 match the
 * record, it decompresses to the end, its header names the same list and
 * schema version, and it holds the recorded number of rows.  Returns 0
 * when it is sound, 1 when damaged (problem says why: "checksum mismatch",
 * "truncated", "missing file", ...), -1 on another error.
 */
int cn_backup_verify(struct cn_store *st, const struct cn_backup_info *b,
		     char *problem, size_t cap, struct cn_err *err);

/*
 * Writes the rows of a sound backup to out in fmt (CSV columns: id,
 * email, phone, first_name, last_name, then the list's attribute
 * columns).  A damaged backup is refused (CN_EDATA) before anything is
 * written.  Returns the number of rows, or -1 with err.
 */
int64_t cn_backup_export(struct cn_store *st, const struct cn_backup_info *b,
			 FILE *out, enum cn_format fmt,
			 const struct cn_csv_opts *csv, struct cn_err *err);

struct cn_backup_reader;

/*
 * Opens a sound backup for reading its rows (after checking it as
 * cn_backup_verify does): *rd is a JSON reader positioned on the first
 * row; *fields (may be NULL) the header's attribute columns as a JSON
 * array text.  Close with cn_backup_reader_close().  Returns NULL and err
 * on failure: damaged backup, other schema version (CN_EDATA).
 */
struct cn_backup_reader *cn_backup_reader_open(struct cn_store *st,
					       const struct cn_backup_info *b,
					       struct cn_reader **rd,
					       struct cn_err *err);
const char *cn_backup_reader_fields(struct cn_backup_reader *br);
/* The backup's columns: id, email, phone, first_name, last_name, then its
 * attribute columns; *n receives their number.  Valid until close. */
const char *const *cn_backup_reader_columns(struct cn_backup_reader *br,
					    size_t *n);
/* Returns 0, or -1 with err if the stream turned out truncated. */
int cn_backup_reader_close(struct cn_backup_reader *br, struct cn_err *err);

struct cn_prune_opts {
	long days;		/* older than this many days (from now); < 0:
				   no age limit: nothing is removed */
	long keep_last;		/* keep the newest N of each list (0: none) */
	int force;		/* may remove a list's newest backup when it
				   is less than 24 hours old */
	int dry_run;
};

/*
 * Removes backups older than opts->days, except the newest keep_last of
 * each list and, without force, a list's newest backup when it is less
 * than 24 hours old; and files in the directory that no record names (left by a
 * killed import).  fn (may be NULL) is called for each backup removed (or,
 * dry, to remove).  Returns the number removed, or -1 with err.
 */
int64_t cn_backup_prune(struct cn_store *st, const struct cn_backup_policy *p,
			const struct cn_prune_opts *opts, cn_backup_fn fn,
			void *ctx, struct cn_err *err);

/* Turns a list's automatic backups on or off.  Returns 0 or -1. */
int cn_list_set_backup(struct cn_store *st, const char *folder,
		       const char *list, int on, struct cn_err *err);

/* ---------------------------------------------------------------------
 * Whole-store snapshots (lib/snapshot.c)
 */

/*
 * Writes a snapshot of the whole store to out as a gzip-compressed tar
 * archive that a person can read without carnet:
 *
 *	carnet-snapshot-YYYYMMDDTHHMMSSZ/README.txt
 *	carnet-snapshot-.../carnet.db            consistent copy (VACUUM INTO)
 *	carnet-snapshot-.../tables/TABLE.csv     every table, with a header
 *	carnet-snapshot-.../lists/FOLDER/LIST.csv  every list as exported
 *	carnet-snapshot-.../config.yaml          the configuration file with
 *	                                         every secret value redacted
 *	carnet-snapshot-.../SHA256SUMS           sha256sum -c format
 *
 * The copy is consistent while other tools write.  config_path may be NULL
 * (no configuration file).  Temporary files go to $TMPDIR and are removed.
 * Returns 0, or -1 with err (CN_ECANTCREAT on a write error).
 */
int cn_snapshot_write(struct cn_store *st, const char *config_path, FILE *out,
		      struct cn_err *err);

/*
 * Restores the store copy of a snapshot archive (path, or "-" for stdin)
 * into store_path, which must not exist or be an empty store (no folder,
 * list, contact, template, campaign, message or blacklist row): otherwise
 * CN_EDATA "... is not empty".  Checks the archive's SHA256SUMS and the
 * copy's integrity and schema version first; writes atomically (temporary
 * file, fsync, rename), mode 0600.  On error nothing is written.
 */
int cn_snapshot_restore(const char *archive, const char *store_path,
			struct cn_err *err);

#endif
