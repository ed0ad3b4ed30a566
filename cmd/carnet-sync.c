/*
 * carnet-sync - two-way sync of the store with a CouchDB-compatible
 * server: runs (two-way, push only, pull only, dry run, watch), the state
 * of each item, conflicts and their resolution, the devices of the
 * account.
 *
 * Option parsing, one call into libcarnet per command (lib/sync.c), and
 * the mapping of the result to output and an exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-sync [options] [sync] [--push-only | --pull-only] [--dry-run]\n"
	"           [--force-delete] [--watch [N]] [--policy P] [--kinds LIST] [--batch N]\n"
	"       carnet-sync [options] status [--pending]\n"
	"       carnet-sync [options] conflicts [--resolved] [--take local|remote ID]\n"
	"       carnet-sync [options] devices\n"
	"\n"
	"Commands:\n"
	"  sync        (the default) pull the server's changes, then push this\n"
	"              store's pending items; cron-friendly (exit 75: try later)\n"
	"  status      each item (list, contact, blacklist entry, template,\n"
	"              campaign, message): synced, pending or conflict, and when\n"
	"              it last synced; the counts and last sync time on stderr\n"
	"  conflicts   items changed on both sides, with both versions\n"
	"  devices     the machines that sync this account, and their last sync\n"
	"\n"
	"Options of the commands:\n"
	"      --push-only          send this store's changes, take nothing (export)\n"
	"      --pull-only          take the server's changes, send nothing (import)\n"
	"  -n, --dry-run            list what would be pushed and pulled, and the\n"
	"                           conflicts, on stdout; write nothing anywhere\n"
	"      --force-delete       go past the mass-delete guard (sync.delete_max,\n"
	"                           sync.delete_max_percent)\n"
	"      --watch[=N]          sync every N seconds (default: sync.interval)\n"
	"                           until SIGTERM or SIGINT, which end the run\n"
	"                           after the current batch\n"
	"      --policy P           newest, local, remote or ask (default:\n"
	"                           sync.conflict_policy)\n"
	"      --kinds LIST         what syncs: lists,contacts,blacklists,templates,\n"
	"                           campaigns (default: sync.kinds)\n"
	"      --batch N            documents per request, 1 to 10000 (1000)\n"
	"      --pending            status: only items not synced\n"
	"      --resolved           conflicts: the resolved ones and how\n"
	"      --take SIDE          conflicts: resolve conflict ID with the local\n"
	"                           or the remote version\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        accepted for symmetry; sync covers every folder\n"
	"      --user NAME          accepted for symmetry\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no summary on stderr\n"
	"  -v, --verbose            each batch on stderr, and the documents sent\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"The password comes from $CARNET_SYNC_PASSWORD or sync.password_file.\n"
	"\n"
	"Examples:\n"
	"  carnet-sync                          # two-way, e.g. from cron\n"
	"  carnet-sync --dry-run --format table\n"
	"  carnet-sync status --pending\n"
	"  carnet-sync conflicts && carnet-sync conflicts --take remote 3\n"
	"  carnet-sync --watch 60 &\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_DRYRUN = 'n',
	OPT_PUSH_ONLY = OPT_TOOL_BASE,
	OPT_PULL_ONLY,
	OPT_FORCE_DELETE,
	OPT_WATCH,
	OPT_POLICY,
	OPT_KINDS,
	OPT_BATCH,
	OPT_PENDING,
	OPT_RESOLVED,
	OPT_TAKE,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"push-only", no_argument, NULL, OPT_PUSH_ONLY},
	{"pull-only", no_argument, NULL, OPT_PULL_ONLY},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"force-delete", no_argument, NULL, OPT_FORCE_DELETE},
	{"watch", optional_argument, NULL, OPT_WATCH},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"kinds", required_argument, NULL, OPT_KINDS},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"pending", no_argument, NULL, OPT_PENDING},
	{"resolved", no_argument, NULL, OPT_RESOLVED},
	{"take", required_argument, NULL, OPT_TAKE},
	{NULL, 0, NULL, 0},
};

struct opts {
	int push_only, pull_only, dry_run, force_delete;
	int watch;		/* 1: --watch given */
	long interval;		/* its N, 0: from the configuration */
	const char *policy, *kinds;
	long batch;
	int pending, resolved;
	const char *take;
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* ------------------------------------------------------------ output */

