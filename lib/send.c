/*
 * send.c - campaigns: preparing the messages of a send (rendering,
 * duplicates, blacklist, segment limit, quota) and sending them through a
 * driver with libcurl's multi interface, exactly once (see
 * carnet-send.h for the rules: in flight, in doubt, retryable).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

static int
stmt(sqlite3 *db, sqlite3_stmt **s, const char *sql, struct cn_err *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
		return cn_sql_fail(err, db, "prepare");
	return 0;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static int
mark_campaign(sqlite3 *db, int64_t id, struct cn_err *err)
{
	return cn_campaign_exec(db, CN_SQL_SYNC_CAMPAIGN, id, cn_now(),
				"sync mark", err);
}

/* ---------------------------------------------------------------------
 * Preparing
 */

enum {
	P_SEEN, P_MSG, P_NCAMP, P_FIND, P_N
};

static const char *const prep_sql[P_N] = {
	[P_SEEN] = "INSERT OR IGNORE INTO temp.cn_seen(phone, line) "
		   "VALUES(?1, ?2)",
	[P_MSG] = "INSERT INTO message(ref, campaign_id, contact_id, "
		  "folder_id, user_id, template_id, phone, sender, body, "
		  "encoding, segments, status, error, created_at, sent_at, "
		  "done_at) VALUES(?1, ?2, (SELECT id FROM contact WHERE "
		  "id = ?3 AND folder_id = ?4), ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		  "?11, ?12, ?13, ?14, ?15, ?15)",
	[P_NCAMP] = "INSERT INTO campaign(uuid, folder_id, user_id, name, "
		    "template_id, list_id, sender, status, simulated, driver, "
		    "created_at, sent_at, close_at, body) VALUES(?1, ?2, ?3, "
		    "?4, ?5, (SELECT id FROM list WHERE folder_id = ?2 AND "
		    "name = ?6), ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[P_FIND] = "SELECT id, status FROM campaign WHERE folder_id = ?1 "
		   "AND name = ?2",
};

struct prep {
	struct cn_store *st;
	sqlite3 *db;
	const struct cn_send_spec *sp;
	sqlite3_stmt *s[P_N];
	struct cn_blacklist_checker *ck;
	int64_t folder_id, user_id, template_id;
	int64_t now;
};

static const char *
rec_str(const struct cn_record *rec, const char *name)
{
	const struct cn_field *f = cn_record_get(rec, name);

	if (!f || !f->value || f->type == CN_V_NULL || f->type == CN_V_RAW)
		return NULL;
	return f->value;
}

/* The default name: "relance 2026-11-22 10:15". */
static void
default_name(const struct cn_send_spec *sp, const struct cn_template *t,
	     int64_t now, char *out, size_t cap)
{
	time_t tt = (time_t)now;
	struct tm tm;
	char when[32];

	gmtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, cap, "%s %s", sp->campaign_base ? sp->campaign_base
				    : t && t->title ? t->title : "sms", when);
}

int
cn_campaign_prepare(struct cn_store *st, struct cn_reader *rd,
		    const struct cn_send_spec *sp, cn_prep_fn on_row,
		    cn_prep_err_fn on_error, void *ctx,
		    struct cn_prep_stats *ps, struct cn_err *err)
{
	const struct cn_config *cfg = sp->cfg;
	sqlite3 *db = cn_store_db(st);
	struct prep p;
	struct cn_template t;
	struct cn_tpl tpl;
	struct cn_sms_opts so;
	struct cn_tpl_env env;
	struct cn_buf text;
	struct cn_record *rec;
	struct cn_err rowerr;
	struct cn_quota_req qr;
	int in_tx = 0, have_t = 0, r, rc = -1;
	int64_t nerr = 0, rows = 0;
	const char *body;
	char msg[600];

	memset(&p, 0, sizeof(p));
	memset(ps, 0, sizeof(*ps));
	memset(&tpl, 0, sizeof(tpl));
	cn_template_init(&t);
	cn_buf_init(&text, 0);
	p.st = st;
	p.db = db;
	p.sp = sp;
	p.now = cn_now();

	cn_template_sms_opts(cfg, sp->sender, sp->transliterate, &so);
	if (so.sender && cn_sms_sender_check(so.sender, err) < 0) {
		err->code = sp->sender ? CN_EUSAGE : CN_ECONFIG;
		goto out;
	}
	if (sp->template_key) {
		if (cn_template_find(st, sp->template_key, sp->folder,
				     sp->user, CN_TPL_FIND_ACTIVE |
						       CN_TPL_FIND_USABLE,
				     &t, err) < 0)
			goto out;
		have_t = 1;
		body = t.body;
	} else if (sp->text) {
		body = sp->text;
	} else {
		cn_err_set(err, CN_EUSAGE, "nothing to send: give a template "
			   "or a text");
		goto out;
	}
	if (cn_tpl_parse(&tpl, body, strlen(body), err) < 0)
		goto out;
	memset(&env, 0, sizeof(env));
	env.sender = so.sender;
	env.date = p.now;

