/*
 * sendcli.c - the sending part of carnet-sms-send and carnet-campaign:
 * preparation, confirmation, sending, output and the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "sendcli.h"

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void
sendcli_init(struct sendcli *s)
{
	memset(s, 0, sizeof(*s));
	s->so.retries = -1;
	s->spec.skip_blacklisted = -1;	/* from the configuration */
	s->infmt = CN_FMT_AUTO;
}

void
sendcli_signals(struct sendcli *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	s->so.stop = &stop_flag;
}

int
sendcli_rate(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !(v > 0) || v > 1e6)
		return -1;
	if (*end == '\0' || strcmp(end, "/s") == 0)
		*out = v;
	else if (strcmp(end, "/m") == 0 || strcmp(end, "/min") == 0)
		*out = v / 60.0;
	else
		return -1;
	return 0;
}

/* ------------------------------------------------------------ output */

static const char *const send_cols[] = {
	"id", "campaign", "to", "status", "encoding", "segments",
	"provider_id", "error",
};

static const char *const prep_cols[] = {
	"line", "to", "status", "encoding", "segments", "text", "error",
};

struct out {
	struct cli *c;
	struct cn_writer *w;
	struct cn_record rec;
	int64_t cid;
	int failed;
	struct cli_progress pg;	/* on a terminal, when stdout is not one */
	unsigned long long done;
};

void
sendcli_add_str(struct cn_record *r, const char *name, const char *v)
{
	if (v && *v)
		cn_record_add(r, name, v, strlen(v), CN_V_STR);
	else
		cn_record_add(r, name, NULL, 0, CN_V_NULL);
}

void
sendcli_add_int(struct cn_record *r, const char *name, long long v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", v);

	cn_record_add(r, name, b, (size_t)n, CN_V_NUM);
}

int
sendcli_int(struct cli *c, const char *opt, const char *arg, long lo, long hi,
	    long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < lo || v > hi) {
		cli_usage_error(c, "--%s: expected a whole number from %ld to "
				"%ld, got '%s'", opt, lo, hi, arg);
		return cli_stop(c, EX_USAGE);
	}
	*out = v;
	return 0;
}

#define add_str sendcli_add_str
#define add_int sendcli_add_int

static int
on_prep(void *ctx, const struct cn_prep_row *p)
{
	struct out *o = ctx;
	struct cn_err err;

	cn_record_reset(&o->rec);
	if (p->line)
		add_int(&o->rec, "line", p->line);
	else
		add_str(&o->rec, "line", NULL);
	add_str(&o->rec, "to", p->to);
	add_str(&o->rec, "status", p->status);
	add_str(&o->rec, "encoding",
		p->text ? cn_sms_encoding_name(p->encoding) : NULL);
	if (p->text)
		add_int(&o->rec, "segments", (long long)p->segments);
	else
		add_str(&o->rec, "segments", NULL);
	add_str(&o->rec, "text", p->text);
	add_str(&o->rec, "error", p->error);
	if (cn_writer_put(o->w, &o->rec, &err) < 0) {
		o->failed = 1;
		return 1;
	}
	return 0;
}

static int
on_sent(void *ctx, const struct cn_sent_row *r)
{
	struct out *o = ctx;
	struct cn_err err;

	cn_record_reset(&o->rec);
	add_str(&o->rec, "id", r->ref);
	add_int(&o->rec, "campaign", o->cid);
	add_str(&o->rec, "to", r->to);
	add_str(&o->rec, "status", r->status);
	add_str(&o->rec, "encoding", cn_sms_encoding_name(r->encoding));
	add_int(&o->rec, "segments", (long long)r->segments);
	add_str(&o->rec, "provider_id", r->provider_id);
	add_str(&o->rec, "error", r->error);
	if (cn_writer_put(o->w, &o->rec, &err) < 0) {
		o->failed = 1;
		return 1;
	}
	o->done++;
	cli_progress_show(&o->pg, o->done, o->done);
	return 0;
}