struct out {
	struct cli *c;
	struct cn_writer *w;
	enum cn_format fmt;
	int status;
	int quiet_changes;	/* a run without --dry-run or --format */
};

static void
add_str(struct cn_record *r, const char *name, const char *v)
{
	cn_record_add(r, name, v, v ? strlen(v) : 0, v ? CN_V_STR : CN_V_NULL);
}

static void
add_num(struct cn_record *r, const char *name, int64_t v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	cn_record_add(r, name, num, (size_t)n, CN_V_NUM);
}

static void
add_time(struct cn_record *r, const char *name, int64_t t)
{
	char buf[21];

	if (t > 0)
		add_str(r, name, cli_time(t, buf));
	else
		add_str(r, name, NULL);
}

static int
out_put(struct out *o, const char *const *cols, size_t ncols,
	const struct cn_record *r)
{
	struct cn_err err;

	if (o->status)
		return 1;
	if (!o->w) {
		o->w = cn_writer_open(stdout, o->fmt, cols, ncols, NULL, &err);
		if (!o->w) {
			o->status = cli_fail(o->c, &err);
			return 1;
		}
	}
	if (cn_writer_put(o->w, r, &err) < 0) {
		o->status = cli_fail(o->c, &err);
		return 1;
	}
	return 0;
}

static int
out_close(struct out *o)
{
	struct cn_err err;

	if (o->w && cn_writer_close(o->w, &err) < 0 && !o->status)
		o->status = cli_fail(o->c, &err);
	o->w = NULL;
	return o->status;
}

static const char *const change_cols[] = {"direction", "kind", "id",
					  "action", "label"};

static void
on_change(void *ctx, const struct cn_sync_change *ch)
{
	struct out *o = ctx;
	struct cn_record r;

	if (o->quiet_changes)
		return;
	cn_record_init(&r);
	add_str(&r, "direction", ch->direction);
	add_str(&r, "kind", ch->kind);
	add_str(&r, "id", ch->uuid);
	add_str(&r, "action", ch->action);
	add_str(&r, "label", ch->label);
	out_put(o, change_cols, 5, &r);
	cn_record_free(&r);
}

static void
on_log(void *ctx, const char *line)
{
	struct out *o = ctx;

	if (o->c->verbose)
		cli_warn(o->c, "%s", line);
}

/* ----------------------------------------------------------- options */

/* Fills so from the configuration and the options.  Returns 0 or an exit
 * status (printed).  *password is the caller's to free. */
static int
sync_opts(struct cli *c, const struct opts *op, struct cn_sync_opts *so,
	  char **password, char *host, size_t hostcap)
{
	struct cn_err err;
	const char *kinds = op->kinds ? op->kinds : c->cfg.sync_kinds;
	const char *pol = op->policy ? op->policy : c->cfg.sync_conflict_policy;

	memset(so, 0, sizeof(*so));
	*password = NULL;
	so->url = c->cfg.sync_url;
	so->database = c->cfg.sync_database;
	so->username = c->cfg.sync_username;
	so->timeout_s = c->cfg.http_timeout_s;
	if (cn_sync_kinds_parse(kinds ? kinds : "", &so->kinds) < 0)
		return op->kinds ? cli_usage_error(c, "--kinds: unknown kind in "
						   "'%s' (lists, contacts, "
						   "blacklists, templates, "
						   "campaigns)", op->kinds)
				 : (cli_warn(c, "sync.kinds: unknown kind"),
				    EX_CONFIG);
	if (!kinds)
		so->kinds = CN_SYNC_ALL;
	if (cn_sync_policy_parse(pol ? pol : "newest", &so->policy) < 0)
		return cli_usage_error(c, "--policy: unknown policy '%s' "
				       "(newest, local, remote, ask)", pol);
	so->delete_max_percent = c->cfg.sync_delete_max_percent;
	so->delete_max = c->cfg.sync_delete_max;
	so->force_delete = op->force_delete;
	if (c->cfg.sync_device && *c->cfg.sync_device) {
		snprintf(host, hostcap, "%s", c->cfg.sync_device);
	} else if (gethostname(host, hostcap - 1) < 0) {
		snprintf(host, hostcap, "unknown");
	}
	host[hostcap - 1] = '\0';
	so->device_name = host;
	so->push = !op->pull_only;
	so->pull = !op->push_only;
	so->dry_run = op->dry_run;
	so->batch = (int)op->batch;
	so->stop = &stop_flag;
	if (!so->url || !*so->url) {
		cli_warn(c, "no server: set sync.url in the configuration "
			 "(see carnet.yaml(5))");
		return EX_CONFIG;
	}
	if (cn_secret("CARNET_SYNC_PASSWORD", c->cfg.sync_password_file,
		      c->cfg.sync_password, password, &err) < 0)
		return cli_fail(c, &err);
	so->password = *password;
	return 0;
}

