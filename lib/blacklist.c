/*
 * blacklist.c - the blacklist: STOP, NPAI and manual opt-outs, global to
 * the store.  Adding (a stronger reason wins), removing (a STOP only when
 * forced), START, lookups for senders and the listing.
 *
 * Changes go through a batch: one write transaction (or a savepoint in
 * the caller's) with its statements prepared once, so that a stream of
 * numbers is applied all or nothing at the speed of one statement each.
 * Every change also marks the entry for sync in sync_item.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

#define NOTE_MAX 1024	/* longest note, in bytes */

static const char *const reason_names[] = {
	[CN_BL_NONE] = "",
	[CN_BL_MANUAL] = "manual",
	[CN_BL_NPAI] = "NPAI",
	[CN_BL_STOP] = "STOP",
};

int
cn_blacklist_reason_parse(const char *s, enum cn_bl_reason *out)
{
	if (!s)
		return -1;
	if (strcasecmp(s, "manual") == 0)
		*out = CN_BL_MANUAL;
	else if (strcasecmp(s, "NPAI") == 0 ||
		 strcasecmp(s, "undeliverable") == 0)
		*out = CN_BL_NPAI;
	else if (strcasecmp(s, "STOP") == 0)
		*out = CN_BL_STOP;
	else
		return -1;
	return 0;
}

const char *
cn_blacklist_reason_name(enum cn_bl_reason r)
{
	if (r < CN_BL_NONE || r > CN_BL_STOP)
		return "";
	return reason_names[r];
}

/* The reason stored as text (the CHECK constraint allows only three). */
static enum cn_bl_reason
reason_of(const unsigned char *s)
{
	enum cn_bl_reason r = CN_BL_NONE;

	if (s && strcmp((const char *)s, "STOP") == 0)
		r = CN_BL_STOP;
	else if (s && strcmp((const char *)s, "NPAI") == 0)
		r = CN_BL_NPAI;
	else if (s && strcmp((const char *)s, "manual") == 0)
		r = CN_BL_MANUAL;
	return r;
}

int
cn_blacklist_normalize(const struct cn_phone_rules *rules, const char *in,
		       char *out, size_t cap, struct cn_err *err)
{
	if (!in)
		in = "";
	if (strchr(in, '@'))
		return cn_email_normalize(in, out, cap, err);
	return cn_phone_normalize(rules, in, out, cap, err);
}

/*
 * Returns 1 if address is in the form cn_blacklist_normalize() writes:
 * '+' and 2 to 15 digits, the first not 0; or an email that normalises to
 * itself.
 */
static int
normalised(const char *address)
{
	char tmp[CN_ADDRESS_MAX];
	size_t n;

	if (!address)
		return 0;
	if (address[0] == '+') {
		n = strlen(address + 1);
		if (n < 2 || n > 15 || address[1] == '0')
			return 0;
		return strspn(address + 1, "0123456789") == n;
	}
	if (!strchr(address, '@'))
		return 0;
	return cn_email_normalize(address, tmp, sizeof(tmp), NULL) == 0 &&
	       strcmp(tmp, address) == 0;
}

static int
not_normalised(struct cn_err *err, const char *address)
{
	return cn_err_set(err, CN_EDATA, "invalid address '%.300s': not a "
			  "normalised number or email",
			  address ? address : "");
}

static void
result_set(struct cn_blacklist_result *res, enum cn_bl_action action,
	   enum cn_bl_reason reason, enum cn_bl_reason previous,
	   const char *uuid)
{
	if (!res)
		return;
	res->action = action;
	res->reason = reason;
	res->previous = previous;
	snprintf(res->uuid, sizeof(res->uuid), "%s", uuid ? uuid : "");
}

/* ------------------------------------------------------------ batches */

enum {
	S_FIND,
	S_INSERT,
	S_UPGRADE,
	S_DELETE,
	S_SYNC,
	S_COUNT
};

