/*
 * carnet-stats.h - statistics of the SMS sent: consumption, delivery and
 * reply rates, template usage, one campaign; charts.  See lib/stats.c
 * and lib/svg.c.  Included by carnet.h; not to be included on its own.
 *
 * What counts (the rules are stated once here and in carnet-stats(1)):
 *
 *  - A message is one SMS text to one recipient.  It is *sent* when its
 *    status is sent, delivered, failed, expired or rejected: it was
 *    handed to a gateway and is in the usage ledger.  preparing (not sent
 *    yet), skipped (blacklisted, never sent) and simulated (simulation
 *    mode) are not sent; skipped and simulated messages are counted apart.
 *  - sms: the segments of the messages sent (the quota's SMS);
 *    recipients: the messages sent (one per recipient and send, as the
 *    quota counts them).
 *  - delivered: status delivered; failed: failed, expired or rejected;
 *    pending: sent, still waiting for a receipt.  They are counted in SMS
 *    or in recipients (struct cn_stats_query.unit).
 *  - delivery rate = delivered / (sent - pending), i.e. over the messages
 *    whose fate is known; pending messages are shown, never in the rate.
 *  - replies: replies (kind 'reply') to the messages sent; replied: the
 *    recipients (messages) with at least one reply; reply rate = replied
 *    / recipients; opt-outs: the recipients who answered STOP.
 *  - A message belongs to the period of its sent_at (UTC): days, weeks
 *    that start on Monday (named by that Monday), calendar months.
 */
#ifndef CARNET_STATS_H
#define CARNET_STATS_H

/* What figures can be grouped by. */
enum cn_stats_key {
	CN_SK_DAY = 0,
	CN_SK_WEEK,
	CN_SK_MONTH,
	CN_SK_FOLDER,
	CN_SK_USER,
	CN_SK_CAMPAIGN,
	CN_SK_TEMPLATE,
	CN_SK_N
};

#define CN_STATS_MAXKEYS 4

/* The unit of delivered, failed, pending, skipped and simulated. */
enum cn_stats_unit {
	CN_STATS_SMS = 0,	/* segments */
	CN_STATS_RECIPIENTS,	/* messages */
};

/* "day", "week", "month", "folder", "user", "campaign", "template". */
const char *cn_stats_key_name(enum cn_stats_key k);
/* 1 for day, week and month. */
int cn_stats_key_is_period(enum cn_stats_key k);

/*
 * Parses a comma-separated list of keys ("month,user") into keys[] (at
 * most CN_STATS_MAXKEYS, no key twice, at most one period).  Returns the
 * number of keys, or -1 with err (CN_EUSAGE).
 */
int cn_stats_keys_parse(const char *s, enum cn_stats_key keys[],
			struct cn_err *err);

/*
 * Parses the period: from and to are "YYYY-MM-DD" or "YYYY-MM" (to is
 * inclusive: its whole day or month), either may be NULL.  A missing from
 * is the first day of the month of to (or of now); a missing to, the last
 * day of the month of from (or of now; 0: the current time, which
 * $CARNET_NOW fixes for tests).  Writes [*t0, *t1) in Unix seconds
 * (UTC).  Returns 0, or -1 with err (CN_EUSAGE: a bad date, to before
 * from).
 */
int cn_stats_period(const char *from, const char *to, int64_t now,
		    int64_t *t0, int64_t *t1, struct cn_err *err);

/* The figures of one group.  Arrays are indexed by enum cn_stats_unit. */
struct cn_stats_fig {
	int64_t sent[2];	/* sms (segments), recipients (messages) */
	int64_t delivered[2];
	int64_t failed[2];	/* failed, expired, rejected */
	int64_t pending[2];	/* sent, no final receipt yet */
	int64_t skipped[2];	/* blacklisted, never sent */
	int64_t simulated[2];	/* simulation mode, never sent */
	int64_t replies;	/* replies to the messages counted */
	int64_t replied;	/* recipients with at least one reply */
	int64_t optouts;	/* recipients who answered STOP */
};

/* delivered / (sent - pending) in unit u, as a percentage; -1 when no
 * message has a known fate. */
double cn_stats_delivery_rate(const struct cn_stats_fig *f,
			      enum cn_stats_unit u);
/* replied / recipients, as a percentage; -1 when there are none. */
double cn_stats_reply_rate(const struct cn_stats_fig *f);

