/*
 * campaign.c - campaigns as people look at them: find, show, list, close,
 * and their messages.  Sending is lib/send.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

static int
prep(sqlite3 *db, sqlite3_stmt **s, const char *sql, struct cn_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, db, "prepare");
	return 0;
}

static int
all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int64_t
cn_campaign_find(struct cn_store *st, const char *key, const char *folder,
		 struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int64_t id = 0;
	int n = 0;

	if (all_digits(key) && strlen(key) < 19) {
		if (prep(db, &s, "SELECT id FROM campaign WHERE id = ?1",
			 err) < 0)
			return 0;
		sqlite3_bind_int64(s, 1, strtoll(key, NULL, 10));
	} else {
		if (prep(db, &s, "SELECT c.id FROM campaign c JOIN folder f ON "
			 "f.id = c.folder_id WHERE c.uuid = ?1 OR (c.name = ?1 "
			 "AND (?2 IS NULL OR f.name = ?2))", err) < 0)
			return 0;
		sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
		if (folder)
			sqlite3_bind_text(s, 2, folder, -1, SQLITE_TRANSIENT);
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		n++;
	}
	sqlite3_finalize(s);
	if (n == 0) {
		cn_err_set(err, CN_ENOINPUT, "no campaign '%s'", key);
		return 0;
	}
	if (n > 1) {
		cn_err_set(err, CN_EUSAGE, "'%s' names %d campaigns: give its "
			   "id", key, n);
		return 0;
	}
	return id;
}

#define INFO_SQL                                                            \
	"SELECT c.id, c.uuid, f.name, u.name, c.name, t.title, l.name, "     \
	"c.sender, c.status, c.simulated, c.driver, c.created_at, "          \
	"c.sent_at, c.close_at, c.closed_at, "                               \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id), "          \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'preparing' AND inflight_at IS NULL), "                  \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'preparing' AND inflight_at IS NOT NULL), "              \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'sent'), "                                               \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'delivered'), "                                          \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'failed'), "                                             \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'expired'), "                                            \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'rejected'), "                                           \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'skipped'), "                                            \
	"(SELECT count(*) FROM message WHERE campaign_id = c.id AND "        \
	"  status = 'simulated'), "                                          \
	"(SELECT coalesce(sum(segments), 0) FROM message WHERE "             \
	"  campaign_id = c.id AND status NOT IN ('skipped')), "              \
	"(SELECT count(*) FROM reply WHERE campaign_id = c.id), "            \
	"(SELECT count(*) FROM reply WHERE campaign_id = c.id AND "          \
	"  kind = 'optout') "                                                \
	"FROM campaign c JOIN folder f ON f.id = c.folder_id "               \
	"LEFT JOIN user u ON u.id = c.user_id "                              \
	"LEFT JOIN template t ON t.id = c.template_id "                      \
	"LEFT JOIN list l ON l.id = c.list_id "

static void
cpy(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

static void
fill(struct cn_campaign_info *ci, sqlite3_stmt *s)
{
	memset(ci, 0, sizeof(*ci));
	ci->id = sqlite3_column_int64(s, 0);
	cpy(ci->uuid, sizeof(ci->uuid), s, 1);
	cpy(ci->folder, sizeof(ci->folder), s, 2);
	cpy(ci->user, sizeof(ci->user), s, 3);
	cpy(ci->name, sizeof(ci->name), s, 4);
	cpy(ci->template_title, sizeof(ci->template_title), s, 5);
	cpy(ci->list, sizeof(ci->list), s, 6);
	cpy(ci->sender, sizeof(ci->sender), s, 7);
	cpy(ci->status, sizeof(ci->status), s, 8);
	ci->simulated = sqlite3_column_int(s, 9);
	cpy(ci->driver, sizeof(ci->driver), s, 10);
	ci->created_at = sqlite3_column_int64(s, 11);
	ci->sent_at = sqlite3_column_int64(s, 12);
	ci->close_at = sqlite3_column_int64(s, 13);
	ci->closed_at = sqlite3_column_int64(s, 14);
	ci->messages = sqlite3_column_int64(s, 15);
	ci->preparing = sqlite3_column_int64(s, 16);
	ci->in_doubt = sqlite3_column_int64(s, 17);
	ci->sent = sqlite3_column_int64(s, 18);
	ci->delivered = sqlite3_column_int64(s, 19);
	ci->failed = sqlite3_column_int64(s, 20);
	ci->expired = sqlite3_column_int64(s, 21);
	ci->rejected = sqlite3_column_int64(s, 22);
	ci->skipped = sqlite3_column_int64(s, 23);
	ci->simulated_n = sqlite3_column_int64(s, 24);
	ci->segments = sqlite3_column_int64(s, 25);
	ci->replies = sqlite3_column_int64(s, 26);
	ci->optouts = sqlite3_column_int64(s, 27);
}

int
cn_campaign_get(struct cn_store *st, int64_t id, struct cn_campaign_info *ci,
		struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (prep(db, &s, INFO_SQL "WHERE c.id = ?1", err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		fill(ci, s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return cn_err_set(err, CN_ENOINPUT, "no campaign %lld",
				  (long long)id);
	return cn_sql_fail(err, db, "campaign");
}

int
cn_campaigns_each(struct cn_store *st, const char *folder, const char *status,
		  cn_campaign_fn fn, void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (prep(db, &s, INFO_SQL "WHERE (?1 IS NULL OR f.name = ?1) AND "
		 "(?2 IS NULL OR c.status = ?2) ORDER BY c.created_at DESC, "
		 "c.id DESC", err) < 0)
		return -1;
	if (folder)
		sqlite3_bind_text(s, 1, folder, -1, SQLITE_TRANSIENT);
	if (status)
		sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_campaign_info ci;

		fill(&ci, s);
		if (fn(ctx, &ci))
			break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "campaigns");
	return 0;
}

int
cn_campaign_exec(sqlite3 *db, const char *sql, int64_t id, int64_t now,
		 const char *what, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (prep(db, &s, sql, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, what);
}

int
cn_campaign_close(struct cn_store *st, int64_t id, int force,
		  struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s = NULL;
	char status[16] = "";
	int64_t left = 0, now = cn_now();
	int rc = -1, lockfd;

	/* not while it is being sent; messages left in flight by a crash
	 * count as in doubt, not as unsent */
	if ((lockfd = cn_campaign_lock(st, id, err)) < 0)
		return -1;
	if (cn_campaign_journal_fold(st, id, lockfd, err) < 0 ||
	    cn_sql_exec(db, "BEGIN IMMEDIATE", err) < 0) {
		close(lockfd);
		return -1;
	}
	if (prep(db, &s, "SELECT status, (SELECT count(*) FROM message WHERE "
		 "campaign_id = ?1 AND (status = 'preparing' OR (status = "
		 "'failed' AND retryable = 1))) FROM campaign WHERE id = ?1",
		 err) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		cn_err_set(err, CN_ENOINPUT, "no campaign %lld", (long long)id);
		goto out;
	}
	snprintf(status, sizeof(status), "%s", sqlite3_column_text(s, 0));
	left = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	s = NULL;
	if (strcmp(status, "closed") == 0) {
		rc = 1;
		goto out;
	}
	if (left && !force) {
		cn_err_set(err, CN_ECHECK, "campaign %lld has %lld messages not "
			   "sent yet (or in doubt): `carnet-campaign send %lld` "
			   "sends them; close it anyway with --force",
			   (long long)id, (long long)left, (long long)id);
		goto out;
	}
	/* the messages left fail, and sync again (they changed) */
	if (left &&
	    (cn_campaign_exec(db, "UPDATE message SET status = 'failed', "
			      "error = coalesce(error || '; ', '') || "
			      "'campaign closed before it was sent', "
			      "retryable = 0, done_at = ?2 WHERE campaign_id = "
			      "?1 AND (status = 'preparing' OR (status = "
			      "'failed' AND retryable = 1))", id, now, "close",
			      err) < 0 ||
	     cn_campaign_exec(db, "INSERT INTO sync_item(kind, uuid, state, "
			      "changed_at, deleted) SELECT 'message', ref, "
			      "'pending', ?2, 0 FROM message WHERE campaign_id "
			      "= ?1 AND done_at = ?2 AND status = 'failed' ON "
			      "CONFLICT(kind, uuid) DO UPDATE SET state = "
			      "'pending', changed_at = excluded.changed_at",
			      id, now, "sync mark", err) < 0))
		goto out;
	if (cn_campaign_exec(db, "UPDATE campaign SET status = 'closed', "
			     "closed_at = ?2, sent_at = coalesce(sent_at, ?2) "
			     "WHERE id = ?1", id, now, "close", err) < 0 ||
	    cn_campaign_exec(db, CN_SQL_SYNC_CAMPAIGN, id, now, "sync mark",
			     err) < 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	if (rc < 0 || cn_sql_exec(db, "COMMIT", rc == 1 ? NULL : err) < 0) {
		cn_sql_exec(db, "ROLLBACK", NULL);
		if (rc == 0)
			rc = -1;
	}
	close(lockfd);
	return rc;
}