	if (cn_sql_exec(db, "CREATE TEMP TABLE IF NOT EXISTS cn_seen("
			"phone TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID",
			err) < 0 ||
	    cn_sql_exec(db, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	in_tx = 1;
	if (cn_sql_exec(db, "DELETE FROM temp.cn_seen", err) < 0)
		goto out;
	for (int i = 0; i < P_N; i++)
		if (stmt(db, &p.s[i], prep_sql[i], err) < 0)
			goto out;
	if (!(p.folder_id = cn_folder_id(st, sp->folder, 1, err)) ||
	    (sp->user && !(p.user_id = cn_user_id(st, sp->user, err))))
		goto out;
	if (!(p.ck = cn_blacklist_checker_open(st, err)))
		goto out;
	p.template_id = have_t ? t.id : 0;

	/* the campaign: a name is a promise that it is sent once */
	if (sp->campaign)
		snprintf(ps->campaign_name, sizeof(ps->campaign_name), "%s",
			 sp->campaign);
	else
		default_name(sp, have_t ? &t : NULL, p.now, ps->campaign_name,
			     sizeof(ps->campaign_name));
	/* an implicit name is made unique: "sms 2026-11-22 10:15:00 (2)" */
	for (int k = 2; !sp->campaign && k < 1000; k++) {
		char base[200];

		sqlite3_reset(p.s[P_FIND]);
		sqlite3_bind_int64(p.s[P_FIND], 1, p.folder_id);
		bind_text(p.s[P_FIND], 2, ps->campaign_name);
		if (sqlite3_step(p.s[P_FIND]) != SQLITE_ROW)
			break;
		default_name(sp, have_t ? &t : NULL, p.now, base, sizeof(base));
		snprintf(ps->campaign_name, sizeof(ps->campaign_name),
			 "%s (%d)", base, k);
	}
	sqlite3_reset(p.s[P_FIND]);
	sqlite3_bind_int64(p.s[P_FIND], 1, p.folder_id);
	bind_text(p.s[P_FIND], 2, ps->campaign_name);
	if (sqlite3_step(p.s[P_FIND]) == SQLITE_ROW) {
		cn_err_set(err, CN_EDATA, "campaign '%s' already exists "
			   "(id %lld, %s): `carnet-campaign send %lld` "
			   "resumes it; give a new send another name",
			   ps->campaign_name,
			   (long long)sqlite3_column_int64(p.s[P_FIND], 0),
			   (const char *)sqlite3_column_text(p.s[P_FIND], 1),
			   (long long)sqlite3_column_int64(p.s[P_FIND], 0));
		goto out;
	}
	cn_uuid7(ps->campaign_uuid);
	{
		sqlite3_stmt *s = p.s[P_NCAMP];
		int64_t close_at = p.now + cfg->sms_campaign_close_hours * 3600;

		bind_text(s, 1, ps->campaign_uuid);
		sqlite3_bind_int64(s, 2, p.folder_id);
		if (p.user_id)
			sqlite3_bind_int64(s, 3, p.user_id);
		bind_text(s, 4, ps->campaign_name);
		if (p.template_id)
			sqlite3_bind_int64(s, 5, p.template_id);
		bind_text(s, 6, sp->list);
		bind_text(s, 7, so.sender);
		bind_text(s, 8, sp->save ? "draft" : "sending");
		sqlite3_bind_int(s, 9, sp->simulate ? 1 : 0);
		bind_text(s, 10, sp->simulate ? "simulate" : sp->driver);
		sqlite3_bind_int64(s, 11, p.now);
		if (!sp->save) {
			sqlite3_bind_int64(s, 12, p.now);
			sqlite3_bind_int64(s, 13, close_at);
		}
		bind_text(s, 14, have_t ? NULL : sp->text);
		if (sqlite3_step(s) != SQLITE_DONE) {
			cn_sql_fail(err, db, "campaign");
			goto out;
		}
		ps->campaign_id = sqlite3_last_insert_rowid(db);
		if (mark_campaign(db, ps->campaign_id, err) < 0)
			goto out;
	}

	while ((r = cn_reader_next(rd, &rec, &rowerr)) != 0) {
		struct cn_sms_preview pv;
		struct cn_prep_row row;
		enum cn_bl_reason why = CN_BL_NONE;
		const char *raw, *status = "preparing", *error = NULL;
		char e164[CN_ADDRESS_MAX], ref[37], why_s[64];
		sqlite3_stmt *s;
		int listed;

		if (r == -1) {
			*err = rowerr;
			goto out;
		}
		rows++;
		if (r == -2) {
			if (on_error)
				on_error(ctx, 0, rowerr.msg);
			nerr++;
			continue;
		}
		raw = rec_str(rec, "phone");
		if (!raw)
			raw = rec_str(rec, "to");
		if (!raw || !*raw) {
			snprintf(msg, sizeof(msg), "%s:%ld: no phone number",
				 cn_reader_name(rd), rec->line);
			if (on_error)
				on_error(ctx, rec->line, msg);
			nerr++;
			continue;
		}
		if (cn_phone_normalize(&cfg->phone, raw, e164, sizeof(e164),
				       &rowerr) < 0) {
			snprintf(msg, sizeof(msg), "%s:%ld: %s",
				 cn_reader_name(rd), rec->line, rowerr.msg);
			if (on_error)
				on_error(ctx, rec->line, msg);
			nerr++;
			continue;
		}
		/* the same number twice in one send: sent once */
		s = p.s[P_SEEN];
		sqlite3_reset(s);
		bind_text(s, 1, e164);
		sqlite3_bind_int64(s, 2, rec->line);
		if (sqlite3_step(s) != SQLITE_DONE) {
			cn_sql_fail(err, db, "duplicates");
			goto out;
		}
		if (sqlite3_changes(db) == 0) {
			ps->duplicates++;
			if (on_row) {
				memset(&row, 0, sizeof(row));
				row.line = rec->line;
				row.to = e164;
				row.status = "duplicate";
				row.error = "the same number earlier in the "
					    "input: sent once";
				if (on_row(ctx, &row)) {
					cn_err_set(err, CN_ECANTCREAT,
						   "output failed");
					goto out;
				}
			}
			continue;
		}
		if (cn_tpl_preview(&tpl, rec, &env, &so,
				   cfg->sms_max_segments, &text, &pv,
				   &rowerr) < 0) {
			if (rowerr.code != CN_EDATA) {
				*err = rowerr;
				goto out;
			}
			snprintf(msg, sizeof(msg), "%s:%ld: %s",
				 cn_reader_name(rd), rec->line, rowerr.msg);
			if (on_error)
				on_error(ctx, rec->line, msg);
			nerr++;
			continue;
		}
		listed = cn_blacklist_checker_check(p.ck, e164, &why, err);
		if (listed < 0) {
			cn_sms_preview_free(&pv);
			goto out;
		}
		if (listed) {
			snprintf(why_s, sizeof(why_s), "blacklisted (%s)",
				 cn_blacklist_reason_name(why));
			if (!sp->skip_blacklisted) {
				snprintf(msg, sizeof(msg), "%s:%ld: %s is %s",
					 cn_reader_name(rd), rec->line, e164,
					 why_s);
				if (on_error)
					on_error(ctx, rec->line, msg);
				nerr++;
				cn_sms_preview_free(&pv);
				continue;
			}
			status = "skipped";
			error = why_s;
			ps->skipped++;
		} else {
			ps->recipients++;
			ps->sms += (int64_t)pv.segments;
			if (pv.encoding == CN_SMS_UCS2)
				ps->ucs2++;
			else
				ps->gsm7++;
		}
		cn_uuid7(ref);
		s = p.s[P_MSG];
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		bind_text(s, 1, ref);
		sqlite3_bind_int64(s, 2, ps->campaign_id);
		raw = rec_str(rec, "id");
		if (raw && cn_contact_rowid(st, raw))
			sqlite3_bind_int64(s, 3, cn_contact_rowid(st, raw));
		sqlite3_bind_int64(s, 4, p.folder_id);
		if (p.user_id)
			sqlite3_bind_int64(s, 5, p.user_id);
		if (p.template_id)
			sqlite3_bind_int64(s, 6, p.template_id);
		bind_text(s, 7, e164);
		bind_text(s, 8, so.sender);
		sqlite3_bind_text(s, 9, pv.text, (int)pv.text_len,
				  SQLITE_TRANSIENT);
		bind_text(s, 10, cn_sms_encoding_name(pv.encoding));
		sqlite3_bind_int64(s, 11, (int64_t)pv.segments);
		bind_text(s, 12, status);
		bind_text(s, 13, error);
		sqlite3_bind_int64(s, 14, p.now);
		if (strcmp(status, "preparing") != 0)
			sqlite3_bind_int64(s, 15, p.now);
		if (sqlite3_step(s) != SQLITE_DONE) {
			cn_sms_preview_free(&pv);
			cn_sql_fail(err, db, "message");
			goto out;
		}
		if (on_row) {
			memset(&row, 0, sizeof(row));
			row.line = rec->line;
			row.ref = ref;
			row.to = e164;
			row.text = pv.text;
			row.encoding = pv.encoding;
			row.segments = pv.segments;
			row.status = status;
			row.error = error;
			if (on_row(ctx, &row)) {
				cn_sms_preview_free(&pv);
				cn_err_set(err, CN_ECANTCREAT, "output failed");
				goto out;
			}
		}
		cn_sms_preview_free(&pv);
	}
	if (nerr) {
		cn_err_set(err, CN_EDATA, "%lld of %lld recipients are invalid: "
			   "nothing was recorded or sent", (long long)nerr,
			   (long long)rows);
		goto out;
	}
	if (rows == 0) {
		cn_err_set(err, CN_ENOINPUT, "%s: no recipients",
			   cn_reader_name(rd));
		goto out;
	}

	/* the quota: reserved with the messages, in this transaction */
	memset(&qr, 0, sizeof(qr));
	qr.folder = sp->folder;
	qr.user = sp->user;
	qr.sms = ps->sms;
	qr.recipients = ps->recipients;
	qr.warn_threshold = cfg->sms_warn_threshold;
	qr.campaign_id = ps->campaign_id;
	ps->quota_checked = 1;
	if (sp->save || sp->dry_run || ps->recipients == 0) {
		struct cn_err qe;

		/* a draft is checked when it is sent; a preview tells */
		if (cn_quota_check(st, &qr, &ps->quota, &qe) < 0 &&
		    qe.code != CN_ECHECK) {
			*err = qe;
			goto out;
		}
	} else {
		/* a simulation is refused and confirmed like a send, and
		 * uses no quota: the ledger counts what was sent */
		if (cn_quota_check(st, &qr, &ps->quota, err) < 0)
			goto out;
		if (ps->quota.threshold && !sp->yes) {
			cn_err_set(err, CN_ECHECK, "%s", ps->quota.reason);
			goto out;
		}
		if (!sp->simulate &&
		    cn_quota_reserve(st, &qr, &ps->quota, err) < 0)
			goto out;
	}
	if (sp->dry_run) {
		cn_sql_exec(db, "ROLLBACK", NULL);
		in_tx = 0;
		ps->campaign_id = 0;
	} else {
		if (cn_sql_exec(db, "COMMIT", err) < 0)
			goto out;
		in_tx = 0;
	}
	rc = 0;
out:
	if (in_tx)
		cn_sql_exec(db, "ROLLBACK", NULL);
	if (rc < 0)
		ps->campaign_id = 0;
	for (int i = 0; i < P_N; i++)
		sqlite3_finalize(p.s[i]);
	cn_blacklist_checker_close(p.ck);
	cn_buf_free(&text);
	cn_tpl_free(&tpl);
	cn_template_free(&t);
	return rc;
}

/* ---------------------------------------------------------------------
 * Sending
 */

#define BODY_MAX 65536
#define CHUNK 512
#define TX_SPAN 0.1	/* seconds between commits of the outcomes */

struct qmsg {
	int64_t id;
	char ref[37];
	char to[24];
	char *from;
	char *text;
	enum cn_sms_encoding enc;
	int segments;
	int attempts;
	double not_before;	/* monotonic seconds */
	double first_try;
	struct qmsg *next;
};

struct slot {
	CURL *h;
	struct qmsg *m;
	void *priv;
	struct cn_buf body;
	char errbuf[CURL_ERROR_SIZE];
	int busy;
	int sends;	/* times the request was about to leave (on_prereq) */
};

/* An answer's outcome, until flush_tx() writes it to the store. */
enum outcome_kind { O_OK, O_FAIL, O_TEMP, O_DOUBT };
struct outcome {
	enum outcome_kind kind;
	int64_t id;
	int64_t at;
	int flag;	/* O_FAIL: retryable; O_TEMP: counts as an attempt */
	char *text;	/* O_OK: the provider id; else the reason */
};

struct sender {
	struct cn_store *st;
	sqlite3 *db;
	const struct cn_config *cfg;
	struct cn_driver *d;
	const struct cn_send_opts *o;
	int64_t cid;
	char cuuid[37];
	cn_sent_fn on_sent;
	void *ctx;
	struct cn_send_stats *ss;
	CURLM *multi;
	struct slot *slots;
	int nslots;
	/* messages to send: fresh ones are read from the store in chunks */
	struct qmsg *ready, *ready_tail;	/* FIFO */
	struct qmsg *waiting;	/* retries, with not_before */
	int64_t last_id;	/* last id read from the store */
	int exhausted;		/* no more fresh messages in the store */
	int stop_new;		/* gateway down, credentials refused */
	double next_send;	/* rate limit */
	double last_ok;		/* time of the last accepted message */
	int inflight;
	/* outcomes not yet in the store: written in one transaction every
	 * TX_SPAN seconds (flush_tx), the store free for others between */
	struct outcome *pend;
	size_t npend, cappend;
	double pend_since;	/* monotonic time of the oldest */
	int jfd;		/* the campaign's lock file, also its journal
				   of messages in flight */
	sqlite3_stmt *s_load, *s_ok, *s_fail, *s_temp, *s_doubt, *s_status;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
qmsg_free(struct qmsg *m)
{
	if (!m)
		return;
	free(m->from);
	free(m->text);
	free(m);
}

static size_t
on_body(char *ptr, size_t size, size_t n, void *ud)
{
	struct slot *sl = ud;
	size_t len = size * n;

	if (sl->body.len + len <= BODY_MAX)
		cn_buf_add(&sl->body, ptr, len);
	return len;
}

/*
 * libcurl sends a request again by itself, on a new connection, when the
 * kept-alive connection it reused closed without a byte of answer.  The
 * gateway may have taken the first one (its answer was lost): the message
 * would go out twice.  The second send is refused here; the transfer
 * fails after its request left, and the message is in doubt.
 */
#if LIBCURL_VERSION_NUM >= 0x075000
static int
on_prereq(void *ud, char *ip, char *lip, int rport, int lport)
{
	struct slot *sl = ud;

	(void)ip, (void)lip, (void)rport, (void)lport;
	return sl->sends++ ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}
#endif

/* A slot's handle, with the options that every request of it shares. */
static int
slot_init(struct sender *s, struct slot *sl)
{
	CURL *h = curl_easy_init();

	if (!h)
		return -1;
	sl->h = h;
	cn_buf_init(&sl->body, 0);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sl);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, sl->errbuf);
	curl_easy_setopt(h, CURLOPT_PRIVATE, sl);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			 (long)(s->o->timeout_s > 0 ? s->o->timeout_s : 20) *
				 1000L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "carnet/" CN_VERSION);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
#if LIBCURL_VERSION_NUM >= 0x075000
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, sl);
#endif
	return 0;
}

