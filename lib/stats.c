/*
 * stats.c - the statistics of the SMS sent: one SQL query per report over
 * the message table's covering index (message_stats, migration 3), the
 * replies by message (reply_message), the periods and their empty rows,
 * one campaign.  The rules (what counts as sent, the rates) are stated
 * once, in carnet-stats.h.
 *
 * The query groups the messages by the keys' ids, the day (for periods)
 * and the status, which costs two sums per message; the pivot into
 * figures, the replies, the weeks and months and the names are computed
 * on those few groups.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

static const char *const key_names[CN_SK_N] = {
	"day", "week", "month", "folder", "user", "campaign", "template",
};

/* The statuses of a message that was sent (handed to a gateway). */
#define SENT_SET "('sent','delivered','failed','expired','rejected')"
#define FAILED_SET "('failed','expired','rejected')"

const char *
cn_stats_key_name(enum cn_stats_key k)
{
	return (unsigned)k < CN_SK_N ? key_names[k] : "?";
}

int
cn_stats_key_is_period(enum cn_stats_key k)
{
	return k == CN_SK_DAY || k == CN_SK_WEEK || k == CN_SK_MONTH;
}

int
cn_stats_keys_parse(const char *s, enum cn_stats_key keys[],
		    struct cn_err *err)
{
	int n = 0, periods = 0;
	const char *p = s;

	if (!s || !*s)
		return cn_err_set(err, CN_EUSAGE, "--by: empty list (day, "
				  "week, month, folder, user, campaign, "
				  "template)");
	while (*p) {
		size_t len = strcspn(p, ",");
		int k;

		for (k = 0; k < CN_SK_N; k++)
			if (strlen(key_names[k]) == len &&
			    strncmp(p, key_names[k], len) == 0)
				break;
		if (k == CN_SK_N)
			return cn_err_set(err, CN_EUSAGE,
					  "--by: unknown key '%.*s' (day, "
					  "week, month, folder, user, "
					  "campaign, template)", (int)len, p);
		for (int i = 0; i < n; i++)
			if (keys[i] == (enum cn_stats_key)k)
				return cn_err_set(err, CN_EUSAGE,
						  "--by: '%s' given twice",
						  key_names[k]);
		if (cn_stats_key_is_period((enum cn_stats_key)k) &&
		    periods++)
			return cn_err_set(err, CN_EUSAGE,
					  "--by: one period at most (day, "
					  "week or month)");
		if (n == CN_STATS_MAXKEYS)
			return cn_err_set(err, CN_EUSAGE,
					  "--by: %d keys at most",
					  CN_STATS_MAXKEYS);
		keys[n++] = (enum cn_stats_key)k;
		p += len;
		if (*p == ',' && *++p == '\0')
			return cn_err_set(err, CN_EUSAGE,
					  "--by: trailing comma in '%s'", s);
	}
	return n;
}

/* ----------------------------------------------------------- periods */

/*
 * Parses "YYYY-MM-DD" or "YYYY-MM" into the Unix time of its first day
 * and, in *end, of the day (or month) after it.  Returns 0 or -1.
 */
static int
date_parse(const char *s, int64_t *start, int64_t *end)
{
	struct tm tm;
	int y, m, d = 1, whole_month;
	size_t len = strlen(s);
	time_t t;

	if (len != 7 && len != 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int dash = i == 4 || i == 7;

		if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	}
	whole_month = len == 7;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	if (!whole_month)
		d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (tm.tm_mday != d || tm.tm_mon != m - 1)	/* 2026-02-30 */
		return -1;
	*start = (int64_t)t;
	if (whole_month) {
		tm.tm_mon++;
		tm.tm_mday = 1;
		*end = (int64_t)timegm(&tm);
	} else {
		*end = *start + 86400;
	}
	return 0;
}

/* The first second of the month of t, and of the month after it. */
static void
month_of(int64_t t, int64_t *start, int64_t *end)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	*start = (int64_t)timegm(&tm);
	tm.tm_mon++;
	*end = (int64_t)timegm(&tm);
}