static const char *const batch_sql[S_COUNT] = {
	[S_FIND] = "SELECT id, uuid, reason FROM blacklist WHERE address = ?1",
	[S_INSERT] = "INSERT INTO blacklist(uuid, address, reason, source, "
		     "note, user_id, created_at, updated_at) "
		     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
	/* the note is kept when none is given */
	[S_UPGRADE] = "UPDATE blacklist SET reason = ?2, source = ?3, "
		      "note = coalesce(?4, note), user_id = ?5, "
		      "updated_at = ?6 WHERE id = ?1",
	[S_DELETE] = "DELETE FROM blacklist WHERE id = ?1",
	/* an upsert, not INSERT OR REPLACE: the row keeps the revision and
	 * the last sync time that the sync needs */
	[S_SYNC] = "INSERT INTO sync_item(kind, uuid, state, changed_at, "
		   "deleted) VALUES('blacklist', ?1, 'pending', ?2, ?3) "
		   "ON CONFLICT(kind, uuid) DO UPDATE SET state = 'pending', "
		   "changed_at = excluded.changed_at, "
		   "deleted = excluded.deleted",
};

struct cn_blacklist_batch {
	struct cn_store *st;
	sqlite3 *db;
	sqlite3_stmt *s[S_COUNT];
	int savepoint;		/* inside the caller's transaction */
	int broken;		/* a store error: abort only */
	char *user;		/* the last user name resolved, and its id */
	int64_t user_id;
};

/* Ends the transaction (or the savepoint) with a rollback. */
static void
rollback(struct cn_blacklist_batch *b)
{
	if (b->savepoint)
		sqlite3_exec(b->db, "ROLLBACK TO cn_blacklist; "
			     "RELEASE cn_blacklist", NULL, NULL, NULL);
	else
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
batch_free(struct cn_blacklist_batch *b)
{
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(b->s[i]);
	free(b->user);
	free(b);
}

struct cn_blacklist_batch *
cn_blacklist_batch_open(struct cn_store *st, struct cn_err *err)
{
	struct cn_blacklist_batch *b = calloc(1, sizeof(*b));

	if (!b) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	b->st = st;
	b->db = cn_store_db(st);
	b->savepoint = !sqlite3_get_autocommit(b->db);
	if (cn_sql_exec(b->db, b->savepoint ? "SAVEPOINT cn_blacklist"
					    : "BEGIN IMMEDIATE", err) < 0) {
		free(b);
		return NULL;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v2(b->db, batch_sql[i], -1, &b->s[i],
				       NULL) != SQLITE_OK) {
			cn_sql_fail(err, b->db, "blacklist");
			rollback(b);
			batch_free(b);
			return NULL;
		}
	}
	return b;
}

/* A store error: the batch is broken.  Returns -1. */
static int
batch_fail(struct cn_blacklist_batch *b, sqlite3_stmt *s, struct cn_err *err)
{
	cn_sql_fail(err, b->db, "blacklist");
	if (s)
		sqlite3_reset(s);
	b->broken = 1;
	return -1;
}

/* Runs a statement without results; resets it.  Returns 0 or -1. */
static int
step_done(struct cn_blacklist_batch *b, sqlite3_stmt *s, struct cn_err *err)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		return batch_fail(b, s, err);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

/*
 * Finds the entry of address: returns 1 and fills *id, uuid and *reason,
 * 0 if there is none, -1 on a store error.
 */
static int
find(struct cn_blacklist_batch *b, const char *address, int64_t *id,
     char uuid[37], enum cn_bl_reason *reason, struct cn_err *err)
{
	sqlite3_stmt *s = b->s[S_FIND];
	int rc;

	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		snprintf(uuid, 37, "%s",
			 (const char *)sqlite3_column_text(s, 1));
		*reason = reason_of(sqlite3_column_text(s, 2));
	} else if (rc != SQLITE_DONE) {
		return batch_fail(b, s, err);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW;
}

static int
mark_sync(struct cn_blacklist_batch *b, const char *uuid, int64_t now,
	  int deleted, struct cn_err *err)
{
	sqlite3_stmt *s = b->s[S_SYNC];

	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, deleted);
	return step_done(b, s, err);
}