/* Reads the next chunk of fresh 'preparing' messages. */
static int
load_chunk(struct sender *s, struct cn_err *err)
{
	sqlite3_stmt *q = s->s_load;
	int n = 0, rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, s->cid);
	sqlite3_bind_int64(q, 2, s->last_id);
	sqlite3_bind_int(q, 3, CHUNK);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct qmsg *m = calloc(1, sizeof(*m));
		const char *from = (const char *)sqlite3_column_text(q, 3);

		if (!m)
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		m->id = sqlite3_column_int64(q, 0);
		snprintf(m->ref, sizeof(m->ref), "%s",
			 (const char *)sqlite3_column_text(q, 1));
		snprintf(m->to, sizeof(m->to), "%s",
			 (const char *)sqlite3_column_text(q, 2));
		m->from = from ? strdup(from) : NULL;
		m->text = strdup((const char *)sqlite3_column_text(q, 4));
		m->enc = strcmp((const char *)sqlite3_column_text(q, 5),
				"ucs2") == 0 ? CN_SMS_UCS2 : CN_SMS_GSM7;
		m->segments = sqlite3_column_int(q, 6);
		m->attempts = sqlite3_column_int(q, 7);
		if (!m->text) {
			qmsg_free(m);
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		}
		s->last_id = m->id;
		if (s->ready_tail)
			s->ready_tail->next = m;
		else
			s->ready = m;
		s->ready_tail = m;
		n++;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, s->db, "messages");
	if (n < CHUNK)
		s->exhausted = 1;
	return 0;
}

static int
emit(struct sender *s, const struct qmsg *m, const char *status,
     const char *pid, const char *error)
{
	struct cn_sent_row r;

	if (!s->on_sent)
		return 0;
	memset(&r, 0, sizeof(r));
	r.campaign = s->cuuid;
	r.ref = m->ref;
	r.to = m->to;
	r.status = status;
	r.encoding = m->enc;
	r.segments = (size_t)m->segments;
	r.provider_id = pid && *pid ? pid : NULL;
	r.error = error && *error ? error : NULL;
	r.attempts = m->attempts;
	return s->on_sent(s->ctx, &r);
}