static void
on_error(void *ctx, long line, const char *msg)
{
	struct out *o = ctx;
	static int shown;

	(void)line;
	if (shown++ < 20)
		cli_warn(o->c, "%s", msg);
	else if (shown == 21)
		cli_warn(o->c, "(more invalid recipients not shown)");
}

static int
out_open(struct out *o, struct cli *c, int prep)
{
	struct cn_err err;

	memset(o, 0, sizeof(*o));
	o->c = c;
	cn_record_init(&o->rec);
	o->w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE),
			      prep ? prep_cols : send_cols,
			      prep ? sizeof(prep_cols) / sizeof(prep_cols[0])
				   : sizeof(send_cols) / sizeof(send_cols[0]),
			      NULL, &err);
	if (!o->w)
		return cli_fail(c, &err);
	return 0;
}

static int
out_close(struct out *o, int status)
{
	struct cn_err err;

	if (o->w && cn_writer_close(o->w, &err) < 0 && !status)
		status = cli_fail(o->c, &err);
	o->w = NULL;
	cn_record_free(&o->rec);
	return status;
}

/* "1,234" */
static const char *
num(long long v, char buf[32])
{
	char raw[32];
	int n = snprintf(raw, sizeof(raw), "%lld", v < 0 ? -v : v), k = 0;

	if (v < 0)
		buf[k++] = '-';
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = raw[i];
	}
	buf[k] = '\0';
	return buf;
}

static void
quota_summary(struct cli *c, const struct cn_prep_stats *ps)
{
	const struct cn_quota_verdict *v = &ps->quota;
	char a[32], b[32];

	if (!ps->quota_checked || c->quiet)
		return;
	if (v->quota.kind == CN_QUOTA_NONE || v->quota.kind ==
							 CN_QUOTA_UNLIMITED) {
		fprintf(stderr, "%s: quota: %s; this month %s SMS used\n",
			c->prog, v->quota.source, num(v->used_sms, a));
		return;
	}
	if (v->quota.limit[CN_QL_MONTH_SMS] >= 0)
		fprintf(stderr, "%s: quota: %s; this month %s + %s of %s SMS\n",
			c->prog, v->quota.source, num(v->used_sms, a),
			num(ps->sms, b),
			num(v->quota.limit[CN_QL_MONTH_SMS], (char[32]){0}));
	else
		fprintf(stderr, "%s: quota: %s; this month %s + %s SMS\n",
			c->prog, v->quota.source, num(v->used_sms, a),
			num(ps->sms, b));
	if (v->status != CN_QUOTA_OK && v->reason[0])
		fprintf(stderr, "%s: %s\n", c->prog, v->reason);
}

static void
prep_summary(struct cli *c, const struct cn_prep_stats *ps, const char *what)
{
	char a[32], b[32];

	if (c->quiet)
		return;
	fprintf(stderr, "%s: %s: %s recipients, %s SMS (%lld GSM-7, %lld "
		"UCS-2)", c->prog, what, num(ps->recipients, a),
		num(ps->sms, b), (long long)ps->gsm7, (long long)ps->ucs2);
	if (ps->skipped)
		fprintf(stderr, ", %lld blacklisted skipped",
			(long long)ps->skipped);
	if (ps->duplicates)
		fprintf(stderr, ", %lld duplicates sent once",
			(long long)ps->duplicates);
	fputc('\n', stderr);
}

/* Asks on the terminal; 1 for yes. */
static int
confirm(struct cli *c, const char *question)
{
	char line[16] = "";
	int fd;
	ssize_t n;

	if (!isatty(STDERR_FILENO) || (fd = open("/dev/tty", O_RDWR |
						O_CLOEXEC)) < 0)
		return -1;
	dprintf(fd, "%s: %s [y/N] ", c->prog, question);
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	return n > 0 && (line[0] == 'y' || line[0] == 'Y');
}