struct cn_stats_query {
	int64_t from, to;	/* [from, to) in Unix seconds, on sent_at */
	const char *folder;	/* NULL: every folder */
	const char *user;	/* NULL: every user */
	int64_t campaign;	/* > 0: that campaign only, whatever its
				   time (from and to are ignored) */
	enum cn_stats_key keys[CN_STATS_MAXKEYS];
	size_t nkeys;
	enum cn_stats_unit unit;	/* for rank */
	int fill;		/* with one period key alone: every period of
				   [from, to), empty ones as zero rows */
	int rank;		/* order by sent in unit, largest first, and
				   leave out rows whose keys are all NULL */
	int64_t limit;		/* with rank: at most that many rows (0: all) */
	int simulated;		/* replies of simulated messages count (for a
				   simulated campaign), not those of sent
				   ones */
};

/* One group.  Strings are valid during the callback only. */
struct cn_stats_row {
	const char *label[CN_STATS_MAXKEYS];	/* the keys' values as text
						   (periods: the first day,
						   "2026-11-16"; months:
						   "2026-11"; campaign: its
						   id); NULL when none (a
						   message without template
						   or user) */
	const char *campaign_name;	/* with a campaign key */
	int64_t rank;		/* 1, 2, ... in output order */
	struct cn_stats_fig fig;
};

typedef int (*cn_stats_fn)(void *ctx, const struct cn_stats_row *r);

/*
 * Computes the figures of the messages of q (one read transaction) and
 * calls fn for each group, ordered by the keys (periods in time order,
 * names alphabetically, campaigns by id) or, with rank, by size.  With no
 * key, one row: the totals (zero when nothing matches).  An unknown
 * folder or user matches nothing.  Stops early, returning 0, when fn
 * returns non-zero.  Returns 0, or -1 with err.
 */
int cn_stats_run(struct cn_store *st, const struct cn_stats_query *q,
		 cn_stats_fn fn, void *ctx, struct cn_err *err);

/* One campaign. */
struct cn_stats_campaign {
	int64_t id;
	char name[256];
	char folder[256];
	char user[256];		/* "" when none */
	char template[256];	/* title, "" when none */
	char status[16];	/* draft, sending, sent, closed */
	int simulated;		/* a simulated campaign: fig counts its
				   simulated messages' replies */
	int64_t created_at, sent_at, close_at, closed_at;	/* 0: none */
	struct cn_stats_fig fig;
};

/*
 * Fills *c with campaign id's figures.  Returns 0, or -1 with err
 * (CN_ENOINPUT: no such campaign).
 */
int cn_stats_campaign(struct cn_store *st, int64_t id,
		      struct cn_stats_campaign *c, struct cn_err *err);

/*
 * The id of the campaign named by key: a number is an id (not checked
 * here); else a campaign's name, in folder (NULL: any folder).  Returns
 * the id, or -1 with err (CN_ENOINPUT: none has that name; CN_EUSAGE:
 * several folders have one).
 */
int64_t cn_stats_campaign_find(struct cn_store *st, const char *key,
			       const char *folder, struct cn_err *err);

/* ---------------------------------------------------------------------
 * Charts (lib/svg.c)
 */

/* One bar of a chart. */
struct cn_chart_point {
	const char *label;	/* borrowed */
	int64_t delivered, failed, pending;
	double reply_rate;	/* percentage, -1: none */
};

struct cn_chart {
	const char *title;	/* borrowed */
	const char *xlabel;	/* "day", "user", ... */
	const char *ylabel;	/* "SMS" or "recipients" */
	const struct cn_chart_point *points;
	size_t npoints;
};

/*
 * Writes the chart as a standalone SVG document to fp: one stacked bar
 * per point (delivered, failed, pending; each bar a <g class="bar">
 * holding a <title> and three <rect>), the reply rate as a line on a
 * secondary axis (0-100 %, or 0-50, 25, 10 or 5 % when every rate is
 * below), both axes labelled, a legend and the title.
 * Labels are thinned so that they never overlap, whatever the number of
 * points.  Returns 0, or -1 with err (CN_ECANTCREAT on a write error).
 */
int cn_chart_svg(FILE *fp, const struct cn_chart *c, struct cn_err *err);

/*
 * Writes the chart as text for a terminal, one line per point: the label,
 * a bar of width at most width columns (delivered '#', failed 'x',
 * pending '.', or block characters when utf8), the total, and the
 * delivery and reply rates.  Returns 0, or -1 with err.
 */
int cn_chart_text(FILE *fp, const struct cn_chart *c, int width, int utf8,
		  struct cn_err *err);

#endif
