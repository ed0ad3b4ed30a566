/*
 * quota.c - SMS quotas and the usage ledger: quota rows (set, remove,
 * list), the effective quota of a user in a folder, checks of one send
 * against it, the reservation that checks and appends to the ledger under
 * one write lock, and the ledger's monthly sums.
 *
 * The rules (which row applies, how usage is counted) are described once,
 * in carnet-quota.h.  The quota table's UNIQUE(folder_id, user_id) does not
 * stop two common or default rows (NULLs are distinct in SQL): every write
 * here looks the row up and updates or inserts under the write lock, so
 * there is at most one row per (folder, user); readers take the oldest if
 * another program ever made two.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

#define SAVEPOINT_NAME "cn_quota"

static const char *const kind_names[] = {
	[CN_QUOTA_NONE] = "none",
	[CN_QUOTA_DEFAULT] = "default",
	[CN_QUOTA_SPECIFIC] = "specific",
	[CN_QUOTA_FORBIDDEN] = "forbidden",
	[CN_QUOTA_UNLIMITED] = "unlimited",
};

static const char *const limit_names[CN_QL_N] = {
	"per_send_sms", "per_send_recipients", "per_month_sms",
	"per_month_recipients",
};

/* The limits for people, as in "over the monthly SMS quota". */
static const char *const limit_words[CN_QL_N] = {
	"per-send SMS", "per-send recipient", "monthly SMS",
	"monthly recipient",
};

const char *
cn_quota_kind_name(enum cn_quota_kind k)
{
	if ((unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]))
		return kind_names[k];
	return "none";
}

const char *
cn_quota_mode_name(enum cn_quota_mode m)
{
	return m == CN_QUOTA_WARN ? "warn" : "block";
}

int
cn_quota_mode_parse(const char *s, enum cn_quota_mode *out)
{
	if (strcmp(s, "block") == 0)
		*out = CN_QUOTA_BLOCK;
	else if (strcmp(s, "warn") == 0)
		*out = CN_QUOTA_WARN;
	else
		return -1;
	return 0;
}

const char *
cn_quota_limit_name(enum cn_quota_limit l)
{
	return (unsigned)l < CN_QL_N ? limit_names[l] : "";
}

/* The kind stored as text; CN_QUOTA_NONE if unknown. */
static enum cn_quota_kind
kind_parse(const char *s)
{
	for (int k = CN_QUOTA_DEFAULT; k <= CN_QUOTA_UNLIMITED; k++)
		if (s && strcmp(s, kind_names[k]) == 0)
			return (enum cn_quota_kind)k;
	return CN_QUOTA_NONE;
}

int
cn_quota_has_limits(enum cn_quota_kind kind, int default_row)
{
	return default_row ? kind == CN_QUOTA_DEFAULT
			   : kind == CN_QUOTA_SPECIFIC;
}

void
cn_quota_month(int64_t t, char out[8])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1970 ||
	    tm.tm_year + 1900 > 9999) {
		memcpy(out, "1970-01", 8);
		return;
	}
	{
		int y = tm.tm_year + 1900, m = tm.tm_mon + 1;

		out[0] = (char)('0' + y / 1000);
		out[1] = (char)('0' + y / 100 % 10);
		out[2] = (char)('0' + y / 10 % 10);
		out[3] = (char)('0' + y % 10);
		out[4] = '-';
		out[5] = (char)('0' + m / 10);
		out[6] = (char)('0' + m % 10);
		out[7] = '\0';
	}
}

void
cn_quota_month_now(char out[8])
{
	cn_quota_month(cn_now(), out);
}

int
cn_quota_month_valid(const char *s)
{
	int year, month;

	if (!s || strlen(s) != 7 || s[4] != '-')
		return 0;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return 0;
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	       (s[3] - '0');
	month = (s[5] - '0') * 10 + (s[6] - '0');
	return year >= 1970 && month >= 1 && month <= 12;
}

/* Writes v with a comma every three digits ("4,996") into buf; returns
 * buf. */
static const char *
grp(int64_t v, char buf[32])
{
	char tmp[24];
	int n, j = 0, neg = v < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	n = snprintf(tmp, sizeof(tmp), "%" PRIu64, u);
	if (neg)
		buf[j++] = '-';
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = tmp[i];
	}
	buf[j] = '\0';
	return buf;
}

/* ------------------------------------------------------- transactions */

/*
 * Starts the write transaction of a change: BEGIN IMMEDIATE when the
 * caller has none open, else a savepoint inside the caller's, which must
 * already hold the write lock.  *own says which.  Returns 0 or -1.
 */
static int
tx_begin(sqlite3 *db, int *own, struct cn_err *err)
{
	if (sqlite3_get_autocommit(db)) {
		*own = 1;
		return cn_sql_exec(db, "BEGIN IMMEDIATE", err);
	}
	*own = 0;
	if (sqlite3_txn_state(db, "main") != SQLITE_TXN_WRITE)
		return cn_err_set(err, CN_EINTERNAL,
				  "quota: the caller's transaction has not "
				  "taken the write lock (open it with BEGIN "
				  "IMMEDIATE)");
	return cn_sql_exec(db, "SAVEPOINT " SAVEPOINT_NAME, err);
}

/* Ends what tx_begin() started: commits (or releases the savepoint) when
 * commit is set, else rolls back.  Returns 0, or -1 with err after
 * rolling back. */