static int
send_summary(struct cli *c, int64_t id, const struct cn_send_stats *ss,
	     int simulated)
{
	if (c->quiet)
		return 0;
	fprintf(stderr, "%s: campaign %lld: %lld %s, %lld failed", c->prog,
		(long long)id, (long long)ss->sent,
		simulated ? "simulated" : "sent", (long long)ss->failed);
	if (ss->retryable)
		fprintf(stderr, ", %lld to retry later", (long long)ss->retryable);
	if (ss->untried)
		fprintf(stderr, ", %lld not tried", (long long)ss->untried);
	if (ss->in_doubt)
		fprintf(stderr, ", %lld in doubt", (long long)ss->in_doubt);
	if (ss->retries)
		fprintf(stderr, " (%lld retries)", (long long)ss->retries);
	fprintf(stderr, " in %.1f s\n", ss->seconds);
	if (ss->in_doubt)
		fprintf(stderr, "%s: %lld messages were interrupted while the "
			"gateway was called and may have been sent: they are "
			"not sent again (a delivery receipt settles them; "
			"`carnet-campaign send %lld --resend-in-doubt` sends "
			"them anyway)\n", c->prog, (long long)ss->in_doubt,
			(long long)id);
	return 0;
}

static struct cn_driver *
open_driver(struct cli *c, struct sendcli *s, int simulate, int *status)
{
	struct cn_err err;
	struct cn_driver *d;

	d = cn_driver_open(&c->cfg, simulate ? "simulate" : s->driver, &err);
	if (!d)
		*status = cli_fail(c, &err);
	return d;
}

int
sendcli_send(struct cli *c, struct sendcli *s, int64_t id)
{
	struct cn_driver *d;
	struct cn_send_stats ss;
	struct cn_campaign_info ci;
	struct cn_err err;
	struct out o;
	int status = 0;

	cn_err_clear(&err);
	if (cn_campaign_get(c->st, id, &ci, &err) < 0)
		return cli_fail(c, &err);
	/* a draft above the warning threshold: confirmed now */
	if (strcmp(ci.status, "draft") == 0 && !s->spec.yes &&
	    !s->spec.simulate && c->cfg.sms_warn_threshold > 0) {
		struct cn_quota_req qr;
		struct cn_quota_verdict v;

		memset(&qr, 0, sizeof(qr));
		qr.folder = ci.folder;
		qr.user = ci.user[0] ? ci.user : NULL;
		qr.sms = ci.segments;
		qr.recipients = ci.preparing;
		qr.warn_threshold = c->cfg.sms_warn_threshold;
		if (cn_quota_check(c->st, &qr, &v, &err) < 0 &&
		    err.code != CN_ECHECK)
			return cli_fail(c, &err);
		if (v.threshold) {
			int a = confirm(c, "above the warning threshold: send?");

			if (a <= 0) {
				cli_warn(c, "%s", v.reason);
				cli_warn(c, "%s", a < 0 ? "refused: confirm with "
					 "--yes" : "nothing sent");
				return 1;
			}
		}
	}
	if (!(d = open_driver(c, s, s->spec.simulate || ci.simulated,
			      &status)))
		return status;
	if ((status = out_open(&o, c, 0))) {
		cn_driver_close(d);
		return status;
	}
	o.cid = id;
	cli_progress_init(&o.pg, c, NULL, "sending");
	o.pg.on = o.pg.on && !isatty(STDOUT_FILENO);
	o.pg.total = (unsigned long long)ci.preparing;
	if (s->so.timeout_s == 0)
		s->so.timeout_s = c->cfg.http_timeout_s;
	if (cn_campaign_send(c->st, &c->cfg, id, d, &s->so, on_sent, &o, &ss,
			     &err) < 0)
		status = cli_exit_code(err.code);
	if (o.failed && !status)
		status = EX_IOERR;
	cli_progress_end(&o.pg);
	status = out_close(&o, status);
	if (!status || err.code == CN_ETEMP || err.code == CN_ENOPERM)
		send_summary(c, id, &ss, cn_driver_is_simulated(d));
	if (status && err.code != CN_OK)
		cli_warn(c, "%s", err.msg);
	cn_driver_close(d);
	return status;
}