int
cn_stats_period(const char *from, const char *to, int64_t now, int64_t *t0,
		int64_t *t1, struct cn_err *err)
{
	int64_t a0, a1, b0, b1;

	if (now <= 0)
		now = cn_now();
	if (from && date_parse(from, &a0, &a1) < 0)
		return cn_err_set(err, CN_EUSAGE, "--from: invalid date '%s' "
				  "(expected YYYY-MM-DD or YYYY-MM)", from);
	if (to && date_parse(to, &b0, &b1) < 0)
		return cn_err_set(err, CN_EUSAGE, "--to: invalid date '%s' "
				  "(expected YYYY-MM-DD or YYYY-MM)", to);
	if (!from && !to)
		month_of(now, &a0, &b1);
	else if (!from)
		month_of(b0, &a0, &a1);
	else if (!to)
		month_of(a0, &b0, &b1);
	if (b1 <= a0)
		return cn_err_set(err, CN_EUSAGE, "--to %s is before --from "
				  "%s", to ? to : "(its default)",
				  from ? from : "(its default)");
	*t0 = a0;
	*t1 = b1;
	return 0;
}

/* ------------------------------------------------------------- rates */

double
cn_stats_delivery_rate(const struct cn_stats_fig *f, enum cn_stats_unit u)
{
	int64_t known = f->delivered[u] + f->failed[u];

	return known > 0 ? 100.0 * (double)f->delivered[u] / (double)known
			 : -1;
}

double
cn_stats_reply_rate(const struct cn_stats_fig *f)
{
	int64_t n = f->sent[CN_STATS_RECIPIENTS];

	return n > 0 ? 100.0 * (double)f->replied / (double)n : -1;
}

/* ------------------------------------------------------------- query */

/* The column of the inner groups for key k ("d" for every period). */
static const char *
inner_col(enum cn_stats_key k)
{
	switch (k) {
	case CN_SK_FOLDER: return "kf";
	case CN_SK_USER: return "ku";
	case CN_SK_CAMPAIGN: return "kc";
	case CN_SK_TEMPLATE: return "kt";
	default: return "d";
	}
}

/* Its expression on the message row m. */
static const char *
inner_expr(enum cn_stats_key k)
{
	switch (k) {
	case CN_SK_FOLDER: return "m.folder_id";
	case CN_SK_USER: return "m.user_id";
	case CN_SK_CAMPAIGN: return "m.campaign_id";
	case CN_SK_TEMPLATE: return "m.template_id";
	default: return "m.sent_at / 86400";
	}
}

/* The grouping value of key k from the inner column (weeks: the day
 * number of their Monday; 1970-01-01, day 0, was a Thursday). */
static void
outer_expr(struct cn_buf *b, enum cn_stats_key k)
{
	switch (k) {
	case CN_SK_WEEK:
		cn_buf_adds(b, "p.d - ((p.d + 3) % 7)");
		break;
	case CN_SK_MONTH:
		cn_buf_adds(b, "strftime('%Y-%m', p.d * 86400, 'unixepoch')");
		break;
	default:
		cn_buf_addf(b, "p.%s", inner_col(k));
		break;
	}
}

/* The label of key k from g.k<i>. */
static void
label_expr(struct cn_buf *b, enum cn_stats_key k, size_t i)
{
	switch (k) {
	case CN_SK_DAY:
	case CN_SK_WEEK:
		cn_buf_addf(b, "date(g.k%zu * 86400, 'unixepoch')", i);
		break;
	case CN_SK_MONTH:
	case CN_SK_CAMPAIGN:
		cn_buf_addf(b, "g.k%zu", i);
		break;
	case CN_SK_FOLDER:
		cn_buf_addf(b, "(SELECT name FROM folder WHERE id = g.k%zu)", i);
		break;
	case CN_SK_USER:
		cn_buf_addf(b, "(SELECT name FROM user WHERE id = g.k%zu)", i);
		break;
	case CN_SK_TEMPLATE:
		cn_buf_addf(b, "(SELECT title FROM template WHERE id = "
			    "g.k%zu)", i);
		break;
	default:
		break;
	}
}

/* The figures, in this order, after the labels and the campaign name. */
#define NFIG 15

