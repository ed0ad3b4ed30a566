/*
 * carnet-stats - statistics of the SMS sent: consumption, delivery and
 * reply rates by period, folder, user, campaign or template; the template
 * ranking; one campaign; SVG and text charts.
 *
 * Option parsing, one call into libcarnet per command (lib/stats.c,
 * lib/svg.c), and the mapping of the result to output and an exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-stats [options] [--from DATE] [--to DATE] [--by KEYS]\n"
	"           [--count sms|recipients] [--chart FILE|-]\n"
	"       carnet-stats [options] templates [--top N] [--from DATE] [--to DATE]\n"
	"           [--count sms|recipients] [--chart FILE|-]\n"
	"       carnet-stats [options] campaign ID|NAME\n"
	"\n"
	"Figures of the SMS sent in a period (default: this month, UTC), for every\n"
	"folder and user unless --folder or --user is given: sms (segments) and\n"
	"recipients sent, delivered, failed, pending, delivery rate = delivered /\n"
	"(sent - pending), skipped, replies, recipients who replied, reply rate =\n"
	"replied / recipients, opt-outs; simulated messages apart.\n"
	"\n"
	"Commands:\n"
	"  (none)     the figures, one row per group (--by), or the totals\n"
	"  templates  the templates ranked by use (SMS or recipients sent)\n"
	"  campaign   one campaign (its id, or its name), whatever its dates;\n"
	"             a simulated one is labelled\n"
	"\n"
	"Options of the commands:\n"
	"      --from DATE          first day, YYYY-MM-DD or YYYY-MM (default: the\n"
	"                           first day of the month of --to, or of today)\n"
	"      --to DATE            last day, included (default: the last day of the\n"
	"                           month of --from, or of today)\n"
	"      --by KEYS            group by a comma-separated list of day, week,\n"
	"                           month, folder, user, campaign, template\n"
	"      --count UNIT         delivered, failed, pending, skipped and simulated\n"
	"                           counted in sms (segments, the default) or in\n"
	"                           recipients (messages)\n"
	"      --chart FILE         also write an SVG chart to FILE; '-': the chart\n"
	"                           instead of the table (text on a terminal, else SVG)\n"
	"      --top N              templates: the N most used only\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        only the messages of this folder (default: all)\n"
	"      --user NAME          only the messages of this user (default: all)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no notes on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  carnet-stats\n"
	"  carnet-stats --from 2026-10-01 --to 2026-10-31 --by user --format csv\n"
	"  carnet-stats --by folder,user --count recipients --format json\n"
	"  carnet-stats --by day --chart delivery.svg\n"
	"  carnet-stats templates --top 10\n"
	"  carnet-stats campaign 12\n"
	"  carnet-stats campaign rappel-demo --count recipients\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_FROM = OPT_TOOL_BASE,
	OPT_TO,
	OPT_BY,
	OPT_COUNT,
	OPT_CHART,
	OPT_TOP,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},
	{"by", required_argument, NULL, OPT_BY},
	{"count", required_argument, NULL, OPT_COUNT},
	{"chart", required_argument, NULL, OPT_CHART},
	{"top", required_argument, NULL, OPT_TOP},
	{NULL, 0, NULL, 0},
};

struct opts {
	const char *from, *to, *by, *chart;
	enum cn_stats_unit unit;
	int64_t top;		/* 0: not given */
};

static int
parse(struct cli *c, struct opts *o, int argc, char **argv,
      const char *optstring)
{
	int opt;

	while ((opt = getopt_long(argc, argv, optstring, options, NULL)) !=
	       -1) {
		if (cli_common(c, opt, optarg, usage)) {
			if (c->stop)
				return -1;
			continue;
		}
		switch (opt) {
		case OPT_FROM: o->from = optarg; break;
		case OPT_TO: o->to = optarg; break;
		case OPT_BY: o->by = optarg; break;
		case OPT_CHART: o->chart = optarg; break;
		case OPT_COUNT:
			if (strcmp(optarg, "sms") == 0)
				o->unit = CN_STATS_SMS;
			else if (strcmp(optarg, "recipients") == 0)
				o->unit = CN_STATS_RECIPIENTS;
			else
				return cli_stop(c, cli_usage_error(
							c, "--count: unknown "
							"unit '%s' (sms, "
							"recipients)", optarg));
			break;
		case OPT_TOP: {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1)
				return cli_stop(c, cli_usage_error(
							c, "--top: invalid "
							"number '%s' (1 or "
							"more)", optarg));
			o->top = v;
			break;
		}
		default:
			return cli_stop(c, cli_usage_error(c, "unexpected "
							   "option"));
		}
	}
	return 0;
}

