/*
 * carnet-sms-fetch - delivery receipts and replies: pulled from the
 * provider (twilio), received from the gateway's callbacks (--listen,
 * Kannel), or read from stdin; STOP/START; closes due campaigns.  Prints
 * one record per event.
 *
 * Option parsing, the cron lock, and one call into libcarnet per mode
 * (lib/fetch*.c); the mapping of the result to output and exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-sms-fetch [options] [--campaign ID] [--wait] [-n]\n"
	"       carnet-sms-fetch [options] --close-due [--wait] [-n]\n"
	"       carnet-sms-fetch [options] --from-stdin [--input-format FMT] [--campaign ID] [-n]\n"
	"       carnet-sms-fetch [options] --listen [ADDRESS] [--token-file FILE]\n"
	"           [--rate N] [--ready-file FILE]\n"
	"\n"
	"Without a mode option (cron, every minute): pulls what the provider\n"
	"holds (sms.driver twilio), then closes the campaigns whose expected\n"
	"close has passed.  Prints each new event as one record: kind (receipt,\n"
	"reply, optout, optin, closed), time, campaign, message, number,\n"
	"status, text.\n"
	"\n"
	"Modes:\n"
	"      --campaign ID        fetch for one campaign, also after it closed:\n"
	"                           applies what it holds, pulls (twilio)\n"
	"      --close-due          only close the campaigns that are due\n"
	"      --from-stdin         apply receipts and replies read from stdin (CSV\n"
	"                           or NDJSON: kind, ref, status or type, number,\n"
	"                           text, time), all or nothing\n"
	"      --listen [ADDRESS]   receive the gateway's callbacks over HTTP (Kannel\n"
	"                           dlr-url and sms-service get-url) on ADDRESS\n"
	"                           (default: sms.callback.listen, 127.0.0.1:13080;\n"
	"                           '*:PORT' for every interface)\n"
	"\n"
	"Options:\n"
	"      --wait               when another run holds the lock, wait for it\n"
	"                           (default: say so and exit 0)\n"
	"  -n, --dry-run            apply nothing: print the events that would be\n"
	"                           (not with --listen)\n"
	"      --input-format FMT   --from-stdin: csv, json, ndjson or auto\n"
	"      --token-file FILE    --listen: the file holding the callback token\n"
	"                           (default: $CARNET_CALLBACK_TOKEN, then\n"
	"                           sms.callback.token_file)\n"
	"      --rate N             --listen: at most N callbacks a second (5000;\n"
	"                           0: no limit); over it the answer is 429\n"
	"      --ready-file FILE    --listen: write the port there once listening\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        not used (events of every folder)\n"
	"      --user NAME          not used\n"
	"      --format FMT         output: csv (default), json, ndjson or table\n"
	"  -q, --quiet              no notes on stderr\n"
	"  -v, --verbose            a summary on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  * * * * * carnet-sms-fetch --format ndjson >> /var/log/carnet/events.ndjson\n"
	"  carnet-sms-fetch --listen 127.0.0.1:13080 --token-file /etc/carnet/cb.token\n"
	"  carnet-sms-fetch --campaign 12\n"
	"  carnet-sms-fetch --from-stdin < events.ndjson\n"
	"  carnet-sms-fetch --format json | jq 'select(.kind==\"reply\")'\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_DRYRUN = 'n',
	OPT_CAMPAIGN = OPT_TOOL_BASE,
	OPT_CLOSE_DUE,
	OPT_FROM_STDIN,
	OPT_LISTEN,
	OPT_WAIT,
	OPT_INPUT_FORMAT,
	OPT_TOKEN_FILE,
	OPT_RATE,
	OPT_READY_FILE,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"campaign", required_argument, NULL, OPT_CAMPAIGN},
	{"close-due", no_argument, NULL, OPT_CLOSE_DUE},
	{"from-stdin", no_argument, NULL, OPT_FROM_STDIN},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"wait", no_argument, NULL, OPT_WAIT},
	{"input-format", required_argument, NULL, OPT_INPUT_FORMAT},
	{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	{"rate", required_argument, NULL, OPT_RATE},
	{"ready-file", required_argument, NULL, OPT_READY_FILE},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{NULL, 0, NULL, 0},
};

struct opts {
	int64_t campaign;
	int close_due, from_stdin, wait, dry_run;
	const char *listen;
	enum cn_format input_format;
	const char *token_file;
	long rate;
	const char *ready_file;
};

/* What the callbacks write to. */
struct out {
	struct cli *c;
	struct cn_writer *w;	/* NULL until the first event */
	enum cn_format fmt;
	int live;		/* --listen: flush each event */
	long lines;
	int write_failed;
	long counts[CN_EV_CLOSED + 1];
};