/* ------------------------------------------------------------- sync */

static void
summary(struct cli *c, const struct cn_sync_opts *so,
	const struct cn_sync_stats *st)
{
	const char *w = so->dry_run ? "would " : "";

	if (c->quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "%s: ", c->prog);
	if (so->pull)
		fprintf(stderr, "%spull %" PRIu64 " (%" PRIu64 " deleted)", w,
			st->pulled, st->pulled_deleted);
	if (so->pull && so->push)
		fputs(", ", stderr);
	if (so->push)
		fprintf(stderr, "%spush %" PRIu64 " (%" PRIu64 " deleted)", w,
			st->pushed, st->pushed_deleted);
	fprintf(stderr, "; %" PRIu64 " conflicts resolved, %" PRIu64
		" open", st->conflicts, st->conflicts_open);
	if (c->verbose)
		fprintf(stderr, "; %" PRIu64 " documents sent, %" PRIu64
			" received, %" PRIu64 " requests", st->docs_sent,
			st->docs_received, st->requests);
	if (st->stopped)
		fputs("; stopped", stderr);
	fputc('\n', stderr);
	if (st->conflicts_open)
		cli_warn(c, "open conflicts wait for you: carnet-sync "
			 "conflicts");
}

static int
one_run(struct cli *c, struct cn_sync_opts *so, struct out *o)
{
	struct cn_sync_stats st = {0};
	struct cn_err err;
	int rc = cn_sync_run(c->st, so, &st, &err);

	if (st.server_reset)
		cli_warn(c, "the server's database was emptied or made anew "
			 "since the last sync: this store's %llu items %s "
			 "pushed to it again", (unsigned long long)st.server_reset,
			 so->dry_run ? "would be" : "are");
	if (rc < 0) {
		out_close(o);
		return cli_fail(c, &err);
	}
	if (out_close(o))
		return o->status;
	summary(c, so, &st);
	if (st.rejected) {
		cli_warn(c, "refused %llu document%s from the server as bad "
			 "data (not applied): %s%s",
			 (unsigned long long)st.rejected,
			 st.rejected == 1 ? "" : "s", st.rejected_msg,
			 st.rejected > 1 ? " (first; -v lists each)" : "");
		return EX_DATAERR;
	}
	if (st.refused) {
		cli_warn(c, "%s; nothing %s; run with --force-delete if they "
			 "are meant", st.refused_msg,
			 strstr(st.refused_msg, "apply") ? "pulled or pushed"
							  : "of them pushed");
		return 1;
	}
	return 0;
}

