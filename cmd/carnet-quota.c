/*
 * carnet-quota - SMS quotas per send and per month, per folder and per
 * user; the consumption report from the usage ledger; checks of one send.
 *
 * Option parsing, one call into libcarnet per command (lib/quota.c), and
 * the mapping of the result to output and an exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-quota [options] set (--user NAME | --default)\n"
	"           [--folder NAME | --common] [--specific | --unlimited | --forbid | --default]\n"
	"           [--per-send-sms N] [--per-send-recipients N] [--per-month-sms N]\n"
	"           [--per-month-recipients N] [--mode block|warn] [--dry-run]\n"
	"       carnet-quota [options] rm (--user NAME | --default) [--folder NAME | --common]\n"
	"           [--dry-run] [--force]\n"
	"       carnet-quota [options] show [--user NAME] [--folder NAME | --common]\n"
	"       carnet-quota [options] usage [--month YYYY-MM|all] [--user NAME] [--folder NAME]\n"
	"       carnet-quota [options] check [--user NAME] [--folder NAME]\n"
	"           (--sms N | --segments N) --recipients N [--month YYYY-MM]\n"
	"       carnet-quota [options] record [--user NAME] [--folder NAME]\n"
	"           (--sms N | --segments N) --recipients N [--month YYYY-MM]\n"
	"           [--dry-run] [--force]\n"
	"\n"
	"Commands:\n"
	"  set      create or change the quota of a user, or the default quota\n"
	"  rm       remove a quota row (the next one in the order applies)\n"
	"  show     every quota row, or with --user the quota that applies to a user\n"
	"  usage    SMS sent and recipients per month, folder and user (the ledger)\n"
	"  check    whether one send fits: exit 0 ok (or warned), 1 over quota\n"
	"  record   record usage by hand (for corrections and tests): checks the\n"
	"           quota like a send, unless --force\n"
	"\n"
	"Options of the commands:\n"
	"      --default            set, rm: the default quota (without --user);\n"
	"                           with --user: the user follows the default quota\n"
	"      --common             the row common to all folders (set and rm use it\n"
	"                           when --folder is not given)\n"
	"      --specific           the user's own limits (implied by limits)\n"
	"      --unlimited          no limit\n"
	"      --forbid             no sending at all\n"
	"      --per-send-sms N     SMS (segments x recipients) in one send\n"
	"      --per-send-recipients N  recipients of one send\n"
	"      --per-month-sms N    SMS in a calendar month (UTC)\n"
	"      --per-month-recipients N  recipients in a month\n"
	"                           (N: a whole number >= 0, or 'none' to remove)\n"
	"      --mode MODE          over quota: block (refuse) or warn (default:\n"
	"                           quota.mode of the configuration, for a new row)\n"
	"      --month MONTH        YYYY-MM (default: this month); usage: 'all'\n"
	"      --sms N              check, record: SMS of the send (segments x\n"
	"                           recipients, summed over the recipients)\n"
	"      --segments N         check, record: SMS of one text; counts N x\n"
	"                           --recipients (a 2-SMS text to 4 people: 8)\n"
	"      --recipients N       check, record: recipients of the send\n"
	"  -n, --dry-run            set, rm, record: say what would change, change nothing\n"
	"  -f, --force              record: no quota check, negative counts allowed\n"
	"                           (corrections); rm: no error when there is no row\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        the folder (check, show --user, record: default\n"
	"                           from config; set, rm: the folder's own row)\n"
	"      --user NAME          the user (check, record: default from config, $USER)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no warnings on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  carnet-quota set --default --per-send-sms 200 --per-month-sms 5000\n"
	"  carnet-quota set --user JK --folder agence-lyon --per-month-sms 10000 --mode warn\n"
	"  carnet-quota set --user SYLVIE --forbid\n"
	"  carnet-quota show --user JK\n"
	"  carnet-quota usage --month 2026-11 --format json\n"
	"  carnet-quota check --user JK --sms 8 --recipients 4 || echo 'over quota'\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_DRYRUN = 'n',
	OPT_FORCE = 'f',
	OPT_DEFAULT = OPT_TOOL_BASE,
	OPT_COMMON,
	OPT_SPECIFIC,
	OPT_UNLIMITED,
	OPT_FORBID,
	OPT_SEND_SMS,
	OPT_SEND_RCPT,
	OPT_MONTH_SMS,
	OPT_MONTH_RCPT,
	OPT_MODE,
	OPT_MONTH,
	OPT_SMS,
	OPT_RECIPIENTS,
	OPT_SEGMENTS,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"default", no_argument, NULL, OPT_DEFAULT},
	{"common", no_argument, NULL, OPT_COMMON},
	{"specific", no_argument, NULL, OPT_SPECIFIC},
	{"unlimited", no_argument, NULL, OPT_UNLIMITED},
	{"forbid", no_argument, NULL, OPT_FORBID},
	{"per-send-sms", required_argument, NULL, OPT_SEND_SMS},
	{"per-send-recipients", required_argument, NULL, OPT_SEND_RCPT},
	{"per-month-sms", required_argument, NULL, OPT_MONTH_SMS},
	{"per-month-recipients", required_argument, NULL, OPT_MONTH_RCPT},
	{"mode", required_argument, NULL, OPT_MODE},
	{"month", required_argument, NULL, OPT_MONTH},
	{"sms", required_argument, NULL, OPT_SMS},
	{"recipients", required_argument, NULL, OPT_RECIPIENTS},
	{"segments", required_argument, NULL, OPT_SEGMENTS},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"force", no_argument, NULL, OPT_FORCE},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTS CLI_COMMON_SHORT "nf"

/* Which command options were given: bit (opt - OPT_DEFAULT), and two more
 * for the short ones. */