static int
tx_end(sqlite3 *db, int own, int commit, struct cn_err *err)
{
	if (commit) {
		if (cn_sql_exec(db, own ? "COMMIT"
					: "RELEASE " SAVEPOINT_NAME,
				err) == 0)
			return 0;
	}
	if (own)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	else
		sqlite3_exec(db, "ROLLBACK TO " SAVEPOINT_NAME "; RELEASE "
				 SAVEPOINT_NAME, NULL, NULL, NULL);
	return commit ? -1 : 0;
}

/* --------------------------------------------------------------- rows */

/* The id of a folder or user named name, 0 if there is none, -1 on
 * error.  Creates nothing. */
static int64_t
lookup(sqlite3 *db, const char *table, const char *name, struct cn_err *err)
{
	static const char *const sql[] = {
		"SELECT id FROM folder WHERE name = ?1",
		"SELECT id FROM user WHERE name = ?1",
	};
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql[strcmp(table, "user") == 0], -1, &s,
			       NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		id = cn_sql_fail(err, db, "store");
	sqlite3_finalize(s);
	return id;
}

/* Columns 0..6 of s (kind, mode, the four limits, updated_at) into r,
 * whose folder and user are set by the caller. */
static void
rule_from(sqlite3_stmt *s, struct cn_quota_rule *r, int default_row)
{
	r->kind = kind_parse((const char *)sqlite3_column_text(s, 0));
	if (r->kind == CN_QUOTA_NONE)	/* not ours: the safest reading */
		r->kind = CN_QUOTA_FORBIDDEN;
	if (default_row && r->kind == CN_QUOTA_SPECIFIC)
		r->kind = CN_QUOTA_DEFAULT;	/* the default row's limits */
	r->mode = CN_QUOTA_BLOCK;
	if (sqlite3_column_type(s, 1) == SQLITE_TEXT)
		cn_quota_mode_parse((const char *)sqlite3_column_text(s, 1),
				    &r->mode);
	for (int i = 0; i < CN_QL_N; i++) {
		r->limit[i] = CN_QUOTA_NOLIMIT;
		if (cn_quota_has_limits(r->kind, default_row) &&
		    sqlite3_column_type(s, 2 + i) == SQLITE_INTEGER &&
		    sqlite3_column_int64(s, 2 + i) >= 0)
			r->limit[i] = sqlite3_column_int64(s, 2 + i);
	}
	if (r->kind == CN_QUOTA_FORBIDDEN)
		r->mode = CN_QUOTA_BLOCK;
	r->updated_at = sqlite3_column_int64(s, 6);
}

static void
rule_names(struct cn_quota_rule *r, const char *folder, const char *user)
{
	snprintf(r->folder, sizeof(r->folder), "%s", folder ? folder : "");
	snprintf(r->user, sizeof(r->user), "%s", user ? user : "");
}

#define RULE_COLS                                                            \
	"kind, mode, per_send_sms, per_send_recipients, per_month_sms, "     \
	"per_month_recipients, updated_at"

/* Reads the row of (fid, uid) (0: NULL).  Returns its id, 0 if none, -1
 * on error. */
static int64_t
row_get(sqlite3 *db, int64_t fid, int64_t uid, struct cn_quota_rule *r,
	struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT " RULE_COLS ", id FROM quota WHERE "
			       "folder_id IS ?1 AND user_id IS ?2 ORDER BY id "
			       "LIMIT 1", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	if (fid)
		sqlite3_bind_int64(s, 1, fid);
	if (uid)
		sqlite3_bind_int64(s, 2, uid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		rule_from(s, r, uid == 0);
		id = sqlite3_column_int64(s, 7);
	} else if (rc != SQLITE_DONE) {
		id = cn_sql_fail(err, db, "store");
	}
	sqlite3_finalize(s);
	return id;
}

/* ---------------------------------------------------------- describing */