static int
step_done(struct sender *s, sqlite3_stmt *q, struct cn_err *err)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, s->db, "message");
}

/* Notes an outcome for flush_tx().  Returns 0 or -1 with err. */
static int
defer(struct sender *s, enum outcome_kind kind, int64_t id, const char *text,
      int flag, struct cn_err *err)
{
	struct outcome *o;

	if (s->npend == s->cappend) {
		size_t cap = s->cappend ? s->cappend * 2 : 64;
		struct outcome *p = realloc(s->pend, cap * sizeof(*p));

		if (!p)
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		s->pend = p;
		s->cappend = cap;
	}
	if (!s->npend)
		s->pend_since = mono();
	o = &s->pend[s->npend];
	o->kind = kind;
	o->id = id;
	o->at = cn_now();
	o->flag = flag;
	o->text = text && *text ? strdup(text) : NULL;
	if (text && *text && !o->text)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	s->npend++;
	return 0;
}

/* Binds and runs the statement of one outcome. */
static int
record(struct sender *s, const struct outcome *o, struct cn_err *err)
{
	sqlite3_stmt *q;

	switch (o->kind) {
	case O_OK:	/* provider id, time, id */
		q = s->s_ok;
		bind_text(q, 1, o->text);
		sqlite3_bind_int64(q, 2, o->at);
		sqlite3_bind_int64(q, 3, o->id);
		break;
	case O_FAIL:	/* reason, time, retryable, id */
		q = s->s_fail;
		bind_text(q, 1, o->text);
		sqlite3_bind_int64(q, 2, o->at);
		sqlite3_bind_int(q, 3, o->flag);
		sqlite3_bind_int64(q, 4, o->id);
		break;
	case O_TEMP:	/* reason, id, attempt */
		q = s->s_temp;
		bind_text(q, 1, o->text);
		sqlite3_bind_int64(q, 2, o->id);
		sqlite3_bind_int(q, 3, o->flag);
		break;
	default:	/* O_DOUBT: reason, time, id */
		q = s->s_doubt;
		bind_text(q, 1, o->text);
		sqlite3_bind_int64(q, 2, o->at);
		sqlite3_bind_int64(q, 3, o->id);
		break;
	}
	return step_done(s, q, err);
}

/*
 * Writes the outcomes collect() noted, in one transaction: when force is
 * set, else once the oldest is TX_SPAN seconds old.  One commit per
 * answer would cost a third of the sending time; holding a transaction
 * open between answers would keep the receiver of the delivery reports
 * out of the store.  Nothing is lost meanwhile: each acceptance is in
 * the journal ("=REF"), and a message whose outcome is lost in a crash
 * is in doubt.  Returns 0 or -1 with err (the outcomes kept).
 */
static int
flush_tx(struct sender *s, int force, struct cn_err *err)
{
	if (!s->npend || (!force && mono() - s->pend_since < TX_SPAN))
		return 0;
	if (cn_sql_exec(s->db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	for (size_t i = 0; i < s->npend; i++)
		if (record(s, &s->pend[i], err) < 0) {
			cn_sql_exec(s->db, "ROLLBACK", NULL);
			return -1;
		}
	if (cn_sql_exec(s->db, "COMMIT", err) < 0) {
		cn_sql_exec(s->db, "ROLLBACK", NULL);
		return -1;
	}
	for (size_t i = 0; i < s->npend; i++)
		free(s->pend[i].text);
	s->npend = 0;
	cn_crashpoint("send.committed");
	return 0;
}

/*
 * The journal of messages in flight: the campaign's lock file, to which
 * the sender appends "+REF" before a message's request leaves, "-REF"
 * when an answer proved that nothing was accepted (a temporary failure)
 * and "=REF TIME PROVIDER-ID" when the gateway accepted it (the store
 * commits outcomes only every TX_SPAN seconds).
 * One write(2) per batch, no transaction: it survives a kill -9 as a
 * committed transaction does (synchronous=NORMAL syncs neither), and
 * keeps the store out of the path between an answer and the next
 * request.  The next sender (or close) folds it into the store: a
 * message still 'preparing' whose last line is "+REF" is in doubt, one
 * with "=REF" is sent.
 */
static int journal_write(struct sender *s, const char *buf, size_t len,
			 struct cn_err *err);

static int
journal(struct sender *s, char sign, struct qmsg *const *m, int n,
	struct cn_err *err)
{
	char buf[64 * 40];
	size_t len = 0;

	for (int i = 0; i < n; i++)
		if (m[i])
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"%c%s\n", sign, m[i]->ref);
	return journal_write(s, buf, len, err);
}

/* Appends len bytes to the journal in one write(2). */
static int
journal_write(struct sender *s, const char *buf, size_t len,
	      struct cn_err *err)
{
	while (len) {
		ssize_t w = write(s->jfd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w != (ssize_t)len)
			return cn_err_set(err, CN_ECANTCREAT, "the send journal "
					  "(%s.send-%lld.lock): %s",
					  cn_store_path(s->st),
					  (long long)s->cid,
					  w < 0 ? strerror(errno)
						: "short write");
		break;
	}
	return 0;
}

/* Takes the messages to send now: up to the free slots, the rate and
 * the retry times allow; writes them to the journal, then starts their
 * requests. */
static int
dispatch(struct sender *s, struct cn_err *err)
{
	struct qmsg *batch[64];
	int n = 0, started = 0, free_slots = s->nslots - s->inflight;
	double now = mono();

	if (s->stop_new || (s->o->stop && *s->o->stop))
		return flush_tx(s, 1, err);
	while (n < free_slots) {
		struct qmsg *m = NULL, **pp;

		if (s->o->rate > 0 && s->next_send > now)
			break;
		/* retries whose time has come first */
		for (pp = &s->waiting; *pp; pp = &(*pp)->next)
			if ((*pp)->not_before <= now) {
				m = *pp;
				*pp = m->next;
				break;
			}
		if (!m) {
			if (!s->ready && !s->exhausted &&
			    load_chunk(s, err) < 0)
				goto fail;
			if (!(m = s->ready))
				break;
			s->ready = m->next;
			if (!s->ready)
				s->ready_tail = NULL;
		}
		m->next = NULL;
		if (!m->first_try)
			m->first_try = now;
		batch[n++] = m;
		if (s->o->rate > 0)
			s->next_send = (s->next_send > now ? s->next_send : now) +
				       1.0 / s->o->rate;
	}
	if (!n)
		return 0;
	/* a retry goes again only if no receipt settled it meanwhile */
	for (int i = 0; i < n; i++) {
		if (batch[i]->attempts == 0)
			continue;
		sqlite3_bind_int64(s->s_status, 1, batch[i]->id);
		if (sqlite3_step(s->s_status) != SQLITE_ROW ||
		    strcmp((const char *)sqlite3_column_text(s->s_status, 0),
			   "preparing") != 0) {
			qmsg_free(batch[i]);
			batch[i] = NULL;
		}
		sqlite3_reset(s->s_status);
	}
	if (journal(s, '+', batch, n, err) < 0)
		goto fail;
	cn_crashpoint("send.journaled");
	for (int i = 0; i < n; i++)
		if (batch[i])
			batch[i]->attempts++;
	/* from here on these messages are in flight: a crash leaves them
	 * in doubt, never sent twice */
	for (int i = 0, k = 0; i < n; i++) {
		struct gw_msg_holder {
			struct cn_gw_msg gm;
		} gh;
		struct slot *sl;

		started = i;
		if (!batch[i])
			continue;

		while (s->slots[k].busy)
			k++;
		sl = &s->slots[k];
		memset(&gh, 0, sizeof(gh));
		gh.gm.ref = batch[i]->ref;
		gh.gm.to = batch[i]->to;
		gh.gm.from = batch[i]->from;
		gh.gm.text = batch[i]->text;
		gh.gm.encoding = batch[i]->enc;
		gh.gm.segments = (size_t)batch[i]->segments;
		/* the slot's handle keeps the options of slot_init(); the
		 * driver sets every option of its requests each time */
		sl->sends = 0;
		sl->errbuf[0] = '\0';
		cn_buf_reset(&sl->body);
		if (cn_driver_request(s->d, sl->h, &gh.gm, &sl->priv, err) < 0) {
			/* the message cannot be expressed: failed for good */
			struct cn_err e2;

			cn_driver_request_free(sl->priv);
			sl->priv = NULL;
			if (defer(s, O_FAIL, batch[i]->id, err->msg, 0,
				  &e2) < 0) {
				*err = e2;
				goto fail_started;
			}
			s->ss->failed++;
			emit(s, batch[i], "failed", NULL, err->msg);
			qmsg_free(batch[i]);
			batch[i] = NULL;
			continue;
		}
		sl->m = batch[i];
		sl->busy = 1;
		s->inflight++;
		curl_multi_add_handle(s->multi, sl->h);
	}
	return 0;
fail_started:
	/* in flight in the store, never started: in doubt for a later run */
	for (int i = started; i < n; i++)
		qmsg_free(batch[i]);
	return -1;
fail:
	for (int i = 0; i < n; i++)
		qmsg_free(batch[i]);
	return -1;
}

static double
backoff(const struct sender *s, const struct qmsg *m, long retry_after)
{
	double b = s->o->backoff > 0 ? s->o->backoff : 0.5;
	double w = b * pow(2.0, m->attempts - 1);

	if (retry_after > 0)
		w = (double)retry_after;
	return w > 60 ? 60 : w;
}

/*
 * Whether a failed transfer may have reached the gateway: its request was
 * sent (a timeout or a connection lost while waiting for the answer).
 * Failures to connect, resolve or negotiate TLS sent nothing.
 */
static int
request_left(CURL *h, CURLcode code)
{
	long sent = 0;

	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return 0;
	default:
		break;
	}
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
	return sent > 0;
}