#define BIT(o)                                                               \
	(1u << ((o) == OPT_DRYRUN ? 20 : (o) == OPT_FORCE ? 21                 \
						       : (o) - OPT_DEFAULT))

struct opts {
	unsigned given;
	enum cn_quota_kind kind;	/* --specific/--unlimited/--forbid */
	int kinds;			/* how many of those */
	int64_t limit[CN_QL_N];		/* CN_QUOTA_KEEP if not given */
	int mode;			/* -1 if not given */
	const char *month;
	int64_t sms, recipients, segments;
	int dry_run, force;
	int neg_opt;			/* a negative count: its option */
	const char *neg_arg;		/* and its text (record --force) */
};

/* The long name of a command option, for messages. */
static const char *
opt_name(int opt)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/*
 * Parses a count: decimal digits, at most CN_QUOTA_MAX; 'none' gives
 * CN_QUOTA_NOLIMIT when allow_none; a leading '-' is accepted when
 * allow_negative.  Returns 0, or -1 (*out untouched).
 */
static int
parse_count(const char *s, int64_t *out, int allow_none, int allow_negative)
{
	const char *p = s;
	int64_t v = 0;
	int neg = 0;

	if (allow_none && strcmp(s, "none") == 0) {
		*out = CN_QUOTA_NOLIMIT;
		return 0;
	}
	if (allow_negative && *p == '-') {
		neg = 1;
		p++;
	}
	if (!*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > CN_QUOTA_MAX)
			return -1;
	}
	*out = neg ? -v : v;
	return 0;
}

static int
bad_count(struct cli *c, int opt, const char *arg, int allow_none)
{
	char max[32];

	snprintf(max, sizeof(max), "%" PRId64, CN_QUOTA_MAX);
	return cli_stop(c, cli_usage_error(c, "--%s: invalid number '%s' (a "
					   "whole number from 0 to %s%s)",
					   opt_name(opt), arg, max,
					   allow_none ? ", or 'none'" : ""));
}

