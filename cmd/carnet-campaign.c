/*
 * carnet-campaign - campaigns: list, show, send (or resume) a saved one,
 * close, their messages, the conversation with one number and a reply
 * inside it.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "sendcli.h"

static const char usage_text[] =
	"usage: carnet-campaign [options] ls [--status STATUS]\n"
	"       carnet-campaign [options] show ID\n"
	"       carnet-campaign [options] send ID [--simulate] [--yes] [--parallel N]\n"
	"           [--rate N/s] [--retries N] [--timeout S] [--resend-in-doubt]\n"
	"       carnet-campaign [options] close ID [--force]\n"
	"       carnet-campaign [options] messages ID [--status STATUS]\n"
	"       carnet-campaign [options] conversation NUMBER\n"
	"       carnet-campaign [options] reply NUMBER --text TEXT [--sender NAME]\n"
	"\n"
	"Commands:\n"
	"  ls            campaigns, newest first: status, counts, expected close\n"
	"  show          one campaign: template, list, sender, dates, counts per status\n"
	"  send          send a saved campaign (a draft), or resume one that was\n"
	"                stopped, killed or left by a failing gateway: sends what is\n"
	"                left, never a message twice\n"
	"  close         close a campaign: it collects no more receipts or replies\n"
	"  messages      a campaign's messages: text, status, provider id, error\n"
	"  conversation  every message to a number and every reply from it, in order\n"
	"  reply         send an answer to a number (the rules of carnet-sms-send)\n"
	"\n"
	"ID is a campaign's id, uuid or name.  STATUS: draft, sending, sent, closed\n"
	"(ls); preparing, in-doubt, sent, delivered, failed, expired, rejected,\n"
	"simulated, skipped (messages).\n"
	"\n"
	"Options of the commands:\n"
	"      --status STATUS      ls, messages: only this status\n"
	"      --simulate           send: a draft simulated, no gateway\n"
	"  -y, --yes                send, reply: confirm above sms.warn_threshold\n"
	"  -P, --parallel N         send: requests in flight (1-64, default 4)\n"
	"      --rate N/s           send: at most N requests per second (also N/m)\n"
	"      --retries N          send: retries of a temporary failure (default 3)\n"
	"      --timeout SECONDS    send: HTTP timeout (default: sms.http_timeout)\n"
	"      --resend-in-doubt    send: also send the messages that were in flight\n"
	"                           when a send was killed (they may arrive twice)\n"
	"  -f, --force              close: also when messages are left to send\n"
	"                           (they become failed)\n"
	"      --text TEXT          reply: the text\n"
	"      --sender NAME        reply: sender name (default: sms.sender)\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        the folder (default: every folder for ls)\n"
	"      --user NAME          the user (reply; default from config, $USER)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no summary on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Exit: 0 done; 1 refused (closed, over quota, messages left on close);\n"
	"66 no such campaign; 75 messages left for a later run (send); 77 the\n"
	"gateway refused the credentials.\n"
	"\n"
	"Examples:\n"
	"  carnet-campaign ls --status sending\n"
	"  carnet-campaign show relance-nov\n"
	"  carnet-campaign send 12            # a draft, or resume after a failure\n"
	"  carnet-campaign messages 12 --status failed --format json\n"
	"  carnet-campaign close 12\n"
	"  carnet-campaign conversation +33612345678\n"
	"  carnet-campaign reply +33612345678 --text 'Merci, à lundi'\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_YES = 'y',
	OPT_PARALLEL = 'P',
	OPT_FORCE = 'f',
	OPT_STATUS = OPT_TOOL_BASE,
	OPT_SIMULATE,
	OPT_RATE,
	OPT_RETRIES,
	OPT_TIMEOUT,
	OPT_INDOUBT,
	OPT_TEXT,
	OPT_SENDER,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"status", required_argument, NULL, OPT_STATUS},
	{"simulate", no_argument, NULL, OPT_SIMULATE},
	{"yes", no_argument, NULL, OPT_YES},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"rate", required_argument, NULL, OPT_RATE},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"resend-in-doubt", no_argument, NULL, OPT_INDOUBT},
	{"force", no_argument, NULL, OPT_FORCE},
	{"text", required_argument, NULL, OPT_TEXT},
	{"sender", required_argument, NULL, OPT_SENDER},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTS CLI_COMMON_SHORT "yP:f"

struct opts {
	struct sendcli s;
	const char *status;
	int force;
	unsigned given;	/* command options given: 1 << (opt - OPT_STATUS) */
};

