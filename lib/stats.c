/*
 * stats.c - the statistics of the SMS sent: one SQL query per report over
 * the message table's covering index (message_stats, migration 3), the
 * replies by message (reply_message), the periods and their empty rows,
 * one campaign.  The rules (what counts as sent, the rates) are stated
 * once, in carnet-stats.h.
 *
 * One pass over the messages of the period (in the order of the index),
 * summed in C into a hash table of groups, then one pass over their
 * replies; the names are looked up for the few groups, which are then
 * sorted.
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

/*
 * The figures are summed in C over the rows of the covering index
 * message_stats, read in time order: sorting a million rows into groups
 * in SQL (a temporary B-tree) costs several times more than one pass and
 * a hash table of the few groups.
 */

/* The statuses, as the sums see them. */
enum st {
	ST_SENT = 0,	/* pending */
	ST_DELIVERED,
	ST_FAILED,	/* failed, expired, rejected */
	ST_SKIPPED,
	ST_SIMULATED,
	ST_OTHER,	/* preparing, or unknown */
};

static enum st
status_of(const unsigned char *s)
{
	if (!s)
		return ST_OTHER;
	switch (s[0]) {
	case 's':
		if (strcmp((const char *)s, "sent") == 0)
			return ST_SENT;
		if (strcmp((const char *)s, "skipped") == 0)
			return ST_SKIPPED;
		if (strcmp((const char *)s, "simulated") == 0)
			return ST_SIMULATED;
		return ST_OTHER;
	case 'd':
		return strcmp((const char *)s, "delivered") == 0 ? ST_DELIVERED
								 : ST_OTHER;
	case 'f':
	case 'e':
	case 'r':
		return strcmp((const char *)s, "failed") == 0 ||
				       strcmp((const char *)s, "expired") == 0 ||
				       strcmp((const char *)s, "rejected") == 0
			       ? ST_FAILED
			       : ST_OTHER;
	default:
		return ST_OTHER;
	}
}

/*
 * Appends the columns of a row query: the time (time_expr), the status,
 * the segments, then for each key of q its column (NULL for a period,
 * which comes from the time), then the message's id: only what the keys
 * need is read.
 */
static void
row_cols(struct cn_buf *b, const struct cn_stats_query *q,
	 const char *time_expr)
{
	cn_buf_addf(b, "%s, m.status, m.segments", time_expr);
	for (size_t i = 0; i < q->nkeys; i++) {
		switch (q->keys[i]) {
		case CN_SK_FOLDER: cn_buf_adds(b, ", m.folder_id"); break;
		case CN_SK_USER: cn_buf_adds(b, ", m.user_id"); break;
		case CN_SK_CAMPAIGN: cn_buf_adds(b, ", m.campaign_id"); break;
		case CN_SK_TEMPLATE: cn_buf_adds(b, ", m.template_id"); break;
		default: cn_buf_adds(b, ", NULL"); break;
		}
	}
	cn_buf_adds(b, ", m.id");
}

/* One group: its key values (ids; 0 for NULL; periods as a day or month
 * number), its labels once named, its figures. */
struct group {
	int64_t k[CN_STATS_MAXKEYS];
	char *label[CN_STATS_MAXKEYS];
	char *campaign_name;
	struct cn_stats_fig fig;
	int used;
};

struct groups {
	struct group *g;	/* open addressing, cap a power of two */
	size_t cap, n;
	const struct cn_stats_query *q;
	int64_t last_day, last_month;	/* the month of last_day, cached */
	int64_t min_id, max_id;	/* of the messages counted (0: none) */
};

/* The month number (months since 1970-01) of day number day. */
static int64_t
month_number(struct groups *gs, int64_t day)
{
	time_t t;
	struct tm tm;

	if (day == gs->last_day)
		return gs->last_month;
	t = (time_t)(day * 86400);
	gmtime_r(&t, &tm);
	gs->last_day = day;
	gs->last_month = (int64_t)(tm.tm_year - 70) * 12 + tm.tm_mon;
	return gs->last_month;
}

/* The value of key i of the query for a row whose columns (row_cols)
 * start at base. */
static int64_t
key_value(struct groups *gs, size_t i, sqlite3_stmt *s, int base)
{
	enum cn_stats_key k = gs->q->keys[i];
	int64_t day;

	if (!cn_stats_key_is_period(k))
		return sqlite3_column_int64(s, base + 3 + (int)i);
	day = sqlite3_column_int64(s, base) / 86400;
	if (k == CN_SK_WEEK)
		return day - ((day % 7) + 7 + 3) % 7;	/* its Monday */
	if (k == CN_SK_MONTH)
		return month_number(gs, day);
	return day;
}

