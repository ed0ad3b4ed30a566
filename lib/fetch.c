/*
 * fetch.c - applying what comes back after a send: delivery receipts,
 * replies, STOP and START, NPAI after repeated failures, held events of
 * closed campaigns, and closing due campaigns.  The drivers (Kannel
 * callbacks, the Twilio pull, stdin) turn their input into struct
 * cn_receipt and struct cn_inbound and call the functions here.
 *
 * Events are queued while a transaction is open and handed to the
 * caller's callback once it commits, so that nothing is reported that
 * the store does not hold.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

/* A queued event: the strings are owned. */
struct qev {
	enum cn_event_kind kind;
	int64_t time, campaign;
	char *message, *number, *status, *text;
};

enum {
	S_BY_REF,
	S_BY_PROVIDER,
	S_INS_RECEIPT,
	S_SET_FINAL,
	S_SET_SENT,
	S_FAILURES,
	S_LATEST,
	S_INS_REPLY,
	S_REPLY_DUP,
	S_SYNC_MSG,
	S_RECEIPT_DUP,
	S_NSTMT,
};

static const char *const sql_text[S_NSTMT] = {
	[S_BY_REF] =
	"SELECT m.id, m.status, m.phone, m.campaign_id, c.status, m.ref"
	" FROM message m JOIN campaign c ON c.id = m.campaign_id"
	" WHERE m.ref = ?1",
	[S_BY_PROVIDER] =
	"SELECT m.id, m.status, m.phone, m.campaign_id, c.status, m.ref"
	" FROM message m JOIN campaign c ON c.id = m.campaign_id"
	" WHERE m.provider_id = ?1 ORDER BY m.id DESC LIMIT 1",
	[S_INS_RECEIPT] =
	"INSERT INTO receipt(message_id, ref, status, raw_type, reason,"
	" received_at, held, phone) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_SET_FINAL] =
	"UPDATE message SET status = ?2, done_at = ?3,"
	" sent_at = coalesce(sent_at, ?3),"
	" error = CASE WHEN ?2 = 'delivered' THEN error ELSE ?4 END"
	" WHERE id = ?1 AND status IN ('preparing', 'sent')",
	[S_SET_SENT] =
	"UPDATE message SET status = 'sent', sent_at = coalesce(sent_at, ?2)"
	" WHERE id = ?1 AND status = 'preparing'",
	[S_FAILURES] =
	"SELECT count(*) FROM message WHERE phone = ?1"
	" AND status IN ('failed', 'rejected') AND id > coalesce("
	" (SELECT max(id) FROM message WHERE phone = ?1"
	"  AND status = 'delivered'), 0)",
	[S_LATEST] =
	"SELECT m.id, m.ref, m.campaign_id, c.status, m.sent_at,"
	" coalesce(t.reply_mode, 'none'), t.reply_hours, t.reply_until"
	" FROM message m JOIN campaign c ON c.id = m.campaign_id"
	" LEFT JOIN template t ON t.id = m.template_id"
	" WHERE m.phone = ?1 AND m.sent_at IS NOT NULL AND m.sent_at <= ?2"
	" AND m.status NOT IN ('preparing', 'simulated', 'skipped')"
	" ORDER BY m.sent_at DESC, m.id DESC LIMIT 1",
	[S_INS_REPLY] =
	"INSERT INTO reply(uuid, message_id, campaign_id, phone, body, kind,"
	" provider_id, received_at, held)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_REPLY_DUP] =
	"SELECT 1 FROM reply WHERE provider_id = ?1",
	/* a message whose status changed syncs again (carnet-sync) */
	[S_SYNC_MSG] =
	"INSERT INTO sync_item(kind, uuid, state, changed_at, deleted)"
	" SELECT 'message', ref, 'pending', ?2, 0 FROM message WHERE id = ?1"
	" ON CONFLICT(kind, uuid) DO UPDATE SET state = 'pending',"
	" changed_at = excluded.changed_at",
	[S_RECEIPT_DUP] =
	"SELECT 1 FROM receipt WHERE message_id = ?1 AND status = ?2"
	" AND raw_type IS ?3 AND received_at = ?4",
};

struct cn_fetch {
	struct cn_store *st;
	sqlite3 *db;
	struct cn_fetch_opts o;
	sqlite3_stmt *s[S_NSTMT];
	int in_tx;		/* cn_fetch_begin() was called */
	struct qev *q;
	size_t nq, aq;
};

static const char *const kind_names[] = {
	[CN_EV_RECEIPT] = "receipt",
	[CN_EV_REPLY] = "reply",
	[CN_EV_OPTOUT] = "optout",
	[CN_EV_OPTIN] = "optin",
	[CN_EV_CLOSED] = "closed",
};

const char *const cn_event_columns[] = {
	"kind", "time", "campaign", "message", "number", "status", "text",
};
const size_t cn_event_ncolumns =
	sizeof(cn_event_columns) / sizeof(cn_event_columns[0]);