/*
 * Parses options from argv[optind...] with getopt_long.  Returns 0, or -1
 * when the program must stop with c->status (--help, a usage error).
 */
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
		case OPT_DEFAULT:
		case OPT_COMMON:
		case OPT_DRYRUN:
		case OPT_FORCE:
			break;
		case OPT_SPECIFIC:
		case OPT_UNLIMITED:
		case OPT_FORBID: {
			enum cn_quota_kind k =
				opt == OPT_SPECIFIC    ? CN_QUOTA_SPECIFIC
				: opt == OPT_UNLIMITED ? CN_QUOTA_UNLIMITED
						       : CN_QUOTA_FORBIDDEN;

			if (!(o->given & BIT(opt)))
				o->kinds++;
			o->kind = k;
			break;
		}
		case OPT_SEND_SMS:
		case OPT_SEND_RCPT:
		case OPT_MONTH_SMS:
		case OPT_MONTH_RCPT:
			if (parse_count(optarg,
					&o->limit[opt - OPT_SEND_SMS], 1, 0) < 0)
				return bad_count(c, opt, optarg, 1);
			break;
		case OPT_SMS:
		case OPT_RECIPIENTS:
		case OPT_SEGMENTS: {
			int64_t *p = opt == OPT_SMS	   ? &o->sms
				     : opt == OPT_SEGMENTS ? &o->segments
							   : &o->recipients;

			if (parse_count(optarg, p, 0, opt != OPT_SEGMENTS) < 0)
				return bad_count(c, opt, optarg, 0);
			if (*p < 0 && !o->neg_arg) {	/* the first one */
				o->neg_opt = opt;
				o->neg_arg = optarg;
			}
			break;
		}
		case OPT_MODE: {
			enum cn_quota_mode m;

			if (cn_quota_mode_parse(optarg, &m) < 0)
				return cli_stop(c, cli_usage_error(
							c, "unknown mode '%s' "
							"(block, warn)",
							optarg));
			o->mode = (int)m;
			break;
		}
		case OPT_MONTH:
			o->month = optarg;
			break;
		default:
			return cli_stop(c, cli_usage_error(c, "unexpected "
							   "option"));
		}
		o->given |= BIT(opt);
		if (opt == OPT_DRYRUN)
			o->dry_run = 1;
		if (opt == OPT_FORCE)
			o->force = 1;
	}
	return 0;
}

/* The command options each command takes. */
static const struct {
	const char *name;
	unsigned allowed;
} commands[] = {
	{"set", BIT(OPT_DEFAULT) | BIT(OPT_COMMON) | BIT(OPT_SPECIFIC) |
			BIT(OPT_UNLIMITED) | BIT(OPT_FORBID) |
			BIT(OPT_SEND_SMS) | BIT(OPT_SEND_RCPT) |
			BIT(OPT_MONTH_SMS) | BIT(OPT_MONTH_RCPT) |
			BIT(OPT_MODE) | BIT(OPT_DRYRUN)},
	{"rm", BIT(OPT_DEFAULT) | BIT(OPT_COMMON) | BIT(OPT_DRYRUN) |
		       BIT(OPT_FORCE)},
	{"show", BIT(OPT_COMMON)},
	{"usage", BIT(OPT_MONTH)},
	{"check", BIT(OPT_SMS) | BIT(OPT_SEGMENTS) | BIT(OPT_RECIPIENTS) |
			  BIT(OPT_MONTH)},
	{"record", BIT(OPT_SMS) | BIT(OPT_SEGMENTS) | BIT(OPT_RECIPIENTS) |
			   BIT(OPT_MONTH) | BIT(OPT_DRYRUN) | BIT(OPT_FORCE)},
};

/* Refuses the options that the command does not take.  Returns 0 or the
 * exit status. */
static int
check_allowed(struct cli *c, const char *cmd, unsigned allowed,
	      const struct opts *o)
{
	static const int all[] = {
		OPT_DEFAULT,	OPT_COMMON,	OPT_SPECIFIC,	OPT_UNLIMITED,
		OPT_FORBID,	OPT_SEND_SMS,	OPT_SEND_RCPT,	OPT_MONTH_SMS,
		OPT_MONTH_RCPT, OPT_MODE,	OPT_MONTH,	OPT_SMS,
		OPT_RECIPIENTS, OPT_SEGMENTS,	OPT_DRYRUN,	OPT_FORCE,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if ((o->given & BIT(all[i])) && !(allowed & BIT(all[i])))
			return cli_usage_error(c, "%s: --%s does not apply",
					       cmd, opt_name(all[i]));
	return 0;
}

/* ---------------------------------------------------------- records */

static void
add_str(struct cn_record *r, const char *name, const char *v)
{
	cn_record_add(r, name, v, v ? strlen(v) : 0, v ? CN_V_STR : CN_V_NULL);
}

static void
add_num(struct cn_record *r, const char *name, int64_t v, int present)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	if (present)
		cn_record_add(r, name, num, (size_t)n, CN_V_NUM);
	else
		cn_record_add(r, name, NULL, 0, CN_V_NULL);
}