/* The id of user (NULL: none, 0).  Returns 0 or -1 (batch broken). */
static int
user_id(struct cn_blacklist_batch *b, const char *user, int64_t *id,
	struct cn_err *err)
{
	*id = 0;
	if (!user || !*user)
		return 0;
	if (b->user && strcmp(b->user, user) == 0) {
		*id = b->user_id;
		return 0;
	}
	*id = cn_user_id(b->st, user, err);
	if (*id <= 0) {
		b->broken = 1;
		return -1;
	}
	free(b->user);
	b->user = strdup(user);
	b->user_id = b->user ? *id : 0;
	return 0;
}

static void
bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void
bind_opt_id(sqlite3_stmt *s, int i, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(s, i, id);
	else
		sqlite3_bind_null(s, i);
}

int
cn_blacklist_batch_add(struct cn_blacklist_batch *b, const char *address,
		       enum cn_bl_reason reason, const char *source,
		       const char *note, const char *user,
		       struct cn_blacklist_result *res, struct cn_err *err)
{
	enum cn_bl_reason was = CN_BL_NONE;
	char uuid[37];
	int64_t id = 0, uid, now;
	sqlite3_stmt *s;
	size_t bad;
	int found;

	if (b->broken)
		return cn_err_set(err, CN_EINTERNAL, "blacklist: the batch "
				  "was cancelled by an earlier error");
	if (reason < CN_BL_MANUAL || reason > CN_BL_STOP)
		return cn_err_set(err, CN_EUSAGE, "unknown blacklist reason "
				  "%d", (int)reason);
	if (!normalised(address))
		return not_normalised(err, address);
	if (note && strlen(note) > NOTE_MAX)
		return cn_err_set(err, CN_EDATA, "note too long (%zu bytes, "
				  "at most %d)", strlen(note), NOTE_MAX);
	if (note && !cn_utf8_valid(note, strlen(note), &bad))
		return cn_err_set(err, CN_EDATA, "invalid UTF-8 in the note "
				  "at byte %zu", bad);
	if (source && !cn_utf8_valid(source, strlen(source), &bad))
		return cn_err_set(err, CN_EDATA, "invalid UTF-8 in the source "
				  "at byte %zu", bad);

	found = find(b, address, &id, uuid, &was, err);
	if (found < 0)
		return -1;
	if (found && was >= reason) {
		result_set(res, CN_BL_UNCHANGED, was, was, uuid);
		return 0;
	}
	if (user_id(b, user, &uid, err) < 0)
		return -1;
	now = cn_now();
	if (!found) {
		cn_uuid7(uuid);
		s = b->s[S_INSERT];
		sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, reason_names[reason], -1,
				  SQLITE_STATIC);
		bind_opt_text(s, 4, source);
		bind_opt_text(s, 5, note);
		bind_opt_id(s, 6, uid);
		sqlite3_bind_int64(s, 7, now);
	} else {
		s = b->s[S_UPGRADE];
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, reason_names[reason], -1,
				  SQLITE_STATIC);
		bind_opt_text(s, 3, source);
		bind_opt_text(s, 4, note);
		bind_opt_id(s, 5, uid);
		sqlite3_bind_int64(s, 6, now);
	}
	if (step_done(b, s, err) < 0 || mark_sync(b, uuid, now, 0, err) < 0)
		return -1;
	result_set(res, found ? CN_BL_UPGRADED : CN_BL_ADDED, reason, was,
		   uuid);
	return 0;
}

/* Removes the entry id (uuid) and marks it deleted for sync. */
static int
delete_entry(struct cn_blacklist_batch *b, int64_t id, const char *uuid,
	     struct cn_err *err)
{
	sqlite3_stmt *s = b->s[S_DELETE];

	sqlite3_bind_int64(s, 1, id);
	if (step_done(b, s, err) < 0)
		return -1;
	return mark_sync(b, uuid, cn_now(), 1, err);
}

int
cn_blacklist_batch_remove(struct cn_blacklist_batch *b, const char *address,
			  int force, struct cn_blacklist_result *res,
			  struct cn_err *err)
{
	enum cn_bl_reason was = CN_BL_NONE;
	char uuid[37];
	int64_t id = 0;
	int found;

