/*
 * carnet-backup - list backups: list, create, export, verify, prune, the
 * per-list switch, and whole-store snapshots.
 *
 * Option parsing, one call into libcarnet per subcommand, and the mapping
 * of the result to output and an exit status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-backup [options] ls [--list NAME]\n"
	"       carnet-backup [options] create --list NAME\n"
	"       carnet-backup [options] export ID [--delimiter C] [--safe-csv | --no-safe-csv]\n"
	"       carnet-backup [options] verify [ID]\n"
	"       carnet-backup [options] prune [--days N] [--keep-last N] [--force] [--dry-run]\n"
	"       carnet-backup [options] config --list NAME [--on | --off]\n"
	"       carnet-backup [options] snapshot > FILE.tar.gz\n"
	"\n"
	"Backups of a list are taken automatically before an import or a restore\n"
	"changes it and before it is deleted; kept 30 days (backup.retention_days).\n"
	"\n"
	"Options:\n"
	"  -l, --list NAME          the list (ls: only its backups)\n"
	"      --days N             prune: older than N days (default: backup.retention_days)\n"
	"      --keep-last N        prune: always keep the newest N backups of each list\n"
	"      --force              prune: may remove a list's newest backup under 24 hours old\n"
	"  -n, --dry-run            prune: print what would be removed, remove nothing\n"
	"      --on, --off          config: turn the list's automatic backups on or off\n"
	"  -d, --delimiter C        export: CSV delimiter (default ',')\n"
	"      --safe-csv           export: a cell starting with = + - @ that is not\n"
	"                           an E.164 number gets a leading ' (spreadsheet\n"
	"                           formulas); the default when stdout is a .csv file\n"
	"      --no-safe-csv        export: write every cell as it is\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        the folder (default from config; ls: every folder)\n"
	"      --user NAME          the acting user (default from config, $USER)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no warnings on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  carnet-backup ls --list clients\n"
	"  carnet-backup create --list clients\n"
	"  carnet-backup export 42 --format csv > clients-2026-11-20.csv\n"
	"  carnet-backup verify\n"
	"  carnet-backup prune --dry-run\n"
	"  carnet-backup config --list clients --off\n"
	"  carnet-backup snapshot > carnet-2026-11-22.tar.gz\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_LIST = 'l',
	OPT_DRYRUN = 'n',
	OPT_DELIM = 'd',
	OPT_DAYS = OPT_TOOL_BASE,
	OPT_KEEP,
	OPT_FORCE,
	OPT_ON,
	OPT_OFF,
	OPT_SAFE,
	OPT_NOSAFE,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"list", required_argument, NULL, OPT_LIST},
	{"days", required_argument, NULL, OPT_DAYS},
	{"keep-last", required_argument, NULL, OPT_KEEP},
	{"force", no_argument, NULL, OPT_FORCE},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"on", no_argument, NULL, OPT_ON},
	{"off", no_argument, NULL, OPT_OFF},
	{"delimiter", required_argument, NULL, OPT_DELIM},
	{"safe-csv", no_argument, NULL, OPT_SAFE},
	{"no-safe-csv", no_argument, NULL, OPT_NOSAFE},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTS CLI_COMMON_SHORT "l:nd:"

struct opts {
	const char *list;
	long days, keep_last;	/* -1: from the configuration */
	int force, dry_run, on, off;
	char delim;
	int safe;	/* --safe-csv 1, --no-safe-csv 0, else -1 */
};


/* Parses a non-negative integer option. */
static int
number(struct cli *c, const char *opt, const char *arg, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0)
		return cli_stop(c, cli_usage_error(c, "%s: expected a number of 0 "
					       "or more, got '%s'", opt, arg));
	*out = v;
	return 0;
}

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
		case OPT_LIST: o->list = optarg; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_DRYRUN: o->dry_run = 1; break;
		case OPT_ON: o->on = 1; break;
		case OPT_OFF: o->off = 1; break;
		case OPT_SAFE: o->safe = 1; break;
		case OPT_NOSAFE: o->safe = 0; break;
		case OPT_DAYS:
			if (number(c, "--days", optarg, &o->days) < 0)
				return -1;
			break;
		case OPT_KEEP:
			if (number(c, "--keep-last", optarg, &o->keep_last) < 0)
				return -1;
			break;
		case OPT_DELIM:
			if (cli_delimiter(c, optarg, &o->delim) < 0)
				return -1;
			break;
		default:
			return cli_stop(c, cli_usage_error(c, "unexpected option"));
		}
	}
	return 0;
}