/* Records what the gateway answered for the requests that ended. */
static int
collect(struct sender *s, struct cn_err *err)
{
	CURLMsg *cm;
	int left;
	struct cn_buf acc;	/* "=REF TIME PID" lines for the journal */

	cn_buf_init(&acc, 0);

	while ((cm = curl_multi_info_read(s->multi, &left))) {
		struct slot *sl;
		struct qmsg *m;
		struct cn_gw_result gr;
		long status = 0;
		curl_off_t ra = 0;
		int retries = s->o->retries < 0 ? 3 : s->o->retries;

		if (cm->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE,
				  (char **)&sl);
		curl_easy_getinfo(sl->h, CURLINFO_RESPONSE_CODE, &status);
#if LIBCURL_VERSION_NUM >= 0x074200
		curl_easy_getinfo(sl->h, CURLINFO_RETRY_AFTER, &ra);
#endif
		cn_driver_result(s->d, cm->data.result == CURLE_OK ? status : 0,
				 (int)cm->data.result, sl->errbuf, sl->body.ptr,
				 sl->body.len, (long)ra, &gr);
		if (gr.outcome == CN_GW_TEMP && cm->data.result != CURLE_OK &&
		    request_left(sl->h, cm->data.result))
			gr.outcome = CN_GW_DOUBT;
		if (cm->data.result != CURLE_OK && sl->sends > 1) {
			/* on_prereq refused libcurl's own second send */
			gr.outcome = CN_GW_DOUBT;
			snprintf(gr.reason, sizeof(gr.reason), "the connection "
				 "closed without an answer after the request "
				 "was sent");
		}
		cn_crashpoint("send.answered");
		curl_multi_remove_handle(s->multi, sl->h);
		cn_driver_request_free(sl->priv);
		sl->priv = NULL;
		sl->busy = 0;
		s->inflight--;
		m = sl->m;
		sl->m = NULL;
		switch (gr.outcome) {
		case CN_GW_OK:
			if (defer(s, O_OK, m->id, gr.provider_id, 0, err) < 0)
				goto fail;
			/* a provider id with a blank cannot be journaled: the
			 * store has it, the journal only the outcome */
			cn_buf_addf(&acc, "=%s %lld %s\n", m->ref,
				    (long long)cn_now(),
				    gr.provider_id[strcspn(gr.provider_id,
							   " \t\r\n")]
					    ? "" : gr.provider_id);
			s->ss->sent++;
			s->last_ok = mono();
			emit(s, m, "sent", gr.provider_id, NULL);
			qmsg_free(m);
			break;
		case CN_GW_PERM:
			if (defer(s, O_FAIL, m->id, gr.reason, 0, err) < 0)
				goto fail;
			s->ss->failed++;
			emit(s, m, "failed", NULL, gr.reason);
			qmsg_free(m);
			break;
		case CN_GW_AUTH:
			/* nothing was sent: back to untried, stop the send */
			if (defer(s, O_TEMP, m->id, gr.reason, 0, err) < 0 ||
			    journal(s, '-', &m, 1, err) < 0)
				goto fail;
			s->ss->auth_failed = 1;
			s->stop_new = 1;
			snprintf(s->ss->last_error, sizeof(s->ss->last_error),
				 "%s", gr.reason);
			qmsg_free(m);
			break;
		case CN_GW_DOUBT:
			/* the request went out and no answer came: it may
			 * have been sent; it stays in flight, in doubt */
			s->ss->in_doubt++;
			snprintf(s->ss->last_error, sizeof(s->ss->last_error),
				 "%s", gr.reason);
			if (defer(s, O_DOUBT, m->id, gr.reason, 0, err) < 0)
				goto fail;
			emit(s, m, "in-doubt", NULL, gr.reason);
			if (s->last_ok < m->first_try)
				s->stop_new = 1;
			qmsg_free(m);
			break;
		case CN_GW_TEMP:
			snprintf(s->ss->last_error, sizeof(s->ss->last_error),
				 "%s", gr.reason);
			if (m->attempts <= retries && !s->stop_new &&
			    !(s->o->stop && *s->o->stop)) {
				if (defer(s, O_TEMP, m->id, gr.reason, 1,
					  err) < 0 ||
				    journal(s, '-', &m, 1, err) < 0)
					goto fail;
				s->ss->retries++;
				m->not_before = mono() + backoff(s, m, gr.retry_after);
				m->next = s->waiting;
				s->waiting = m;
				break;
			}
			/* retries exhausted: failed, sent again by a later run */
			if (defer(s, O_FAIL, m->id, gr.reason, 1, err) < 0)
				goto fail;
			s->ss->retryable++;
			emit(s, m, "failed", NULL, gr.reason);
			/* the gateway is down when nothing got through since
			 * this message was first tried: stop taking new ones */
			if (s->last_ok < m->first_try)
				s->stop_new = 1;
			qmsg_free(m);
			break;
		}
	}
	/* the outcomes go to the store later (flush_tx), the acceptances
	 * to the journal now */
	if (acc.len && journal_write(s, acc.ptr, acc.len, err) < 0) {
		cn_buf_free(&acc);
		return -1;
	}
	cn_buf_free(&acc);
	return 0;
fail:
	cn_buf_free(&acc);
	return -1;
}

static const char load_sql[] =
	"SELECT id, ref, phone, sender, body, encoding, segments, attempts "
	"FROM message WHERE campaign_id = ?1 AND status = 'preparing' AND "
	"inflight_at IS NULL AND id > ?2 ORDER BY id LIMIT ?3";