static uint64_t
hash_keys(const int64_t *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint64_t)k[i];
		h *= 1099511628211ULL;
		h ^= h >> 29;
	}
	return h;
}

static int
groups_grow(struct groups *gs)
{
	size_t ncap = gs->cap ? gs->cap * 2 : 256;
	struct group *ng = calloc(ncap, sizeof(*ng));

	if (!ng)
		return -1;
	for (size_t i = 0; i < gs->cap; i++) {
		size_t j;

		if (!gs->g[i].used)
			continue;
		j = hash_keys(gs->g[i].k, gs->q->nkeys) & (ncap - 1);
		while (ng[j].used)
			j = (j + 1) & (ncap - 1);
		ng[j] = gs->g[i];
	}
	free(gs->g);
	gs->g = ng;
	gs->cap = ncap;
	return 0;
}

/* The group of the keys k, created if needed; NULL when out of memory. */
static struct group *
group_get(struct groups *gs, const int64_t *k)
{
	size_t n = gs->q->nkeys, j;

	if ((gs->n + 1) * 2 > gs->cap && groups_grow(gs) < 0)
		return NULL;
	j = hash_keys(k, n) & (gs->cap - 1);
	while (gs->g[j].used) {
		if (memcmp(gs->g[j].k, k, n * sizeof(*k)) == 0)
			return &gs->g[j];
		j = (j + 1) & (gs->cap - 1);
	}
	gs->g[j].used = 1;
	memcpy(gs->g[j].k, k, n * sizeof(*k));
	gs->n++;
	return &gs->g[j];
}

static void
groups_free(struct groups *gs)
{
	for (size_t i = 0; i < gs->cap; i++) {
		for (int j = 0; j < CN_STATS_MAXKEYS; j++)
			free(gs->g[i].label[j]);
		free(gs->g[i].campaign_name);
	}
	free(gs->g);
	gs->g = NULL;
	gs->cap = gs->n = 0;
}

/* Adds one message row (columns from base) to its group.  Returns 0 or
 * -1 (memory). */
static int
add_message(struct groups *gs, sqlite3_stmt *s, int base)
{
	int64_t k[CN_STATS_MAXKEYS];
	int64_t seg = sqlite3_column_int64(s, base + 2);
	enum st st = status_of(sqlite3_column_text(s, base + 1));
	int64_t id = sqlite3_column_int64(s, base + 3 + (int)gs->q->nkeys);
	struct group *g;
	struct cn_stats_fig *f;

	if (st == ST_OTHER)
		return 0;
	if (!gs->min_id || id < gs->min_id)
		gs->min_id = id;
	if (id > gs->max_id)
		gs->max_id = id;
	for (size_t i = 0; i < gs->q->nkeys; i++)
		k[i] = key_value(gs, i, s, base);
	if (!(g = group_get(gs, k)))
		return -1;
	f = &g->fig;
	switch (st) {
	case ST_SENT:
		f->pending[0] += seg;
		f->pending[1]++;
		break;
	case ST_DELIVERED:
		f->delivered[0] += seg;
		f->delivered[1]++;
		break;
	case ST_FAILED:
		f->failed[0] += seg;
		f->failed[1]++;
		break;
	case ST_SKIPPED:
		f->skipped[0] += seg;
		f->skipped[1]++;
		return 0;
	case ST_SIMULATED:
		f->simulated[0] += seg;
		f->simulated[1]++;
		return 0;
	default:
		return 0;
	}
	f->sent[0] += seg;
	f->sent[1]++;
	return 0;
}

/* The WHERE clause on the message m of q. */
static void
where_clause(struct cn_buf *b, const struct cn_stats_query *q)
{
	if (q->campaign > 0)
		cn_buf_adds(b, "m.campaign_id = ?5");
	else
		cn_buf_adds(b, "m.sent_at >= ?1 AND m.sent_at < ?2");
	if (q->folder)
		cn_buf_adds(b, " AND m.folder_id = ?3");
	if (q->user)
		cn_buf_adds(b, " AND m.user_id = ?4");
}

static sqlite3_stmt *
prepare_q(sqlite3 *db, const char *sql, const struct groups *gs,
	  int64_t fid, int64_t uid, struct cn_err *err)
{
	const struct cn_stats_query *q = gs->q;
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL)) {
		cn_sql_fail(err, db, "statistics");
		return NULL;
	}
	sqlite3_bind_int64(s, 1, q->from);
	sqlite3_bind_int64(s, 2, q->to);
	sqlite3_bind_int64(s, 3, fid);
	sqlite3_bind_int64(s, 4, uid);
	sqlite3_bind_int64(s, 5, q->campaign);
	if (sqlite3_bind_parameter_count(s) >= 7) {
		sqlite3_bind_int64(s, 6, gs->min_id);
		sqlite3_bind_int64(s, 7, gs->max_id);
	}
	return s;
}