static void
add_bool(struct cn_record *r, const char *name, int v)
{
	cn_record_add(r, name, v ? "true" : "false", v ? 4 : 5, CN_V_BOOL);
}

static const char *const rule_cols[] = {
	"scope", "folder", "user", "kind", "mode", "per_send_sms",
	"per_send_recipients", "per_month_sms", "per_month_recipients",
	"updated",
};
#define NRULE_COLS (sizeof(rule_cols) / sizeof(rule_cols[0]))

/* A quota row as a record: the columns of rule_cols. */
static void
rule_record(const struct cn_quota_rule *q, struct cn_record *r)
{
	int default_row = q->user[0] == '\0';
	int limits = cn_quota_has_limits(q->kind, default_row);
	char when[21];

	add_str(r, "scope", q->folder[0] ? "folder" : "common");
	add_str(r, "folder", q->folder[0] ? q->folder : NULL);
	add_str(r, "user", q->user[0] ? q->user : NULL);
	add_str(r, "kind", cn_quota_kind_name(q->kind));
	add_str(r, "mode", limits ? cn_quota_mode_name(q->mode)
			   : q->kind == CN_QUOTA_FORBIDDEN ? "block"
							   : NULL);
	for (int i = 0; i < CN_QL_N; i++)
		add_num(r, cn_quota_limit_name((enum cn_quota_limit)i),
			q->limit[i], limits && q->limit[i] >= 0);
	add_str(r, "updated", q->updated_at ? cli_time(q->updated_at, when)
					    : NULL);
}

/* ------------------------------------------------------------ set, rm */

/* The folder of set and rm: --folder, else the common row. */
static int
target(struct cli *c, const char *cmd, const struct opts *o,
       const char **folder, const char **user)
{
	if ((o->given & BIT(OPT_COMMON)) && c->folder)
		return cli_usage_error(c, "%s: --folder and --common cannot be "
				       "combined", cmd);
	if (!c->user && !(o->given & BIT(OPT_DEFAULT)))
		return cli_usage_error(c, "%s: whose quota? give --user NAME, "
				       "or --default for the default quota",
				       cmd);
	*folder = c->folder;
	*user = c->user;
	return 0;
}

static int
print_rule(struct cli *c, const char *verb, const struct cn_quota_rule *q,
	   const char *action, int dry_run)
{
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	char where[600], text[300];
	struct cn_record r;
	int status;

	if (f == CN_FMT_AUTO) {
		cn_quota_rule_where(q, where, sizeof(where));
		cn_quota_rule_text(q, text, sizeof(text));
		printf("%s %s: %s\n", verb, where, text);
		return 0;
	}
	cn_record_init(&r);
	rule_record(q, &r);
	add_str(&r, "action", action);
	add_bool(&r, "dry_run", dry_run);
	status = cli_put_record(c, f, &r);
	cn_record_free(&r);
	return status;
}

