/*
 * t-stats.c - unit tests of lib/stats.c and lib/svg.c: the --by keys, the
 * period (dates, months, defaults, leap years, reversed), the rates and
 * their undefined cases, cn_stats_run on a small store (totals, an empty
 * store, empty days filled, a stop from the callback, the ranking's
 * limit), and the charts: SVG with one bar group per point and escaped
 * labels, label thinning, the text chart.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "tap.h"

static struct cn_store *st;

/* Rows seen by the callback. */
struct seen {
	int n, stop_after;
	char labels[64][24];
	struct cn_stats_fig fig[64];
};

static int
see(void *ctx, const struct cn_stats_row *r)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		snprintf(s->labels[s->n], sizeof(s->labels[0]), "%s",
			 r->label[0] ? r->label[0] : "(null)");
		s->fig[s->n] = r->fig;
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

/* The output of a chart as a string (static buffer). */
static const char *
chart(const struct cn_chart *c, int svg)
{
	static char buf[1 << 20];
	FILE *fp = fmemopen(buf, sizeof(buf) - 1, "w");
	struct cn_err err;

	if (!fp)
		return "";
	if (svg)
		cn_chart_svg(fp, c, &err);
	else
		cn_chart_text(fp, c, 20, 0, &err);
	fclose(fp);
	return buf;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

int
main(void)
{
	enum cn_stats_key keys[CN_STATS_MAXKEYS];
	struct cn_err err;
	int64_t t0, t1;
	char path[] = "/tmp/t-stats.XXXXXX";
	int fd;

	/* --- keys ------------------------------------------------------ */
	is_int(cn_stats_keys_parse("month,user", keys, &err), 2, "two keys");
	ok(keys[0] == CN_SK_MONTH && keys[1] == CN_SK_USER, "in order");
	is_int(cn_stats_keys_parse("day,folder,campaign,template", keys, &err),
	       4, "four keys");
	is_int(cn_stats_keys_parse("week,month", keys, &err), -1,
	       "two periods refused");
	is_int(err.code, CN_EUSAGE, "as a usage error");
	is_int(cn_stats_keys_parse("user,folder,user", keys, &err), -1,
	       "a key twice refused");
	is_int(cn_stats_keys_parse("use", keys, &err), -1, "a prefix is not a key");
	is_int(cn_stats_keys_parse("", keys, &err), -1, "an empty list");
	is_int(cn_stats_keys_parse("day,", keys, &err), -1, "a trailing comma");

	/* --- periods ----------------------------------------------------- */
	ok(cn_stats_period(NULL, NULL, 1795334400, &t0, &t1, &err) == 0 &&
		   t0 == 1793491200 && t1 == 1796083200,
	   "default: the month of now (2026-11)");
	ok(cn_stats_period("2026-10-01", "2026-10-31", 1, &t0, &t1, &err) == 0 &&
		   t0 == 1790812800 && t1 == 1793491200,
	   "--to is included: its whole day");
	ok(cn_stats_period("2026-02", NULL, 1, &t0, &t1, &err) == 0 &&
		   t1 - t0 == 28 * 86400, "a month alone: February 2026");
	ok(cn_stats_period(NULL, "2028-02-29", 1, &t0, &t1, &err) == 0 &&
		   t1 - t0 == 29 * 86400, "--to alone: from its month's start (leap)");
	ok(cn_stats_period("2026-02-29", NULL, 1, &t0, &t1, &err) < 0,
	   "2026-02-29 does not exist");
	ok(cn_stats_period("2026-1-01", NULL, 1, &t0, &t1, &err) < 0,
	   "a short month refused");
	ok(cn_stats_period("2026-12-02", "2026-12-01", 1, &t0, &t1, &err) < 0,
	   "a period that ends before it starts");
	ok(cn_stats_period("2026-12-01", "2026-12-01", 1, &t0, &t1, &err) == 0 &&
		   t1 - t0 == 86400, "one day");

	/* --- rates ------------------------------------------------------- */
	{
		struct cn_stats_fig f;

		memset(&f, 0, sizeof(f));
		ok(cn_stats_delivery_rate(&f, CN_STATS_SMS) < 0 &&
			   cn_stats_reply_rate(&f) < 0,
		   "no message: no rate");
		f.sent[0] = 10;
		f.sent[1] = 4;
		f.pending[0] = 10;
		f.pending[1] = 4;
		ok(cn_stats_delivery_rate(&f, CN_STATS_SMS) < 0,
		   "everything pending: no delivery rate (not 0%%)");
		f.pending[0] = 2;
		f.pending[1] = 1;
		f.delivered[0] = 6;
		f.delivered[1] = 2;
		f.failed[0] = 2;
		f.failed[1] = 1;
		f.replied = 1;
		ok(cn_stats_delivery_rate(&f, CN_STATS_SMS) == 75.0,
		   "6 / (10 - 2) = 75%% in SMS");
		ok(cn_stats_delivery_rate(&f, CN_STATS_RECIPIENTS) * 3 == 200.0,
		   "2 / (4 - 1) in recipients");
		ok(cn_stats_reply_rate(&f) == 25.0, "1 of 4 recipients replied");
	}

	/* --- the query ------------------------------------------------------ */
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	st = cn_store_open(path, 1000, &err);
	ok(st != NULL, "a store");
	if (!st)
		return done_testing();
	{
		struct cn_stats_query q;
		struct seen s;

		memset(&q, 0, sizeof(q));
		q.from = 1793491200;	/* November 2026 */
		q.to = 1796083200;
		memset(&s, 0, sizeof(s));
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 1 &&
			   s.fig[0].sent[0] == 0,
		   "an empty store: one row of zero totals");
		sqlite3_exec(cn_store_db(st),
			     "INSERT INTO folder VALUES(1, 'f', 0);"
			     "INSERT INTO campaign(id, uuid, folder_id, name, "
			     "created_at) VALUES(1, 'c', 1, 'c', 0);"
			     "INSERT INTO message(ref, campaign_id, folder_id, "
			     "phone, body, encoding, segments, status, "
			     "created_at, sent_at) VALUES"
			     "('a', 1, 1, 'p', 'b', 'gsm7', 2, 'delivered', 0, "
			     "1795334400),"
			     "('b', 1, 1, 'p', 'b', 'gsm7', 2, 'sent', 0, "
			     "1795334400),"
			     "('c', 1, 1, 'p', 'b', 'gsm7', 1, 'simulated', 0, "
			     "1793491200),"
			     "('d', 1, 1, 'p', 'b', 'gsm7', 1, 'delivered', 0, "
			     "1796083200)",
			     NULL, NULL, NULL);
		memset(&s, 0, sizeof(s));
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 1 &&
			   s.fig[0].sent[0] == 4 && s.fig[0].sent[1] == 2 &&
			   s.fig[0].pending[1] == 1 &&
			   s.fig[0].simulated[0] == 1,
		   "totals: 4 SMS to 2, 1 pending, 1 simulated apart, "
		   "December's message out");
		q.keys[0] = CN_SK_DAY;
		q.nkeys = 1;
		q.fill = 1;
		memset(&s, 0, sizeof(s));
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 30,
		   "by day, filled: 30 rows");
		is_str(s.labels[0], "2026-11-01", "from the 1st");
		is_str(s.labels[29], "2026-11-30", "to the 30th");
		ok(s.fig[21].sent[0] == 4 && s.fig[0].simulated[1] == 1 &&
			   s.fig[1].sent[0] == 0,
		   "the 22nd holds the sends, the 1st the simulation");
		q.fill = 0;
		memset(&s, 0, sizeof(s));
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 2,
		   "not filled: only the days with messages");
		q.fill = 1;
		memset(&s, 0, sizeof(s));
		s.stop_after = 3;
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 3,
		   "the callback stops the run");
		q.keys[0] = CN_SK_MONTH;
		q.from = 1790812800;	/* October to December */
		q.to = 1798761600;
		memset(&s, 0, sizeof(s));
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 3 &&
			   strcmp(s.labels[0], "2026-10") == 0 &&
			   s.fig[2].sent[1] == 1,
		   "by month: October (empty) to December");
		q.keys[0] = CN_SK_FOLDER;
		q.rank = 1;
		q.limit = 1;
		memset(&s, 0, sizeof(s));
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 1 &&
			   strcmp(s.labels[0], "f") == 0,
		   "ranked, limit 1");
		q.user = "nobody";
		q.rank = 0;
		memset(&s, 0, sizeof(s));
		ok(cn_stats_run(st, &q, see, &s, &err) == 0 && s.n == 0,
		   "an unknown user matches nothing");
	}
	cn_store_close(st);
	unlink(path);
	{
		char side[sizeof(path) + 4];

		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}

	/* --- charts ---------------------------------------------------------- */
	{
		struct cn_chart_point pts[400];
		char labels[400][16];
		struct cn_chart c = {"A <title> & more", "day", "SMS", pts, 1};
		const char *out;

		for (int i = 0; i < 400; i++) {
			snprintf(labels[i], sizeof(labels[i]), "d%03d", i);
			pts[i].label = labels[i];
			pts[i].delivered = i % 7;
			pts[i].failed = i % 3;
			pts[i].pending = i % 2;
			pts[i].reply_rate = i % 5 ? 10.0 * (i % 5) : -1;
		}
		pts[0].label = "x&y";
		out = chart(&c, 1);
		ok(strncmp(out, "<?xml", 5) == 0, "an XML document");
		is_int(count(out, "<g class=\"bar\">"), 1, "one point, one bar");
		ok(strstr(out, "A &lt;title&gt; &amp; more") != NULL,
		   "the title escaped");
		ok(strstr(out, "x&amp;y") != NULL, "the label escaped");
		ok(strstr(out, "no messages") == NULL, "no 'no data' note");
		c.npoints = 400;
		out = chart(&c, 1);
		is_int(count(out, "<g class=\"bar\">"), 400, "400 bars");
		is_int(count(out, "class=\"delivered\""), 400,
		       "each with its delivered part");
		ok(count(out, "class=\"xlabel\"") <= 100 &&
			   count(out, "class=\"xlabel\"") >= 20,
		   "labels thinned (%d shown)", count(out, "class=\"xlabel\""));
		ok(count(out, "<polyline") > 1,
		   "the reply-rate line breaks where there is no rate");
		c.npoints = 0;
		out = chart(&c, 1);
		ok(strstr(out, "no messages in this period") != NULL &&
			   count(out, "<g class=\"bar\">") == 0,
		   "no point: a chart that says so");
		c.npoints = 3;
		pts[0].label = "a";
		pts[0].delivered = 20;
		pts[0].failed = 0;
		pts[0].pending = 0;
		pts[1].label = "b";
		pts[1].delivered = 5;
		pts[1].failed = 5;
		pts[1].pending = 10;
		pts[2].label = "c";
		pts[2].delivered = pts[2].failed = pts[2].pending = 0;
		pts[2].reply_rate = -1;
		out = chart(&c, 0);
		ok(strstr(out, "\na #################### 20  delivered 100.0%") !=
			   NULL, "text: the longest bar fills the width");
		ok(strstr(out, "\nb #####xxxxx.......... 20  delivered 50.0%") !=
			   NULL, "text: the parts in proportion, pending apart");
		ok(strstr(out, "\nc                      0\n") != NULL,
		   "text: an empty row, no rate");
	}
	return done_testing();
}