	if (b->broken)
		return cn_err_set(err, CN_EINTERNAL, "blacklist: the batch "
				  "was cancelled by an earlier error");
	if (!normalised(address))
		return not_normalised(err, address);
	found = find(b, address, &id, uuid, &was, err);
	if (found < 0)
		return -1;
	if (!found)
		return cn_err_set(err, CN_ENOINPUT, "%s is not on the "
				  "blacklist", address);
	if (was == CN_BL_STOP && !force)
		return cn_err_set(err, CN_ECHECK, "%s opted out (STOP): only "
				  "a START from that number lifts it",
				  address);
	if (delete_entry(b, id, uuid, err) < 0)
		return -1;
	result_set(res, CN_BL_REMOVED, CN_BL_NONE, was, uuid);
	return 0;
}

int
cn_blacklist_batch_optin(struct cn_blacklist_batch *b, const char *address,
			 struct cn_blacklist_result *res, struct cn_err *err)
{
	enum cn_bl_reason was = CN_BL_NONE;
	char uuid[37] = "";
	int64_t id = 0;
	int found;

	if (b->broken)
		return cn_err_set(err, CN_EINTERNAL, "blacklist: the batch "
				  "was cancelled by an earlier error");
	if (!normalised(address))
		return not_normalised(err, address);
	found = find(b, address, &id, uuid, &was, err);
	if (found < 0)
		return -1;
	if (!found || was != CN_BL_STOP) {
		result_set(res, CN_BL_KEPT, was, was, uuid);
		return 0;
	}
	if (delete_entry(b, id, uuid, err) < 0)
		return -1;
	result_set(res, CN_BL_REMOVED, CN_BL_NONE, was, uuid);
	return 1;
}

int
cn_blacklist_batch_commit(struct cn_blacklist_batch *b, struct cn_err *err)
{
	int rc = 0;

	if (!b)
		return cn_err_set(err, CN_EINTERNAL, "blacklist: no batch");
	for (int i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(b->s[i]);
		b->s[i] = NULL;
	}
	if (b->broken) {
		rollback(b);
		rc = cn_err_set(err, CN_EINTERNAL, "blacklist: the batch was "
				"cancelled by an earlier error");
	} else if (cn_sql_exec(b->db, b->savepoint ? "RELEASE cn_blacklist"
						   : "COMMIT", err) < 0) {
		rollback(b);
		rc = -1;
	}
	batch_free(b);
	return rc;
}

void
cn_blacklist_batch_abort(struct cn_blacklist_batch *b)
{
	if (!b)
		return;
	for (int i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(b->s[i]);
		b->s[i] = NULL;
	}
	rollback(b);
	batch_free(b);
}

/* ---------------------------------------------------- single changes */

int
cn_blacklist_add(struct cn_store *st, const char *address,
		 enum cn_bl_reason reason, const char *source,
		 const char *note, const char *user,
		 struct cn_blacklist_result *res, struct cn_err *err)
{
	struct cn_blacklist_batch *b = cn_blacklist_batch_open(st, err);

	if (!b)
		return -1;
	if (cn_blacklist_batch_add(b, address, reason, source, note, user,
				   res, err) < 0) {
		cn_blacklist_batch_abort(b);
		return -1;
	}
	return cn_blacklist_batch_commit(b, err);
}

int
cn_blacklist_optout(struct cn_store *st, const char *address,
		    const char *source, struct cn_blacklist_result *res,
		    struct cn_err *err)
{
	return cn_blacklist_add(st, address, CN_BL_STOP, source, NULL, NULL,
				res, err);
}

int
cn_blacklist_optin(struct cn_store *st, const char *address,
		   struct cn_err *err)
{
	struct cn_blacklist_batch *b = cn_blacklist_batch_open(st, err);
	int r;

	if (!b)
		return -1;
	r = cn_blacklist_batch_optin(b, address, NULL, err);
	if (r < 0) {
		cn_blacklist_batch_abort(b);
		return -1;
	}
	if (cn_blacklist_batch_commit(b, err) < 0)
		return -1;
	return r;
}