const char *
cn_event_kind_name(enum cn_event_kind k)
{
	if (k < CN_EV_RECEIPT || k > CN_EV_CLOSED)
		return "";
	return kind_names[k];
}

static int
add_str(struct cn_record *r, const char *name, const char *v)
{
	return cn_record_add(r, name, v, v ? strlen(v) : 0,
			     v ? CN_V_STR : CN_V_NULL);
}

int
cn_event_to_record(const struct cn_event *ev, struct cn_record *r)
{
	char when[32], camp[24];
	struct tm tm;
	time_t t = (time_t)ev->time;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(camp, sizeof(camp), "%lld", (long long)ev->campaign);
	if (add_str(r, "kind", cn_event_kind_name(ev->kind)) < 0 ||
	    add_str(r, "time", when) < 0 ||
	    (ev->campaign
		     ? cn_record_add(r, "campaign", camp, strlen(camp),
				     CN_V_NUM)
		     : cn_record_add(r, "campaign", NULL, 0, CN_V_NULL)) < 0 ||
	    add_str(r, "message", ev->message) < 0 ||
	    add_str(r, "number", ev->number) < 0 ||
	    add_str(r, "status", ev->status) < 0 ||
	    add_str(r, "text", ev->text) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------ context */

struct cn_fetch *
cn_fetch_open(struct cn_store *st, const struct cn_fetch_opts *opts,
	      struct cn_err *err)
{
	struct cn_fetch *f = calloc(1, sizeof(*f));

	if (!f) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	f->st = st;
	f->db = cn_store_db(st);
	f->o = *opts;
	if (f->o.reply_window_hours <= 0)
		f->o.reply_window_hours = 48;
	if (!f->o.source)
		f->o.source = "sms-fetch";
	for (int i = 0; i < S_NSTMT; i++)
		if (sqlite3_prepare_v3(f->db, sql_text[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &f->s[i],
				       NULL) != SQLITE_OK) {
			cn_sql_fail(err, f->db, "fetch");
			cn_fetch_close(f);
			return NULL;
		}
	return f;
}

struct cn_store *
cn_fetch_store(struct cn_fetch *f)
{
	return f->st;
}

const struct cn_fetch_opts *
cn_fetch_options(struct cn_fetch *f)
{
	return &f->o;
}

static void
qev_free(struct qev *e)
{
	free(e->message);
	free(e->number);
	free(e->status);
	free(e->text);
}

static void
queue_clear(struct cn_fetch *f)
{
	for (size_t i = 0; i < f->nq; i++)
		qev_free(&f->q[i]);
	f->nq = 0;
}

void
cn_fetch_close(struct cn_fetch *f)
{
	if (!f)
		return;
	if (f->in_tx)
		cn_fetch_rollback(f);
	for (int i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(f->s[i]);
	queue_clear(f);
	free(f->q);
	free(f);
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Queues an event (delivered at commit).  Returns 0 or -1. */
static int
queue(struct cn_fetch *f, enum cn_event_kind kind, int64_t time,
      int64_t campaign, const char *message, const char *number,
      const char *status, const char *text, struct cn_err *err)
{
	struct qev *e;

	if (f->nq == f->aq) {
		size_t n = f->aq ? f->aq * 2 : 16;
		struct qev *q = realloc(f->q, n * sizeof(*q));

		if (!q)
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		f->q = q;
		f->aq = n;
	}
	e = &f->q[f->nq];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->time = time;
	e->campaign = campaign;
	e->message = dup_or_null(message);
	e->number = dup_or_null(number);
	e->status = dup_or_null(status);
	e->text = dup_or_null(text);
	if ((message && !e->message) || (number && !e->number) ||
	    (status && !e->status) || (text && !e->text)) {
		qev_free(e);
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	}
	f->nq++;
	return 0;
}

static void
note(struct cn_fetch *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
note(struct cn_fetch *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!f->o.on_note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a note may quote what a callback sent: one line, no escapes */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	f->o.on_note(f->o.ctx, msg);
}

void
cn_fetch_note_refused(struct cn_fetch *f, const char *why)
{
	note(f, "answered 400: %s", why);
}

int
cn_fetch_begin(struct cn_fetch *f, struct cn_err *err)
{
	if (f->in_tx)
		return cn_err_set(err, CN_EINTERNAL,
				  "fetch: transaction already open");
	if (cn_sql_exec(f->db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	f->in_tx = 1;
	queue_clear(f);
	return 0;
}

int
cn_fetch_commit(struct cn_fetch *f, struct cn_err *err)
{
	if (!f->in_tx)
		return 0;
	if (cn_sql_exec(f->db, f->o.dry_run ? "ROLLBACK" : "COMMIT", err) < 0) {
		cn_fetch_rollback(f);
		return -1;
	}
	f->in_tx = 0;
	for (size_t i = 0; i < f->nq; i++) {
		struct qev *e = &f->q[i];
		struct cn_event ev = {
			.kind = e->kind, .time = e->time,
			.campaign = e->campaign, .message = e->message,
			.number = e->number, .status = e->status,
			.text = e->text,
		};

		if (f->o.on_event)
			f->o.on_event(f->o.ctx, &ev);
	}
	queue_clear(f);
	return 0;
}

void
cn_fetch_rollback(struct cn_fetch *f)
{
	if (f->in_tx)
		sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
	f->in_tx = 0;
	queue_clear(f);
}

/*
 * Runs fn in a transaction of its own, or in a savepoint of the caller's:
 * either way a failure undoes what fn wrote and drops the events it
 * queued, and the caller's transaction goes on.
 */
static int
in_tx(struct cn_fetch *f, int (*fn)(struct cn_fetch *, const void *,
				     struct cn_err *),
      const void *arg, struct cn_err *err)
{
	size_t mark = f->nq;

	if (!f->in_tx) {
		if (cn_fetch_begin(f, err) < 0)
			return -1;
		if (fn(f, arg, err) < 0) {
			cn_fetch_rollback(f);
			return -1;
		}
		return cn_fetch_commit(f, err);
	}
	if (cn_sql_exec(f->db, "SAVEPOINT fetch_one", err) < 0)
		return -1;
	if (fn(f, arg, err) < 0) {
		sqlite3_exec(f->db, "ROLLBACK TO fetch_one; RELEASE fetch_one",
			     NULL, NULL, NULL);
		while (f->nq > mark)
			qev_free(&f->q[--f->nq]);
		return -1;
	}
	return cn_sql_exec(f->db, "RELEASE fetch_one", err);
}

static sqlite3_stmt *
stmt(struct cn_fetch *f, int i)
{
	sqlite3_reset(f->s[i]);
	sqlite3_clear_bindings(f->s[i]);
	return f->s[i];
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* ----------------------------------------------------------- receipts */

static int
is_final(const char *status)
{
	return strcmp(status, "delivered") == 0 ||
	       strcmp(status, "failed") == 0 ||
	       strcmp(status, "expired") == 0 ||
	       strcmp(status, "rejected") == 0;
}

/* The status a receipt says, from Kannel's bit mask (the bits, not the
 * value: 34 is failed) refined by the SMSC's text, or from a name. */
static const char *
receipt_status(const struct cn_receipt *r)
{
	const char *s = r->status;

	if (r->kannel_type >= 0) {
		int t = r->kannel_type;

		if (t & 1)
			s = "delivered";
		else if (t & 16)
			s = "rejected";
		else if (t & 2)
			s = "failed";
		else if (t & 4)
			s = "buffered";
		else if (t & 8)
			s = "accepted";
		else
			return NULL;
		if (strcmp(s, "failed") == 0 && r->reason) {
			if (strstr(r->reason, "stat:EXPIRED"))
				s = "expired";
			else if (strstr(r->reason, "stat:REJECTD"))
				s = "rejected";
		}
		return s;
	}
	if (!s)
		return NULL;
	if (strcasecmp(s, "delivered") == 0)
		return "delivered";
	if (strcasecmp(s, "failed") == 0 || strcasecmp(s, "undelivered") == 0)
		return "failed";
	if (strcasecmp(s, "expired") == 0)
		return "expired";
	if (strcasecmp(s, "rejected") == 0)
		return "rejected";
	if (strcasecmp(s, "buffered") == 0)
		return "buffered";
	if (strcasecmp(s, "accepted") == 0 || strcasecmp(s, "sent") == 0)
		return "accepted";
	return NULL;
}

/* After a permanent failure of a message to phone: NPAI when the number
 * has failed npai_failures times in a row. */
static int
check_npai(struct cn_fetch *f, const char *phone, int64_t at,
	   int64_t campaign, const char *ref, struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	struct cn_blacklist_result res;

	if (f->o.npai_failures <= 0 || phone[0] != '+')
		return 0;
	s = stmt(f, S_FAILURES);
	sqlite3_bind_text(s, 1, phone, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		return cn_sql_fail(err, f->db, "fetch");
	sqlite3_reset(s);
	if (n < f->o.npai_failures)
		return 0;
	if (cn_blacklist_add(f->st, phone, CN_BL_NPAI, f->o.source,
			     "undeliverable: permanent failures in a row",
			     NULL, &res, err) < 0)
		return err && err->code == CN_EDATA ? 0 : -1;
	if (res.action == CN_BL_ADDED || res.action == CN_BL_UPGRADED)
		return queue(f, CN_EV_OPTOUT, at, campaign, ref, phone, "NPAI",
			     NULL, err);
	return 0;
}

static int
sync_mark_message(struct cn_fetch *f, int64_t id, struct cn_err *err)
{
	sqlite3_stmt *s = stmt(f, S_SYNC_MSG);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, cn_now());
	if (sqlite3_step(s) != SQLITE_DONE)
		return cn_sql_fail(err, f->db, "fetch");
	return 0;
}

/* Moves message id (in campaign, to phone) by a receipt status. */
static int
move_message(struct cn_fetch *f, int64_t id, const char *cur,
	     const char *status, const char *reason, int64_t at,
	     int64_t campaign, const char *ref, const char *phone,
	     struct cn_err *err)
{
	sqlite3_stmt *s;

	if (strcmp(cur, "simulated") == 0 || strcmp(cur, "skipped") == 0) {
		note(f, "receipt for %s message %s ignored", cur, ref);
		return 0;
	}
	if (is_final(cur))
		return 0;	/* never backwards, never twice */
	if (!is_final(status)) {
		/* buffered or accepted: a message in doubt was sent */
		s = stmt(f, S_SET_SENT);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, at);
		if (sqlite3_step(s) != SQLITE_DONE)
			return cn_sql_fail(err, f->db, "fetch");
		if (sqlite3_changes(f->db) > 0)
			return sync_mark_message(f, id, err) < 0 ? -1
			       : queue(f, CN_EV_RECEIPT, at, campaign, ref,
				       phone, "sent", reason, err);
		return 0;
	}
	s = stmt(f, S_SET_FINAL);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, at);
	bind_text(s, 4, reason && *reason ? reason : status);
	if (sqlite3_step(s) != SQLITE_DONE)
		return cn_sql_fail(err, f->db, "fetch");
	if (sqlite3_changes(f->db) == 0)
		return 0;
	if (sync_mark_message(f, id, err) < 0 ||
	    queue(f, CN_EV_RECEIPT, at, campaign, ref, phone, status, reason,
		  err) < 0)
		return -1;
	if (strcmp(status, "failed") == 0 || strcmp(status, "rejected") == 0)
		return check_npai(f, phone, at, campaign, ref, err);
	return 0;
}

/* Checks a message reference (CN_FETCH_REF_MAX bytes of letters, digits
 * and "-_.:"): one that no message holds is still stored, not one that
 * no carnet could have made.  Returns 0 or -1 with err (CN_EDATA). */
static int
check_ref(const char *ref, struct cn_err *err)
{
	size_t n = strlen(ref);
	char shown[CN_FETCH_REF_MAX * 4 + 1];
	size_t k = 0;

	if (n > CN_FETCH_REF_MAX)
		return cn_err_set(err, CN_EDATA, "receipt: ref too long (%zu "
				  "bytes, at most %d)", n, CN_FETCH_REF_MAX);
	if (strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789-_.:") == n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			shown[k++] = (char)c;
		else
			k += (size_t)snprintf(shown + k, sizeof(shown) - k,
					      "\\x%02x", c);
	}
	shown[k] = '\0';
	return cn_err_set(err, CN_EDATA, "receipt: invalid ref '%s' (a carnet "
			  "reference: letters, digits, '-', '_', '.', ':')",
			  shown);
}

static int
receipt_tx(struct cn_fetch *f, const void *arg, struct cn_err *err)
{
	const struct cn_receipt *r = arg;
	const char *status = receipt_status(r);
	int64_t at = r->at > 0 ? r->at : cn_now();
	sqlite3_stmt *s;
	int64_t id = 0, campaign = 0;
	char cur[16] = "", phone[32] = "", ref[64] = "", number[32] = "";
	int held = 0;

	if (!status && r->kannel_type >= 0)
		return cn_err_set(err, CN_EDATA, "receipt: type %d has none of "
				  "the bits 1, 2, 4, 8, 16", r->kannel_type);
	if (!status)
		return cn_err_set(err, CN_EDATA, "receipt: unknown status '%s' "
				  "(delivered, failed, expired, rejected, "
				  "buffered, accepted)",
				  r->status ? r->status : "");
	if ((!r->ref || !*r->ref) && (!r->provider_id || !*r->provider_id))
		return cn_err_set(err, CN_EDATA, "receipt: no reference and "
				  "no provider id");
	if (r->ref && *r->ref && check_ref(r->ref, err) < 0)
		return -1;
	if (r->number && *r->number &&
	    cn_phone_normalize(f->o.phone, r->number, number, sizeof(number),
			       NULL) < 0)
		snprintf(number, sizeof(number), "%s", r->number);
	if (r->ref && *r->ref) {
		s = stmt(f, S_BY_REF);
		sqlite3_bind_text(s, 1, r->ref, -1, SQLITE_TRANSIENT);
	} else {
		s = stmt(f, S_BY_PROVIDER);
		sqlite3_bind_text(s, 1, r->provider_id, -1, SQLITE_TRANSIENT);
	}
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		id = sqlite3_column_int64(s, 0);
		snprintf(cur, sizeof(cur), "%s", sqlite3_column_text(s, 1));
		snprintf(phone, sizeof(phone), "%s",
			 sqlite3_column_text(s, 2));
		campaign = sqlite3_column_int64(s, 3);
		held = strcmp((const char *)sqlite3_column_text(s, 4),
			      "closed") == 0 && campaign != f->o.campaign;
		snprintf(ref, sizeof(ref), "%s", sqlite3_column_text(s, 5));
		break;
	case SQLITE_DONE:
		break;
	default:
		return cn_sql_fail(err, f->db, "fetch");
	}
	sqlite3_reset(s);
	if (r->only_changes &&
	    (!id || held || is_final(cur) || strcmp(cur, "simulated") == 0 ||
	     strcmp(cur, "skipped") == 0 ||
	     (!is_final(status) && strcmp(cur, "preparing") != 0)))
		return 0;
	/* the same report again, with the gateway's time (a callback sent
	 * again because its 200 was lost: a receiver killed between its
	 * commit and its answer): stored and applied once */
	if (id && r->at > 0) {
		int rc;

		s = stmt(f, S_RECEIPT_DUP);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
		if (r->kannel_type >= 0)
			sqlite3_bind_int(s, 3, r->kannel_type);
		sqlite3_bind_int64(s, 4, at);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_ROW)
			return 0;
		if (rc != SQLITE_DONE)
			return cn_sql_fail(err, f->db, "fetch");
	}
	if (!id)
		note(f, "receipt for unknown message %s%s stored, not applied",
		     r->ref && *r->ref ? "" : "provider id ",
		     r->ref && *r->ref ? r->ref : r->provider_id);
	else if (held)
		note(f, "receipt for message %s of closed campaign %lld held "
		     "(carnet-sms-fetch --campaign %lld applies it)", ref,
		     (long long)campaign, (long long)campaign);
	else if (number[0] && strcmp(number, phone) != 0)
		note(f, "receipt for message %s: handset %s, message to %s",
		     ref, number, phone);

	s = stmt(f, S_INS_RECEIPT);
	if (id)
		sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, r->ref && *r->ref ? r->ref : r->provider_id);
	sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
	if (r->kannel_type >= 0)
		sqlite3_bind_int(s, 4, r->kannel_type);
	bind_text(s, 5, r->reason && *r->reason ? r->reason : NULL);
	sqlite3_bind_int64(s, 6, at);
	sqlite3_bind_int(s, 7, held);
	bind_text(s, 8, number[0] ? number : NULL);
	if (sqlite3_step(s) != SQLITE_DONE)
		return cn_sql_fail(err, f->db, "fetch");
	if (!id || held)
		return 0;
	return move_message(f, id, cur, status, r->reason, at, campaign, ref,
			    phone, err);
}

int
cn_fetch_receipt(struct cn_fetch *f, const struct cn_receipt *r,
		 struct cn_err *err)
{
	return in_tx(f, receipt_tx, r, err);
}

/* ------------------------------------------------------------ replies */

/* Appends the basic letter of the UTF-8 character at *p (accents
 * dropped, upper case) to out, or a space for anything else; advances
 * *p. */
static void
fold_char(const unsigned char **p, char *out, size_t *n, size_t cap)
{
	const unsigned char *s = *p;
	int c = ' ';

	if (s[0] < 0x80) {
		c = isalnum(s[0]) ? toupper(s[0]) : ' ';
		*p = s + 1;
	} else if (s[0] == 0xc3 && s[1] >= 0x80 && s[1] <= 0xbf) {
		/* Latin-1 supplement letters: U+00C0 .. U+00FF */
		static const char map[] = "AAAAAAACEEEEIIII"	/* C0-CF */
					  "DNOOOOO OUUUUY  "	/* D0-DF */
					  "AAAAAAACEEEEIIII"	/* E0-EF */
					  "DNOOOOO OUUUUY Y";	/* F0-FF */
		c = map[s[1] - 0x80];
		*p = s + 2;
	} else {
		size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

		for (size_t i = 1; i < len; i++)
			if (!s[i]) {
				len = i;
				break;
			}
		*p = s + len;
	}
	if (*n + 1 < cap)
		out[(*n)++] = (char)c;
}

int
cn_sms_keyword(const char *text)
{
	char folded[64], words[64];
	size_t n = 0, w = 0;
	const unsigned char *p = (const unsigned char *)text;

	if (!text)
		return 0;
	while (*p && n + 1 < sizeof(folded))
		fold_char(&p, folded, &n, sizeof(folded));
	if (*p)
		return 0;	/* too long to be a keyword */
	folded[n] = '\0';
	/* words separated by one space, no space at the ends */
	for (size_t i = 0; i < n; i++) {
		if (folded[i] == ' ' && (w == 0 || words[w - 1] == ' '))
			continue;
		words[w++] = folded[i];
	}
	if (w && words[w - 1] == ' ')
		w--;
	words[w] = '\0';
	if (!strcmp(words, "STOP") || !strcmp(words, "STOP SMS") ||
	    !strcmp(words, "STOPSMS") || !strcmp(words, "ARRET") ||
	    !strcmp(words, "ARRET SMS") || !strcmp(words, "STOP STOP"))
		return 1;
	if (!strcmp(words, "START") || !strcmp(words, "START SMS") ||
	    !strcmp(words, "STARTSMS"))
		return 2;
	return 0;
}

static int
inbound_tx(struct cn_fetch *f, const void *arg, struct cn_err *err)
{
	const struct cn_inbound *in = arg;
	int64_t at = in->at > 0 ? in->at : cn_now();
	char number[32], uuid[37], ref[64] = "";
	int64_t msg = 0, campaign = 0;
	int held = 0, kw;
	const char *kind = "unsolicited", *status;
	sqlite3_stmt *s;
	size_t bad, len;
	struct cn_err why;

	if (!in->from || !*in->from)
		return cn_err_set(err, CN_EDATA, "reply: no sender number");
	if (cn_phone_normalize(f->o.phone, in->from, number, sizeof(number),
			       &why) < 0)
		return cn_err_set(err, why.code, "reply: %s", why.msg);
	len = in->text ? strlen(in->text) : 0;
	if (len > CN_FETCH_TEXT_MAX)
		return cn_err_set(err, CN_EDATA, "reply from %s: text too long "
				  "(%zu bytes, at most %d)", number, len,
				  CN_FETCH_TEXT_MAX);
	if (!in->text || !cn_utf8_valid(in->text, len, &bad))
		return cn_err_set(err, CN_EDATA, "reply from %s: text is not "
				  "valid UTF-8", number);
	if (in->provider_id && *in->provider_id) {
		s = stmt(f, S_REPLY_DUP);
		sqlite3_bind_text(s, 1, in->provider_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW) {
			sqlite3_reset(s);
			return 0;	/* seen already */
		}
		sqlite3_reset(s);
	}

	/* the latest message to that number, if the reply is in its window */
	s = stmt(f, S_LATEST);
	sqlite3_bind_text(s, 1, number, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, at);
	if (sqlite3_step(s) == SQLITE_ROW) {
		int64_t sent = sqlite3_column_int64(s, 4), until;
		const char *mode = (const char *)sqlite3_column_text(s, 5);

		until = sent + (int64_t)f->o.reply_window_hours * 3600;
		if (strcmp(mode, "hours") == 0 &&
		    sqlite3_column_int64(s, 6) > 0)
			until = sent + sqlite3_column_int64(s, 6) * 3600;
		else if (strcmp(mode, "until") == 0 &&
			 sqlite3_column_int64(s, 7) > 0)
			until = sqlite3_column_int64(s, 7);
		if (at <= until) {
			msg = sqlite3_column_int64(s, 0);
			snprintf(ref, sizeof(ref), "%s",
				 sqlite3_column_text(s, 1));
			campaign = sqlite3_column_int64(s, 2);
			held = strcmp((const char *)sqlite3_column_text(s, 3),
				      "closed") == 0 &&
			       campaign != f->o.campaign;
			kind = "reply";
		}
	}
	sqlite3_reset(s);
	status = kind;

	kw = number[0] == '+' ? cn_sms_keyword(in->text) : 0;
	if (kw == 1) {
		struct cn_blacklist_result res;

		if (cn_blacklist_optout(f->st, number, f->o.source, &res,
					err) < 0)
			return -1;
		kind = "optout";
		status = "STOP";
	} else if (kw == 2) {
		int r = cn_blacklist_optin(f->st, number, err);

		if (r < 0)
			return -1;
		kind = "optin";
		status = r ? "lifted" : "kept";
	}

	cn_uuid7(uuid);
	s = stmt(f, S_INS_REPLY);
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
	if (msg) {
		sqlite3_bind_int64(s, 2, msg);
		sqlite3_bind_int64(s, 3, campaign);
	}
	sqlite3_bind_text(s, 4, number, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, in->text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, kind, -1, SQLITE_STATIC);
	bind_text(s, 7, in->provider_id && *in->provider_id ? in->provider_id
							    : NULL);
	sqlite3_bind_int64(s, 8, at);
	sqlite3_bind_int(s, 9, held);
	if (sqlite3_step(s) != SQLITE_DONE)
		return cn_sql_fail(err, f->db, "fetch");
	if (held) {
		note(f, "reply from %s to closed campaign %lld held "
		     "(carnet-sms-fetch --campaign %lld applies it)", number,
		     (long long)campaign, (long long)campaign);
		if (kw == 0)
			return 0;
	}
	return queue(f, kw == 1 ? CN_EV_OPTOUT : kw == 2 ? CN_EV_OPTIN
							 : CN_EV_REPLY,
		     at, held ? 0 : campaign, msg ? ref : NULL, number, status,
		     in->text, err);
}

int
cn_fetch_inbound(struct cn_fetch *f, const struct cn_inbound *in,
		 struct cn_err *err)
{
	return in_tx(f, inbound_tx, in, err);
}

/* ---------------------------------------------------- held, closing */

int
cn_fetch_campaign_exists(struct cn_fetch *f, int64_t id, struct cn_err *err)
{
	sqlite3_stmt *s;
	int r;

	if (sqlite3_prepare_v2(f->db, "SELECT 1 FROM campaign WHERE id = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, f->db, "fetch");
	sqlite3_bind_int64(s, 1, id);
	r = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return r;
}

static int
held_tx(struct cn_fetch *f, const void *arg, struct cn_err *err)
{
	int64_t *count = (int64_t *)arg;
	sqlite3_stmt *s, *u;
	int rc;

	/* receipts, in the order they came */
	if (sqlite3_prepare_v2(f->db,
			       "SELECT r.id, m.id, m.status, r.status, r.reason,"
			       " r.received_at, m.ref, m.phone"
			       " FROM receipt r JOIN message m"
			       " ON m.id = r.message_id"
			       " WHERE r.held = 1 AND m.campaign_id = ?1"
			       " ORDER BY r.id", -1, &s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, f->db, "fetch");
	if (sqlite3_prepare_v2(f->db, "UPDATE receipt SET held = 0 WHERE id = ?1",
			       -1, &u, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return cn_sql_fail(err, f->db, "fetch");
	}
	sqlite3_bind_int64(s, 1, f->o.campaign);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char cur[16], status[16];
		char *reason = dup_or_null((const char *)
					   sqlite3_column_text(s, 4));
		char *ref = strdup((const char *)sqlite3_column_text(s, 6));
		char *phone = strdup((const char *)sqlite3_column_text(s, 7));
		int r;

		/* the message's status as it is now: an earlier held
		 * receipt of this loop may have moved it */
		snprintf(status, sizeof(status), "%s",
			 sqlite3_column_text(s, 3));
		{
			sqlite3_stmt *c;

			cur[0] = '\0';
			if (sqlite3_prepare_v2(f->db, "SELECT status FROM "
					       "message WHERE id = ?1", -1, &c,
					       NULL) == SQLITE_OK) {
				sqlite3_bind_int64(c, 1,
						   sqlite3_column_int64(s, 1));
				if (sqlite3_step(c) == SQLITE_ROW)
					snprintf(cur, sizeof(cur), "%s",
						 sqlite3_column_text(c, 0));
				sqlite3_finalize(c);
			}
		}
		r = ref && phone
			    ? move_message(f, sqlite3_column_int64(s, 1), cur,
					   status, reason,
					   sqlite3_column_int64(s, 5),
					   f->o.campaign, ref, phone, err)
			    : cn_err_set(err, CN_EINTERNAL, "out of memory");
		free(reason);
		free(ref);
		free(phone);
		if (r < 0)
			goto fail;
		sqlite3_reset(u);
		sqlite3_bind_int64(u, 1, sqlite3_column_int64(s, 0));
		if (sqlite3_step(u) != SQLITE_DONE) {
			cn_sql_fail(err, f->db, "fetch");
			goto fail;
		}
		(*count)++;
	}
	if (rc != SQLITE_DONE) {
		cn_sql_fail(err, f->db, "fetch");
		goto fail;
	}
	sqlite3_finalize(s);
	sqlite3_finalize(u);

	/* replies */
	if (sqlite3_prepare_v2(f->db,
			       "UPDATE reply SET held = 0 WHERE held = 1"
			       " AND campaign_id = ?1 RETURNING"
			       " (SELECT ref FROM message WHERE id = message_id),"
			       " phone, kind, body, received_at",
			       -1, &s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, f->db, "fetch");
	sqlite3_bind_int64(s, 1, f->o.campaign);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 2);

		(*count)++;
		if (strcmp(kind, "reply") != 0)
			continue;	/* STOP and START were applied */
		if (queue(f, CN_EV_REPLY, sqlite3_column_int64(s, 4),
			  f->o.campaign,
			  (const char *)sqlite3_column_text(s, 0),
			  (const char *)sqlite3_column_text(s, 1), "reply",
			  (const char *)sqlite3_column_text(s, 3), err) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, f->db, "fetch");
	return 0;
fail:
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return -1;
}

int64_t
cn_fetch_apply_held(struct cn_fetch *f, struct cn_err *err)
{
	int64_t n = 0;

	if (!f->o.campaign)
		return 0;
	return in_tx(f, held_tx, &n, err) < 0 ? -1 : n;
}

static int
close_tx(struct cn_fetch *f, const void *arg, struct cn_err *err)
{
	int64_t *count = (int64_t *)arg, now = cn_now();
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(f->db,
			       "UPDATE campaign SET status = 'closed',"
			       " closed_at = ?1 WHERE status = 'sent'"
			       " AND close_at IS NOT NULL AND close_at <= ?1"
			       " RETURNING id", -1, &s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, f->db, "fetch");
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (queue(f, CN_EV_CLOSED, now, sqlite3_column_int64(s, 0),
			  NULL, NULL, "closed", NULL, err) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
		(*count)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, f->db, "fetch");
	return 0;
}

int64_t
cn_fetch_close_due(struct cn_fetch *f, struct cn_err *err)
{
	int64_t n = 0;

	return in_tx(f, close_tx, &n, err) < 0 ? -1 : n;
}

/* --------------------------------------------------------------- stdin */

/* A time: Unix seconds, or ISO 8601 (YYYY-MM-DDTHH:MM[:SS] then Z or an
 * offset; none is UTC).  Returns 0 or -1. */
static int
parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh = 0, om = 0;
	char *end;
	long long v;
	const char *p;

	if (!s || !*s)
		return -1;
	v = strtoll(s, &end, 10);
	if (*end == '\0') {
		*out = v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	p = s + n;
	if (*p == 'T' || *p == ' ') {
		n = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2)
			return -1;
		p += 1 + n;
		if (*p == ':') {
			n = 0;
			if (sscanf(p + 1, "%2d%n", &sec, &n) != 1)
				return -1;
			p += 1 + n;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		n = 0;
		if (sscanf(p + 1, "%2d%n", &oh, &n) != 1)
			return -1;
		p += 1 + n;
		if (*p == ':')
			p++;
		n = 0;
		if (*p && sscanf(p, "%2d%n", &om, &n) == 1)
			p += n;
		oh *= sign;
		om *= sign;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) - oh * 3600 - om * 60;
	return 0;
}

static const char *
field(const struct cn_record *r, const char *name)
{
	const struct cn_field *fl = cn_record_get(r, name);

	return fl && fl->value && fl->len ? fl->value : NULL;
}

/* The columns cn_fetch_read() knows. */
static const char *const read_columns[] = {
	"kind", "time", "ref", "message", "provider_id", "type", "status",
	"reason", "number", "from", "to", "text",
};

/* A CSV header must name one column cn_fetch_read() knows: a header of
 * other words (JSON read as CSV, say) would read as no events at all.
 * Returns 0 or -1 with err. */
static int
check_header(struct cn_reader *rd, struct cn_err *err)
{
	size_t n;
	const char *const *h = cn_reader_header(rd, &n);

	if (!h)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(read_columns) /
				       sizeof(read_columns[0]); k++)
			if (strcmp(h[i], read_columns[k]) == 0)
				return 0;
	return cn_err_set(err, CN_EDATA, "%s:1: no kind, ref, number or text "
			  "column in the CSV header (known: kind, time, ref, "
			  "message, provider_id, type, status, reason, number, "
			  "from, to, text)", cn_reader_name(rd));
}

int64_t
cn_fetch_read(struct cn_fetch *f, struct cn_reader *rd, struct cn_err *err)
{
	struct cn_record *rec;
	int64_t n = 0;
	int rc;

	if (check_header(rd, err) < 0)
		return -1;

	while ((rc = cn_reader_next(rd, &rec, err)) != 0) {
		const char *kind, *t;
		int64_t at = 0;
		char where[256];

		if (rc < 0)
			return -1;
		snprintf(where, sizeof(where), "%s:%ld",
			 cn_reader_name(rd), rec->line);
		kind = field(rec, "kind");
		t = field(rec, "time");
		if (t && parse_time(t, &at) < 0)
			return cn_err_set(err, CN_EDATA, "%s: invalid time "
					  "'%s'", where, t);
		if (!kind)
			kind = field(rec, "ref") || field(rec, "type") ||
					       field(rec, "status")
				       ? "receipt"
				       : "reply";
		if (strcmp(kind, "receipt") == 0) {
			struct cn_receipt r = {
				.ref = field(rec, "ref"),
				.provider_id = field(rec, "provider_id"),
				.number = field(rec, "number"),
				.status = field(rec, "status"),
				.kannel_type = -1,
				.reason = field(rec, "reason"),
				.at = at,
			};
			const char *ty = field(rec, "type");

			if (!r.ref)
				r.ref = field(rec, "message");
			if (!r.reason)
				r.reason = field(rec, "text");
			if (ty) {
				char *end;
				long v = strtol(ty, &end, 10);

				if (*end || v < 0 || v > 255)
					return cn_err_set(err, CN_EDATA,
							  "%s: invalid type "
							  "'%s'", where, ty);
				r.kannel_type = (int)v;
			}
			if (cn_fetch_receipt(f, &r, err) < 0) {
				char why[sizeof(err->msg)];

				snprintf(why, sizeof(why), "%s", err->msg);
				return cn_err_set(err, err->code, "%s: %s",
						  where, why);
			}
		} else if (strcmp(kind, "reply") == 0) {
			struct cn_inbound in = {
				.from = field(rec, "number"),
				.to = field(rec, "to"),
				.text = field(rec, "text"),
				.provider_id = field(rec, "provider_id"),
				.at = at,
			};

			if (!in.from)
				in.from = field(rec, "from");
			if (!in.text)
				return cn_err_set(err, CN_EDATA, "%s: reply "
						  "without text", where);
			if (cn_fetch_inbound(f, &in, err) < 0) {
				char why[sizeof(err->msg)];

				snprintf(why, sizeof(why), "%s", err->msg);
				return cn_err_set(err, err->code, "%s: %s",
						  where, why);
			}
		} else {
			return cn_err_set(err, CN_EDATA, "%s: unknown kind "
					  "'%s' (receipt or reply)", where,
					  kind);
		}
		n++;
	}
	return n;
}