int
sendcli_run(struct cli *c, struct sendcli *s, FILE *fp, const char *name)
{
	struct cn_reader *rd;
	struct cn_prep_stats ps;
	struct cn_csv_opts csv = {.delimiter = s->delimiter};
	struct cn_driver *d = NULL;
	struct cn_err err;
	struct out o;
	int status = 0, r;

	s->spec.cfg = &c->cfg;
	s->spec.folder = cli_folder(c);
	s->spec.user = cli_user(c);
	if (s->spec.skip_blacklisted < 0)
		s->spec.skip_blacklisted = c->cfg.sms_skip_blacklisted;
	s->spec.dry_run = s->preview;
	/* the driver first: a send that cannot go is refused before
	 * anything is recorded */
	if (!s->preview && !s->spec.save) {
		if (!(d = open_driver(c, s, s->spec.simulate, &status)))
			return status;
		s->spec.driver = cn_driver_name(d);
		/* sms.driver simulate: a simulation like --simulate */
		if (cn_driver_is_simulated(d))
			s->spec.simulate = 1;
	}
again:
	rewind(fp);
	if (!(rd = cn_reader_open(fp, name, s->infmt, &csv, &err))) {
		cn_driver_close(d);
		return cli_fail(c, &err);
	}
	memset(&o, 0, sizeof(o));
	o.c = c;
	cn_record_init(&o.rec);
	if ((s->preview || s->spec.save) && (status = out_open(&o, c, 1))) {
		cn_reader_close(rd);
		cn_driver_close(d);
		return status;
	}
	/* rows are printed for a preview and a saved campaign; a send prints
	 * the outcome of each message instead */
	r = cn_campaign_prepare(c->st, rd, &s->spec,
				s->preview || s->spec.save ? on_prep : NULL,
				on_error, &o, &ps, &err);
	cn_reader_close(rd);
	if (r < 0) {
		out_close(&o, 1);
		if (err.code == CN_ECHECK && ps.quota.threshold &&
		    !s->spec.yes) {
			int a;

			prep_summary(c, &ps, "to send");
			a = confirm(c, "above the warning threshold: send?");
			if (a > 0) {
				s->spec.yes = 1;
				goto again;
			}
			cli_warn(c, "%s", ps.quota.reason);
			cli_warn(c, "%s", a < 0 ? "refused: confirm with --yes "
				 "(no terminal to ask)" : "nothing sent");
			cn_driver_close(d);
			return 1;
		}
		if (err.code == CN_ECHECK && ps.quota_checked) {
			quota_summary(c, &ps);
			cli_warn(c, "nothing sent");
			cn_driver_close(d);
			return 1;
		}
		cn_driver_close(d);
		return cli_fail(c, &err);
	}
	status = out_close(&o, o.failed ? EX_IOERR : 0);
	if (s->preview) {
		prep_summary(c, &ps, "preview");
		quota_summary(c, &ps);
		if (!c->quiet)
			fprintf(stderr, "%s: preview: nothing recorded, nothing "
				"sent\n", c->prog);
		return status;
	}
	if (s->spec.save) {
		prep_summary(c, &ps, "saved");
		quota_summary(c, &ps);
		if (!c->quiet)
			fprintf(stderr, "%s: campaign %lld '%s' saved as a "
				"draft: `carnet-campaign send %lld` sends it\n",
				c->prog, (long long)ps.campaign_id,
				ps.campaign_name, (long long)ps.campaign_id);
		return status;
	}
	if (status) {
		cn_driver_close(d);
		return status;
	}
	prep_summary(c, &ps, s->spec.simulate ? "simulating" : "sending");
	if (ps.quota.status == CN_QUOTA_WARNED && !c->quiet)
		quota_summary(c, &ps);
	if (!c->quiet && c->verbose)
		fprintf(stderr, "%s: campaign %lld '%s'\n", c->prog,
			(long long)ps.campaign_id, ps.campaign_name);
	cn_driver_close(d);
	return sendcli_send(c, s, ps.campaign_id);
}