/*
 * The receiver's events: each one written and flushed as it comes (the
 * writer buffers), the CSV header only before the first.
 */
static int
put_live(struct out *o, const struct cn_event *ev)
{
	struct cn_writer *w;
	struct cn_record r;
	struct cn_err err;
	char *buf = NULL;
	size_t len = 0, skip = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		o->write_failed = 1;
		return 0;
	}
	cn_record_init(&r);
	w = cn_writer_open(m, o->fmt, cn_event_columns, cn_event_ncolumns,
			   NULL, &err);
	if (!w || cn_event_to_record(ev, &r) < 0 ||
	    cn_writer_put(w, &r, &err) < 0 || cn_writer_close(w, &err) < 0)
		o->write_failed = 1;
	w = NULL;
	cn_record_free(&r);
	fclose(m);
	if (!o->write_failed && o->fmt == CN_FMT_CSV && o->lines++ > 0) {
		char *nl = memchr(buf, '\n', len);

		skip = nl ? (size_t)(nl - buf) + 1 : 0;
	}
	if (!o->write_failed &&
	    (fwrite(buf + skip, 1, len - skip, stdout) != len - skip ||
	     fflush(stdout) != 0))
		o->write_failed = 1;
	free(buf);
	return 0;
}

static int
on_event(void *ctx, const struct cn_event *ev)
{
	struct out *o = ctx;
	struct cn_record r;
	struct cn_err err;

	o->counts[ev->kind]++;
	if (o->write_failed)
		return 0;
	if (o->live)
		return put_live(o, ev);
	if (!o->w) {
		/* opened at the first event: a run with nothing new prints
		 * nothing, not even a header (cron mails any output) */
		o->w = cn_writer_open(stdout, o->fmt, cn_event_columns,
				      cn_event_ncolumns, NULL, &err);
		if (!o->w) {
			o->write_failed = 1;
			return 0;
		}
	}
	cn_record_init(&r);
	if (cn_event_to_record(ev, &r) < 0 ||
	    cn_writer_put(o->w, &r, &err) < 0) {
		o->write_failed = 1;
	}
	cn_record_free(&r);
	fflush(stdout);
	return 0;
}

static void
on_note(void *ctx, const char *msg)
{
	struct out *o = ctx;

	if (!o->c->quiet)
		cli_warn(o->c, "%s", msg);
}

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
parse(struct cli *c, struct opts *o, int argc, char **argv)
{
	int opt;

	/* --listen without an address (last, or before another option)
	 * takes sms.callback.listen: give getopt an empty argument */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--listen") == 0 &&
		    (i + 1 == argc || argv[i + 1][0] == '-'))
			argv[i] = (char *)"--listen=";
	}

	o->rate = 5000;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "n", options,
				  NULL)) != -1) {
		char *end;

		if (cli_common(c, opt, optarg, usage)) {
			if (c->stop)
				return -1;
			continue;
		}
		switch (opt) {
		case OPT_CAMPAIGN:
			o->campaign = strtoll(optarg, &end, 10);
			if (*end || o->campaign <= 0)
				return cli_stop(c, cli_usage_error(
					c, "--campaign: invalid id '%s'",
					optarg));
			break;
		case OPT_CLOSE_DUE:
			o->close_due = 1;
			break;
		case OPT_FROM_STDIN:
			o->from_stdin = 1;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_WAIT:
			o->wait = 1;
			break;
		case OPT_DRYRUN:
			o->dry_run = 1;
			break;
		case OPT_INPUT_FORMAT:
			if (cli_input_format(c, optarg, &o->input_format) < 0)
				return -1;
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_RATE:
			errno = 0;
			o->rate = strtol(optarg, &end, 10);
			if (*end || !*optarg || o->rate < 0 || errno)
				return cli_stop(c, cli_usage_error(
					c, "--rate: invalid number '%s'",
					optarg));
			break;
		case OPT_READY_FILE:
			o->ready_file = optarg;
			break;
		default:
			return cli_stop(c, cli_usage_error(c, "bad option"));
		}
	}
	if (optind < argc)
		return cli_stop(c, cli_usage_error(c, "unexpected argument "
						   "'%s'", argv[optind]));
	if (!!o->close_due + !!o->from_stdin + !!o->listen > 1)
		return cli_stop(c, cli_usage_error(c, "--close-due, "
						   "--from-stdin and --listen "
						   "do not go together"));
	if (o->campaign && (o->close_due || o->listen))
		return cli_stop(c, cli_usage_error(c, "--campaign goes with "
						   "a pull or --from-stdin"));
	if (o->listen && o->dry_run)
		return cli_stop(c, cli_usage_error(c, "--dry-run does not go "
						   "with --listen"));
	if (!o->listen && (o->token_file || o->ready_file))
		return cli_stop(c, cli_usage_error(c, "--token-file and "
						   "--ready-file go with "
						   "--listen"));
	if (!o->from_stdin && o->input_format != CN_FMT_AUTO)
		return cli_stop(c, cli_usage_error(c, "--input-format goes "
						   "with --from-stdin"));
	return 0;
}