/* ------------------------------------------------------------ output */

static void
add_str(struct cn_record *r, const char *name, const char *v)
{
	if (v)
		cn_record_add(r, name, v, strlen(v), CN_V_STR);
	else
		cn_record_add(r, name, NULL, 0, CN_V_NULL);
}

static void
add_num(struct cn_record *r, const char *name, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	cn_record_add(r, name, num, (size_t)n, CN_V_NUM);
}

/* A percentage with one decimal, null when undefined (< 0). */
static void
add_rate(struct cn_record *r, const char *name, double v)
{
	char num[24];
	int n;

	if (v < 0) {
		cn_record_add(r, name, NULL, 0, CN_V_NULL);
		return;
	}
	n = snprintf(num, sizeof(num), "%.1f", v);
	cn_record_add(r, name, num, (size_t)n, CN_V_NUM);
}

static void
add_bool(struct cn_record *r, const char *name, int v)
{
	cn_record_add(r, name, v ? "true" : "false", v ? 4 : 5, CN_V_BOOL);
}

/* The figure columns, after the keys. */
static const char *const fig_cols[] = {
	"count", "sms", "recipients", "delivered", "failed", "pending",
	"delivery_rate", "skipped", "replies", "replied", "reply_rate",
	"optouts", "simulated_sms", "simulated_recipients",
};
#define NFIG_COLS (sizeof(fig_cols) / sizeof(fig_cols[0]))

static void
add_figs(struct cn_record *r, const struct cn_stats_fig *f,
	 enum cn_stats_unit u)
{
	add_str(r, "count", u == CN_STATS_SMS ? "sms" : "recipients");
	add_num(r, "sms", f->sent[CN_STATS_SMS]);
	add_num(r, "recipients", f->sent[CN_STATS_RECIPIENTS]);
	add_num(r, "delivered", f->delivered[u]);
	add_num(r, "failed", f->failed[u]);
	add_num(r, "pending", f->pending[u]);
	add_rate(r, "delivery_rate", cn_stats_delivery_rate(f, u));
	add_num(r, "skipped", f->skipped[u]);
	add_num(r, "replies", f->replies);
	add_num(r, "replied", f->replied);
	add_rate(r, "reply_rate", cn_stats_reply_rate(f));
	add_num(r, "optouts", f->optouts);
	add_num(r, "simulated_sms", f->simulated[CN_STATS_SMS]);
	add_num(r, "simulated_recipients", f->simulated[CN_STATS_RECIPIENTS]);
}

/* The rows kept for a chart. */
struct kept {
	char *label;
	struct cn_stats_fig fig;
};

struct report {
	struct cli *c;
	const struct cn_stats_query *q;
	const char *from_label, *to_label;	/* no keys: the period */
	int templates;
	struct cn_writer *w;	/* NULL: chart only */
	struct cn_err *err;
	int failed;
	struct kept *rows;	/* with a chart */
	size_t nrows, alloc;
	int keep;
};