/* Moves a draft to sending (reserving its quota), takes retryable
 * failures back, sets aside the messages in doubt. */
static int
begin_send(struct sender *s, struct cn_err *err)
{
	sqlite3 *db = s->db;
	sqlite3_stmt *q = NULL;
	char status[16] = "";
	int simulated = 0;
	int64_t now = cn_now(), sms = 0, rcpt = 0;

	if (cn_sql_exec(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (stmt(db, &q, "SELECT c.status, c.uuid, c.simulated, f.name, "
		 "u.name FROM campaign c JOIN folder f ON f.id = c.folder_id "
		 "LEFT JOIN user u ON u.id = c.user_id WHERE c.id = ?1",
		 err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, s->cid);
	if (sqlite3_step(q) != SQLITE_ROW) {
		cn_err_set(err, CN_ENOINPUT, "no campaign %lld",
			   (long long)s->cid);
		goto fail;
	}
	snprintf(status, sizeof(status), "%s", sqlite3_column_text(q, 0));
	snprintf(s->cuuid, sizeof(s->cuuid), "%s", sqlite3_column_text(q, 1));
	simulated = sqlite3_column_int(q, 2);
	if (strcmp(status, "closed") == 0) {
		cn_err_set(err, CN_ECHECK, "campaign %lld is closed: nothing "
			   "is sent", (long long)s->cid);
		goto fail;
	}
	if (!simulated && cn_driver_is_simulated(s->d) &&
	    strcmp(status, "draft") != 0) {
		cn_err_set(err, CN_EUSAGE, "campaign %lld is sent for real: "
			   "it cannot be finished in simulation",
			   (long long)s->cid);
		goto fail;
	}
	if (simulated && !cn_driver_is_simulated(s->d)) {
		cn_err_set(err, CN_EUSAGE, "campaign %lld was simulated: it "
			   "cannot be sent for real", (long long)s->cid);
		goto fail;
	}
	if (strcmp(status, "draft") == 0) {
		struct cn_quota_req qr;
		struct cn_quota_verdict v;
		char folder[256], user[256];
		int has_user = sqlite3_column_type(q, 4) != SQLITE_NULL;

		snprintf(folder, sizeof(folder), "%s",
			 sqlite3_column_text(q, 3));
		snprintf(user, sizeof(user), "%s",
			 has_user ? (const char *)sqlite3_column_text(q, 4) : "");
		sqlite3_finalize(q);
		q = NULL;
		if (stmt(db, &q, "SELECT coalesce(sum(segments), 0), count(*) "
			 "FROM message WHERE campaign_id = ?1 AND status = "
			 "'preparing'", err) < 0)
			goto fail;
		sqlite3_bind_int64(q, 1, s->cid);
		if (sqlite3_step(q) == SQLITE_ROW) {
			sms = sqlite3_column_int64(q, 0);
			rcpt = sqlite3_column_int64(q, 1);
		}
		if (!cn_driver_is_simulated(s->d) && rcpt) {
			memset(&qr, 0, sizeof(qr));
			qr.folder = folder;
			qr.user = has_user ? user : NULL;
			qr.sms = sms;
			qr.recipients = rcpt;
			qr.campaign_id = s->cid;
			qr.warn_threshold = 0;	/* confirmed when saved */
			if (cn_quota_reserve(s->st, &qr, &v, err) < 0)
				goto fail;
		}
		sqlite3_finalize(q);
		q = NULL;
		if (stmt(db, &q, "UPDATE campaign SET status = 'sending', "
			 "sent_at = ?2, close_at = ?3, driver = ?4, "
			 "simulated = ?5 WHERE id = ?1", err) < 0)
			goto fail;
		sqlite3_bind_int64(q, 1, s->cid);
		sqlite3_bind_int64(q, 2, now);
		sqlite3_bind_int64(q, 3,
				   now + s->cfg->sms_campaign_close_hours * 3600);
		bind_text(q, 4, cn_driver_name(s->d));
		sqlite3_bind_int(q, 5, cn_driver_is_simulated(s->d));
		if (sqlite3_step(q) != SQLITE_DONE) {
			cn_sql_fail(err, db, "campaign");
			goto fail;
		}
		if (mark_campaign(db, s->cid, err) < 0)
			goto fail;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (s->o->retry_failed &&
	    cn_campaign_exec(db, "UPDATE message SET status = 'preparing', "
			     "retryable = 0, done_at = NULL WHERE campaign_id = "
			     "?1 AND status = 'failed' AND retryable = 1",
			     s->cid, 0, "retry", err) < 0)
		goto fail;
	if (s->o->resend_in_doubt &&
	    cn_campaign_exec(db, "UPDATE message SET inflight_at = NULL, "
			     "error = 'in doubt: sent again on request' WHERE "
			     "campaign_id = ?1 AND status = 'preparing' AND "
			     "inflight_at IS NOT NULL", s->cid, 0, "in doubt",
			     err) < 0)
		goto fail;
	if (cn_sql_exec(db, "COMMIT", err) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_finalize(q);
	cn_sql_exec(db, "ROLLBACK", NULL);
	return -1;
}

/* Reports the messages in doubt; returns how many. */
static int64_t
report_in_doubt(struct sender *s, struct cn_err *err)
{
	sqlite3_stmt *q;
	int64_t n = 0;

	if (stmt(s->db, &q, "SELECT ref, phone, encoding, segments, "
		 "attempts FROM message WHERE campaign_id = ?1 AND status = "
		 "'preparing' AND inflight_at IS NOT NULL ORDER BY id",
		 err) < 0)
		return -1;
	sqlite3_bind_int64(q, 1, s->cid);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct qmsg m;

		memset(&m, 0, sizeof(m));
		snprintf(m.ref, sizeof(m.ref), "%s", sqlite3_column_text(q, 0));
		snprintf(m.to, sizeof(m.to), "%s", sqlite3_column_text(q, 1));
		m.enc = strcmp((const char *)sqlite3_column_text(q, 2),
			       "ucs2") == 0 ? CN_SMS_UCS2 : CN_SMS_GSM7;
		m.segments = sqlite3_column_int(q, 3);
		m.attempts = sqlite3_column_int(q, 4);
		emit(s, &m, "in-doubt", NULL,
		     "interrupted while the gateway was called: it may have "
		     "been sent, so it is not sent again");
		n++;
	}
	sqlite3_finalize(q);
	return n;
}

/* The campaign is sent when no message is left to send or in doubt;
 * the messages that changed since they last synced sync again. */
static int
finish_campaign(struct sender *s, struct cn_err *err)
{
	if (cn_campaign_exec(s->db, "INSERT INTO sync_item(kind, uuid, "
			     "state, changed_at, deleted) SELECT 'message', "
			     "ref, 'pending', max(coalesce(sent_at, 0), "
			     "coalesce(done_at, 0)), 0 FROM message WHERE "
			     "campaign_id = ?1 AND status <> 'preparing' AND "
			     "true ON CONFLICT(kind, uuid) DO UPDATE SET state "
			     "= 'pending', changed_at = excluded.changed_at "
			     "WHERE excluded.changed_at > sync_item.changed_at "
			     "OR sync_item.state = 'pending'", s->cid, 0,
			     "sync marks", err) < 0 ||
	    cn_campaign_exec(s->db, "UPDATE campaign SET status = 'sent' WHERE "
			     "id = ?1 AND status = 'sending' AND NOT EXISTS("
			     "SELECT 1 FROM message WHERE campaign_id = ?1 AND "
			     "(status = 'preparing' OR (status = 'failed' AND "
			     "retryable = 1)))", s->cid, 0, "campaign",
			     err) < 0)
		return -1;
	if (sqlite3_changes(s->db) && mark_campaign(s->db, s->cid, err) < 0)
		return -1;
	return 0;
}

static int
simulate_all(struct sender *s, struct cn_err *err)
{
	sqlite3_stmt *q;
	int64_t now = cn_now();

	if (cn_sql_exec(s->db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	while (!s->exhausted || s->ready) {
		struct qmsg *m;

		if (!s->ready && load_chunk(s, err) < 0)
			goto fail;
		while ((m = s->ready)) {
			s->ready = m->next;
			m->attempts++;
			sqlite3_bind_null(s->s_ok, 1);
			sqlite3_bind_int64(s->s_ok, 2, now);
			sqlite3_bind_int64(s->s_ok, 3, m->id);
			if (step_done(s, s->s_ok, err) < 0) {
				qmsg_free(m);
				goto fail;
			}
			s->ss->sent++;
			emit(s, m, "simulated", NULL, NULL);
			qmsg_free(m);
		}
		s->ready_tail = NULL;
	}
	if (stmt(s->db, &q, "UPDATE message SET status = 'simulated', "
		 "done_at = sent_at WHERE campaign_id = ?1 AND status = 'sent'",
		 err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, s->cid);
	if (sqlite3_step(q) != SQLITE_DONE) {
		sqlite3_finalize(q);
		cn_sql_fail(err, s->db, "simulate");
		goto fail;
	}
	sqlite3_finalize(q);
	if (finish_campaign(s, err) < 0 ||
	    cn_sql_exec(s->db, "COMMIT", err) < 0)
		goto fail;
	return 0;
fail:
	cn_sql_exec(s->db, "ROLLBACK", NULL);
	return -1;
}

/*
 * One sender per campaign at a time: an exclusive lock on a file beside
 * the store ("<store>.send-<id>.lock", mode 0600), held until the send
 * ends (the kernel drops it if the process dies).  Returns the file
 * descriptor, or -1 with err (CN_ETEMP when another process holds it).
 */
int
cn_campaign_lock(struct cn_store *st, int64_t id, struct cn_err *err)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s.send-%lld.lock", cn_store_path(st),
		 (long long)id);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return cn_err_set(err, CN_ECANTCREAT, "%s: %s", path,
				  strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return cn_err_set(err, CN_ETEMP, "campaign %lld is being "
					  "sent by another process: try again "
					  "when it is done", (long long)id);
		return cn_err_set(err, CN_ECANTCREAT, "%s: %s", path,
				  strerror(errno));
	}
	return fd;
}

/* A message the gateway accepted: sent, unless a receipt came first (the
 * receiver commits it as soon as Kannel calls): never backwards. */
#define SQL_SENT                                                          \
	"status = CASE WHEN status = 'preparing' THEN 'sent' ELSE status "  \
	"END, inflight_at = NULL, error = NULL, retryable = 0, attempts = " \
	"attempts + 1"

/*
 * Folds the journal of an earlier send into the store (see journal()):
 * a message still 'preparing' whose last line is "+REF" was in flight
 * and is in doubt (inflight_at set); "-REF" means its request was
 * refused, nothing sent; "=REF TIME PID" that the gateway accepted it
 * (sent, unless the store has its outcome already).  Then empties the
 * journal.  The caller holds
 * the campaign's lock (fd).  Returns 0 or -1 with err.
 */
int
cn_campaign_journal_fold(struct cn_store *st, int64_t cid, int fd,
			 struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *in = NULL, *out = NULL, *ok = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int dfd, rc = -1;
	off_t size = lseek(fd, 0, SEEK_END);

	if (size <= 0)
		return 0;
	if ((dfd = dup(fd)) < 0 || !(f = fdopen(dfd, "r"))) {
		if (dfd >= 0)
			close(dfd);
		return cn_err_set(err, CN_EINTERNAL, "send journal: %s",
				  strerror(errno));
	}
	rewind(f);
	if (cn_sql_exec(db, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	if (stmt(db, &in, "UPDATE message SET inflight_at = coalesce("
		 "inflight_at, ?3) WHERE ref = ?1 AND campaign_id = ?2 AND "
		 "status = 'preparing'", err) < 0 ||
	    stmt(db, &out, "UPDATE message SET inflight_at = NULL WHERE ref = "
		 "?1 AND campaign_id = ?2 AND status = 'preparing'", err) < 0 ||
	    /* as the sender's own update (never backwards), once */
	    stmt(db, &ok, "UPDATE message SET " SQL_SENT ", provider_id = "
		 "coalesce(nullif(?4, ''), provider_id), sent_at = ?3 WHERE "
		 "ref = ?1 AND campaign_id = ?2 AND sent_at IS NULL", err) < 0)
		goto rollback;
	while ((n = getline(&line, &cap, f)) > 0) {
		sqlite3_stmt *q;
		int whole = line[n - 1] == '\n';
		char *t, *pid, *end;
		long long ts;

		if (whole)
			line[--n] = '\0';
		if (n < 2 || !strchr("+-=", line[0]))
			continue;	/* a torn last line: never acted on */
		q = line[0] == '+' ? in : line[0] == '-' ? out : ok;
		if (q == ok) {
			/* =REF TIME PID (PID may be empty); a torn one,
			 * whose PID may be cut, is not acted on */
			if (!whole || !(t = strchr(line, ' ')) ||
			    !(pid = strchr(t + 1, ' ')))
				continue;
			*t = '\0';
			ts = strtoll(t + 1, &end, 10);
			if (end != pid || ts <= 0)
				continue;
			sqlite3_bind_int64(q, 3, ts);
			sqlite3_bind_text(q, 4, pid + 1, -1, SQLITE_STATIC);
			n = t - line;
		}
		sqlite3_bind_text(q, 1, line + 1, (int)(n - 1), SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, cid);
		if (q == in)
			sqlite3_bind_int64(q, 3, cn_now());
		if (sqlite3_step(q) != SQLITE_DONE) {
			cn_sql_fail(err, db, "send journal");
			goto rollback;
		}
		sqlite3_reset(q);
	}
	if (cn_sql_exec(db, "COMMIT", err) < 0)
		goto rollback;
	/* folded and committed: the journal starts again empty */
	if (ftruncate(fd, 0) < 0) {
		cn_err_set(err, CN_ECANTCREAT, "send journal: %s",
			   strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
rollback:
	cn_sql_exec(db, "ROLLBACK", NULL);
out:
	sqlite3_finalize(in);
	sqlite3_finalize(out);
	sqlite3_finalize(ok);
	free(line);
	fclose(f);
	return rc;
}

int
cn_campaign_send(struct cn_store *st, const struct cn_config *cfg,
		 int64_t cid, struct cn_driver *d,
		 const struct cn_send_opts *o, cn_sent_fn on_sent, void *ctx,
		 struct cn_send_stats *ss, struct cn_err *err)
{
	struct sender s;
	struct cn_send_opts def;
	double t0 = mono();
	int rc = -1, lockfd;

	memset(ss, 0, sizeof(*ss));
	memset(&s, 0, sizeof(s));
	if (!o) {
		memset(&def, 0, sizeof(def));
		def.retries = -1;
		o = &def;
	}
	s.st = st;
	s.db = cn_store_db(st);
	s.cfg = cfg;
	s.d = d;
	s.o = o;
	s.cid = cid;
	s.on_sent = on_sent;
	s.ctx = ctx;
	s.ss = ss;
	s.last_ok = -1;
	if ((lockfd = cn_campaign_lock(st, cid, err)) < 0)
		return -1;
	s.jfd = lockfd;
	if (cn_campaign_journal_fold(st, cid, lockfd, err) < 0 ||
	    begin_send(&s, err) < 0) {
		close(lockfd);
		return -1;
	}
	if (stmt(s.db, &s.s_load, load_sql, err) < 0 ||
	    stmt(s.db, &s.s_status, "SELECT status FROM message WHERE id = ?1",
		 err) < 0 ||
	    stmt(s.db, &s.s_doubt, "UPDATE message SET inflight_at = ?2, "
		 "error = ?1, attempts = attempts + 1 WHERE id = ?3 AND "
		 "status = 'preparing'", err) < 0 ||
	    stmt(s.db, &s.s_ok, "UPDATE message SET " SQL_SENT ", provider_id "
		 "= coalesce(?1, provider_id), sent_at = coalesce(sent_at, "
		 "?2) WHERE id = ?3", err) < 0 ||
	    stmt(s.db, &s.s_fail, "UPDATE message SET status = 'failed', "
		 "error = ?1, done_at = ?2, retryable = ?3, inflight_at = NULL, "
		 "attempts = attempts + 1 WHERE id = ?4 AND status = "
		 "'preparing'", err) < 0 ||
	    stmt(s.db, &s.s_temp, "UPDATE message SET error = ?1, "
		 "inflight_at = NULL, attempts = attempts + ?3 WHERE id = ?2 "
		 "AND status = 'preparing'", err) < 0)
		goto out;
	if ((ss->in_doubt = report_in_doubt(&s, err)) < 0)
		goto out;
	if (cn_driver_is_simulated(d)) {
		rc = simulate_all(&s, err);
		goto out;
	}

	s.nslots = o->parallel > 0 ? (o->parallel > 64 ? 64 : o->parallel) : 4;
	if (!(s.slots = calloc((size_t)s.nslots, sizeof(*s.slots))) ||
	    !(s.multi = curl_multi_init())) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	curl_multi_setopt(s.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)s.nslots);
	curl_multi_setopt(s.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)s.nslots);
	curl_multi_setopt(s.multi, CURLMOPT_MAXCONNECTS, (long)s.nslots);
	curl_multi_setopt(s.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	for (int i = 0; i < s.nslots; i++) {
		if (slot_init(&s, &s.slots[i]) < 0) {
			cn_err_set(err, CN_EINTERNAL, "curl_easy_init failed");
			goto out;
		}
	}
	for (;;) {
		int running = 0, numfds = 0, done;
		long wait_ms = 200;
		double now;

		if (dispatch(&s, err) < 0)
			goto out;
		if (!s.inflight) {
			int more = !s.stop_new && !(o->stop && *o->stop) &&
				   (s.waiting || s.ready || !s.exhausted);

			if (!more)
				break;
			/* only retries waiting: sleep until the first */
			now = mono();
			for (struct qmsg *m = s.waiting; m; m = m->next) {
				long ms = (long)((m->not_before - now) * 1000) + 1;

				if (ms < wait_ms)
					wait_ms = ms < 1 ? 1 : ms;
			}
			if (o->rate > 0 && s.next_send > now) {
				long ms = (long)((s.next_send - now) * 1000) + 1;

				if (ms < wait_ms)
					wait_ms = ms;
			}
			curl_multi_poll(s.multi, NULL, 0, (int)wait_ms, NULL);
			continue;
		}
		curl_multi_perform(s.multi, &running);
		/* the outcomes of the last round, now that the requests that
		 * followed them are out */
		if (flush_tx(&s, 0, err) < 0)
			goto out;
		done = s.inflight;
		if (collect(&s, err) < 0)
			goto out;
		/* answers came in: refill their slots at once, before waiting
		 * for the others (keeps --parallel requests in flight) */
		if (s.inflight < done)
			continue;
		if (running) {
			wait_ms = 100;
			if (o->rate > 0) {
				now = mono();
				if (s.next_send > now &&
				    (s.next_send - now) * 1000 < wait_ms)
					wait_ms = (long)((s.next_send - now) *
							 1000) + 1;
			}
			if (s.waiting)
				wait_ms = 20;
			if (s.inflight >= s.nslots)
				wait_ms = 1000;
			curl_multi_poll(s.multi, NULL, 0, (int)wait_ms, &numfds);
		}
	}
	if (flush_tx(&s, 1, err) < 0)
		goto out;
	cn_crashpoint("send.finish");
	/* every message of the journal has its outcome (or its doubt) in
	 * the store now */
	if (ftruncate(lockfd, 0) < 0) {
		cn_err_set(err, CN_ECANTCREAT, "send journal: %s",
			   strerror(errno));
		goto out;
	}
	/* what is left: retries not done, fresh messages not tried */
	for (struct qmsg *m = s.waiting; m; m = m->next)
		ss->untried++;
	{
		sqlite3_stmt *q;

		if (stmt(s.db, &q, "SELECT count(*) FROM message WHERE "
			 "campaign_id = ?1 AND status = 'preparing' AND "
			 "inflight_at IS NULL", err) < 0)
			goto out;
		sqlite3_bind_int64(q, 1, cid);
		if (sqlite3_step(q) == SQLITE_ROW)
			ss->untried = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	if (cn_sql_exec(s.db, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	if (finish_campaign(&s, err) < 0 ||
	    cn_sql_exec(s.db, "COMMIT", err) < 0) {
		cn_sql_exec(s.db, "ROLLBACK", NULL);
		goto out;
	}
	ss->interrupted = o->stop && *o->stop;
	if (ss->auth_failed) {
		cn_err_set(err, CN_ENOPERM, "%s", ss->last_error);
		goto out;
	}
	if (ss->untried || ss->retryable) {
		if (ss->interrupted)
			cn_err_set(err, CN_ETEMP, "stopped: %lld messages left "
				   "to send (`carnet-campaign send %lld` "
				   "resumes)", (long long)(ss->untried +
							  ss->retryable),
				   (long long)cid);
		else
			cn_err_set(err, CN_ETEMP, "the gateway failed (%s): "
				   "%lld messages left to send; try again later "
				   "with `carnet-campaign send %lld`",
				   ss->last_error,
				   (long long)(ss->untried + ss->retryable),
				   (long long)cid);
		goto out;
	}
	rc = 0;
out:
	if (s.npend) {
		/* after an error: what can still be written (else the
		 * journal has it, or the messages are in doubt) */
		struct cn_err e2;

		flush_tx(&s, 1, &e2);
		for (size_t i = 0; i < s.npend; i++)
			free(s.pend[i].text);
	}
	free(s.pend);
	ss->seconds = mono() - t0;
	if (s.slots) {
		for (int i = 0; i < s.nslots; i++) {
			if (s.slots[i].busy) {
				curl_multi_remove_handle(s.multi, s.slots[i].h);
				qmsg_free(s.slots[i].m);
			}
			cn_driver_request_free(s.slots[i].priv);
			if (s.slots[i].h)
				curl_easy_cleanup(s.slots[i].h);
			cn_buf_free(&s.slots[i].body);
		}
		free(s.slots);
	}
	if (s.multi)
		curl_multi_cleanup(s.multi);
	while (s.ready) {
		struct qmsg *m = s.ready;

		s.ready = m->next;
		qmsg_free(m);
	}
	while (s.waiting) {
		struct qmsg *m = s.waiting;

		s.waiting = m->next;
		qmsg_free(m);
	}
	sqlite3_finalize(s.s_load);
	sqlite3_finalize(s.s_status);
	sqlite3_finalize(s.s_doubt);
	sqlite3_finalize(s.s_ok);
	sqlite3_finalize(s.s_fail);
	sqlite3_finalize(s.s_temp);
	close(lockfd);
	return rc;
}