#define int_arg sendcli_int

#define G(o) (1u << ((o) == OPT_YES ? 20 : (o) == OPT_PARALLEL ? 21 :       \
		     (o) == OPT_FORCE ? 22 : (o) - OPT_STATUS))

static int
parse(struct cli *c, struct opts *o, int argc, char **argv, const char *sh)
{
	int opt;
	long v;

	while ((opt = getopt_long(argc, argv, sh, options, NULL)) != -1) {
		if (cli_common(c, opt, optarg, usage)) {
			if (c->stop)
				return -1;
			continue;
		}
		if (opt == '?' || opt == ':')
			return cli_stop(c, EX_USAGE);
		o->given |= G(opt);
		switch (opt) {
		case OPT_STATUS: o->status = optarg; break;
		case OPT_SIMULATE: o->s.spec.simulate = 1; break;
		case OPT_YES: o->s.spec.yes = 1; break;
		case OPT_PARALLEL:
			if (int_arg(c, "parallel", optarg, 1, 64, &v) < 0)
				return -1;
			o->s.so.parallel = (int)v;
			break;
		case OPT_RATE:
			if (sendcli_rate(optarg, &o->s.so.rate) < 0) {
				cli_usage_error(c, "--rate: expected N/s or N/m "
						"(N > 0), got '%s'", optarg);
				return cli_stop(c, EX_USAGE);
			}
			break;
		case OPT_RETRIES:
			if (int_arg(c, "retries", optarg, 0, 20, &v) < 0)
				return -1;
			o->s.so.retries = (int)v;
			break;
		case OPT_TIMEOUT:
			if (int_arg(c, "timeout", optarg, 1, 3600, &v) < 0)
				return -1;
			o->s.so.timeout_s = v;
			break;
		case OPT_INDOUBT: o->s.so.resend_in_doubt = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_TEXT: o->s.spec.text = optarg; break;
		case OPT_SENDER: o->s.spec.sender = optarg; break;
		default:
			return cli_stop(c, EX_USAGE);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ output */

#define add_str sendcli_add_str
#define add_int sendcli_add_int

static void
add_time(struct cn_record *r, const char *name, long long t)
{
	char b[21];

	if (t)
		add_str(r, name, cli_time(t, b));
	else
		add_str(r, name, NULL);
}

static const char *const ls_cols[] = {
	"id", "name", "status", "folder", "user", "messages", "pending",
	"sent", "delivered", "failed", "replies", "created_at", "close_at",
};

static const char *const show_cols[] = {
	"id", "uuid", "name", "status", "folder", "user", "template", "list",
	"sender", "driver", "simulated", "created_at", "sent_at", "close_at",
	"closed_at", "messages", "segments", "preparing", "in_doubt", "sent",
	"delivered", "failed", "expired", "rejected", "skipped",
	"simulated_messages", "replies", "optouts",
};

struct w {
	struct cli *c;
	struct cn_writer *w;
	struct cn_record rec;
	int show;
	int failed;
};

static int
put_campaign(void *ctx, const struct cn_campaign_info *ci)
{
	struct w *w = ctx;
	struct cn_record *r = &w->rec;
	struct cn_err err;
	int64_t pending = ci->preparing + ci->in_doubt + ci->sent;

	cn_record_reset(r);
	add_int(r, "id", ci->id);
	if (w->show)
		add_str(r, "uuid", ci->uuid);
	add_str(r, "name", ci->name);
	add_str(r, "status", ci->status);
	add_str(r, "folder", ci->folder);
	add_str(r, "user", ci->user);
	if (w->show) {
		add_str(r, "template", ci->template_title);
		add_str(r, "list", ci->list);
		add_str(r, "sender", ci->sender);
		add_str(r, "driver", ci->driver);
		cn_record_add(r, "simulated", ci->simulated ? "true" : "false",
			      ci->simulated ? 4 : 5, CN_V_BOOL);
		add_time(r, "created_at", ci->created_at);
		add_time(r, "sent_at", ci->sent_at);
		add_time(r, "close_at", ci->close_at);
		add_time(r, "closed_at", ci->closed_at);
		add_int(r, "messages", ci->messages);
		add_int(r, "segments", ci->segments);
		add_int(r, "preparing", ci->preparing);
		add_int(r, "in_doubt", ci->in_doubt);
		add_int(r, "sent", ci->sent);
		add_int(r, "delivered", ci->delivered);
		add_int(r, "failed", ci->failed);
		add_int(r, "expired", ci->expired);
		add_int(r, "rejected", ci->rejected);
		add_int(r, "skipped", ci->skipped);
		add_int(r, "simulated_messages", ci->simulated_n);
		add_int(r, "replies", ci->replies);
		add_int(r, "optouts", ci->optouts);
	} else {
		add_int(r, "messages", ci->messages);
		add_int(r, "pending", pending);
		add_int(r, "sent", ci->sent + ci->delivered + ci->failed +
				   ci->expired + ci->rejected + ci->simulated_n);
		add_int(r, "delivered", ci->delivered);
		add_int(r, "failed", ci->failed + ci->expired + ci->rejected);
		add_int(r, "replies", ci->replies);
		add_time(r, "created_at", ci->created_at);
		add_time(r, "close_at", ci->close_at);
	}
	if (cn_writer_put(w->w, r, &err) < 0) {
		w->failed = 1;
		return 1;
	}
	return 0;
}

static int
w_open(struct w *w, struct cli *c, const char *const *cols, size_t n,
       enum cn_format def)
{
	struct cn_err err;

	memset(w, 0, sizeof(*w));
	w->c = c;
	cn_record_init(&w->rec);
	if (!(w->w = cn_writer_open(stdout, cli_format(c, def), cols, n, NULL,
				    &err)))
		return cli_fail(c, &err);
	return 0;
}

static int
w_close(struct w *w, int status)
{
	struct cn_err err;

	if (w->w && cn_writer_close(w->w, &err) < 0 && !status)
		status = cli_fail(w->c, &err);
	cn_record_free(&w->rec);
	if (w->failed && !status)
		status = EX_IOERR;
	return status;
}

static int
find(struct cli *c, const char *key, int64_t *id)
{
	struct cn_err err;

	if (!(*id = cn_campaign_find(c->st, key, c->folder, &err)))
		return cli_fail(c, &err);
	return 0;
}

static int
cmd_ls(struct cli *c, struct opts *o)
{
	static const char *const st[] = {"draft", "sending", "sent", "closed"};
	struct cn_err err;
	struct w w;
	int status, ok = !o->status;

	for (size_t i = 0; i < 4 && !ok; i++)
		ok = strcmp(o->status, st[i]) == 0;
	if (!ok)
		return cli_usage_error(c, "--status: draft, sending, sent or "
				       "closed, not '%s'", o->status);
	if ((status = cli_open(c)) ||
	    (status = w_open(&w, c, ls_cols, sizeof(ls_cols) / sizeof(*ls_cols),
			     CN_FMT_TABLE)))
		return status;
	if (cn_campaigns_each(c->st, c->folder, o->status, put_campaign, &w,
			      &err) < 0)
		status = cli_fail(c, &err);
	return w_close(&w, status);
}

static int
cmd_show(struct cli *c, const char *key)
{
	struct cn_campaign_info ci;
	struct cn_err err;
	struct w w;
	int64_t id;
	int status;

	if ((status = cli_open(c)) || (status = find(c, key, &id)))
		return status;
	if (cn_campaign_get(c->st, id, &ci, &err) < 0)
		return cli_fail(c, &err);
	if ((status = w_open(&w, c, show_cols,
			     sizeof(show_cols) / sizeof(*show_cols),
			     CN_FMT_JSON)))
		return status;
	w.show = 1;
	put_campaign(&w, &ci);
	return w_close(&w, 0);
}

static int
cmd_send(struct cli *c, struct opts *o, const char *key)
{
	int64_t id;
	int status;

	if ((status = cli_open(c)) || (status = find(c, key, &id)))
		return status;
	o->s.so.retry_failed = 1;
	sendcli_signals(&o->s);
	return sendcli_send(c, &o->s, id);
}

static int
cmd_close(struct cli *c, struct opts *o, const char *key)
{
	struct cn_err err;
	int64_t id;
	int status, r;

	if ((status = cli_open(c)) || (status = find(c, key, &id)))
		return status;
	r = cn_campaign_close(c->st, id, o->force, &err);
	if (r < 0)
		return cli_fail(c, &err);
	if (!c->quiet)
		fprintf(stderr, "%s: campaign %lld %s\n", c->prog,
			(long long)id, r == 1 ? "was already closed" : "closed");
	return 0;
}

static const char *const msg_cols[] = {
	"id", "campaign", "to", "status", "encoding", "segments",
	"provider_id", "error", "attempts", "sent_at", "done_at", "text",
};

static int
put_message(void *ctx, const struct cn_message_info *m)
{
	struct w *w = ctx;
	struct cn_record *r = &w->rec;
	struct cn_err err;

	cn_record_reset(r);
	add_str(r, "id", m->ref);
	add_str(r, "campaign", m->campaign_name);
	add_str(r, "to", m->to);
	add_str(r, "status", m->status);
	add_str(r, "encoding", m->encoding);
	add_int(r, "segments", m->segments);
	add_str(r, "provider_id", m->provider_id);
	add_str(r, "error", m->error);
	add_int(r, "attempts", m->attempts);
	add_time(r, "sent_at", m->sent_at);
	add_time(r, "done_at", m->done_at);
	add_str(r, "text", m->body);
	if (cn_writer_put(w->w, r, &err) < 0) {
		w->failed = 1;
		return 1;
	}
	return 0;
}

static int
cmd_messages(struct cli *c, struct opts *o, const char *key)
{
	struct cn_err err;
	struct w w;
	int64_t id;
	int status;

	if ((status = cli_open(c)) || (status = find(c, key, &id)) ||
	    (status = w_open(&w, c, msg_cols,
			     sizeof(msg_cols) / sizeof(*msg_cols),
			     CN_FMT_TABLE)))
		return status;
	if (cn_campaign_messages(c->st, id, o->status, put_message, &w,
				 &err) < 0)
		status = cli_fail(c, &err);
	return w_close(&w, status);
}

static const char *const conv_cols[] = {
	"time", "kind", "campaign", "status", "text",
};

static int
put_line(void *ctx, const struct cn_conv_line *l)
{
	struct w *w = ctx;
	struct cn_record *r = &w->rec;
	struct cn_err err;

	cn_record_reset(r);
	add_time(r, "time", l->at);
	add_str(r, "kind", l->kind);
	add_str(r, "campaign", l->campaign);
	add_str(r, "status", l->status);
	add_str(r, "text", l->text);
	if (cn_writer_put(w->w, r, &err) < 0) {
		w->failed = 1;
		return 1;
	}
	return 0;
}

static int
normalize(struct cli *c, const char *number, char *out, size_t cap)
{
	struct cn_err err;

	if (cn_phone_normalize(&c->cfg.phone, number, out, cap, &err) < 0)
		return cli_usage_error(c, "%s", err.msg);
	return 0;
}

static int
cmd_conversation(struct cli *c, const char *number)
{
	struct cn_err err;
	struct w w;
	char e164[64];
	int status;

	if ((status = cli_open(c)) ||
	    (status = normalize(c, number, e164, sizeof(e164))) ||
	    (status = w_open(&w, c, conv_cols,
			     sizeof(conv_cols) / sizeof(*conv_cols),
			     CN_FMT_TABLE)))
		return status;
	if (cn_conversation(c->st, e164, put_line, &w, &err) < 0)
		status = cli_fail(c, &err);
	return w_close(&w, status);
}

static int
cmd_reply(struct cli *c, struct opts *o, const char *number)
{
	char e164[64], name[128];
	FILE *fp;
	int status;

	if (!o->s.spec.text || !*o->s.spec.text)
		return cli_usage_error(c, "reply: give the text with --text");
	if ((status = cli_open(c)) ||
	    (status = normalize(c, number, e164, sizeof(e164))))
		return status;
	if (!(fp = tmpfile())) {
		cli_warn(c, "temporary file: %m");
		return EX_CANTCREAT;
	}
	fprintf(fp, "phone\n%s\n", e164);
	fflush(fp);
	/* a reply to an opted-out number is refused, not skipped */
	o->s.spec.skip_blacklisted = 0;
	snprintf(name, sizeof(name), "reply %s", e164);
	o->s.spec.campaign_base = name;	/* "reply +336... <time>", unique */
	o->s.infmt = CN_FMT_CSV;
	sendcli_signals(&o->s);
	status = sendcli_run(c, &o->s, fp, "reply");
	fclose(fp);
	return status;
}

/* Which command options each command takes. */
static const struct {
	const char *name;
	unsigned allowed;
	int operand;	/* 1: ID or NUMBER required */
} commands[] = {
	{"ls", G(OPT_STATUS), 0},
	{"show", 0, 1},
	{"send", G(OPT_SIMULATE) | G(OPT_YES) | G(OPT_PARALLEL) | G(OPT_RATE) |
		 G(OPT_RETRIES) | G(OPT_TIMEOUT) | G(OPT_INDOUBT), 1},
	{"close", G(OPT_FORCE), 1},
	{"messages", G(OPT_STATUS), 1},
	{"conversation", 0, 1},
	{"reply", G(OPT_TEXT) | G(OPT_SENDER) | G(OPT_YES) | G(OPT_TIMEOUT) |
		  G(OPT_RETRIES), 1},
};

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	const char *sub, *arg = NULL;
	char **args;
	int status, n;
	size_t i;

	cli_init(&c, "carnet-campaign");
	memset(&o, 0, sizeof(o));
	sendcli_init(&o.s);
	if (parse(&c, &o, argc, argv, "+" SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (optind >= argc)
		return cli_finish(&c, cli_usage_error(&c, "no command (ls, show, "
						      "send, close, messages, "
						      "conversation, reply)"));
	sub = argv[optind];
	n = argc - optind;
	args = argv + optind;
	args[0] = argv[0];
	optind = 0;
	if (parse(&c, &o, n, args, SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (strcmp(sub, "help") == 0) {
		usage(stdout);
		return cli_finish(&c, 0);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(sub, commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		status = cli_usage_error(&c, "unknown command '%s' (ls, show, "
					 "send, close, messages, conversation, "
					 "reply)", sub);
		goto out;
	}
	if (o.given & ~commands[i].allowed) {
		for (const struct option *op = options; op->name; op++)
			if (op->val >= OPT_STATUS || op->val == OPT_YES ||
			    op->val == OPT_PARALLEL || op->val == OPT_FORCE)
				if ((o.given & G(op->val)) &&
				    !(commands[i].allowed & G(op->val))) {
					status = cli_usage_error(&c, "%s: --%s "
								 "does not "
								 "apply", sub,
								 op->name);
					goto out;
				}
	}
	if (commands[i].operand) {
		if (optind >= n) {
			status = cli_usage_error(&c, "%s: give %s", sub,
						 strcmp(sub, "conversation") &&
							 strcmp(sub, "reply")
							 ? "the campaign's ID"
							 : "the NUMBER");
			goto out;
		}
		arg = args[optind++];
	}
	if (optind < n) {
		status = cli_usage_error(&c, "%s: unexpected argument '%s'", sub,
					 args[optind]);
		goto out;
	}
	if (strcmp(sub, "ls") == 0)
		status = cmd_ls(&c, &o);
	else if (strcmp(sub, "show") == 0)
		status = cmd_show(&c, arg);
	else if (strcmp(sub, "send") == 0)
		status = cmd_send(&c, &o, arg);
	else if (strcmp(sub, "close") == 0)
		status = cmd_close(&c, &o, arg);
	else if (strcmp(sub, "messages") == 0)
		status = cmd_messages(&c, &o, arg);
	else if (strcmp(sub, "conversation") == 0)
		status = cmd_conversation(&c, arg);
	else
		status = cmd_reply(&c, &o, arg);
out:
	cli_close(&c);
	return cli_finish(&c, status);
}