/* Appends to buf (cap, NUL-terminated) without overflowing. */
static void
cat(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
cat(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* "200 SMS and 50 recipients" for the pair of limits at i, i + 1. */
static void
pair_text(const int64_t *limit, int i, char *buf, size_t cap)
{
	char a[32], b[32];

	const char *s = limit[i + 1] == 1 ? "" : "s";

	if (limit[i] >= 0 && limit[i + 1] >= 0)
		cat(buf, cap, "%s SMS and %s recipient%s", grp(limit[i], a),
		    grp(limit[i + 1], b), s);
	else if (limit[i] >= 0)
		cat(buf, cap, "%s SMS", grp(limit[i], a));
	else
		cat(buf, cap, "%s recipient%s", grp(limit[i + 1], b), s);
}

void
cn_quota_rule_text(const struct cn_quota_rule *r, char *buf, size_t cap)
{
	int default_row = r->user[0] == '\0';

	if (!cap)
		return;
	buf[0] = '\0';
	if (!cn_quota_has_limits(r->kind, default_row)) {
		cat(buf, cap, "%s",
		    r->kind == CN_QUOTA_DEFAULT ? "the default quota"
		    : r->kind == CN_QUOTA_NONE  ? "no quota"
						: cn_quota_kind_name(r->kind));
		return;
	}
	if (r->limit[CN_QL_SEND_SMS] >= 0 ||
	    r->limit[CN_QL_SEND_RECIPIENTS] >= 0) {
		cat(buf, cap, "per send ");
		pair_text(r->limit, CN_QL_SEND_SMS, buf, cap);
		cat(buf, cap, "; ");
	}
	if (r->limit[CN_QL_MONTH_SMS] >= 0 ||
	    r->limit[CN_QL_MONTH_RECIPIENTS] >= 0) {
		cat(buf, cap, "per month ");
		pair_text(r->limit, CN_QL_MONTH_SMS, buf, cap);
		cat(buf, cap, "; ");
	}
	cat(buf, cap, "%s", cn_quota_mode_name(r->mode));
}

void
cn_quota_rule_where(const struct cn_quota_rule *r, char *buf, size_t cap)
{
	if (!cap)
		return;
	buf[0] = '\0';
	if (r->user[0])
		cat(buf, cap, "the quota of user %s", r->user);
	else
		cat(buf, cap, "the default quota");
	if (r->folder[0])
		cat(buf, cap, "%s folder %s", r->user[0] ? " in" : " of",
		    r->folder);
	else
		cat(buf, cap, ", common to all folders");
}

/* ----------------------------------------------------------- set, rm */

void
cn_quota_change_init(struct cn_quota_change *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = CN_QUOTA_NONE;
	for (int i = 0; i < CN_QL_N; i++)
		c->limit[i] = CN_QUOTA_KEEP;
	c->mode = -1;
	c->default_mode = CN_QUOTA_BLOCK;
}

/* What the option that asks for kind k is called, for messages. */
static const char *
kind_option(enum cn_quota_kind k)
{
	switch (k) {
	case CN_QUOTA_UNLIMITED: return "--unlimited";
	case CN_QUOTA_FORBIDDEN: return "--forbid";
	case CN_QUOTA_SPECIFIC: return "--specific";
	default: return "--default";
	}
}

int
cn_quota_change_check(const struct cn_quota_change *c, struct cn_err *err)
{
	int default_row = c->user == NULL, given = 0;

	if ((c->folder && !*c->folder) || (c->user && !*c->user))
		return cn_err_set(err, CN_EUSAGE, "empty %s name",
				  c->folder && !*c->folder ? "folder"
							   : "user");
	for (int i = 0; i < CN_QL_N; i++) {
		int64_t v = c->limit[i];

		if (v != CN_QUOTA_KEEP && v != CN_QUOTA_NOLIMIT &&
		    (v < 0 || v > CN_QUOTA_MAX))
			return cn_err_set(err, CN_EUSAGE,
					  "%s: %" PRId64 " is out of range "
					  "(0 to %" PRId64 ")",
					  limit_names[i], v, CN_QUOTA_MAX);
		if (v != CN_QUOTA_KEEP)
			given = 1;
	}
	if (c->mode != -1 && c->mode != CN_QUOTA_BLOCK &&
	    c->mode != CN_QUOTA_WARN)
		return cn_err_set(err, CN_EUSAGE, "bad quota mode %d",
				  c->mode);
	if (default_row && c->kind == CN_QUOTA_SPECIFIC)
		return cn_err_set(err, CN_EUSAGE,
				  "--specific is for a user's quota; the "
				  "default quota takes its limits as they are");
	if (c->kind != CN_QUOTA_NONE &&
	    !cn_quota_has_limits(c->kind, default_row) && given)
		return cn_err_set(err, CN_EUSAGE, "%s takes no limits",
				  kind_option(c->kind));
	if (c->kind == CN_QUOTA_FORBIDDEN && c->mode == CN_QUOTA_WARN)
		return cn_err_set(err, CN_EUSAGE,
				  "--forbid always blocks: --mode warn does "
				  "not apply");
	if (c->kind != CN_QUOTA_NONE && c->kind != CN_QUOTA_FORBIDDEN &&
	    !cn_quota_has_limits(c->kind, default_row) && c->mode != -1)
		return cn_err_set(err, CN_EUSAGE,
				  "--mode applies to a quota with limits, "
				  "not to %s", kind_option(c->kind));
	return 0;
}

int
cn_quota_set(struct cn_store *st, const struct cn_quota_change *c,
	     struct cn_quota_rule *out, enum cn_quota_action *action,
	     struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct cn_quota_rule old, r;
	int default_row = c->user == NULL, own = 0, given = 0, any = 0, rc;
	int old_limits;
	int64_t fid = 0, uid = 0, id;
	enum cn_quota_action act;
	sqlite3_stmt *s = NULL;
	char where[600];

	if (cn_quota_change_check(c, err) < 0)
		return -1;
	for (int i = 0; i < CN_QL_N; i++)
		if (c->limit[i] != CN_QUOTA_KEEP)
			given = 1;
	if (tx_begin(db, &own, err) < 0)
		return -1;
	if (c->folder && !(fid = cn_folder_id(st, c->folder, 1, err)))
		goto fail;
	if (c->user && !(uid = cn_user_id(st, c->user, err)))
		goto fail;
	memset(&old, 0, sizeof(old));
	if ((id = row_get(db, fid, uid, &old, err)) < 0)
		goto fail;
	old_limits = id && cn_quota_has_limits(old.kind, default_row);

	memset(&r, 0, sizeof(r));
	rule_names(&r, c->folder, c->user);
	cn_quota_rule_where(&r, where, sizeof(where));
	r.kind = c->kind;
	if (r.kind == CN_QUOTA_NONE) {
		if (given || (default_row && c->mode != -1 && !id))
			r.kind = default_row ? CN_QUOTA_DEFAULT
					     : CN_QUOTA_SPECIFIC;
		else if (id)
			r.kind = old.kind;
		else {
			cn_err_set(err, CN_EUSAGE,
				   "nothing to set for %s: give limits%s", where,
				   default_row ? ", --unlimited or --forbid"
					       : ", --unlimited, --forbid or "
						 "--default");
			goto fail;
		}
	}
	if (cn_quota_has_limits(r.kind, default_row)) {
		for (int i = 0; i < CN_QL_N; i++) {
			r.limit[i] = old_limits ? old.limit[i]
						: CN_QUOTA_NOLIMIT;
			if (c->limit[i] != CN_QUOTA_KEEP)
				r.limit[i] = c->limit[i];
			if (r.limit[i] >= 0)
				any = 1;
		}
		if (!any) {
			cn_err_set(err, CN_EUSAGE,
				   "%s needs at least one limit "
				   "(--per-send-sms, --per-send-recipients, "
				   "--per-month-sms, --per-month-recipients)%s",
				   where, default_row ? ", or --unlimited"
						      : "");
			goto fail;
		}
		r.mode = c->mode != -1 ? (enum cn_quota_mode)c->mode
			 : old_limits  ? old.mode
				       : c->default_mode;
	} else {
		if (given) {
			cn_err_set(err, CN_EUSAGE, "%s takes no limits",
				   kind_option(r.kind));
			goto fail;
		}
		if (c->mode != -1 && r.kind != CN_QUOTA_FORBIDDEN) {
			cn_err_set(err, CN_EUSAGE,
				   "--mode applies to a quota with limits, "
				   "not to %s", kind_option(r.kind));
			goto fail;
		}
		for (int i = 0; i < CN_QL_N; i++)
			r.limit[i] = CN_QUOTA_NOLIMIT;
		r.mode = CN_QUOTA_BLOCK;
	}
	r.updated_at = cn_now();

	act = id ? CN_QUOTA_UPDATED : CN_QUOTA_CREATED;
	if (id && old.kind == r.kind && old.mode == r.mode &&
	    memcmp(old.limit, r.limit, sizeof(r.limit)) == 0) {
		act = CN_QUOTA_UNCHANGED;
		r.updated_at = old.updated_at;
	} else {
		if (sqlite3_prepare_v2(db,
				       id ? "UPDATE quota SET kind = ?3, mode ="
					    " ?4, per_send_sms = ?5, "
					    "per_send_recipients = ?6, "
					    "per_month_sms = ?7, "
					    "per_month_recipients = ?8, "
					    "updated_at = ?9 WHERE id = ?10"
					  : "INSERT INTO quota(folder_id, "
					    "user_id, kind, mode, per_send_sms,"
					    " per_send_recipients, "
					    "per_month_sms, "
					    "per_month_recipients, updated_at)"
					    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
					    "?7, ?8, ?9)",
				       -1, &s, NULL)) {
			cn_sql_fail(err, db, "store");
			goto fail;
		}
		if (!id && fid)
			sqlite3_bind_int64(s, 1, fid);
		if (!id && uid)
			sqlite3_bind_int64(s, 2, uid);
		sqlite3_bind_text(s, 3, cn_quota_kind_name(r.kind), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 4, cn_quota_mode_name(r.mode), -1,
				  SQLITE_STATIC);
		for (int i = 0; i < CN_QL_N; i++)
			if (r.limit[i] >= 0)
				sqlite3_bind_int64(s, 5 + i, r.limit[i]);
		sqlite3_bind_int64(s, 9, r.updated_at);
		if (id)
			sqlite3_bind_int64(s, 10, id);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			cn_sql_fail(err, db, "store");
			goto fail;
		}
	}
	if (tx_end(db, own, !c->dry_run, err) < 0)
		return -1;
	if (out)
		*out = r;
	if (action)
		*action = act;
	return 0;
fail:
	tx_end(db, own, 0, NULL);
	return -1;
}

int
cn_quota_remove(struct cn_store *st, const char *folder, const char *user,
		int dry_run, struct cn_quota_rule *out, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct cn_quota_rule r;
	int64_t fid = 0, uid = 0, id = 0;
	int own, rc;
	sqlite3_stmt *s;
	char where[600];

	memset(&r, 0, sizeof(r));
	rule_names(&r, folder, user);
	cn_quota_rule_where(&r, where, sizeof(where));
	if (tx_begin(db, &own, err) < 0)
		return -1;
	if ((folder && (fid = lookup(db, "folder", folder, err)) <= 0) ||
	    (user && (uid = lookup(db, "user", user, err)) <= 0) ||
	    (id = row_get(db, fid, uid, &r, err)) <= 0) {
		if (fid >= 0 && uid >= 0 && id >= 0)
			cn_err_set(err, CN_ENOINPUT, "no such quota: %s",
				   where);
		goto fail;
	}
	if (sqlite3_prepare_v2(db, "DELETE FROM quota WHERE folder_id IS ?1 "
			       "AND user_id IS ?2", -1, &s, NULL)) {
		cn_sql_fail(err, db, "store");
		goto fail;
	}
	if (fid)
		sqlite3_bind_int64(s, 1, fid);
	if (uid)
		sqlite3_bind_int64(s, 2, uid);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		cn_sql_fail(err, db, "store");
		goto fail;
	}
	if (tx_end(db, own, !dry_run, err) < 0)
		return -1;
	if (out)
		*out = r;
	return 0;
fail:
	tx_end(db, own, 0, NULL);
	return -1;
}