int
cn_campaign_messages(struct cn_store *st, int64_t id, const char *status,
		     cn_message_fn fn, void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (prep(db, &s, "SELECT m.id, m.ref, c.uuid, c.name, m.phone, "
		 "m.sender, m.body, m.encoding, m.segments, CASE WHEN "
		 "m.status = 'preparing' AND m.inflight_at IS NOT NULL THEN "
		 "'in-doubt' ELSE m.status END AS st, m.provider_id, m.error, "
		 "m.attempts, m.created_at, m.sent_at, m.done_at FROM message "
		 "m JOIN campaign c ON c.id = m.campaign_id WHERE "
		 "m.campaign_id = ?1 AND (?2 IS NULL OR st = ?2) ORDER BY m.id",
		 err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (status)
		sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_message_info m;

		memset(&m, 0, sizeof(m));
		m.id = sqlite3_column_int64(s, 0);
		m.ref = (const char *)sqlite3_column_text(s, 1);
		m.campaign = (const char *)sqlite3_column_text(s, 2);
		m.campaign_name = (const char *)sqlite3_column_text(s, 3);
		m.to = (const char *)sqlite3_column_text(s, 4);
		m.sender = (const char *)sqlite3_column_text(s, 5);
		m.body = (const char *)sqlite3_column_text(s, 6);
		m.encoding = (const char *)sqlite3_column_text(s, 7);
		m.segments = sqlite3_column_int64(s, 8);
		m.status = (const char *)sqlite3_column_text(s, 9);
		m.provider_id = (const char *)sqlite3_column_text(s, 10);
		m.error = (const char *)sqlite3_column_text(s, 11);
		m.attempts = sqlite3_column_int64(s, 12);
		m.created_at = sqlite3_column_int64(s, 13);
		m.sent_at = sqlite3_column_int64(s, 14);
		m.done_at = sqlite3_column_int64(s, 15);
		if (fn(ctx, &m))
			break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "messages");
	return 0;
}

int64_t
cn_conversation(struct cn_store *st, const char *phone, cn_conv_fn fn,
		void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc;

	if (prep(db, &s, "SELECT 'sent', coalesce(m.sent_at, m.created_at) AS "
		 "at, m.campaign_id, c.name, m.ref, m.body, CASE WHEN m.status "
		 "= 'preparing' AND m.inflight_at IS NOT NULL THEN 'in-doubt' "
		 "ELSE m.status END, 0 AS o, m.id FROM message m JOIN campaign "
		 "c ON c.id = m.campaign_id WHERE m.phone = ?1 AND m.status "
		 "<> 'skipped' "
		 "UNION ALL "
		 "SELECT r.kind, r.received_at, r.campaign_id, c.name, m.ref, "
		 "r.body, NULL, 1, r.id FROM reply r LEFT JOIN campaign c ON "
		 "c.id = r.campaign_id LEFT JOIN message m ON m.id = "
		 "r.message_id WHERE r.phone = ?1 ORDER BY at, o, 9", err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, phone, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_conv_line l;

		memset(&l, 0, sizeof(l));
		l.kind = (const char *)sqlite3_column_text(s, 0);
		l.at = sqlite3_column_int64(s, 1);
		l.campaign_id = sqlite3_column_int64(s, 2);
		l.campaign = (const char *)sqlite3_column_text(s, 3);
		l.ref = (const char *)sqlite3_column_text(s, 4);
		l.text = (const char *)sqlite3_column_text(s, 5);
		l.status = (const char *)sqlite3_column_text(s, 6);
		n++;
		if (fn && fn(ctx, &l))
			break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "conversation");
	return n;
}