static int
cmd_set(struct cli *c, struct opts *o)
{
	static const char *const actions[] = {"", "created", "updated",
					      "unchanged", "removed"};
	struct cn_quota_change ch;
	struct cn_quota_rule q;
	enum cn_quota_action act;
	struct cn_err err;
	int status;

	cn_quota_change_init(&ch);
	if ((status = target(c, "set", o, &ch.folder, &ch.user)))
		return status;
	if (o->kinds > 1 || (o->kinds && c->user &&
			     (o->given & BIT(OPT_DEFAULT))))
		return cli_usage_error(c, "set: give one of --specific, "
				       "--unlimited, --forbid, --default");
	if (c->user && (o->given & BIT(OPT_DEFAULT)))
		ch.kind = CN_QUOTA_DEFAULT;
	else if (o->kinds)
		ch.kind = o->kind;
	memcpy(ch.limit, o->limit, sizeof(ch.limit));
	ch.mode = o->mode;
	ch.dry_run = o->dry_run;
	/* what can be refused without the store is, before it is opened */
	if (cn_quota_change_check(&ch, &err) < 0)
		return cli_fail(c, &err);
	if ((status = cli_open(c)))
		return status;
	if (c->cfg.quota_mode)
		cn_quota_mode_parse(c->cfg.quota_mode, &ch.default_mode);
	if (cn_quota_set(c->st, &ch, &q, &act, &err) < 0)
		return cli_fail(c, &err);
	return print_rule(c,
			  act == CN_QUOTA_UNCHANGED ? "unchanged"
			  : o->dry_run		    ? "would set"
						    : "set",
			  &q, actions[act], o->dry_run);
}

static int
cmd_rm(struct cli *c, struct opts *o)
{
	const char *folder, *user;
	struct cn_quota_rule q;
	struct cn_err err;
	int status;

	if ((status = target(c, "rm", o, &folder, &user)))
		return status;
	if (c->user && (o->given & BIT(OPT_DEFAULT)))
		return cli_usage_error(c, "rm: --user and --default cannot be "
				       "combined (remove the user's row with "
				       "--user alone)");
	if ((status = cli_open(c)))
		return status;
	if (cn_quota_remove(c->st, folder, user, o->dry_run, &q, &err) < 0) {
		if (err.code == CN_ENOINPUT && o->force)
			return 0;
		return cli_fail(c, &err);
	}
	return print_rule(c, o->dry_run ? "would remove" : "removed", &q,
			  "removed", o->dry_run);
}

/* --------------------------------------------------------------- show */

struct rows_ctx {
	struct cn_writer *w;
	struct cn_err *err;
	int failed;
};

static int
show_one(void *ctx, const struct cn_quota_rule *q)
{
	struct rows_ctx *x = ctx;
	struct cn_record r;

	cn_record_init(&r);
	rule_record(q, &r);
	if (cn_writer_put(x->w, &r, x->err) < 0)
		x->failed = 1;
	cn_record_free(&r);
	return x->failed;
}

/* A note on stderr when the user is not in the store. */
static void
note_unknown(struct cli *c, const struct cn_quota_verdict *v,
	     const char *user)
{
	if (!v->quota.known_user && !c->quiet)
		cli_warn(c, "user '%s' is not in the store: the default quota "
			 "applies", user);
}

/* The quota that applies to one user: text, or one record. */
static int
show_user(struct cli *c)
{
	struct cn_quota_req req;
	struct cn_quota_verdict v;
	struct cn_err err;
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	struct cn_record r;
	char text[300], a[32], b[32];
	int status;

	memset(&req, 0, sizeof(req));
	req.folder = cli_folder(c);
	req.user = c->user;
	/* an empty send: the quota and this month's usage, nothing else */
	if (cn_quota_check(c->st, &req, &v, &err) < 0 &&
	    err.code != CN_ECHECK)
		return cli_fail(c, &err);
	note_unknown(c, &v, req.user);
	if (f == CN_FMT_AUTO) {
		struct cn_quota_rule q = v.quota.rule;

		q.kind = v.quota.kind;
		if (v.quota.kind == CN_QUOTA_DEFAULT)
			q.user[0] = '\0';	/* the default row's limits */
		cn_quota_rule_text(&q, text, sizeof(text));
		snprintf(a, sizeof(a), "%" PRId64, v.used_sms);
		snprintf(b, sizeof(b), "%" PRId64, v.used_recipients);
		printf("user %s in folder %s: %s (quota: %s); used in %s: %s "
		       "SMS, %s recipients\n", req.user, req.folder, text,
		       v.quota.source, v.month, a, b);
		return 0;
	}
	cn_record_init(&r);
	add_str(&r, "folder", req.folder);
	add_str(&r, "user", req.user);
	add_bool(&r, "known_user", v.quota.known_user);
	add_str(&r, "kind", cn_quota_kind_name(v.quota.kind));
	{
		int has = v.quota.kind == CN_QUOTA_DEFAULT ||
			  v.quota.kind == CN_QUOTA_SPECIFIC;

		add_str(&r, "mode", has ? cn_quota_mode_name(v.quota.mode)
				    : v.quota.kind == CN_QUOTA_FORBIDDEN
					    ? "block"
					    : NULL);
		for (int i = 0; i < CN_QL_N; i++)
			add_num(&r, cn_quota_limit_name((enum cn_quota_limit)i),
				v.quota.limit[i], has && v.quota.limit[i] >= 0);
	}
	add_str(&r, "source", v.quota.source);
	add_str(&r, "month", v.month);
	add_num(&r, "used_sms", v.used_sms, 1);
	add_num(&r, "used_recipients", v.used_recipients, 1);
	status = cli_put_record(c, f, &r);
	cn_record_free(&r);
	return status;
}