static int
cmd_sync(struct cli *c, const struct opts *op)
{
	struct cn_sync_opts so;
	struct out o = {0};
	char *password = NULL, host[256];
	int rc;

	if (!c->cfg.sync_enabled) {
		if (!c->quiet)
			cli_warn(c, "sync is off (sync.enabled: false); "
				 "nothing done");
		return 0;
	}
	if ((rc = sync_opts(c, op, &so, &password, host, sizeof(host))))
		goto out;
	o.c = c;
	o.fmt = cli_format(c, CN_FMT_TABLE);
	o.quiet_changes = !op->dry_run && c->format == CN_FMT_AUTO;
	so.on_change = on_change;
	so.on_log = on_log;
	so.ctx = &o;
	if (!op->watch) {
		rc = one_run(c, &so, &o);
		goto out;
	}
	{
		long every = op->interval ? op->interval : c->cfg.sync_interval_s;
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		for (;;) {
			rc = one_run(c, &so, &o);
			fflush(stdout);
			if (rc && rc != EX_TEMPFAIL && rc != 1)
				break;	/* credentials, configuration: stop */
			if (stop_flag)
				break;
			for (long i = 0; i < every * 10 && !stop_flag; i++) {
				struct timespec ts = {0, 100000000};

				nanosleep(&ts, NULL);
			}
			if (stop_flag) {
				rc = 0;
				break;
			}
		}
		if (stop_flag && (rc == 0 || rc == EX_TEMPFAIL || rc == 1))
			rc = 0;
	}
out:
	cn_secret_free(password);
	return rc;
}

/* ----------------------------------------------------------- status */

static const char *const status_cols[] = {"kind", "id", "label", "state",
					  "deleted", "rev", "changed_at",
					  "synced_at"};

static int
status_item(void *ctx, const struct cn_sync_item *it)
{
	struct out *o = ctx;
	struct cn_record r;
	int stop;

	cn_record_init(&r);
	add_str(&r, "kind", it->kind);
	add_str(&r, "id", it->uuid);
	add_str(&r, "label", it->label);
	add_str(&r, "state", it->state);
	cn_record_add(&r, "deleted", it->deleted ? "true" : "false",
		      it->deleted ? 4 : 5, CN_V_BOOL);
	add_str(&r, "rev", it->rev);
	add_time(&r, "changed_at", it->changed_at);
	add_time(&r, "synced_at", it->synced_at);
	stop = out_put(o, status_cols, 8, &r);
	cn_record_free(&r);
	return stop;
}

static unsigned
kinds_of(struct cli *c, const struct opts *op, int *bad)
{
	const char *k = op->kinds ? op->kinds : c->cfg.sync_kinds;
	unsigned m;

	*bad = 0;
	if (!k)
		return CN_SYNC_ALL;
	if (cn_sync_kinds_parse(k, &m) < 0) {
		*bad = cli_usage_error(c, "unknown kind in '%s' (lists, "
				       "contacts, blacklists, templates, "
				       "campaigns)", k);
		return 0;
	}
	return m;
}

static int
cmd_status(struct cli *c, const struct opts *op)
{
	struct out o = {0};
	struct cn_sync_summary sm;
	struct cn_err err;
	unsigned kinds;
	int bad;

	kinds = kinds_of(c, op, &bad);
	if (bad)
		return bad;
	o.c = c;
	o.fmt = cli_format(c, CN_FMT_TABLE);
	if (cn_sync_status(c->st, kinds, op->pending, status_item, &o, &err) < 0)
		return cli_fail(c, &err);
	if (out_close(&o))
		return o.status;
	if (cn_sync_summary(c->st, kinds, &sm, &err) < 0)
		return cli_fail(c, &err);
	if (!c->quiet) {
		char buf[21];

		cli_warn(c, "%" PRId64 " synced, %" PRId64 " pending (%" PRId64
			 " deletions), %" PRId64 " in conflict; last sync: %s%s",
			 sm.synced, sm.pending, sm.deleted_pending, sm.conflict,
			 sm.last_sync ? cli_time(sm.last_sync, buf) : "never",
			 c->cfg.sync_enabled ? "" : " (sync is off)");
	}
	return 0;
}

/* -------------------------------------------------------- conflicts */

static const char *const conflict_cols[] = {"id", "kind", "item",
					    "created_at", "resolution",
					    "resolved_at", "local", "remote"};