/*
 * Builds the query of q into b.  Parameters: ?1 from, ?2 to, ?3 folder
 * id, ?4 user id, ?5 campaign id.
 */
static void
build(struct cn_buf *b, const struct cn_stats_query *q, int has_folder,
      int has_user)
{
	const char *cols[CN_STATS_MAXKEYS];
	size_t ncols = 0;
	int has_campaign = 0;
	struct cn_buf where, grp;

	/* the inner columns, each once (one "d" for a period) */
	for (size_t i = 0; i < q->nkeys; i++) {
		const char *c = inner_col(q->keys[i]);
		size_t j;

		for (j = 0; j < ncols; j++)
			if (strcmp(cols[j], c) == 0)
				break;
		if (j == ncols)
			cols[ncols++] = c;
		if (q->keys[i] == CN_SK_CAMPAIGN)
			has_campaign = 1;
	}
	cn_buf_init(&where, 0);
	cn_buf_init(&grp, 0);
	if (q->campaign > 0)
		cn_buf_adds(&where, "m.campaign_id = ?5");
	else
		cn_buf_adds(&where, "m.sent_at >= ?1 AND m.sent_at < ?2");
	if (has_folder)
		cn_buf_adds(&where, " AND m.folder_id = ?3");
	if (has_user)
		cn_buf_adds(&where, " AND m.user_id = ?4");
	for (size_t j = 0; j < ncols; j++)
		cn_buf_addf(&grp, "%s%s", j ? ", " : "", cols[j]);

	/* a: the messages by inner keys and status */
	cn_buf_adds(b, "WITH a AS (SELECT ");
	for (size_t j = 0; j < ncols; j++) {
		for (size_t i = 0; i < q->nkeys; i++)
			if (strcmp(inner_col(q->keys[i]), cols[j]) == 0) {
				cn_buf_addf(b, "%s AS %s, ",
					    inner_expr(q->keys[i]), cols[j]);
				break;
			}
	}
	cn_buf_addf(b, "m.status AS st, sum(m.segments) AS sg, count(*) AS n"
		    " FROM message m WHERE %s GROUP BY %s%sst), ", where.ptr,
		    grp.ptr, ncols ? ", " : "");
	/* p: pivoted into figures */
	cn_buf_adds(b, "p AS (SELECT ");
	for (size_t j = 0; j < ncols; j++)
		cn_buf_addf(b, "%s, ", cols[j]);
	cn_buf_adds(b,
		    "sum(CASE WHEN st IN " SENT_SET " THEN sg ELSE 0 END) AS s0,"
		    " sum(CASE WHEN st IN " SENT_SET " THEN n ELSE 0 END) AS s1,"
		    " sum(CASE WHEN st = 'delivered' THEN sg ELSE 0 END) AS d0,"
		    " sum(CASE WHEN st = 'delivered' THEN n ELSE 0 END) AS d1,"
		    " sum(CASE WHEN st IN " FAILED_SET " THEN sg ELSE 0 END) AS f0,"
		    " sum(CASE WHEN st IN " FAILED_SET " THEN n ELSE 0 END) AS f1,"
		    " sum(CASE WHEN st = 'sent' THEN sg ELSE 0 END) AS p0,"
		    " sum(CASE WHEN st = 'sent' THEN n ELSE 0 END) AS p1,"
		    " sum(CASE WHEN st = 'skipped' THEN sg ELSE 0 END) AS x0,"
		    " sum(CASE WHEN st = 'skipped' THEN n ELSE 0 END) AS x1,"
		    " sum(CASE WHEN st = 'simulated' THEN sg ELSE 0 END) AS m0,"
		    " sum(CASE WHEN st = 'simulated' THEN n ELSE 0 END) AS m1"
		    " FROM a");
	if (ncols)
		cn_buf_addf(b, " GROUP BY %s", grp.ptr);
	cn_buf_adds(b, "), ");
	/* r: the replies to the messages counted, by inner keys */
	cn_buf_adds(b, "r AS (SELECT ");
	for (size_t j = 0; j < ncols; j++) {
		for (size_t i = 0; i < q->nkeys; i++)
			if (strcmp(inner_col(q->keys[i]), cols[j]) == 0) {
				cn_buf_addf(b, "%s AS %s, ",
					    inner_expr(q->keys[i]), cols[j]);
				break;
			}
	}
	cn_buf_addf(b,
		    "sum(y.kind = 'reply') AS rp, count(DISTINCT CASE WHEN "
		    "y.kind = 'reply' THEN y.message_id END) AS rd, "
		    "count(DISTINCT CASE WHEN y.kind = 'optout' THEN "
		    "y.message_id END) AS oo FROM reply y JOIN message m ON "
		    "m.id = y.message_id WHERE %s AND m.status %s",
		    where.ptr, q->simulated ? "= 'simulated'" : "IN " SENT_SET);
	if (ncols)
		cn_buf_addf(b, " GROUP BY %s", grp.ptr);
	cn_buf_adds(b, "), ");
	/* g: by the keys asked */
	cn_buf_adds(b, "g AS (SELECT ");
	for (size_t i = 0; i < q->nkeys; i++) {
		outer_expr(b, q->keys[i]);
		cn_buf_addf(b, " AS k%zu, ", i);
	}
	cn_buf_adds(b, "total(p.s0) AS s0, total(p.s1) AS s1, total(p.d0) AS "
		    "d0, total(p.d1) AS d1, total(p.f0) AS f0, total(p.f1) AS "
		    "f1, total(p.p0) AS p0, total(p.p1) AS p1, total(p.x0) AS "
		    "x0, total(p.x1) AS x1, total(p.m0) AS m0, total(p.m1) AS "
		    "m1, total(r.rp) AS rp, total(r.rd) AS rd, total(r.oo) AS "
		    "oo FROM p LEFT JOIN r ON 1");
	for (size_t j = 0; j < ncols; j++)
		cn_buf_addf(b, " AND r.%s IS p.%s", cols[j], cols[j]);
	if (q->nkeys) {
		cn_buf_adds(b, " GROUP BY ");
		for (size_t i = 0; i < q->nkeys; i++)
			cn_buf_addf(b, "%sk%zu", i ? ", " : "", i);
	}
	cn_buf_adds(b, ") SELECT ");
	/* the labels, the campaign's name, the figures */
	for (size_t i = 0; i < CN_STATS_MAXKEYS; i++) {
		if (i < q->nkeys)
			label_expr(b, q->keys[i], i);
		else
			cn_buf_adds(b, "NULL");
		cn_buf_adds(b, ", ");
	}
	for (size_t i = 0; i < q->nkeys; i++)
		if (q->keys[i] == CN_SK_CAMPAIGN)
			cn_buf_addf(b, "(SELECT name FROM campaign WHERE id = "
				    "g.k%zu), ", i);
	if (!has_campaign)
		cn_buf_adds(b, "NULL, ");
	cn_buf_adds(b, "s0, s1, d0, d1, f0, f1, p0, p1, x0, x1, m0, m1, rp, "
		    "rd, oo FROM g");
	if (q->rank) {
		cn_buf_addf(b, " ORDER BY s%d DESC", q->unit ? 1 : 0);
		for (size_t i = 0; i < q->nkeys; i++)
			cn_buf_addf(b, ", %zu", i + 1);
	} else if (q->nkeys) {
		cn_buf_adds(b, " ORDER BY ");
		for (size_t i = 0; i < q->nkeys; i++) {
			enum cn_stats_key k = q->keys[i];

			/* periods and campaigns by value, names by text */
			if (cn_stats_key_is_period(k) || k == CN_SK_CAMPAIGN)
				cn_buf_addf(b, "%sg.k%zu", i ? ", " : "", i);
			else
				cn_buf_addf(b, "%s%zu", i ? ", " : "", i + 1);
		}
	}
	cn_buf_free(&where);
	cn_buf_free(&grp);
}