/*
 * The cron lock: a file beside the store, held with flock() for the
 * run.  Returns the descriptor, -2 when another run holds it and we do
 * not wait, or -1 after printing an error.
 */
static int
take_lock(struct cli *c, int wait)
{
	char path[4096];
	const char *store = c->store ? c->store : c->cfg.store;
	int fd;

	snprintf(path, sizeof(path), "%s.fetch-lock", store);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_warn(c, "%s: cannot open lock: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK) {
		cli_warn(c, "%s: cannot lock: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!wait) {
		close(fd);
		return -2;
	}
	if (!c->quiet)
		cli_warn(c, "another carnet-sms-fetch is running; waiting");
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			cli_warn(c, "%s: cannot lock: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
	return fd;
}

static int
run_pull(struct cli *c, struct cn_fetch *f, struct cn_err *err)
{
	struct cn_twilio tw = {0};
	char *token = NULL;
	int64_t n;

	if (!c->cfg.sms_driver || strcmp(c->cfg.sms_driver, "twilio") != 0)
		return 0;	/* kannel pushes: nothing to pull */
	if (!c->cfg.sms_twilio_account_sid)
		return cn_err_set(err, CN_ECONFIG, "sms.twilio.account_sid "
				  "is not set");
	if (cn_secret("CARNET_TWILIO_AUTH_TOKEN",
		      c->cfg.sms_twilio_auth_token_file,
		      c->cfg.sms_twilio_auth_token, &token, err) < 0)
		return -1;
	if (!token)
		return cn_err_set(err, CN_ECONFIG, "no Twilio auth token "
				  "(CARNET_TWILIO_AUTH_TOKEN or "
				  "sms.twilio.auth_token_file)");
	tw.base_url = c->cfg.sms_twilio_base_url;
	tw.account_sid = c->cfg.sms_twilio_account_sid;
	tw.auth_token = token;
	tw.timeout_s = c->cfg.http_timeout_s;
	n = cn_fetch_twilio(f, &tw, err);
	cn_secret_free(token);
	return n < 0 ? -1 : 0;
}

/* Whether a --listen address is on the loopback only. */
static int
loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strncmp(a, "[::1]:", 6) == 0 ||
	       strncmp(a, "localhost:", 10) == 0 || a[0] == ':' ||
	       strspn(a, "0123456789") == strlen(a);
}

static int
run_listen(struct cli *c, struct opts *o, struct cn_fetch *f,
	   struct cn_err *err)
{
	struct cn_listen_opts lo = {0};
	char *token = NULL;
	struct sigaction sa;
	int r;

	if (cn_secret("CARNET_CALLBACK_TOKEN",
		      o->token_file ? o->token_file
				    : c->cfg.sms_callback_token_file,
		      o->token_file ? NULL : c->cfg.sms_callback_token, &token,
		      err) < 0)
		return -1;
	if (!token && !loopback(*o->listen ? o->listen
					   : c->cfg.sms_callback_listen)) {
		return cn_err_set(err, CN_ECONFIG, "--listen %s: no callback "
				  "token; one is required beyond the loopback "
				  "(CARNET_CALLBACK_TOKEN or "
				  "sms.callback.token_file)",
				  *o->listen ? o->listen
					     : c->cfg.sms_callback_listen);
	}
	if (!token && !c->quiet)
		cli_warn(c, "no callback token: any local process can post "
			 "receipts and replies (set CARNET_CALLBACK_TOKEN or "
			 "sms.callback.token_file)");
	lo.address = *o->listen ? o->listen : c->cfg.sms_callback_listen;
	lo.token = token;
	lo.max_body = 8192;
	lo.rate = o->rate;
	lo.ready_file = o->ready_file;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = cn_listen(f, &lo, &stop_flag, err);
	cn_secret_free(token);
	return r;
}

static int
run(struct cli *c, struct opts *o, struct out *out)
{
	struct cn_fetch_opts fo = {0};
	struct cn_fetch *f;
	struct cn_err err;
	int status = 0, lock = -1, r = 0;

	fo.phone = &c->cfg.phone;
	fo.reply_window_hours = c->cfg.sms_reply_window_hours;
	fo.npai_failures = c->cfg.sms_npai_failures;
	fo.campaign = o->campaign;
	fo.source = "sms-fetch";
	fo.dry_run = o->dry_run;
	fo.on_event = on_event;
	fo.on_note = on_note;
	fo.ctx = out;

	if (!o->listen) {
		/* the lock of cron runs; a stdin run always waits: its
		 * input would be lost otherwise */
		lock = take_lock(c, o->wait || o->from_stdin);
		if (lock == -2) {
			if (!c->quiet)
				cli_warn(c, "another carnet-sms-fetch is "
					 "running; nothing done (--wait "
					 "waits for it)");
			return 0;
		}
		if (lock < 0)
			return EX_CANTCREAT;
	}
	f = cn_fetch_open(c->st, &fo, &err);
	if (!f) {
		status = cli_fail(c, &err);
		goto out;
	}
	if (o->campaign) {
		int e = cn_fetch_campaign_exists(f, o->campaign, &err);

		if (e <= 0) {
			if (e == 0)
				cn_err_set(&err, CN_ENOINPUT, "no campaign %lld",
					   (long long)o->campaign);
			status = cli_fail(c, &err);
			goto out;
		}
	}
	if (o->listen) {
		r = run_listen(c, o, f, &err);
	} else if (o->from_stdin) {
		struct cn_reader *rd = cn_reader_open(stdin, "<stdin>",
						      o->input_format, NULL,
						      &err);

		if (!rd) {
			r = -1;
		} else {
			if (cn_fetch_begin(f, &err) < 0 ||
			    cn_fetch_read(f, rd, &err) < 0 ||
			    (o->campaign &&
			     cn_fetch_apply_held(f, &err) < 0) ||
			    cn_fetch_commit(f, &err) < 0) {
				cn_fetch_rollback(f);
				r = -1;
			}
			cn_reader_close(rd);
		}
	} else if (o->close_due) {
		r = cn_fetch_close_due(f, &err) < 0 ? -1 : 0;
	} else {
		if (o->campaign && cn_fetch_apply_held(f, &err) < 0)
			r = -1;
		if (r == 0)
			r = run_pull(c, f, &err);
		if (!o->campaign) {
			/* closes what is due even when the provider is down */
			struct cn_err e2;

			if (cn_fetch_close_due(f, r == 0 ? &err : &e2) < 0) {
				if (r == 0)
					r = -1;
				else
					cli_fail(c, &e2);
			}
		}
	}
	if (r < 0)
		status = cli_fail(c, &err);
	if (out->write_failed && !status)
		status = EX_CANTCREAT;
out:
	cn_fetch_close(f);
	if (lock >= 0)
		close(lock);
	return status;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	struct out out;
	struct cn_err err;
	int status;

	cli_init(&c, "carnet-sms-fetch");
	memset(&o, 0, sizeof(o));
	memset(&out, 0, sizeof(out));
	if (parse(&c, &o, argc, argv) < 0)
		return cli_finish(&c, c.status);
	if ((status = cli_open(&c)))
		return cli_finish(&c, status);
	out.c = &c;
	/* one record per event, as it happens: JSON is written as NDJSON */
	out.fmt = cli_format(&c, CN_FMT_CSV);
	if (out.fmt == CN_FMT_JSON)
		out.fmt = CN_FMT_NDJSON;
	if (out.fmt == CN_FMT_TABLE && o.listen)
		out.fmt = CN_FMT_CSV;	/* a table cannot grow line by line */
	out.live = o.listen != NULL;
	status = run(&c, &o, &out);
	if (out.w && cn_writer_close(out.w, &err) < 0 && !status)
		status = cli_fail(&c, &err);
	if (c.verbose)
		cli_warn(&c, "%ld receipts, %ld replies, %ld opt-outs, "
			 "%ld opt-ins, %ld campaigns closed",
			 out.counts[CN_EV_RECEIPT], out.counts[CN_EV_REPLY],
			 out.counts[CN_EV_OPTOUT], out.counts[CN_EV_OPTIN],
			 out.counts[CN_EV_CLOSED]);
	cli_close(&c);
	return cli_finish(&c, status);
}