static int
conflict_item(void *ctx, const struct cn_sync_conflict *cf)
{
	struct out *o = ctx;
	struct cn_record r;
	int stop;

	cn_record_init(&r);
	add_num(&r, "id", cf->id);
	add_str(&r, "kind", cf->kind);
	add_str(&r, "item", cf->uuid);
	add_time(&r, "created_at", cf->created_at);
	add_str(&r, "resolution", cf->resolution);
	add_time(&r, "resolved_at", cf->resolution ? cf->resolved_at : 0);
	if (o->fmt == CN_FMT_JSON || o->fmt == CN_FMT_NDJSON) {
		cn_record_add(&r, "local", cf->local ? cf->local : NULL,
			      cf->local ? strlen(cf->local) : 0,
			      cf->local ? CN_V_RAW : CN_V_NULL);
		cn_record_add(&r, "remote", cf->remote ? cf->remote : NULL,
			      cf->remote ? strlen(cf->remote) : 0,
			      cf->remote ? CN_V_RAW : CN_V_NULL);
	} else {
		add_str(&r, "local", cf->local ? cf->local : "(deleted)");
		add_str(&r, "remote", cf->remote ? cf->remote : "(deleted)");
	}
	stop = out_put(o, conflict_cols, 8, &r);
	cn_record_free(&r);
	return stop;
}

static int
cmd_conflicts(struct cli *c, const struct opts *op, int argc, char **argv)
{
	struct out o = {0};
	struct cn_err err;

	if (op->take) {
		long id;
		int remote;

		if (strcmp(op->take, "local") != 0 &&
		    strcmp(op->take, "remote") != 0)
			return cli_usage_error(c, "--take: 'local' or 'remote', "
					       "not '%s'", op->take);
		if (argc != 1 || parse_long(argv[0], 1, 0x7fffffffL, &id) < 0)
			return cli_usage_error(c, "--take %s: give one conflict "
					       "ID (see carnet-sync "
					       "conflicts)", op->take);
		remote = strcmp(op->take, "remote") == 0;
		if (op->dry_run) {
			if (!c->quiet)
				cli_warn(c, "would take the %s version of "
					 "conflict %ld", op->take, id);
			return 0;
		}
		if (cn_sync_take(c->st, id, remote, &err) < 0)
			return cli_fail(c, &err);
		if (!c->quiet)
			cli_warn(c, "conflict %ld: the %s version is kept%s",
				 id, op->take,
				 remote ? "" : "; the next sync pushes it");
		return 0;
	}
	if (argc)
		return cli_usage_error(c, "conflicts: unexpected '%s'",
				       argv[0]);
	o.c = c;
	o.fmt = cli_format(c, CN_FMT_TABLE);
	if (cn_sync_conflicts(c->st, op->resolved, conflict_item, &o, &err) < 0)
		return cli_fail(c, &err);
	return out_close(&o);
}

/* ---------------------------------------------------------- devices */

static const char *const device_cols[] = {"id", "name", "last_sync",
					  "this"};

static int
device_item(void *ctx, const struct cn_sync_device *d)
{
	struct out *o = ctx;
	struct cn_record r;
	int stop;

	cn_record_init(&r);
	add_str(&r, "id", d->id);
	add_str(&r, "name", d->name);
	add_time(&r, "last_sync", d->last_sync);
	cn_record_add(&r, "this", d->self ? "true" : "false", d->self ? 4 : 5,
		      CN_V_BOOL);
	stop = out_put(o, device_cols, 4, &r);
	cn_record_free(&r);
	return stop;
}

static int
cmd_devices(struct cli *c, const struct opts *op)
{
	struct cn_sync_opts so, *sp = NULL;
	struct out o = {0};
	struct cn_err err;
	char *password = NULL, host[256];
	int offline = 0, rc = 0;

	if (c->cfg.sync_enabled && c->cfg.sync_url) {
		if ((rc = sync_opts(c, op, &so, &password, host, sizeof(host))))
			goto out;
		sp = &so;
	}
	o.c = c;
	o.fmt = cli_format(c, CN_FMT_TABLE);
	if (cn_sync_devices(c->st, sp, device_item, &o, &offline, &err) < 0) {
		rc = cli_fail(c, &err);
		goto out;
	}
	rc = out_close(&o);
	if (!rc && offline && !c->quiet)
		cli_warn(c, "%s; these are the devices this store remembers",
			 !sp ? "sync is off or has no server"
			     : "the server cannot be reached");
out:
	cn_secret_free(password);
	return rc;
}