/* Adds the message rows that sql (columns row_cols) returns to gs.
 * Returns 0 or -1. */
static int
sum_messages(sqlite3 *db, struct groups *gs, const char *sql, int64_t fid,
	     int64_t uid, struct cn_err *err)
{
	sqlite3_stmt *s = prepare_q(db, sql, gs, fid, uid, err);
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (add_message(gs, s, 0) < 0) {
			sqlite3_finalize(s);
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "statistics");
	return 0;
}

/* Sums the messages and their replies of q into gs.  Returns 0 or -1. */
static int
collect(sqlite3 *db, struct groups *gs, int64_t fid, int64_t uid,
	struct cn_err *err)
{
	const struct cn_stats_query *q = gs->q;
	struct cn_buf sql;
	sqlite3_stmt *s;
	int rc, base = 3;
	int64_t prev = 0;
	int replied = 0, optout = 0;
	struct group *pg = NULL;

	cn_buf_init(&sql, 0);
	cn_buf_adds(&sql, "SELECT ");
	row_cols(&sql, q, "m.sent_at");
	cn_buf_adds(&sql, " FROM message m WHERE ");
	where_clause(&sql, q);
	if (sum_messages(db, gs, sql.ptr, fid, uid, err) < 0)
		goto fail_sql;

	/*
	 * A message the gateway refused when it was handed over has no
	 * sent_at, but it was sent (and is in the ledger): it counts at the
	 * time it failed.  Few rows, found at the start of the index (NULLs
	 * first).
	 */
	if (q->campaign <= 0) {
		cn_buf_reset(&sql);
		cn_buf_adds(&sql, "SELECT ");
		row_cols(&sql, q, "coalesce(m.done_at, m.created_at)");
		cn_buf_adds(&sql, " FROM message m WHERE m.sent_at IS NULL "
			    "AND m.status IN ('failed', 'expired', 'rejected') "
			    "AND coalesce(m.done_at, m.created_at) >= ?1 AND "
			    "coalesce(m.done_at, m.created_at) < ?2");
		if (q->folder)
			cn_buf_adds(&sql, " AND m.folder_id = ?3");
		if (q->user)
			cn_buf_adds(&sql, " AND m.user_id = ?4");
		if (sum_messages(db, gs, sql.ptr, fid, uid, err) < 0)
			goto fail_sql;
	}

	/*
	 * The replies, by message (the index reply_message keeps a
	 * message's replies together); each joined to its message.  Read
	 * from the reply side: replies are far fewer than messages; and
	 * only those between the first and the last message counted (ids
	 * grow with time), not every reply of the store's history.
	 */
	if (!gs->max_id)
		goto done;
	cn_buf_reset(&sql);
	cn_buf_adds(&sql, "SELECT y.message_id, y.kind, y.rowid, ");
	row_cols(&sql, q, "m.sent_at");
	/* a reply held after its campaign closed counts once a fetch of
	 * that campaign applies it (carnet-sms-fetch --campaign) */
	cn_buf_adds(&sql, " FROM reply y CROSS JOIN message m ON m.id = "
		    "y.message_id WHERE y.message_id BETWEEN ?6 AND ?7 AND "
		    "y.held = 0 AND ");
	where_clause(&sql, q);
	cn_buf_adds(&sql, " ORDER BY y.message_id");
	s = prepare_q(db, sql.ptr, gs, fid, uid, err);
	if (!s)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t mid = sqlite3_column_int64(s, 0);
		const char *kind = (const char *)sqlite3_column_text(s, 1);
		enum st st = status_of(sqlite3_column_text(s, base + 1));
		int64_t k[CN_STATS_MAXKEYS];
		struct group *g;