int
cn_blacklist_remove(struct cn_store *st, const char *address, int force,
		    struct cn_blacklist_result *res, struct cn_err *err)
{
	struct cn_blacklist_batch *b = cn_blacklist_batch_open(st, err);

	if (!b)
		return -1;
	if (cn_blacklist_batch_remove(b, address, force, res, err) < 0) {
		cn_blacklist_batch_abort(b);
		return -1;
	}
	return cn_blacklist_batch_commit(b, err);
}

/* ------------------------------------------------------------ lookups */

struct cn_blacklist_checker {
	sqlite3 *db;
	sqlite3_stmt *s;
};

struct cn_blacklist_checker *
cn_blacklist_checker_open(struct cn_store *st, struct cn_err *err)
{
	struct cn_blacklist_checker *ck = calloc(1, sizeof(*ck));

	if (!ck) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	ck->db = cn_store_db(st);
	if (sqlite3_prepare_v3(ck->db, "SELECT reason FROM blacklist WHERE "
			       "address = ?1", -1, SQLITE_PREPARE_PERSISTENT,
			       &ck->s, NULL) != SQLITE_OK) {
		cn_sql_fail(err, ck->db, "blacklist");
		free(ck);
		return NULL;
	}
	return ck;
}

int
cn_blacklist_checker_check(struct cn_blacklist_checker *ck,
			   const char *address, enum cn_bl_reason *reason,
			   struct cn_err *err)
{
	enum cn_bl_reason r = CN_BL_NONE;
	int rc;

	if (reason)
		*reason = CN_BL_NONE;
	if (!address || !*address)
		return 0;
	sqlite3_bind_text(ck->s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(ck->s);
	if (rc == SQLITE_ROW)
		r = reason_of(sqlite3_column_text(ck->s, 0));
	else if (rc != SQLITE_DONE)
		cn_sql_fail(err, ck->db, "blacklist");
	/* reset at once: a pending statement would keep a read transaction
	 * open between lookups */
	sqlite3_reset(ck->s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (reason)
		*reason = r;
	return rc == SQLITE_ROW;
}

void
cn_blacklist_checker_close(struct cn_blacklist_checker *ck)
{
	if (!ck)
		return;
	sqlite3_finalize(ck->s);
	free(ck);
}

int
cn_blacklist_lookup(struct cn_store *st, const char *address,
		    enum cn_bl_reason *reason, struct cn_err *err)
{
	struct cn_blacklist_checker *ck = cn_blacklist_checker_open(st, err);
	int r;

	if (reason)
		*reason = CN_BL_NONE;
	if (!ck)
		return -1;
	r = cn_blacklist_checker_check(ck, address, reason, err);
	cn_blacklist_checker_close(ck);
	return r;
}

int
cn_blacklist_each(struct cn_store *st, enum cn_bl_reason filter,
		  cn_blacklist_fn fn, void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT b.uuid, b.address, b.reason, b.source, "
			       "b.note, u.name, b.created_at, b.updated_at "
			       "FROM blacklist b LEFT JOIN user u ON u.id = "
			       "b.user_id WHERE ?1 IS NULL OR b.reason = ?1 "
			       "ORDER BY b.address", -1, &s, NULL))
		return cn_sql_fail(err, db, "blacklist");
	if (filter != CN_BL_NONE)
		sqlite3_bind_text(s, 1, cn_blacklist_reason_name(filter), -1,
				  SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_blacklist_entry e;

		e.uuid = (const char *)sqlite3_column_text(s, 0);
		e.address = (const char *)sqlite3_column_text(s, 1);
		e.reason = reason_of(sqlite3_column_text(s, 2));
		e.source = (const char *)sqlite3_column_text(s, 3);
		e.note = (const char *)sqlite3_column_text(s, 4);
		e.user = (const char *)sqlite3_column_text(s, 5);
		e.created_at = sqlite3_column_int64(s, 6);
		e.updated_at = sqlite3_column_int64(s, 7);
		if (fn(ctx, &e)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		cn_sql_fail(err, db, "blacklist");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}