/* ------------------------------------------------------------- main */

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts op = {0};
	const char *cmd = "sync";
	int opt, rc;

	cli_init(&c, "carnet-sync");
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "n", options,
				  NULL)) != -1) {
		if (cli_common(&c, opt, optarg, usage)) {
			if (c.stop)
				return cli_finish(&c, c.status);
			continue;
		}
		switch (opt) {
		case OPT_PUSH_ONLY: op.push_only = 1; break;
		case OPT_PULL_ONLY: op.pull_only = 1; break;
		case OPT_DRYRUN: op.dry_run = 1; break;
		case OPT_FORCE_DELETE: op.force_delete = 1; break;
		case OPT_WATCH:
			op.watch = 1;
			if (optarg && parse_long(optarg, 1, 86400,
						 &op.interval) < 0)
				return cli_finish(&c, cli_usage_error(
					&c, "--watch: invalid interval '%s' (1 "
					"to 86400 seconds)", optarg));
			break;
		case OPT_POLICY: op.policy = optarg; break;
		case OPT_KINDS: op.kinds = optarg; break;
		case OPT_BATCH:
			if (parse_long(optarg, 1, 10000, &op.batch) < 0)
				return cli_finish(&c, cli_usage_error(
					&c, "--batch: invalid number '%s' (1 to "
					"10000)", optarg));
			break;
		case OPT_PENDING: op.pending = 1; break;
		case OPT_RESOLVED: op.resolved = 1; break;
		case OPT_TAKE: op.take = optarg; break;
		default:
			return cli_finish(&c, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	/* "--watch 60": the interval as the next word */
	if (op.watch && !op.interval && argc > 0 && all_digits(argv[0])) {
		if (parse_long(argv[0], 1, 86400, &op.interval) < 0)
			return cli_finish(&c, cli_usage_error(
				&c, "--watch: invalid interval '%s' (1 to "
				"86400 seconds)", argv[0]));
		argc--;
		argv++;
	}
	if (argc > 0 && (strcmp(argv[0], "sync") == 0 ||
			 strcmp(argv[0], "status") == 0 ||
			 strcmp(argv[0], "conflicts") == 0 ||
			 strcmp(argv[0], "devices") == 0)) {
		cmd = argv[0];
		argc--;
		argv++;
	} else if (argc > 0 && !op.take) {
		return cli_finish(&c, cli_usage_error(&c, "unknown command '%s'"
						      " (sync, status, "
						      "conflicts, devices)",
						      argv[0]));
	}
	if (op.take && strcmp(cmd, "sync") == 0)
		cmd = "conflicts";
	if (op.push_only && op.pull_only)
		return cli_finish(&c, cli_usage_error(&c, "--push-only and "
						      "--pull-only exclude "
						      "each other"));
	if (strcmp(cmd, "sync") != 0 &&
	    (op.push_only || op.pull_only || op.force_delete || op.watch ||
	     op.batch || op.policy))
		return cli_finish(&c, cli_usage_error(&c, "%s: only a sync run "
						      "takes --push-only, "
						      "--pull-only, "
						      "--force-delete, --watch,"
						      " --batch, --policy",
						      cmd));
	if (op.watch && op.dry_run)
		return cli_finish(&c, cli_usage_error(&c, "--watch and "
						      "--dry-run exclude each "
						      "other"));
	if (strcmp(cmd, "sync") == 0 && argc > 0)
		return cli_finish(&c, cli_usage_error(&c, "unexpected '%s'",
						      argv[0]));
	if ((rc = cli_open(&c)))
		return cli_finish(&c, rc);
	if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&c, &op);
	else if (strcmp(cmd, "conflicts") == 0)
		rc = cmd_conflicts(&c, &op, argc, argv);
	else if (strcmp(cmd, "devices") == 0)
		rc = cmd_devices(&c, &op);
	else
		rc = cmd_sync(&c, &op);
	cli_close(&c);
	return cli_finish(&c, rc);
}