/* Writes into out[11] the label of the period of key k that holds day
 * number day ("2026-11-16"; months "2026-11"). */
static void
period_label(enum cn_stats_key k, int64_t day, char out[11])
{
	time_t t;
	struct tm tm;

	if (k == CN_SK_WEEK)
		day -= (day + 3) % 7;
	t = (time_t)(day * 86400);
	gmtime_r(&t, &tm);
	strftime(out, 11, k == CN_SK_MONTH ? "%Y-%m" : "%Y-%m-%d", &tm);
}

/* The day number of the period after the one of day (key k). */
static int64_t
period_next(enum cn_stats_key k, int64_t day)
{
	time_t t;
	struct tm tm;

	if (k == CN_SK_DAY)
		return day + 1;
	if (k == CN_SK_WEEK)
		return day - (day + 3) % 7 + 7;
	t = (time_t)(day * 86400);
	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_mon++;
	return (int64_t)timegm(&tm) / 86400;
}

/* State of the zero rows of empty periods (q->fill). */
struct filler {
	int on;
	enum cn_stats_key key;
	int64_t day;	/* the next period to emit, as a day in it */
	int64_t last;	/* the last day of the range */
	int64_t rank;
};

/* Emits zero rows for the periods before label (all that are left when
 * label is NULL).  Returns what fn returned (non-zero: stop). */