static int
keep_row(struct report *x, const struct cn_stats_row *row)
{
	struct cn_buf b;
	size_t n = x->templates ? 1 : x->q->nkeys;

	if (x->nrows == x->alloc) {
		size_t na = x->alloc ? 2 * x->alloc : 64;
		struct kept *p = realloc(x->rows, na * sizeof(*p));

		if (!p)
			return -1;
		x->rows = p;
		x->alloc = na;
	}
	cn_buf_init(&b, 4096);
	if (n == 0)
		cn_buf_addf(&b, "%s to %s", x->from_label, x->to_label);
	for (size_t i = 0; i < n; i++) {
		const char *l = row->label[i] ? row->label[i] : "(none)";

		cn_buf_addf(&b, "%s%s", i ? " " : "", l);
		if (!x->templates && x->q->keys[i] == CN_SK_CAMPAIGN &&
		    row->campaign_name)
			cn_buf_addf(&b, " %s", row->campaign_name);
	}
	x->rows[x->nrows].label = cn_buf_detach(&b);
	x->rows[x->nrows].fig = row->fig;
	x->nrows++;
	return 0;
}

static int
put_row(void *ctx, const struct cn_stats_row *row)
{
	struct report *x = ctx;
	struct cn_record r;

	if (x->keep && keep_row(x, row) < 0) {
		cn_err_set(x->err, CN_EINTERNAL, "out of memory");
		x->failed = 1;
		return 1;
	}
	if (!x->w)
		return 0;
	cn_record_init(&r);
	if (x->templates) {
		add_num(&r, "rank", row->rank);
		add_str(&r, "template", row->label[0]);
	} else if (x->q->nkeys == 0) {
		add_str(&r, "from", x->from_label);
		add_str(&r, "to", x->to_label);
	}
	for (size_t i = 0; !x->templates && i < x->q->nkeys; i++) {
		add_str(&r, cn_stats_key_name(x->q->keys[i]), row->label[i]);
		if (x->q->keys[i] == CN_SK_CAMPAIGN)
			add_str(&r, "campaign_name", row->campaign_name);
	}
	add_figs(&r, &row->fig, x->q->unit);
	if (cn_writer_put(x->w, &r, x->err) < 0)
		x->failed = 1;
	cn_record_free(&r);
	return x->failed;
}

/* Writes the chart of the rows kept: SVG into path, or with "-" on
 * stdout (text on a terminal).  Returns 0 or the exit status. */
static int
write_chart(struct cli *c, struct report *x, const char *path,
	    const char *title, const char *xlabel)
{
	struct cn_chart ch;
	struct cn_chart_point *pts;
	struct cn_err err;
	FILE *fp;
	int rc;

	pts = calloc(x->nrows ? x->nrows : 1, sizeof(*pts));
	if (!pts) {
		cli_warn(c, "out of memory");
		return EX_SOFTWARE;
	}
	for (size_t i = 0; i < x->nrows; i++) {
		const struct cn_stats_fig *f = &x->rows[i].fig;

		pts[i].label = x->rows[i].label;
		pts[i].delivered = f->delivered[x->q->unit];
		pts[i].failed = f->failed[x->q->unit];
		pts[i].pending = f->pending[x->q->unit];
		pts[i].reply_rate = cn_stats_reply_rate(f);
	}
	ch.title = title;
	ch.xlabel = xlabel;
	ch.ylabel = x->q->unit == CN_STATS_SMS ? "SMS (segments)"
					       : "recipients";
	ch.points = pts;
	ch.npoints = x->nrows;
	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			const char *lang = getenv("LC_ALL");

			if (!lang || !*lang)
				lang = getenv("LC_CTYPE");
			if (!lang || !*lang)
				lang = getenv("LANG");
			rc = cn_chart_text(stdout, &ch, 40,
					   lang && (strstr(lang, "UTF-8") ||
						    strstr(lang, "utf8")),
					   &err);
		} else {
			rc = cn_chart_svg(stdout, &ch, &err);
		}
		free(pts);
		return rc < 0 ? cli_fail(c, &err) : 0;
	}
	fp = fopen(path, "w");
	if (!fp) {
		cli_warn(c, "%s: cannot create: %s", path, strerror(errno));
		free(pts);
		return EX_CANTCREAT;
	}
	rc = cn_chart_svg(fp, &ch, &err);
	free(pts);
	if (fclose(fp) != 0 && rc == 0) {
		cli_warn(c, "%s: cannot write: %s", path, strerror(errno));
		return EX_CANTCREAT;
	}
	if (rc < 0) {
		cli_warn(c, "%s: %s", path, err.msg);
		return EX_CANTCREAT;
	}
	if (c->verbose)
		cli_warn(c, "chart written to %s (%zu bars)", path, x->nrows);
	return 0;
}

