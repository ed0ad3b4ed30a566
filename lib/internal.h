/*
 * internal.h - helpers shared by the files of libcarnet; not installed.
 */
#ifndef CARNET_INTERNAL_H
#define CARNET_INTERNAL_H

#include <stdint.h>

#include <sqlite3.h>

#include "carnet.h"

/* Fills err from the connection's last error ("what: message"), with a
 * code from the SQLite result (busy → CN_ETEMP, I/O → CN_ECANTCREAT,
 * corrupt → CN_EDATA, else CN_EINTERNAL).  Returns -1. */
int cn_sql_fail(struct cn_err *err, sqlite3 *db, const char *what);
/* Runs SQL without results.  Returns 0, or -1 with err. */
int cn_sql_exec(sqlite3 *db, const char *sql, struct cn_err *err);
/* The current time in Unix seconds ($CARNET_NOW overrides, for tests). */
int64_t cn_now(void);
/* The store's id prefix (23 characters): names its backup files. */
const char *cn_store_idprefix(struct cn_store *st);
/* Writes the public id of the local contact rowid into out[37]. */
void cn_contact_pubid(struct cn_store *st, int64_t rowid, char out[37]);
/* The rowid named by a public id of this store, or 0 if id is not one
 * (a contact from another store keeps its id in contact.uuid). */
int64_t cn_contact_rowid(struct cn_store *st, const char *id);
/* The path the store was opened with. */
const char *cn_store_path(struct cn_store *st);

/* Whether a libcurl result is a server certificate that is not trusted
 * (peer or issuer verification failed): not worth retrying from cron,
 * reported as refused credentials (CN_ENOPERM, exit 77). */
int cn_tls_untrusted(int curl_code);

/* A named point where the crash tests may kill the process: with
 * CARNET_TEST_CRASHPOINT=NAME:N, the Nth call with NAME sends SIGKILL to
 * the process (lib/crashpoint.c).  Names: "tool.what", e.g. "import.row". */
void cn_crashpoint(const char *name);
/* cn_contacts_export() passing crashpoint (if not NULL) after each row
 * written: a backup's rows are "backup.row" (lib/backup.c). */
int64_t cn_contacts_export_cp(struct cn_store *st, const char *folder,
			      const char *list, FILE *out, enum cn_format fmt,
			      const struct cn_csv_opts *csv,
			      const char *crashpoint, struct cn_err *err);

/*
 * Applies one CouchDB _changes answer (body, len bytes, with
 * include_docs) to st as a pull batch of cn_sync_run() does, without a
 * server and without moving the checkpoint, inside the caller's
 * transaction (the caller commits or rolls back).  For tests and fuzzing.
 * Returns 0, or -1 with err (CN_EDATA: not JSON, no results array, a
 * document without _rev; store errors).
 */
int cn_sync_apply_changes(struct cn_store *st, const struct cn_sync_opts *o,
			  const char *body, size_t len,
			  struct cn_sync_stats *stats, struct cn_err *err);
/* The same for several answers in a row, each in the caller's transaction,
 * with the statements prepared once (o is read again at each run, which
 * reads the store afresh: a rollback between runs is fine). */
struct cn_sync_apply;
struct cn_sync_apply *cn_sync_apply_open(struct cn_store *st,
					 const struct cn_sync_opts *o,
					 struct cn_err *err);
int cn_sync_apply_run(struct cn_sync_apply *a, const char *body, size_t len,
		      struct cn_sync_stats *stats, struct cn_err *err);
void cn_sync_apply_close(struct cn_sync_apply *a);

/* Notes (to the fetch's on_note) why the receiver answered a callback
 * 400: the sysadmin reading the log learns what Kannel sent wrong
 * (control characters shown as '?'). */
struct cn_fetch;
void cn_fetch_note_refused(struct cn_fetch *f, const char *why);

/* Marks campaign ?1 for sync at time ?2 (with cn_campaign_exec). */
#define CN_SQL_SYNC_CAMPAIGN                                                \
	"INSERT INTO sync_item(kind, uuid, state, changed_at, deleted) "   \
	"SELECT 'campaign', uuid, 'pending', ?2, 0 FROM campaign "         \
	"WHERE id = ?1 ON CONFLICT(kind, uuid) DO UPDATE SET "             \
	"state = 'pending', changed_at = excluded.changed_at"
/* Runs sql (no rows) with ?1 bound to a campaign id and ?2 to now; what
 * names it in errors (lib/campaign.c).  Returns 0 or -1 with err. */
int cn_campaign_exec(sqlite3 *db, const char *sql, int64_t id, int64_t now,
		     const char *what, struct cn_err *err);
/* One sender per campaign: an exclusive lock on "<store>.send-ID.lock"
 * (lib/send.c), which is also the journal of its messages in flight.
 * Returns the descriptor, or -1 with err (CN_ETEMP: held elsewhere). */
int cn_campaign_lock(struct cn_store *st, int64_t id, struct cn_err *err);
/* Folds the journal of an interrupted send into the store (in doubt). */
int cn_campaign_journal_fold(struct cn_store *st, int64_t cid, int fd,
			     struct cn_err *err);

#endif