static int
fill_until(struct filler *fl, const char *label, cn_stats_fn fn, void *ctx)
{
	char cur[11];

	if (!fl->on)
		return 0;
	while (fl->day <= fl->last) {
		struct cn_stats_row z;
		int cmp;

		period_label(fl->key, fl->day, cur);
		cmp = label ? strcmp(cur, label) : -1;
		if (cmp > 0)
			return 0;
		fl->day = period_next(fl->key, fl->day);
		if (cmp == 0)
			return 0;
		memset(&z, 0, sizeof(z));
		z.label[0] = cur;
		z.rank = ++fl->rank;
		if (fn(ctx, &z))
			return 1;
	}
	return 0;
}

/* The id of folder or user name, 0 when there is none, -1 on error. */
static int64_t
find_id(sqlite3 *db, int user, const char *name, struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db, user ? "SELECT id FROM user WHERE name = ?1"
					: "SELECT id FROM folder WHERE name "
					  "= ?1", -1, &s, NULL))
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

int
cn_stats_run(struct cn_store *st, const struct cn_stats_query *q,
	     cn_stats_fn fn, void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int own = sqlite3_get_autocommit(db), rc = -1, step;
	int64_t fid = 0, uid = 0;
	sqlite3_stmt *s = NULL;
	struct cn_buf sql;
	struct filler fl;
	int64_t rank = 0;

	if (q->nkeys > CN_STATS_MAXKEYS)
		return cn_err_set(err, CN_EUSAGE, "too many keys");
	if (q->campaign <= 0 && q->to <= q->from)
		return cn_err_set(err, CN_EUSAGE, "empty period");
	memset(&fl, 0, sizeof(fl));
	if (q->fill && q->nkeys == 1 && cn_stats_key_is_period(q->keys[0]) &&
	    q->campaign <= 0 && !q->rank) {
		fl.on = 1;
		fl.key = q->keys[0];
		fl.day = q->from / 86400;
		fl.last = (q->to - 1) / 86400;
	}
	cn_buf_init(&sql, 0);
	if (own && cn_sql_exec(db, "BEGIN", err) < 0)
		return -1;
	if ((q->folder && (fid = find_id(db, 0, q->folder, err)) < 0) ||
	    (q->user && (uid = find_id(db, 1, q->user, err)) < 0))
		goto out;
	/* an unknown name matches nothing: id -1 is no row's */
	if (q->folder && !fid)
		fid = -1;
	if (q->user && !uid)
		uid = -1;
	build(&sql, q, q->folder != NULL, q->user != NULL);
	if (sqlite3_prepare_v2(db, sql.ptr, -1, &s, NULL)) {
		cn_sql_fail(err, db, "statistics");
		goto out;
	}
	sqlite3_bind_int64(s, 1, q->from);
	sqlite3_bind_int64(s, 2, q->to);
	sqlite3_bind_int64(s, 3, fid);
	sqlite3_bind_int64(s, 4, uid);
	sqlite3_bind_int64(s, 5, q->campaign);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_stats_row r;
		int64_t v[NFIG], none = 1;

		memset(&r, 0, sizeof(r));
		for (int i = 0; i < CN_STATS_MAXKEYS; i++) {
			r.label[i] = (const char *)sqlite3_column_text(s, i);
			if (r.label[i] && (size_t)i < q->nkeys)
				none = 0;
		}
		r.campaign_name =
			(const char *)sqlite3_column_text(s, CN_STATS_MAXKEYS);
		for (int i = 0; i < NFIG; i++)
			v[i] = (int64_t)sqlite3_column_double(
				s, CN_STATS_MAXKEYS + 1 + i);
		for (int u = 0; u < 2; u++) {
			r.fig.sent[u] = v[0 + u];
			r.fig.delivered[u] = v[2 + u];
			r.fig.failed[u] = v[4 + u];
			r.fig.pending[u] = v[6 + u];
			r.fig.skipped[u] = v[8 + u];
			r.fig.simulated[u] = v[10 + u];
		}
		r.fig.replies = v[12];
		r.fig.replied = v[13];
		r.fig.optouts = v[14];
		if (q->rank && q->nkeys && none)
			continue;
		if (fill_until(&fl, r.label[0], fn, ctx))
			goto done;
		r.rank = fl.on ? ++fl.rank : ++rank;
		if (fn(ctx, &r))
			goto done;
		if (q->rank && q->limit > 0 && rank >= q->limit)
			goto done;
	}
	if (step != SQLITE_DONE) {
		cn_sql_fail(err, db, "statistics");
		goto out;
	}
	fill_until(&fl, NULL, fn, ctx);