static const char *
plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "SMS" or "recipient(s)" for n in unit u. */
static const char *
unit_name(enum cn_stats_unit u, int64_t n)
{
	return u == CN_STATS_SMS ? "SMS" : plural(n, "recipient", "recipients");
}

/* The figures for people, a few lines, in unit u for delivered, failed,
 * pending and skipped. */
static void
print_figs(const struct cn_stats_fig *f, enum cn_stats_unit u)
{
	double dr = cn_stats_delivery_rate(f, u), rr = cn_stats_reply_rate(f);

	printf("  sent:      %" PRId64 " %s, %" PRId64 " SMS (segments: the "
	       "cost)\n", f->sent[1], plural(f->sent[1], "recipient",
					      "recipients"), f->sent[0]);
	printf("  delivered: %" PRId64 " %s", f->delivered[u],
	       unit_name(u, f->delivered[u]));
	if (dr >= 0)
		printf(" (delivery rate %.1f%% of the %" PRId64 " with a known "
		       "fate)", dr, f->delivered[u] + f->failed[u]);
	printf("\n  failed:    %" PRId64 " %s\n", f->failed[u],
	       unit_name(u, f->failed[u]));
	printf("  pending:   %" PRId64 " %s (no receipt yet; not in the "
	       "rate)\n", f->pending[u], unit_name(u, f->pending[u]));
	if (f->skipped[1])
		printf("  skipped:   %" PRId64 " %s (blacklisted, not sent)\n",
		       f->skipped[u], unit_name(u, f->skipped[u]));
	printf("  replies:   %" PRId64 " from %" PRId64 " %s", f->replies,
	       f->replied, plural(f->replied, "recipient", "recipients"));
	if (rr >= 0)
		printf(" (reply rate %.1f%%)", rr);
	printf("\n  opt-outs:  %" PRId64 "\n", f->optouts);
	if (f->simulated[1])
		printf("  simulated apart: %" PRId64 " %s, %" PRId64 " SMS\n",
		       f->simulated[1], plural(f->simulated[1], "recipient",
					       "recipients"), f->simulated[0]);
}

static int
keep_totals(void *ctx, const struct cn_stats_row *r)
{
	*(struct cn_stats_fig *)ctx = r->fig;
	return 1;
}