static int
cmd_show(struct cli *c, struct opts *o)
{
	struct cn_err err;
	struct rows_ctx x = {NULL, &err, 0};
	int status;

	if ((o->given & BIT(OPT_COMMON)) && (c->folder || c->user))
		return cli_usage_error(c, "show: --common lists the common "
				       "rows; it does not go with --folder or "
				       "--user");
	if ((status = cli_open(c)))
		return status;
	if (c->user)
		return show_user(c);
	x.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), rule_cols,
			     NRULE_COLS, NULL, &err);
	if (!x.w)
		return cli_fail(c, &err);
	if (cn_quota_each(c->st, c->folder, NULL,
			  (o->given & BIT(OPT_COMMON)) != 0, show_one, &x,
			  &err) < 0 ||
	    x.failed) {
		cn_writer_close(x.w, NULL);
		return cli_fail(c, &err);
	}
	if (cn_writer_close(x.w, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* -------------------------------------------------------------- usage */

static int
usage_one(void *ctx, const struct cn_quota_usage_row *u)
{
	struct rows_ctx *x = ctx;
	struct cn_record r;

	cn_record_init(&r);
	add_str(&r, "month", u->month);
	add_str(&r, "folder", u->folder);
	add_str(&r, "user", u->user);
	add_num(&r, "sms", u->sms, 1);
	add_num(&r, "recipients", u->recipients, 1);
	if (cn_writer_put(x->w, &r, x->err) < 0)
		x->failed = 1;
	cn_record_free(&r);
	return x->failed;
}

/* The month of --month (or this month) into month[8]; "all" gives "".
 * Returns 0 or the exit status. */
static int
month_arg(struct cli *c, const struct opts *o, int allow_all, char month[8])
{
	if (!o->month) {
		cn_quota_month_now(month);
		return 0;
	}
	if (allow_all && strcmp(o->month, "all") == 0) {
		month[0] = '\0';
		return 0;
	}
	if (!cn_quota_month_valid(o->month))
		return cli_usage_error(c, "--month: invalid month '%s' "
				       "(expected YYYY-MM%s)", o->month,
				       allow_all ? " or 'all'" : "");
	memcpy(month, o->month, 8);
	return 0;
}

static int
cmd_usage(struct cli *c, struct opts *o)
{
	static const char *const cols[] = {"month", "folder", "user", "sms",
					   "recipients"};
	struct cn_err err;
	struct rows_ctx x = {NULL, &err, 0};
	char month[8];
	int status;

	if ((status = month_arg(c, o, 1, month)))
		return status;
	if ((status = cli_open(c)))
		return status;
	x.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), cols, 5,
			     NULL, &err);
	if (!x.w)
		return cli_fail(c, &err);
	if (cn_quota_usage(c->st, month[0] ? month : NULL, c->folder, c->user,
			   usage_one, &x, &err) < 0 ||
	    x.failed) {
		cn_writer_close(x.w, NULL);
		return cli_fail(c, &err);
	}
	if (cn_writer_close(x.w, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* ------------------------------------------------------ check, record */

/* Fills req from the options; returns 0 or the exit status. */
static int
send_req(struct cli *c, const char *cmd, const struct opts *o,
	 struct cn_quota_req *req, char month[8])
{
	int status;

	if (!(o->given & BIT(OPT_RECIPIENTS)) ||
	    !(o->given & (BIT(OPT_SMS) | BIT(OPT_SEGMENTS))))
		return cli_usage_error(c, "%s: --recipients N and --sms N (or "
				       "--segments N) are required", cmd);
	if ((o->given & BIT(OPT_SMS)) && (o->given & BIT(OPT_SEGMENTS)))
		return cli_usage_error(c, "%s: --sms and --segments cannot be "
				       "combined", cmd);
	if (o->neg_arg && !o->force)
		return cli_usage_error(c, "--%s: invalid number '%s' (a whole "
				       "number from 0%s)", opt_name(o->neg_opt),
				       o->neg_arg,
				       strcmp(cmd, "record") == 0
					       ? "; a negative correction "
						 "needs --force"
					       : "");
	if ((status = month_arg(c, o, 0, month)))
		return status;
	memset(req, 0, sizeof(*req));
	req->sms = o->sms;
	if (o->given & BIT(OPT_SEGMENTS)) {
		/* the seed's rule: each recipient counts the text's SMS */
		if (o->segments && o->recipients > CN_QUOTA_MAX / o->segments)
			return cli_usage_error(c, "%s: --segments x "
					       "--recipients is too large", cmd);
		req->sms = o->segments * o->recipients;
	}
	req->recipients = o->recipients;
	req->month = month;
	req->dry_run = o->dry_run;
	return 0;
}

/*
 * Reports a verdict: warnings (warn mode, threshold) on stderr unless -q,
 * refusals on stderr always; on stdout the "ok" line (text) or the
 * verdict's record with extra fields (ledger_id, dry_run for record).
 */
static int
report(struct cli *c, const struct cn_quota_verdict *v,
       const struct cn_quota_req *req, const char *okverb, int is_record)
{
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	char line[512], a[32], b[32];
	int status = 0;

	note_unknown(c, v, req->user);
	if (v->forbidden || v->threshold) {
		if (!v->allowed || !c->quiet)
			cli_warn(c, "%s%s", v->allowed ? "warning: " : "",
				 v->reason);
	}
	for (size_t i = 0; i < v->nover; i++) {
		if (v->allowed && c->quiet)
			break;
		cn_quota_over_text(v, req, i, line, sizeof(line));
		cli_warn(c, "%s%s%s", v->allowed ? "warning: " : "", line,
			 v->allowed ? " (warn mode: not blocked)" : "");
	}
	if (f != CN_FMT_AUTO) {
		struct cn_record r;

		cn_record_init(&r);
		if (cn_quota_verdict_record(v, req, &r) < 0) {
			cn_record_free(&r);
			cli_warn(c, "out of memory");
			return EX_SOFTWARE;
		}
		if (is_record) {
			add_num(&r, "ledger_id", v->ledger_id,
				v->ledger_id > 0);
			add_bool(&r, "dry_run", req->dry_run);
		}
		status = cli_put_record(c, f, &r);
		cn_record_free(&r);
	} else if (v->allowed) {
		snprintf(a, sizeof(a), "%" PRId64, req->sms);
		snprintf(b, sizeof(b), "%" PRId64, req->recipients);
		printf("%s: %s SMS to %s recipient%s for user %s in folder %s "
		       "in %s (quota: %s)\n", okverb, a, b,
		       req->recipients == 1 ? "" : "s", req->user,
		       req->folder, v->month, v->quota.source);
	}
	if (c->verbose)
		cli_warn(c, "used in %s before this send: %" PRId64 " SMS, "
			 "%" PRId64 " recipients", v->month, v->used_sms,
			 v->used_recipients);
	if (!status && !v->allowed)
		status = 1;
	return status;
}

static int
cmd_check(struct cli *c, struct opts *o)
{
	struct cn_quota_req req;
	struct cn_quota_verdict v;
	struct cn_err err;
	char month[8];
	int status;

	/* options first: a usage error must not create the store */
	if ((status = send_req(c, "check", o, &req, month)) ||
	    (status = cli_open(c)))
		return status;
	req.folder = cli_folder(c);	/* the configuration is loaded now */
	req.user = cli_user(c);
	req.warn_threshold = c->cfg.sms_warn_threshold;
	if (cn_quota_check(c->st, &req, &v, &err) < 0 &&
	    err.code != CN_ECHECK)
		return cli_fail(c, &err);
	return report(c, &v, &req, "ok", 0);
}

static int
cmd_record(struct cli *c, struct opts *o)
{
	struct cn_quota_req req;
	struct cn_quota_verdict v;
	struct cn_err err;
	char month[8];
	int status;

	/* options first: a usage error must not create the store */
	if ((status = send_req(c, "record", o, &req, month)) ||
	    (status = cli_open(c)))
		return status;
	req.folder = cli_folder(c);	/* the configuration is loaded now */
	req.user = cli_user(c);
	req.warn_threshold = c->cfg.sms_warn_threshold;
	if (o->force) {
		int64_t id;
		enum cn_format f = cli_format(c, CN_FMT_AUTO);
		struct cn_record r;

		if (cn_quota_append(c->st, &req, &id, &err) < 0)
			return cli_fail(c, &err);
		if (f == CN_FMT_AUTO) {
			printf("%s %" PRId64 " SMS, %" PRId64 " recipient%s "
			       "for user %s in folder %s, %s (no quota "
			       "check)\n",
			       o->dry_run ? "would record" : "recorded",
			       req.sms, req.recipients,
			       req.recipients == 1 || req.recipients == -1
				       ? ""
				       : "s",
			       req.user, req.folder, month);
			return 0;
		}
		cn_record_init(&r);
		add_str(&r, "folder", req.folder);
		add_str(&r, "user", req.user);
		add_str(&r, "month", month);
		add_num(&r, "sms", req.sms, 1);
		add_num(&r, "recipients", req.recipients, 1);
		add_num(&r, "ledger_id", id, id > 0);
		add_bool(&r, "dry_run", o->dry_run);
		status = cli_put_record(c, f, &r);
		cn_record_free(&r);
		return status;
	}
	if (cn_quota_reserve(c->st, &req, &v, &err) < 0 &&
	    err.code != CN_ECHECK)
		return cli_fail(c, &err);
	return report(c, &v, &req, o->dry_run ? "would record" : "recorded",
		      1);
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	const char *sub;
	char **args;
	int status, n;
	size_t i;

	cli_init(&c, "carnet-quota");
	memset(&o, 0, sizeof(o));
	for (int k = 0; k < CN_QL_N; k++)
		o.limit[k] = CN_QUOTA_KEEP;
	o.mode = -1;
	/* options before the command: stop at the first operand */
	if (parse(&c, &o, argc, argv, "+" SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (optind >= argc)
		return cli_finish(&c, cli_usage_error(&c, "no command (set, "
						      "rm, show, usage, "
						      "check, record)"));
	sub = argv[optind];
	/* options after it, in any order with the operands */
	n = argc - optind;
	args = argv + optind;
	args[0] = argv[0];	/* getopt's messages name the program */
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
	if (i == sizeof(commands) / sizeof(commands[0]))
		status = cli_usage_error(&c, "unknown command '%s' (set, rm, "
					 "show, usage, check, record)", sub);
	else if (optind < n)
		status = cli_usage_error(&c, "%s: unexpected argument '%s'",
					 sub, args[optind]);
	else if ((status = check_allowed(&c, sub, commands[i].allowed, &o)))
		;
	else if (strcmp(sub, "set") == 0)
		status = cmd_set(&c, &o);
	else if (strcmp(sub, "rm") == 0)
		status = cmd_rm(&c, &o);
	else if (strcmp(sub, "show") == 0)
		status = cmd_show(&c, &o);
	else if (strcmp(sub, "usage") == 0)
		status = cmd_usage(&c, &o);
	else if (strcmp(sub, "check") == 0)
		status = cmd_check(&c, &o);
	else
		status = cmd_record(&c, &o);
	cli_close(&c);
	return cli_finish(&c, status);
}