int
cn_quota_each(struct cn_store *st, const char *folder, const char *user,
	      int common_only, cn_quota_rule_fn fn, void *ctx,
	      struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT " RULE_COLS ", f.name, u.name FROM quota"
			       " q LEFT JOIN folder f ON f.id = q.folder_id "
			       "LEFT JOIN user u ON u.id = q.user_id WHERE "
			       "(?1 IS NULL OR f.name = ?1) AND (?2 IS NULL "
			       "OR u.name = ?2) AND (?3 = 0 OR q.folder_id IS"
			       " NULL) ORDER BY f.name IS NOT NULL, f.name, "
			       "u.name IS NOT NULL, u.name, q.id",
			       -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	if (folder)
		sqlite3_bind_text(s, 1, folder, -1, SQLITE_STATIC);
	if (user)
		sqlite3_bind_text(s, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, common_only);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_quota_rule r;
		const char *u = (const char *)sqlite3_column_text(s, 8);

		memset(&r, 0, sizeof(r));
		rule_names(&r, (const char *)sqlite3_column_text(s, 7), u);
		rule_from(s, &r, u == NULL);
		if (fn(ctx, &r)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
}

/* ---------------------------------------------------------- effective */

/*
 * The effective quota of user uid (0: unknown) in folder fid (0: unknown),
 * whose names are folder and user.  Returns 0 or -1.
 */
static int
effective(sqlite3 *db, const char *folder, const char *user, int64_t fid,
	  int64_t uid, struct cn_quota_effective *q, struct cn_err *err)
{
	/* slots by priority: (F,U) (common,U) (F,default) (common,default) */
	struct cn_quota_rule slot[4];
	int have[4] = {0, 0, 0, 0}, pick = -1, rc;
	sqlite3_stmt *s;

	memset(q, 0, sizeof(*q));
	q->kind = CN_QUOTA_NONE;
	for (int i = 0; i < CN_QL_N; i++)
		q->limit[i] = CN_QUOTA_NOLIMIT;
	q->known_user = uid > 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT " RULE_COLS ", folder_id IS NULL, "
			       "user_id IS NULL FROM quota WHERE (folder_id IS"
			       " NULL OR folder_id = ?1) AND (user_id IS NULL "
			       "OR user_id = ?2) ORDER BY id", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, fid);
	sqlite3_bind_int64(s, 2, uid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int common = sqlite3_column_int(s, 7);
		int dflt = sqlite3_column_int(s, 8);
		int k = common + 2 * dflt;

		if (have[k])
			continue;	/* a duplicate: the oldest wins */
		have[k] = 1;
		memset(&slot[k], 0, sizeof(slot[k]));
		rule_names(&slot[k], common ? NULL : folder,
			   dflt ? NULL : user);
		rule_from(s, &slot[k], dflt);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");

	for (int k = 0; k < 2 && pick < 0; k++) {
		if (!have[k])
			continue;
		if (slot[k].kind == CN_QUOTA_DEFAULT) {
			q->user_default = 1;
			break;	/* follow the default rows */
		}
		pick = k;
		q->from_user = 1;
	}
	for (int k = 2; k < 4 && pick < 0; k++)
		if (have[k])
			pick = k;

	if (pick < 0) {
		snprintf(q->source, sizeof(q->source), "no quota");
	} else {
		q->rule = slot[pick];
		q->kind = q->rule.kind;
		q->mode = q->rule.mode;
		memcpy(q->limit, q->rule.limit, sizeof(q->limit));
		q->has_scope = 1;
		q->common = pick == 1 || pick == 3;
		if (q->from_user)
			snprintf(q->source, sizeof(q->source),
				 q->common ? "user %s, common to all folders"
					   : "user %s in folder %s",
				 user, folder);
		else if (q->common)
			snprintf(q->source, sizeof(q->source),
				 "default quota, common to all folders");
		else
			snprintf(q->source, sizeof(q->source),
				 "default quota of folder %s", folder);
	}
	if (q->user_default)
		cat(q->source, sizeof(q->source), "; user %s follows the "
		    "default", user);
	if (!q->known_user)
		cat(q->source, sizeof(q->source), "; user %s is not in the "
		    "store", user);
	return 0;
}

int
cn_quota_effective(struct cn_store *st, const char *folder, const char *user,
		   struct cn_quota_effective *q, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int64_t fid, uid;

	if (!folder || !*folder || !user || !*user)
		return cn_err_set(err, CN_EUSAGE, "empty %s name",
				  !folder || !*folder ? "folder" : "user");
	if ((fid = lookup(db, "folder", folder, err)) < 0 ||
	    (uid = lookup(db, "user", user, err)) < 0)
		return -1;
	return effective(db, folder, user, fid, uid, q, err);
}

/* ------------------------------------------------------------- checks */

/* The month's sums for user uid, in folder fid, or every folder when fid
 * is -1.  Unknown user or folder (0): zero. */
static int
month_used(sqlite3 *db, const char *month, int64_t uid, int64_t fid,
	   int64_t *sms, int64_t *recipients, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*sms = *recipients = 0;
	if (uid <= 0 || fid == 0)
		return 0;
	if (sqlite3_prepare_v2(db,
			       fid < 0 ? "SELECT total(sms), total(recipients)"
					 " FROM usage WHERE month = ?1 AND "
					 "user_id = ?2"
				       : "SELECT total(sms), total(recipients)"
					 " FROM usage WHERE month = ?1 AND "
					 "user_id = ?2 AND folder_id = ?3",
			       -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, month, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, uid);
	if (fid > 0)
		sqlite3_bind_int64(s, 3, fid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* total() is a float: exact below 2^53, far above any sum
		 * of counts capped at CN_QUOTA_MAX */
		*sms = (int64_t)sqlite3_column_double(s, 0);
		*recipients = (int64_t)sqlite3_column_double(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return cn_sql_fail(err, db, "store");
	return 0;
}

void
cn_quota_over_text(const struct cn_quota_verdict *v,
		   const struct cn_quota_req *req, size_t i, char *buf,
		   size_t cap)
{
	const struct cn_quota_over *o;
	char a[32], b[32], c[32], d[32];

	if (!cap)
		return;
	buf[0] = '\0';
	if (i >= v->nover)
		return;
	o = &v->over[i];
	cat(buf, cap, "over the %s quota of user %s ", limit_words[o->limit],
	    req->user);
	if (o->limit >= CN_QL_MONTH_SMS && v->quota.common)
		cat(buf, cap, "in all folders: ");
	else
		cat(buf, cap, "in folder %s: ", req->folder);
	if (o->limit >= CN_QL_MONTH_SMS)
		cat(buf, cap, "%s + %s > %s (by %s)", grp(o->used, a),
		    grp(o->asked, b), grp(o->max, c), grp(o->by, d));
	else
		cat(buf, cap, "%s > %s (by %s)", grp(o->asked, b),
		    grp(o->max, c), grp(o->by, d));
}

/* Checks the counts and month of req.  Returns 0 or -1 (CN_EUSAGE). */
static int
req_valid(const struct cn_quota_req *req, int64_t lo, struct cn_err *err)
{
	if (!req->folder || !*req->folder || !req->user || !*req->user)
		return cn_err_set(err, CN_EUSAGE, "empty %s name",
				  !req->folder || !*req->folder ? "folder"
								: "user");
	if (req->sms < lo || req->sms > CN_QUOTA_MAX)
		return cn_err_set(err, CN_EUSAGE,
				  "SMS count %" PRId64 " is out of range",
				  req->sms);
	if (req->recipients < lo || req->recipients > CN_QUOTA_MAX)
		return cn_err_set(err, CN_EUSAGE,
				  "recipient count %" PRId64 " is out of range",
				  req->recipients);
	if (req->month && !cn_quota_month_valid(req->month))
		return cn_err_set(err, CN_EUSAGE,
				  "invalid month '%s' (expected YYYY-MM)",
				  req->month);
	if (req->warn_threshold < 0)
		return cn_err_set(err, CN_EUSAGE,
				  "negative warning threshold");
	return 0;
}

/*
 * The verdict on req for user uid in folder fid (0: unknown to the
 * store).  Returns 0, or -1 on a store error.
 */
static int
evaluate(sqlite3 *db, const struct cn_quota_req *req, int64_t fid,
	 int64_t uid, struct cn_quota_verdict *v, struct cn_err *err)
{
	struct cn_quota_effective *q = &v->quota;
	const int64_t asked[CN_QL_N] = {req->sms, req->recipients, req->sms,
					req->recipients};
	char a[32], b[32];

	memset(v, 0, sizeof(*v));
	if (req->month)
		snprintf(v->month, sizeof(v->month), "%s", req->month);
	else
		cn_quota_month(cn_now(), v->month);
	if (effective(db, req->folder, req->user, fid, uid, q, err) < 0)
		return -1;
	if (month_used(db, v->month, uid,
		       q->has_scope && q->common ? -1 : fid, &v->used_sms,
		       &v->used_recipients, err) < 0)
		return -1;

	switch (q->kind) {
	case CN_QUOTA_FORBIDDEN:
		v->forbidden = 1;
		v->status = CN_QUOTA_OVER;
		cat(v->reason, sizeof(v->reason),
		    "user %s may not send SMS in folder %s (forbidden: %s)",
		    req->user, req->folder, q->source);
		break;
	case CN_QUOTA_DEFAULT:
	case CN_QUOTA_SPECIFIC:
		for (int i = 0; i < CN_QL_N; i++) {
			int64_t used = i >= CN_QL_MONTH_SMS
					       ? (i == CN_QL_MONTH_SMS
							  ? v->used_sms
							  : v->used_recipients)
					       : 0;
			int64_t total;
			struct cn_quota_over *o;

			if (q->limit[i] < 0)
				continue;
			if (__builtin_add_overflow(used, asked[i], &total))
				total = INT64_MAX;
			if (total <= q->limit[i])
				continue;
			o = &v->over[v->nover++];
			o->limit = (enum cn_quota_limit)i;
			o->max = q->limit[i];
			o->used = used;
			o->asked = asked[i];
			o->by = total - q->limit[i];
		}
		if (v->nover) {
			v->status = q->mode == CN_QUOTA_WARN ? CN_QUOTA_WARNED
							     : CN_QUOTA_OVER;
			cn_quota_over_text(v, req, 0, v->reason,
					   sizeof(v->reason));
		}
		break;
	default:	/* no quota active, or unlimited */
		if (req->warn_threshold > 0 &&
		    req->sms > req->warn_threshold) {
			v->threshold = 1;
			v->status = CN_QUOTA_WARNED;
			snprintf(v->reason, sizeof(v->reason),
				 "%s SMS: above the warning threshold of %s "
				 "SMS", grp(req->sms, a),
				 grp(req->warn_threshold, b));
		}
		break;
	}
	v->allowed = v->status != CN_QUOTA_OVER;
	v->warn = v->status == CN_QUOTA_WARNED;
	return 0;
}

int
cn_quota_check(struct cn_store *st, const struct cn_quota_req *req,
	       struct cn_quota_verdict *v, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int own = sqlite3_get_autocommit(db), rc = -1;
	int64_t fid, uid;

	memset(v, 0, sizeof(*v));
	if (req_valid(req, 0, err) < 0)
		return -1;
	/* one snapshot for the rows and the sums */
	if (own && cn_sql_exec(db, "BEGIN", err) < 0)
		return -1;
	if ((fid = lookup(db, "folder", req->folder, err)) < 0 ||
	    (uid = lookup(db, "user", req->user, err)) < 0 ||
	    evaluate(db, req, fid, uid, v, err) < 0)
		goto out;
	if (v->allowed)
		rc = 0;
	else
		cn_err_set(err, CN_ECHECK, "%s", v->reason);
out:
	if (own)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* Appends the ledger row of req for (fid, uid).  Returns its id, or -1. */
static int64_t
ledger_add(sqlite3 *db, const struct cn_quota_req *req, const char *month,
	   int64_t fid, int64_t uid, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO usage(at, month, folder_id, "
			       "user_id, campaign_id, message_id, sms, "
			       "recipients) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			       " ?8)", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, cn_now());
	sqlite3_bind_text(s, 2, month, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, fid);
	sqlite3_bind_int64(s, 4, uid);
	if (req->campaign_id > 0)
		sqlite3_bind_int64(s, 5, req->campaign_id);
	if (req->message_id > 0)
		sqlite3_bind_int64(s, 6, req->message_id);
	sqlite3_bind_int64(s, 7, req->sms);
	sqlite3_bind_int64(s, 8, req->recipients);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return sqlite3_last_insert_rowid(db);
}

int
cn_quota_reserve(struct cn_store *st, const struct cn_quota_req *req,
		 struct cn_quota_verdict *v, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int64_t fid, uid, id;
	int own;

	memset(v, 0, sizeof(*v));
	if (req_valid(req, 0, err) < 0 || tx_begin(db, &own, err) < 0)
		return -1;
	if (!(fid = cn_folder_id(st, req->folder, 1, err)) ||
	    !(uid = cn_user_id(st, req->user, err)) ||
	    evaluate(db, req, fid, uid, v, err) < 0)
		goto fail;
	if (!v->allowed) {
		cn_err_set(err, CN_ECHECK, "%s", v->reason);
		goto fail;
	}
	if ((id = ledger_add(db, req, v->month, fid, uid, err)) < 0)
		goto fail;
	if (tx_end(db, own, !req->dry_run, err) < 0) {
		v->ledger_id = 0;
		return -1;
	}
	v->ledger_id = req->dry_run ? 0 : id;
	return 0;
fail:
	tx_end(db, own, 0, NULL);
	return -1;
}

int
cn_quota_append(struct cn_store *st, const struct cn_quota_req *req,
		int64_t *ledger_id, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int64_t fid, uid, id, sms, recipients;
	char month[8];
	int own;

	if (ledger_id)
		*ledger_id = 0;
	if (req_valid(req, -CN_QUOTA_MAX, err) < 0 ||
	    tx_begin(db, &own, err) < 0)
		return -1;
	if (req->month)
		snprintf(month, sizeof(month), "%s", req->month);
	else
		cn_quota_month(cn_now(), month);
	if (!(fid = cn_folder_id(st, req->folder, 1, err)) ||
	    !(uid = cn_user_id(st, req->user, err)))
		goto fail;
	if (req->sms < 0 || req->recipients < 0) {
		char a[32], b[32], c[32], d[32];

		if (month_used(db, month, uid, fid, &sms, &recipients, err) < 0)
			goto fail;
		if (sms + req->sms < 0 || recipients + req->recipients < 0) {
			int both = sms + req->sms < 0 &&
				   recipients + req->recipients < 0;

			cn_err_set(err, CN_EDATA,
				   "the usage of user %s in folder %s for %s "
				   "would become negative: %s%s%s%s%s%s%s%s%s",
				   req->user, req->folder, month,
				   sms + req->sms < 0 ? grp(sms, a) : "",
				   sms + req->sms < 0 ? " SMS recorded, " : "",
				   sms + req->sms < 0 ? grp(req->sms, b) : "",
				   sms + req->sms < 0 ? " asked" : "",
				   both ? "; " : "",
				   recipients + req->recipients < 0
					   ? grp(recipients, c) : "",
				   recipients + req->recipients < 0
					   ? " recipients recorded, " : "",
				   recipients + req->recipients < 0
					   ? grp(req->recipients, d) : "",
				   recipients + req->recipients < 0 ? " asked"
								    : "");
			goto fail;
		}
	}
	if ((id = ledger_add(db, req, month, fid, uid, err)) < 0)
		goto fail;
	if (tx_end(db, own, !req->dry_run, err) < 0)
		return -1;
	if (ledger_id)
		*ledger_id = req->dry_run ? 0 : id;
	return 0;
fail:
	tx_end(db, own, 0, NULL);
	return -1;
}

/* ------------------------------------------------------------- output */

static int
add_str(struct cn_record *rec, const char *name, const char *v)
{
	return cn_record_add(rec, name, v, v ? strlen(v) : 0,
			     v ? CN_V_STR : CN_V_NULL);
}

static int
add_num(struct cn_record *rec, const char *name, int64_t v, int present)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	return present ? cn_record_add(rec, name, num, (size_t)n, CN_V_NUM)
		       : cn_record_add(rec, name, NULL, 0, CN_V_NULL);
}

static int
add_bool(struct cn_record *rec, const char *name, int v)
{
	return cn_record_add(rec, name, v ? "true" : "false", v ? 4 : 5,
			     CN_V_BOOL);
}

int
cn_quota_verdict_record(const struct cn_quota_verdict *v,
			const struct cn_quota_req *req, struct cn_record *rec)
{
	static const char *const status[] = {"ok", "warn", "over"};
	const struct cn_quota_effective *q = &v->quota;
	int has = q->kind == CN_QUOTA_DEFAULT || q->kind == CN_QUOTA_SPECIFIC;
	struct cn_buf over;
	int rc = 0;

	cn_record_reset(rec);
	cn_buf_init(&over, 0);
	cn_buf_addc(&over, '[');
	for (size_t i = 0; i < v->nover; i++) {
		const struct cn_quota_over *o = &v->over[i];

		cn_buf_addf(&over,
			    "%s{\"limit\":\"%s\",\"max\":%" PRId64
			    ",\"used\":%" PRId64 ",\"asked\":%" PRId64
			    ",\"by\":%" PRId64 "}",
			    i ? "," : "", limit_names[o->limit], o->max,
			    o->used, o->asked, o->by);
	}
	if (cn_buf_addc(&over, ']') < 0)
		rc = -1;
	rc |= add_str(rec, "folder", req->folder);
	rc |= add_str(rec, "user", req->user);
	rc |= add_str(rec, "month", v->month);
	rc |= add_num(rec, "sms", req->sms, 1);
	rc |= add_num(rec, "recipients", req->recipients, 1);
	rc |= add_str(rec, "status", status[v->status]);
	rc |= add_bool(rec, "allowed", v->allowed);
	rc |= add_bool(rec, "warn", v->warn);
	rc |= add_bool(rec, "threshold", v->threshold);
	rc |= add_str(rec, "kind", cn_quota_kind_name(q->kind));
	rc |= add_str(rec, "mode", has ? cn_quota_mode_name(q->mode)
				      : q->kind == CN_QUOTA_FORBIDDEN ? "block"
								      : NULL);
	rc |= add_str(rec, "source", q->source);
	rc |= add_bool(rec, "known_user", q->known_user);
	for (int i = 0; i < CN_QL_N; i++)
		rc |= add_num(rec, limit_names[i], q->limit[i],
			      has && q->limit[i] >= 0);
	rc |= add_num(rec, "used_sms", v->used_sms, 1);
	rc |= add_num(rec, "used_recipients", v->used_recipients, 1);
	rc |= add_str(rec, "reason", v->reason[0] ? v->reason : NULL);
	rc |= cn_record_add(rec, "over", over.ptr, over.len, CN_V_RAW);
	cn_buf_free(&over);
	return rc ? -1 : 0;
}

/* -------------------------------------------------------------- usage */

int
cn_quota_usage(struct cn_store *st, const char *month, const char *folder,
	       const char *user, cn_quota_usage_fn fn, void *ctx,
	       struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT g.month, f.name, u.name, g.sms, "
			       "g.recipients FROM (SELECT month, folder_id, "
			       "user_id, sum(sms) AS sms, sum(recipients) AS "
			       "recipients FROM usage WHERE (?1 IS NULL OR "
			       "month = ?1) AND (?2 IS NULL OR folder_id = "
			       "(SELECT id FROM folder WHERE name = ?2)) AND "
			       "(?3 IS NULL OR user_id = (SELECT id FROM user"
			       " WHERE name = ?3)) GROUP BY month, folder_id, "
			       "user_id) g JOIN folder f ON f.id = g.folder_id"
			       " LEFT JOIN user u ON u.id = g.user_id ORDER BY"
			       " g.month, f.name, u.name",
			       -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	if (month)
		sqlite3_bind_text(s, 1, month, -1, SQLITE_STATIC);
	if (folder)
		sqlite3_bind_text(s, 2, folder, -1, SQLITE_STATIC);
	if (user)
		sqlite3_bind_text(s, 3, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_quota_usage_row r;

		r.month = (const char *)sqlite3_column_text(s, 0);
		r.folder = (const char *)sqlite3_column_text(s, 1);
		r.user = (const char *)sqlite3_column_text(s, 2);
		r.sms = sqlite3_column_int64(s, 3);
		r.recipients = sqlite3_column_int64(s, 4);
		if (fn(ctx, &r)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
}