/* Parses a backup id operand. */
static int
backup_id(struct cli *c, const char *arg, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0) {
		cli_usage_error(c, "'%s' is not a backup id (see 'carnet-backup "
				"ls')", arg);
		return -1;
	}
	*id = v;
	return 0;
}

/* ---------------------------------------------------------------- ls */

static const char *const ls_cols[] = {"id",   "folder", "list",	  "created",
				      "reason", "rows", "size",	  "sha256",
				      "user", "file"};

struct put_ctx {
	struct cn_writer *w;
	struct cn_err *err;
	int failed;
	const char *status;	/* verify: add status and problem */
	const char *problem;
};

static int
put_backup(void *ctx, const struct cn_backup_info *b)
{
	struct put_ctx *p = ctx;
	struct cn_record r;
	char id[24], rows[24], size[24], when[21];
	int n1 = snprintf(id, sizeof(id), "%lld", (long long)b->id);
	int n2 = snprintf(rows, sizeof(rows), "%lld", (long long)b->rows);
	int n3 = snprintf(size, sizeof(size), "%lld", (long long)b->size);

	cn_record_init(&r);
	cn_record_add(&r, "id", id, (size_t)n1, CN_V_NUM);
	cn_record_add(&r, "folder", b->folder, strlen(b->folder), CN_V_STR);
	cn_record_add(&r, "list", b->list, strlen(b->list), CN_V_STR);
	if (b->created_at) {
		cli_time(b->created_at, when);
		cn_record_add(&r, "created", when, strlen(when), CN_V_STR);
	} else {
		cn_record_add(&r, "created", NULL, 0, CN_V_NULL);
	}
	if (p->status) {
		cn_record_add(&r, "status", p->status, strlen(p->status),
			      CN_V_STR);
		cn_record_add(&r, "problem", p->problem, strlen(p->problem),
			      CN_V_STR);
	} else {
		const char *why = b->id ? cn_backup_reason_name(b->reason) : "";

		cn_record_add(&r, "reason", why, strlen(why), CN_V_STR);
		cn_record_add(&r, "rows", rows, (size_t)n2, CN_V_NUM);
		cn_record_add(&r, "size", size, (size_t)n3, CN_V_NUM);
		cn_record_add(&r, "sha256", b->sha256, strlen(b->sha256),
			      CN_V_STR);
		cn_record_add(&r, "user", b->user, strlen(b->user), CN_V_STR);
	}
	cn_record_add(&r, "file", b->file, strlen(b->file), CN_V_STR);
	if (cn_writer_put(p->w, &r, p->err) < 0)
		p->failed = 1;
	cn_record_free(&r);
	return p->failed;
}