		if (q->simulated ? st != ST_SIMULATED
				 : (st != ST_SENT && st != ST_DELIVERED &&
				    st != ST_FAILED))
			continue;
		if (mid != prev) {
			if (pg) {
				pg->fig.replied += replied;
				pg->fig.optouts += optout;
			}
			prev = mid;
			replied = optout = 0;
			for (size_t i = 0; i < q->nkeys; i++)
				k[i] = key_value(gs, i, s, base);
			if (!(g = group_get(gs, k))) {
				cn_err_set(err, CN_EINTERNAL, "out of memory");
				goto fail;
			}
			pg = g;
		}
		if (kind && strcmp(kind, "reply") == 0) {
			pg->fig.replies++;
			replied = 1;
		} else if (kind && strcmp(kind, "optout") == 0) {
			optout = 1;
		}
	}
	if (pg) {
		pg->fig.replied += replied;
		pg->fig.optouts += optout;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		cn_sql_fail(err, db, "statistics");
		goto fail_sql;
	}
done:
	cn_buf_free(&sql);
	return 0;
fail:
	sqlite3_finalize(s);
fail_sql:
	cn_buf_free(&sql);
	return -1;
}

/* Writes into out[11] the label of period value v of key k. */
static void
period_label(enum cn_stats_key k, int64_t v, char out[11])
{
	time_t t;
	struct tm tm;

	if (k == CN_SK_MONTH) {
		snprintf(out, 11, "%04d-%02d", (int)(1970 + v / 12),
			 (int)(v % 12 + 1));
		return;
	}
	t = (time_t)(v * 86400);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Names the keys of every group: periods, names, titles.  Returns 0 or
 * -1. */
static int
name_groups(sqlite3 *db, struct groups *gs, struct cn_err *err)
{
	static const char *const sql[CN_SK_N] = {
		[CN_SK_FOLDER] = "SELECT name FROM folder WHERE id = ?1",
		[CN_SK_USER] = "SELECT name FROM user WHERE id = ?1",
		[CN_SK_CAMPAIGN] = "SELECT name FROM campaign WHERE id = ?1",
		[CN_SK_TEMPLATE] = "SELECT title FROM template WHERE id = ?1",
	};
	const struct cn_stats_query *q = gs->q;

	for (size_t i = 0; i < q->nkeys; i++) {
		enum cn_stats_key k = q->keys[i];
		sqlite3_stmt *s = NULL;

		if (!cn_stats_key_is_period(k) &&
		    sqlite3_prepare_v2(db, sql[k], -1, &s, NULL))
			return cn_sql_fail(err, db, "statistics");
		for (size_t j = 0; j < gs->cap; j++) {
			struct group *g = &gs->g[j];
			char buf[24];
			const unsigned char *v = NULL;
			char **dst = &g->label[i];

			if (!g->used)
				continue;
			if (cn_stats_key_is_period(k)) {
				period_label(k, g->k[i], buf);
				*dst = strdup(buf);
				if (!*dst)
					goto oom;
				continue;
			}
			if (!g->k[i])
				continue;	/* NULL: no template, user */
			sqlite3_bind_int64(s, 1, g->k[i]);
			if (sqlite3_step(s) == SQLITE_ROW)
				v = sqlite3_column_text(s, 0);
			if (k == CN_SK_CAMPAIGN) {
				snprintf(buf, sizeof(buf), "%" PRId64,
					 g->k[i]);
				*dst = strdup(buf);
				if (v && !(g->campaign_name =
						   strdup((const char *)v)))
					goto oom;
			} else {
				/* a row gone meanwhile: its id */
				snprintf(buf, sizeof(buf), "#%" PRId64,
					 g->k[i]);
				*dst = strdup(v ? (const char *)v : buf);
			}
			sqlite3_reset(s);
			if (!*dst)
				goto oom;
		}
		sqlite3_finalize(s);
		continue;
oom:
		sqlite3_finalize(s);
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	}
	return 0;
}

/* qsort has no context argument: the query being sorted. */
static const struct cn_stats_query *sort_q;

static int
cmp_label(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;	/* NULL first */
	return strcmp(a, b);
}

static int
cmp_keys(const struct group *a, const struct group *b)
{
	for (size_t i = 0; i < sort_q->nkeys; i++) {
		enum cn_stats_key k = sort_q->keys[i];
		int c;

		if (cn_stats_key_is_period(k) || k == CN_SK_CAMPAIGN)
			c = a->k[i] < b->k[i] ? -1 : a->k[i] > b->k[i];
		else
			c = cmp_label(a->label[i], b->label[i]);
		if (c)
			return c;
	}
	return 0;
}

static int
cmp_group(const void *pa, const void *pb)
{
	const struct group *a = *(struct group *const *)pa;
	const struct group *b = *(struct group *const *)pb;

	if (sort_q->rank) {
		int u = sort_q->unit;

		if (a->fig.sent[u] != b->fig.sent[u])
			return a->fig.sent[u] > b->fig.sent[u] ? -1 : 1;
	}
	return cmp_keys(a, b);
}

/* The period after period value v of key k. */
static int64_t
period_next(enum cn_stats_key k, int64_t v)
{
	return k == CN_SK_WEEK ? v + 7 : v + 1;
}

/* The period value of key k holding Unix time t. */
static int64_t
period_value(struct groups *gs, enum cn_stats_key k, int64_t t)
{
	int64_t day = t / 86400;

	if (k == CN_SK_WEEK)
		return day - ((day % 7) + 7 + 3) % 7;
	if (k == CN_SK_MONTH)
		return month_number(gs, day);
	return day;
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

/* Calls fn for group g; returns what it returned. */
static int
emit(const struct group *g, int64_t rank, cn_stats_fn fn, void *ctx)
{
	struct cn_stats_row r;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < CN_STATS_MAXKEYS; i++)
		r.label[i] = g->label[i];
	r.campaign_name = g->campaign_name;
	r.rank = rank;
	r.fig = g->fig;
	return fn(ctx, &r);
}

int
cn_stats_run(struct cn_store *st, const struct cn_stats_query *q,
	     cn_stats_fn fn, void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int own = sqlite3_get_autocommit(db), rc = -1, fill;
	int64_t fid = 0, uid = 0, rank = 0;
	struct groups gs;
	struct group **order = NULL;
	size_t n = 0;

	if (q->nkeys > CN_STATS_MAXKEYS)
		return cn_err_set(err, CN_EUSAGE, "too many keys");
	if (q->campaign <= 0 && q->to <= q->from)
		return cn_err_set(err, CN_EUSAGE, "empty period");
	memset(&gs, 0, sizeof(gs));
	gs.q = q;
	gs.last_day = INT64_MIN;
	fill = q->fill && q->nkeys == 1 && cn_stats_key_is_period(q->keys[0]) &&
	       q->campaign <= 0 && !q->rank;
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
	if (collect(db, &gs, fid, uid, err) < 0)
		goto out;
	if (q->nkeys == 0 && gs.n == 0) {	/* the totals, even zero */
		int64_t none[CN_STATS_MAXKEYS] = {0};

		if (!group_get(&gs, none))
			goto oom;
	}
	if (fill) {	/* every period of the range, empty ones too */
		enum cn_stats_key k = q->keys[0];
		int64_t v = period_value(&gs, k, q->from);
		int64_t last = period_value(&gs, k, q->to - 1);

		for (; v <= last; v = period_next(k, v))
			if (!group_get(&gs, &v))
				goto oom;
	}
	if (name_groups(db, &gs, err) < 0)
		goto out;
	if (gs.n && !(order = malloc(gs.n * sizeof(*order))))
		goto oom;
	for (size_t i = 0; i < gs.cap; i++)
		if (gs.g[i].used)
			order[n++] = &gs.g[i];
	sort_q = q;
	if (n)
		qsort(order, n, sizeof(*order), cmp_group);
	for (size_t i = 0; i < n; i++) {
		if (q->rank && q->nkeys) {
			int none = 1;

			for (size_t j = 0; j < q->nkeys; j++)
				if (order[i]->label[j])
					none = 0;
			if (none)
				continue;
		}
		if (q->rank && q->limit > 0 && rank >= q->limit)
			break;
		if (emit(order[i], ++rank, fn, ctx))
			break;
	}
	rc = 0;
	goto out;
oom:
	cn_err_set(err, CN_EINTERNAL, "out of memory");
out:
	free(order);
	groups_free(&gs);
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

int64_t
cn_stats_campaign_find(struct cn_store *st, const char *key,
		       const char *folder, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int64_t id = 0, n = 0;
	const char *p = key;
	int rc;

	for (; *p >= '0' && *p <= '9'; p++)
		;
	if (*key && !*p && p - key < 19)
		return strtoll(key, NULL, 10);
	if (sqlite3_prepare_v2(db,
			       "SELECT c.id FROM campaign c JOIN folder f ON "
			       "f.id = c.folder_id WHERE c.name = ?1 AND (?2 "
			       "IS NULL OR f.name = ?2) ORDER BY c.id", -1, &s,
			       NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (folder)
		sqlite3_bind_text(s, 2, folder, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	if (n == 0)
		return cn_err_set(err, CN_ENOINPUT, "no campaign '%s'%s%s", key,
				  folder ? " in folder " : "",
				  folder ? folder : "");
	if (n > 1)
		return cn_err_set(err, CN_EUSAGE, "%" PRId64 " campaigns are "
				  "named '%s' (one per folder): give its id, "
				  "or --folder", n, key);
	return id;
}