done:
	rc = 0;
out:
	sqlite3_finalize(s);
	cn_buf_free(&sql);
	if (own)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* ---------------------------------------------------------- campaign */

static int
keep_fig(void *ctx, const struct cn_stats_row *r)
{
	*(struct cn_stats_fig *)ctx = r->fig;
	return 1;
}

static void
copy_col(sqlite3_stmt *s, int i, char *out, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	snprintf(out, cap, "%s", v ? (const char *)v : "");
}

int
cn_stats_campaign(struct cn_store *st, int64_t id,
		  struct cn_stats_campaign *c, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct cn_stats_query q;
	sqlite3_stmt *s;
	int rc;

	memset(c, 0, sizeof(*c));
	if (sqlite3_prepare_v2(db,
			       "SELECT c.name, f.name, u.name, t.title, "
			       "c.status, c.simulated, c.created_at, "
			       "c.sent_at, c.close_at, c.closed_at FROM "
			       "campaign c JOIN folder f ON f.id = "
			       "c.folder_id LEFT JOIN user u ON u.id = "
			       "c.user_id LEFT JOIN template t ON t.id = "
			       "c.template_id WHERE c.id = ?1", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->id = id;
		copy_col(s, 0, c->name, sizeof(c->name));
		copy_col(s, 1, c->folder, sizeof(c->folder));
		copy_col(s, 2, c->user, sizeof(c->user));
		copy_col(s, 3, c->template, sizeof(c->template));
		copy_col(s, 4, c->status, sizeof(c->status));
		c->simulated = sqlite3_column_int(s, 5) != 0;
		c->created_at = sqlite3_column_int64(s, 6);
		c->sent_at = sqlite3_column_int64(s, 7);
		c->close_at = sqlite3_column_int64(s, 8);
		c->closed_at = sqlite3_column_int64(s, 9);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return cn_err_set(err, CN_ENOINPUT, "no campaign %" PRId64,
				  id);
	if (rc != SQLITE_ROW)
		return cn_sql_fail(err, db, "store");
	memset(&q, 0, sizeof(q));
	q.campaign = id;
	q.simulated = c->simulated;
	if (cn_stats_run(st, &q, keep_fig, &c->fig, err) < 0)
		return -1;
	/* simulated messages only, whatever the campaign's flag says */
	if (!c->simulated && c->fig.sent[1] == 0 && c->fig.simulated[1] > 0) {
		c->simulated = 1;
		q.simulated = 1;
		if (cn_stats_run(st, &q, keep_fig, &c->fig, err) < 0)
			return -1;
	}
	return 0;
}