/* The report of the figures or the template ranking. */
static int
cmd_report(struct cli *c, struct opts *o, int templates)
{
	enum cn_stats_key keys[CN_STATS_MAXKEYS];
	const char *cols[CN_STATS_MAXKEYS * 2 + 2 + NFIG_COLS];
	size_t ncols = 0;
	struct cn_stats_query q;
	struct report x;
	struct cn_err err;
	char from[11], to[11], title[512], xlabel[128];
	int status = 0, n = 0, chart_only;
	int64_t last;

	memset(&q, 0, sizeof(q));
	memset(&x, 0, sizeof(x));
	if (templates && o->by)
		return cli_usage_error(c, "templates: --by does not apply (the "
				       "ranking is by template)");
	if (!templates && o->top)
		return cli_usage_error(c, "--top applies to the templates "
				       "command");
	/* the options' mistakes are usage errors, with the hint */
	if ((o->by && (n = cn_stats_keys_parse(o->by, keys, &err)) < 0) ||
	    cn_stats_period(o->from, o->to, 0, &q.from, &q.to, &err) < 0)
		return cli_usage_error(c, "%s", err.msg);
	if ((status = cli_open(c)))
		return status;
	q.folder = c->folder;
	q.user = c->user;
	q.unit = o->unit;
	if (templates) {
		q.keys[0] = CN_SK_TEMPLATE;
		q.nkeys = 1;
		q.rank = 1;
		q.limit = o->top;
	} else {
		memcpy(q.keys, keys, (size_t)n * sizeof(keys[0]));
		q.nkeys = (size_t)n;
		q.fill = 1;
	}
	cli_time(q.from, title);
	snprintf(from, sizeof(from), "%.10s", title);
	last = q.to - 1;
	cli_time(last, title);
	snprintf(to, sizeof(to), "%.10s", title);

	/* columns */
	if (templates) {
		cols[ncols++] = "rank";
		cols[ncols++] = "template";
	} else if (q.nkeys == 0) {
		cols[ncols++] = "from";
		cols[ncols++] = "to";
	}
	for (size_t i = 0; !templates && i < q.nkeys; i++) {
		cols[ncols++] = cn_stats_key_name(q.keys[i]);
		if (q.keys[i] == CN_SK_CAMPAIGN)
			cols[ncols++] = "campaign_name";
	}
	for (size_t i = 0; i < NFIG_COLS; i++)
		cols[ncols++] = fig_cols[i];

	/* the totals on a terminal, without --format: a few lines */
	if (!templates && q.nkeys == 0 && !o->chart &&
	    c->format == CN_FMT_AUTO && isatty(STDOUT_FILENO)) {
		struct cn_stats_fig f;

		memset(&f, 0, sizeof(f));
		if (cn_stats_run(c->st, &q, keep_totals, &f, &err) < 0)
			return cli_fail(c, &err);
		printf("%s to %s, %s%s, %s%s\n", from, to,
		       c->folder ? "folder " : "every folder",
		       c->folder ? c->folder : "", c->user ? "user " : "every user",
		       c->user ? c->user : "");
		print_figs(&f, q.unit);
		return 0;
	}
	x.c = c;
	x.q = &q;
	x.templates = templates;
	x.from_label = from;
	x.to_label = to;
	x.err = &err;
	x.keep = o->chart != NULL;
	chart_only = o->chart && strcmp(o->chart, "-") == 0;
	if (!chart_only) {
		x.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), cols,
				     ncols, NULL, &err);
		if (!x.w)
			return cli_fail(c, &err);
	}
	if (cn_stats_run(c->st, &q, put_row, &x, &err) < 0 || x.failed) {
		if (x.w)
			cn_writer_close(x.w, NULL);
		status = cli_fail(c, &err);
		goto out;
	}
	if (x.w && cn_writer_close(x.w, &err) < 0) {
		status = cli_fail(c, &err);
		goto out;
	}
	if (o->chart) {
		snprintf(title, sizeof(title), "%s, %s to %s%s%s%s%s",
			 templates ? "Template use" : "SMS delivery and replies",
			 from, to, c->folder ? ", folder " : "",
			 c->folder ? c->folder : "", c->user ? ", user " : "",
			 c->user ? c->user : "");
		xlabel[0] = '\0';
		if (templates)
			snprintf(xlabel, sizeof(xlabel), "template");
		for (size_t i = 0; !templates && i < q.nkeys; i++) {
			size_t l = strlen(xlabel);

			snprintf(xlabel + l, sizeof(xlabel) - l, "%s%s",
				 i ? ", " : "", cn_stats_key_name(q.keys[i]));
		}
		if (!xlabel[0])
			snprintf(xlabel, sizeof(xlabel), "period");
		status = write_chart(c, &x, o->chart, title, xlabel);
	}
out:
	for (size_t i = 0; i < x.nrows; i++)
		free(x.rows[i].label);
	free(x.rows);
	return status;
}

/* ---------------------------------------------------------- campaign */