static int
cmd_ls(struct cli *c, struct opts *o)
{
	struct cn_err err;
	struct put_ctx p = {NULL, &err, 0, NULL, NULL};
	int status;

	if ((status = cli_open(c)))
		return status;
	p.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), ls_cols, 10,
			     NULL, &err);
	if (!p.w)
		return cli_fail(c, &err);
	if (cn_backups_each(c->st, c->folder, o->list, put_backup, &p, &err) <
		    0 ||
	    p.failed) {
		cn_writer_close(p.w, NULL);
		return cli_fail(c, &err);
	}
	if (cn_writer_close(p.w, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* ------------------------------------------------------------ create */

static int
cmd_create(struct cli *c, struct opts *o)
{
	struct cn_err err;
	struct cn_backup_info b;
	struct put_ctx p = {NULL, &err, 0, NULL, NULL};
	int64_t id;
	int status;

	if (!o->list)
		return cli_usage_error(c, "create: --list NAME is required");
	if ((status = cli_open(c)))
		return status;
	id = cn_backup_create(c->st, cli_backup_policy(c), cli_folder(c),
			      o->list, &err);
	if (id < 0 || cn_backup_get(c->st, id, &b, &err) < 0)
		return cli_fail(c, &err);
	if (cli_format(c, CN_FMT_AUTO) == CN_FMT_AUTO) {
		printf("backup %lld of list '%s' (folder '%s'): %lld rows, "
		       "%lld bytes, sha256 %s\n",
		       (long long)b.id, b.list, b.folder, (long long)b.rows,
		       (long long)b.size, b.sha256);
	} else {
		enum cn_format f = cli_format(c, CN_FMT_AUTO);

		p.w = cn_writer_open(stdout, f == CN_FMT_JSON ? CN_FMT_NDJSON
							       : f,
				     ls_cols, 10, NULL, &err);
		if (!p.w || put_backup(&p, &b) || cn_writer_close(p.w, &err))
			return cli_fail(c, &err);
	}
	cli_auto_prune(c, id);
	return 0;
}

/* ------------------------------------------------------------ export */

static int
cmd_export(struct cli *c, struct opts *o, const char *arg)
{
	struct cn_err err;
	struct cn_backup_info b;
	struct cn_csv_opts csv = {o->delim ? o->delim : ',', 0,
				  cli_safe_csv(o->safe)};
	int64_t id;
	int status;

	if (!arg)
		return cli_usage_error(c, "export: which backup? (an id from "
				       "'carnet-backup ls')");
	if (backup_id(c, arg, &id) < 0)
		return EX_USAGE;
	if ((status = cli_open(c)))
		return status;
	if (cn_backup_get(c->st, id, &b, &err) < 0 ||
	    cn_backup_export(c->st, &b, stdout, cli_format(c, CN_FMT_CSV),
			     &csv, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* ------------------------------------------------------------ verify */

struct verify_ctx {
	struct cli *c;
	struct put_ctx p;
	long checked, damaged;
	int failed;
};

static int
verify_one(void *ctx, const struct cn_backup_info *b)
{
	struct verify_ctx *v = ctx;
	char problem[600];
	struct cn_err err;
	int r = cn_backup_verify(v->c->st, b, problem, sizeof(problem), &err);

	if (r < 0) {
		cli_fail(v->c, &err);
		v->failed = 1;
		return 1;
	}
	v->checked++;
	if (r == 1) {
		v->damaged++;
		if (!v->c->quiet)
			cli_warn(v->c, "backup %lld (%s): %s", (long long)b->id,
				 b->list, problem);
	}
	v->p.status = r ? "damaged" : "ok";
	v->p.problem = r ? problem : "";
	return put_backup(&v->p, b);
}

static int
cmd_verify(struct cli *c, const char *arg)
{
	static const char *const cols[] = {"id",     "folder",	"list",
					   "created", "status", "problem",
					   "file"};
	struct cn_err err;
	struct verify_ctx v;
	struct cn_backup_info b;
	int64_t id = 0;
	int status;

	memset(&v, 0, sizeof(v));
	if (arg && backup_id(c, arg, &id) < 0)
		return EX_USAGE;
	if ((status = cli_open(c)))
		return status;
	v.c = c;
	v.p.err = &err;
	v.p.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), cols, 7,
			       NULL, &err);
	if (!v.p.w)
		return cli_fail(c, &err);
	if (id) {
		if (cn_backup_get(c->st, id, &b, &err) < 0) {
			cn_writer_close(v.p.w, NULL);
			return cli_fail(c, &err);
		}
		verify_one(&v, &b);
	} else if (cn_backups_each(c->st, c->folder, NULL, verify_one, &v,
				   &err) < 0) {
		cn_writer_close(v.p.w, NULL);
		return cli_fail(c, &err);
	}
	if (cn_writer_close(v.p.w, &err) < 0)
		return cli_fail(c, &err);
	if (v.failed)
		return EX_SOFTWARE;
	if (!c->quiet && v.damaged)
		cli_warn(c, "%ld of %ld backups damaged", v.damaged, v.checked);
	return v.damaged ? 1 : 0;
}

/* ------------------------------------------------------------- prune */

static int
cmd_prune(struct cli *c, struct opts *o)
{
	struct cn_err err;
	struct put_ctx p = {NULL, &err, 0, NULL, NULL};
	struct cn_prune_opts po;
	int64_t n;
	int status;

	if ((status = cli_open(c)))
		return status;
	memset(&po, 0, sizeof(po));
	/* backup.retention_days: 0 keeps backups forever; --days 0 means
	 * what it says */
	po.days = o->days >= 0 ? o->days
		  : c->cfg.backup_retention_days > 0
			  ? c->cfg.backup_retention_days
			  : -1;
	po.keep_last = o->keep_last >= 0 ? o->keep_last
					 : c->cfg.backup_keep_last;
	po.force = o->force;
	po.dry_run = o->dry_run;
	p.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), ls_cols, 10,
			     NULL, &err);
	if (!p.w)
		return cli_fail(c, &err);
	n = cn_backup_prune(c->st, cli_backup_policy(c), &po, put_backup, &p,
			    &err);
	if (cn_writer_close(p.w, n >= 0 ? &err : NULL) < 0 || n < 0)
		return cli_fail(c, &err);
	if (!c->quiet && po.days >= 0)
		cli_warn(c, "%s %lld backups older than %ld days%s",
			 o->dry_run ? "would remove" : "removed", (long long)n,
			 po.days,
			 po.keep_last ? " (keeping the newest of each list)"
				      : "");
	else if (!c->quiet)
		cli_warn(c, "%s %lld backups (retention: forever%s)",
			 o->dry_run ? "would remove" : "removed", (long long)n,
			 po.keep_last ? ", keeping the newest of each list"
				      : "");
	return 0;
}

/* ------------------------------------------------------------ config */

struct find {
	const char *name;
	int found, backup;
};

static int
find_list(void *ctx, const struct cn_list_info *l)
{
	struct find *f = ctx;

	if (strcmp(l->name, f->name) != 0)
		return 0;
	f->found = 1;
	f->backup = l->backup;
	return 1;
}

static int
cmd_config(struct cli *c, struct opts *o)
{
	struct cn_err err;
	int status, on = -1;

	if (!o->list)
		return cli_usage_error(c, "config: --list NAME is required");
	if (o->on && o->off)
		return cli_usage_error(c, "config: --on or --off, not both");
	if ((status = cli_open(c)))
		return status;
	if (o->on || o->off) {
		on = o->on;
		if (cn_list_set_backup(c->st, cli_folder(c), o->list, on,
				       &err) < 0)
			return cli_fail(c, &err);
	} else {
		/* no switch: say how it is */
		struct find f = {o->list, 0, 0};

		if (cn_lists_each(c->st, cli_folder(c), find_list, &f, &err) <
		    0)
			return cli_fail(c, &err);
		if (!f.found) {
			cli_warn(c, "no list '%s' in folder '%s'", o->list,
				 cli_folder(c));
			return EX_NOINPUT;
		}
		on = f.backup;
	}
	printf("list '%s' (folder '%s'): automatic backups %s%s\n", o->list,
	       cli_folder(c), on ? "on" : "off",
	       c->cfg.backup_enabled ? ""
				     : " (but off for every list: "
				       "backup.enabled is false)");
	return 0;
}

/* ---------------------------------------------------------- snapshot */

static int
cmd_snapshot(struct cli *c)
{
	struct cn_err err;
	struct stat sb;
	int status;

	if (isatty(STDOUT_FILENO))
		return cli_usage_error(c, "snapshot: the archive is binary; "
				       "redirect it: carnet-backup snapshot > "
				       "FILE.tar.gz");
	if ((status = cli_open(c)))
		return status;
	/* the whole store goes there: a file the shell just created with
	 * its umask becomes private, like every other copy of the store */
	if (fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 077))
		fchmod(STDOUT_FILENO, sb.st_mode & 0700);
	if (cn_snapshot_write(c->st, c->cfg.path, stdout, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	const char *sub, *arg = NULL;
	char **args;
	int status, n;

	cli_init(&c, "carnet-backup");
	memset(&o, 0, sizeof(o));
	o.safe = -1;
	o.days = o.keep_last = -1;
	if (parse(&c, &o, argc, argv, "+" SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (optind >= argc)
		return cli_usage_error(&c, "no command (ls, create, export, "
				       "verify, prune, config, snapshot)");
	sub = argv[optind];
	n = argc - optind;
	args = argv + optind;
	args[0] = argv[0];
	optind = 0;
	if (parse(&c, &o, n, args, SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (optind < n)
		arg = args[optind++];
	if (optind < n) {
		status = cli_usage_error(&c, "%s: unexpected argument '%s'",
					 sub, args[optind]);
	} else if (arg && strcmp(sub, "export") != 0 &&
		   strcmp(sub, "verify") != 0) {
		status = cli_usage_error(&c, "%s: unexpected argument '%s'",
					 sub, arg);
	} else if (strcmp(sub, "ls") == 0) {
		status = cmd_ls(&c, &o);
	} else if (strcmp(sub, "create") == 0) {
		status = cmd_create(&c, &o);
	} else if (strcmp(sub, "export") == 0) {
		status = cmd_export(&c, &o, arg);
	} else if (strcmp(sub, "verify") == 0) {
		status = cmd_verify(&c, arg);
	} else if (strcmp(sub, "prune") == 0) {
		status = cmd_prune(&c, &o);
	} else if (strcmp(sub, "config") == 0) {
		status = cmd_config(&c, &o);
	} else if (strcmp(sub, "snapshot") == 0) {
		status = cmd_snapshot(&c);
	} else {
		status = cli_usage_error(&c, "unknown command '%s' (ls, create,"
					 " export, verify, prune, config, "
					 "snapshot)", sub);
	}
	cli_close(&c);
	return cli_finish(&c, status);
}