static void
print_campaign(const struct cn_stats_campaign *s, enum cn_stats_unit u)
{
	const struct cn_stats_fig *f = &s->fig;
	char t[21];

	printf("campaign %" PRId64 " '%s': folder %s", s->id, s->name,
	       s->folder);
	if (s->user[0])
		printf(", user %s", s->user);
	if (s->template[0])
		printf(", template '%s'", s->template);
	printf(", %s", s->status);
	if (s->sent_at)
		printf(", sent %s", cli_time(s->sent_at, t));
	if (s->closed_at)
		printf(", closed %s", cli_time(s->closed_at, t));
	printf("\n");
	if (s->simulated) {
		printf("  SIMULATED: nothing was sent to a gateway; the figures "
		       "are those of the simulation\n");
		printf("  simulated: %" PRId64 " %s, %" PRId64 " SMS "
		       "(segments: the cost it would have had)\n",
		       f->simulated[1], plural(f->simulated[1], "recipient",
					       "recipients"),
		       f->simulated[0]);
		if (f->skipped[1])
			printf("  skipped (blacklisted): %" PRId64 " %s\n",
			       f->skipped[1], plural(f->skipped[1],
						     "recipient", "recipients"));
		if (f->sent[1])
			printf("  also sent for real: %" PRId64 " %s, %" PRId64
			       " SMS\n", f->sent[1],
			       plural(f->sent[1], "recipient", "recipients"),
			       f->sent[0]);
		if (f->replies || f->optouts)
			printf("  replies: %" PRId64 "; opt-outs: %" PRId64
			       "\n", f->replies, f->optouts);
		return;
	}
	print_figs(f, u);
}

static int
cmd_campaign(struct cli *c, struct opts *o, const char *arg)
{
	struct cn_stats_campaign s;
	struct cn_err err;
	struct cn_record r;
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	char t[21];
	int64_t id;
	int status;

	if (!*arg)
		return cli_usage_error(c, "campaign: an empty id");
	if (o->from || o->to || o->by || o->chart || o->top)
		return cli_usage_error(c, "campaign: --from, --to, --by, "
				       "--chart and --top do not apply");
	if ((status = cli_open(c)))
		return status;
	if ((id = cn_stats_campaign_find(c->st, arg, c->folder, &err)) < 0 ||
	    cn_stats_campaign(c->st, id, &s, &err) < 0)
		return cli_fail(c, &err);
	if (f == CN_FMT_AUTO) {
		print_campaign(&s, o->unit);
		return 0;
	}
	cn_record_init(&r);
	add_num(&r, "id", s.id);
	add_str(&r, "name", s.name);
	add_str(&r, "folder", s.folder);
	add_str(&r, "user", s.user[0] ? s.user : NULL);
	add_str(&r, "template", s.template[0] ? s.template : NULL);
	add_str(&r, "status", s.status);
	add_bool(&r, "simulated", s.simulated);
	add_str(&r, "sent_at", s.sent_at ? cli_time(s.sent_at, t) : NULL);
	add_figs(&r, &s.fig, o->unit);
	status = cli_put_record(c, f, &r);
	cn_record_free(&r);
	return status;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	const char *sub = NULL;
	char **args;
	int status, n;

	cli_init(&c, "carnet-stats");
	memset(&o, 0, sizeof(o));
	/* options before the command: stop at the first operand */
	if (parse(&c, &o, argc, argv, "+" CLI_COMMON_SHORT) < 0)
		return cli_finish(&c, c.status);
	if (optind >= argc) {
		status = cmd_report(&c, &o, 0);
		cli_close(&c);
		return cli_finish(&c, status);
	}
	sub = argv[optind];
	n = argc - optind;
	args = argv + optind;
	args[0] = argv[0];	/* getopt's messages name the program */
	optind = 0;
	if (parse(&c, &o, n, args, CLI_COMMON_SHORT) < 0)
		return cli_finish(&c, c.status);
	if (strcmp(sub, "help") == 0) {
		usage(stdout);
		status = 0;
	} else if (strcmp(sub, "templates") == 0) {
		status = optind < n ? cli_usage_error(&c, "templates: "
						      "unexpected argument "
						      "'%s'", args[optind])
				    : cmd_report(&c, &o, 1);
	} else if (strcmp(sub, "campaign") == 0) {
		if (optind >= n)
			status = cli_usage_error(&c, "campaign: which one? "
						 "(carnet-stats campaign ID)");
		else if (optind + 1 < n)
			status = cli_usage_error(&c, "campaign: unexpected "
						 "argument '%s'",
						 args[optind + 1]);
		else
			status = cmd_campaign(&c, &o, args[optind]);
	} else {
		status = cli_usage_error(&c, "unknown command '%s' (templates, "
					 "campaign)", sub);
	}
	cli_close(&c);
	return cli_finish(&c, status);
}
