/*
 * carnet-contacts - import, export, list and delete contact lists.
 *
 * Option parsing, one call into libcarnet per subcommand, and the mapping
 * of the result to output and an exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-contacts [options] import --list NAME [import options] [FILE]\n"
	"       carnet-contacts [options] export --list NAME [--delimiter C]\n"
	"           [--safe-csv | --no-safe-csv]\n"
	"       carnet-contacts [options] ls\n"
	"       carnet-contacts [options] rm --list NAME [--dry-run] [--force]\n"
	"\n"
	"Import options:\n"
	"  -l, --list NAME          the list to import into (created if missing)\n"
	"  -m, --mode MODE          add, update, upsert (default) or replace\n"
	"  -k, --key KEY            match contacts on email, phone or id\n"
	"                           (default: email if mapped, else phone, else id)\n"
	"      --map MAP            'Column=field,...'; fields: id, email, phone,\n"
	"                           first_name, last_name, attr.NAME, - (ignore)\n"
	"      --map-file FILE      the same mapping as YAML (Column: field)\n"
	"  -n, --dry-run            print what would change, change nothing\n"
	"      --atomic             import nothing if any row is rejected\n"
	"      --rejects FILE       write rejected rows (line, reason, row) to FILE\n"
	"      --clear-empty        an empty cell clears the field (default: keeps it)\n"
	"      --input-format FMT   csv, json or auto (default: auto)\n"
	"  -d, --delimiter C        CSV delimiter (default: detected; ',' on output)\n"
	"      --safe-csv           export: a cell starting with = + - @ that is not\n"
	"                           an E.164 number gets a leading ' (spreadsheet\n"
	"                           formulas); the default when stdout is a .csv file\n"
	"      --no-safe-csv        export: write every cell as it is\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        the folder (default from config)\n"
	"      --user NAME          the acting user (default from config, $USER)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -f, --force              rm: no error when the list does not exist\n"
	"  -q, --quiet              no warnings or progress on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  carnet-contacts import --list clients --map 'Mobile=phone,E-mail=email' \\\n"
	"      --mode upsert < clients.csv\n"
	"  carnet-contacts import --list clients --mode replace --dry-run new.csv\n"
	"  carnet-contacts export --list clients --format ndjson | jq .\n"
	"  carnet-contacts ls\n"
	"  carnet-contacts rm --list old-leads\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_LIST = 'l',
	OPT_MODE = 'm',
	OPT_KEY = 'k',
	OPT_DRYRUN = 'n',
	OPT_DELIM = 'd',
	OPT_FORCE = 'f',
	OPT_MAP = OPT_TOOL_BASE,
	OPT_MAPFILE,
	OPT_ATOMIC,
	OPT_REJECTS,
	OPT_CLEAR,
	OPT_INFMT,
	OPT_SAFE,
	OPT_NOSAFE,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"list", required_argument, NULL, OPT_LIST},
	{"mode", required_argument, NULL, OPT_MODE},
	{"key", required_argument, NULL, OPT_KEY},
	{"map", required_argument, NULL, OPT_MAP},
	{"map-file", required_argument, NULL, OPT_MAPFILE},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"atomic", no_argument, NULL, OPT_ATOMIC},
	{"rejects", required_argument, NULL, OPT_REJECTS},
	{"clear-empty", no_argument, NULL, OPT_CLEAR},
	{"input-format", required_argument, NULL, OPT_INFMT},
	{"delimiter", required_argument, NULL, OPT_DELIM},
	{"force", no_argument, NULL, OPT_FORCE},
	{"safe-csv", no_argument, NULL, OPT_SAFE},
	{"no-safe-csv", no_argument, NULL, OPT_NOSAFE},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTS CLI_COMMON_SHORT "l:m:k:nd:f"


struct opts {
	const char *list;
	const char *map;
	const char *mapfile;
	const char *rejects;
	enum cn_import_mode mode;
	enum cn_key key;
	enum cn_format infmt;
	char delim;
	int dry_run, atomic, clear_empty, force;
	int safe;	/* --safe-csv 1, --no-safe-csv 0, else -1 */
};

/*
 * Parses options from argv[optind...] with getopt_long.  Returns 0, or -1
 * when the program must stop with c->status (--help, a usage error).
 */
static int
parse(struct cli *c, struct opts *o, int argc, char **argv,
      const char *optstring)
{
	int opt, r;

	while ((opt = getopt_long(argc, argv, optstring, options, NULL)) !=
	       -1) {
		if ((r = cli_common(c, opt, optarg, usage))) {
			if (c->stop)
				return -1;
			continue;
		}
		switch (opt) {
		case OPT_LIST: o->list = optarg; break;
		case OPT_MAP: o->map = optarg; break;
		case OPT_MAPFILE: o->mapfile = optarg; break;
		case OPT_REJECTS: o->rejects = optarg; break;
		case OPT_DRYRUN: o->dry_run = 1; break;
		case OPT_ATOMIC: o->atomic = 1; break;
		case OPT_CLEAR: o->clear_empty = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_SAFE: o->safe = 1; break;
		case OPT_NOSAFE: o->safe = 0; break;
		case OPT_MODE:
			if (cn_import_mode_parse(optarg, &o->mode) < 0)
				return cli_stop(c, cli_usage_error(
						       c, "unknown mode '%s' "
						       "(add, update, upsert, "
						       "replace)", optarg));
			break;
		case OPT_KEY:
			if (cn_key_parse(optarg, &o->key) < 0)
				return cli_stop(c, cli_usage_error(
						       c, "unknown key '%s' "
						       "(email, phone, id)",
						       optarg));
			break;
		case OPT_INFMT:
			if (cli_input_format(c, optarg, &o->infmt) < 0)
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

/* ------------------------------------------------------------ import */

struct reject_ctx {
	struct cli *c;
	const char *name;
	FILE *fp;		/* --rejects file, or NULL */
	char delim;
	unsigned long shown;
	struct cn_reader *rd;
	struct cn_writer *jw;	/* NDJSON rejects */
	struct cli_progress *progress;
};

static void
csv_quoted(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/*
 * Reports a rejected row on stderr (the first 20) and in the rejects file:
 * CSV input gives a CSV file "line,reason,<the original columns>" whose
 * rows are the original rows as read; JSON input gives NDJSON objects
 * {"line":N,"reason":"...","record":{the original object}}.
 */
static void
on_reject(void *ctx, const struct cn_record *rec, const char *raw,
	  size_t rawlen, long line, const char *reason)
{
	struct reject_ctx *rc = ctx;

	if (!rc->c->quiet) {
		if (rc->shown < 20) {
			cli_progress_end(rc->progress);
			cli_warn(rc->c, "%s:%ld: %s", rc->name, line, reason);
		}
		rc->shown++;
	}
	if (!rc->fp)
		return;
	if (rc->jw) {
		struct cn_record r;
		char num[24];
		int n = snprintf(num, sizeof(num), "%ld", line);

		cn_record_init(&r);
		cn_record_add(&r, "line", num, (size_t)n, CN_V_NUM);
		cn_record_add(&r, "reason", reason, strlen(reason), CN_V_STR);
		if (raw && rawlen) {
			/* one line per reject: the object parsed, so its line
			 * breaks are whitespace between tokens */
			cn_record_add(&r, "record", raw, rawlen, CN_V_RAW);
			for (size_t i = 0; i < r.fields[2].len; i++)
				if (r.fields[2].value[i] == '\n' ||
				    r.fields[2].value[i] == '\r')
					r.fields[2].value[i] = ' ';
		}
		cn_writer_put(rc->jw, &r, NULL);
		cn_record_free(&r);
		return;
	}
	fprintf(rc->fp, "%ld%c", line, rc->delim);
	csv_quoted(rc->fp, reason);
	fputc(rc->delim, rc->fp);
	fwrite(raw, 1, rawlen, rc->fp);
	fputc('\n', rc->fp);
}

static void
on_progress(void *ctx, uint64_t bytes, uint64_t rows)
{
	struct reject_ctx *rc = ctx;

	cli_progress_show(rc->progress, bytes, rows);
}

/* Adds "backup": id (or null) to a result record; buf holds the digits. */
static void
add_backup_id(struct cn_record *r, int64_t id, char buf[24])
{
	if (id > 0) {
		int n = snprintf(buf, 24, "%lld", (long long)id);

		cn_record_add(r, "backup", buf, (size_t)n, CN_V_NUM);
	} else {
		cn_record_add(r, "backup", NULL, 0, CN_V_NULL);
	}
}

/*
 * The result of an import on stdout: one line of text, or one record
 * (JSON, NDJSON, CSV, table) with the same counts.
 */
static int
print_stats(struct cli *c, const struct opts *o,
	    const struct cn_import_stats *s)
{
	static const char *const names[] = {"rows",	 "inserted",
					    "updated",	 "unchanged",
					    "skipped",	 "rejected",
					    "removed"};
	const uint64_t v[] = {s->rows,	    s->inserted, s->updated,
			      s->unchanged, s->skipped,	 s->rejected,
			      s->removed};
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	struct cn_record r;
	char num[7][24];
	int rc;

	if (f == CN_FMT_AUTO) {
		printf("%s%s: %llu rows: %llu inserted, %llu updated, "
		       "%llu unchanged, %llu skipped, %llu rejected, "
		       "%llu removed",
		       o->dry_run ? "dry run: " : "", o->list,
		       (unsigned long long)s->rows,
		       (unsigned long long)s->inserted,
		       (unsigned long long)s->updated,
		       (unsigned long long)s->unchanged,
		       (unsigned long long)s->skipped,
		       (unsigned long long)s->rejected,
		       (unsigned long long)s->removed);
		if (s->backup_id)
			printf("; backup %lld taken first",
			       (long long)s->backup_id);
		putchar('\n');
		return 0;
	}
	cn_record_init(&r);
	cn_record_add(&r, "folder", cli_folder(c), strlen(cli_folder(c)),
		      CN_V_STR);
	cn_record_add(&r, "list", o->list, strlen(o->list), CN_V_STR);
	for (int i = 0; i < 7; i++) {
		int n = snprintf(num[i], sizeof(num[i]), "%llu",
				 (unsigned long long)v[i]);

		cn_record_add(&r, names[i], num[i], (size_t)n, CN_V_NUM);
	}
	cn_record_add(&r, "dry_run", o->dry_run ? "true" : "false",
		      o->dry_run ? 4 : 5, CN_V_BOOL);
	cn_record_add(&r, "committed", s->committed ? "true" : "false",
		      s->committed ? 4 : 5, CN_V_BOOL);
	add_backup_id(&r, s->backup_id, num[0]);
	rc = cli_put_record(c, f, &r);
	cn_record_free(&r);
	return rc;
}

static int
cmd_import(struct cli *c, struct opts *o, int argc, char **argv)
{
	struct cn_err err;
	struct cn_reader *rd = NULL;
	struct cn_import_opts io;
	struct cn_import_stats stats;
	struct cn_csv_opts csv = {.delimiter = o->delim};
	struct cn_buf map;
	struct reject_ctx rc;
	struct cli_progress progress;
	static const char *const mode_names[] = {"add", "update", "upsert",
						 "replace"};
	const char *name = "<stdin>";
	FILE *in = stdin;
	double t0;
	int status = 0;

	cn_buf_init(&map, 0);
	memset(&rc, 0, sizeof(rc));
	if (!o->list)
		return cli_usage_error(c, "import: --list NAME is required");
	if (argc - optind > 1)
		return cli_usage_error(c, "import: one input file at most");
	if (o->map && o->mapfile)
		return cli_usage_error(c, "import: --map and --map-file "
				       "cannot be combined");
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		in = fopen(name, "rb");
		if (!in) {
			cli_warn(c, "%s: cannot open: %s", name,
				 strerror(errno));
			return EX_NOINPUT;
		}
	}
	if (o->mapfile && cn_mapfile_load(o->mapfile, &map, &err) < 0) {
		status = cli_fail(c, &err);
		goto out;
	}
	if ((status = cli_open(c)))
		goto out;
	rd = cn_reader_open(in, name, o->infmt, &csv, &err);
	if (!rd) {
		status = cli_fail(c, &err);
		goto out;
	}
	if (o->rejects) {
		int fd = open(o->rejects, O_WRONLY | O_CREAT | O_TRUNC |
						  O_CLOEXEC, 0600);

		rc.fp = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!rc.fp) {
			cli_warn(c, "%s: cannot create: %s", o->rejects,
				 strerror(errno));
			status = EX_CANTCREAT;
			goto out;
		}
		rc.delim = cn_reader_delimiter(rd);
		if (cn_reader_format(rd) != CN_FMT_CSV) {
			rc.jw = cn_writer_open(rc.fp, CN_FMT_NDJSON, NULL, 0,
					       NULL, &err);
			if (!rc.jw) {
				status = cli_fail(c, &err);
				goto out;
			}
		} else {
			size_t n;
			const char *const *h = cn_reader_header(rd, &n);

			fprintf(rc.fp, "line%creason", rc.delim);
			for (size_t i = 0; i < n; i++) {
				fputc(rc.delim, rc.fp);
				if (strchr(h[i], rc.delim) || strchr(h[i], '"'))
					csv_quoted(rc.fp, h[i]);
				else
					fputs(h[i], rc.fp);
			}
			fputc('\n', rc.fp);
		}
	}
	cli_progress_init(&progress, c, in, "importing");
	rc.c = c;
	rc.name = name;
	rc.rd = rd;
	rc.progress = &progress;

	memset(&io, 0, sizeof(io));
	io.folder = cli_folder(c);
	io.user = cli_user(c);
	io.list = o->list;
	io.mode = o->mode;
	io.key = o->key;
	io.map = o->mapfile ? map.ptr : o->map;
	io.dry_run = o->dry_run;
	io.atomic = o->atomic;
	io.clear_empty = o->clear_empty;
	io.phone = &c->cfg.phone;
	io.backup = cli_backup_policy(c);
	io.backup_reason = CN_BACKUP_IMPORT;
	io.on_reject = on_reject;
	io.on_progress = on_progress;
	io.ctx = &rc;
	if (c->verbose)
		cli_warn(c, "importing %s into list '%s' of folder '%s' as '%s' "
			 "(store %s, mode %s%s)", name, o->list, io.folder,
			 io.user, c->store ? c->store : c->cfg.store,
			 mode_names[o->mode], o->dry_run ? ", dry run" : "");
	t0 = cli_seconds();
	if (cn_contacts_import(c->st, rd, &io, &stats, &err) < 0) {
		cli_progress_end(&progress);
		status = cli_fail(c, &err);
		goto out;
	}
	cli_progress_end(&progress);
	if (c->verbose) {
		double dt = cli_seconds() - t0;

		cli_warn(c, "%llu rows in %.2f s (%.0f rows/s)%s",
			 (unsigned long long)stats.rows, dt,
			 dt > 0 ? (double)stats.rows / dt : 0.0,
			 stats.committed ? ", committed" : ", nothing written");
	}
	if (rc.shown > 20)
		cli_warn(c, "%s: %lu more rejected rows%s", name,
			 rc.shown - 20,
			 o->rejects ? " (see the rejects file)"
				    : " (use --rejects FILE to keep them)");
	status = print_stats(c, o, &stats);
	cli_auto_prune(c, stats.backup_id);
	if (!status && stats.rejected)
		status = EX_DATAERR;
out:
	if (rc.fp) {
		/* lost rejects are worse than rejects: 73 wins over 65 */
		int bad = rc.jw && cn_writer_close(rc.jw, NULL) < 0;

		bad |= ferror(rc.fp) != 0;
		bad |= fclose(rc.fp) != 0;
		if (bad) {
			cli_warn(c, "%s: write error: %s", o->rejects,
				 strerror(errno ? errno : EIO));
			status = EX_CANTCREAT;
		}
	}
	cn_reader_close(rd);
	if (in != stdin)
		fclose(in);
	cn_buf_free(&map);
	return status;
}

/* ------------------------------------------------------------ export */

static int
cmd_export(struct cli *c, struct opts *o)
{
	struct cn_err err;
	struct cn_csv_opts csv = {o->delim ? o->delim : ',', 0,
				  cli_safe_csv(o->safe)};
	int status;

	if (!o->list)
		return cli_usage_error(c, "export: --list NAME is required");
	if ((status = cli_open(c)))
		return status;
	if (cn_contacts_export(c->st, cli_folder(c), o->list, stdout,
			       cli_format(c, CN_FMT_CSV), &csv, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* ---------------------------------------------------------------- ls */

struct ls_ctx {
	struct cn_writer *w;
	struct cn_err *err;
	int failed;
};

static int
ls_one(void *ctx, const struct cn_list_info *li)
{
	struct ls_ctx *l = ctx;
	struct cn_record r;
	char members[24], created[21], updated[21];

	cn_record_init(&r);
	snprintf(members, sizeof(members), "%lld", (long long)li->members);
	cn_record_add(&r, "folder", li->folder, strlen(li->folder), CN_V_STR);
	cn_record_add(&r, "list", li->name, strlen(li->name), CN_V_STR);
	cn_record_add(&r, "members", members, strlen(members), CN_V_NUM);
	cn_record_add(&r, "backup", li->backup ? "true" : "false",
		      li->backup ? 4 : 5, CN_V_BOOL);
	cli_time(li->created_at, created);
	cli_time(li->updated_at, updated);
	cn_record_add(&r, "created", created, strlen(created), CN_V_STR);
	cn_record_add(&r, "updated", updated, strlen(updated), CN_V_STR);
	if (cn_writer_put(l->w, &r, l->err) < 0)
		l->failed = 1;
	cn_record_free(&r);
	return l->failed;
}

static int
cmd_ls(struct cli *c)
{
	static const char *const cols[] = {"folder",  "list",	 "members",
					   "backup",  "created", "updated"};
	struct cn_err err;
	struct ls_ctx l = {NULL, &err, 0};
	int status;

	if ((status = cli_open(c)))
		return status;
	l.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), cols, 6,
			     NULL, &err);
	if (!l.w)
		return cli_fail(c, &err);
	if (cn_lists_each(c->st, c->folder, ls_one, &l, &err) < 0 ||
	    l.failed) {
		cn_writer_close(l.w, NULL);
		return cli_fail(c, &err);
	}
	if (cn_writer_close(l.w, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* ---------------------------------------------------------------- rm */

static int
cmd_rm(struct cli *c, struct opts *o)
{
	struct cn_err err;
	int64_t members = 0, contacts = 0, backup_id = 0;
	enum cn_format f;
	int status;

	if (!o->list)
		return cli_usage_error(c, "rm: --list NAME is required");
	if ((status = cli_open(c)))
		return status;
	if (cn_list_delete(c->st, cli_folder(c), o->list, o->dry_run,
			   cli_backup_policy(c), &backup_id, &members,
			   &contacts, &err) < 0) {
		if (err.code == CN_ENOINPUT && o->force)
			return 0;
		return cli_fail(c, &err);
	}
	f = cli_format(c, CN_FMT_AUTO);
	if (f != CN_FMT_AUTO) {
		struct cn_record r;
		char nm[24], nc[24], nb[24];
		int n1 = snprintf(nm, sizeof(nm), "%lld", (long long)members);
		int n2 = snprintf(nc, sizeof(nc), "%lld", (long long)contacts);

		cn_record_init(&r);
		cn_record_add(&r, "folder", cli_folder(c),
			      strlen(cli_folder(c)), CN_V_STR);
		cn_record_add(&r, "list", o->list, strlen(o->list), CN_V_STR);
		cn_record_add(&r, "members", nm, (size_t)n1, CN_V_NUM);
		cn_record_add(&r, "contacts_deleted", nc, (size_t)n2,
			      CN_V_NUM);
		cn_record_add(&r, "dry_run", o->dry_run ? "true" : "false",
			      o->dry_run ? 4 : 5, CN_V_BOOL);
		add_backup_id(&r, backup_id, nb);
		status = cli_put_record(c, f, &r);
		cn_record_free(&r);
		return status;
	}
	printf("%s list '%s' (folder '%s'): %lld members, %lld contacts "
	       "deleted",
	       o->dry_run ? "would remove" : "removed", o->list,
	       cli_folder(c), (long long)members, (long long)contacts);
	if (backup_id)
		printf("; backup %lld taken first", (long long)backup_id);
	putchar('\n');
	cli_auto_prune(c, backup_id);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	const char *sub;
	char **args;
	int status, n;

	cli_init(&c, "carnet-contacts");
	memset(&o, 0, sizeof(o));
	o.safe = -1;
	o.mode = CN_MODE_UPSERT;
	/* options before the command: stop at the first operand */
	if (parse(&c, &o, argc, argv, "+" SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (optind >= argc)
		return cli_usage_error(&c, "no command (import, export, ls, "
				       "rm)");
	sub = argv[optind];
	/* options after it, in any order with the operands */
	n = argc - optind;
	args = argv + optind;
	args[0] = argv[0];	/* getopt's messages name the program */
	optind = 0;
	if (parse(&c, &o, n, args, SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (strcmp(sub, "import") == 0)
		status = cmd_import(&c, &o, n, args);
	else if (optind < n)
		status = cli_usage_error(&c, "%s: unexpected argument '%s'",
					 sub, args[optind]);
	else if (strcmp(sub, "export") == 0)
		status = cmd_export(&c, &o);
	else if (strcmp(sub, "ls") == 0)
		status = cmd_ls(&c);
	else if (strcmp(sub, "rm") == 0)
		status = cmd_rm(&c, &o);
	else if (strcmp(sub, "help") == 0) {
		usage(stdout);
		status = 0;
	} else
		status = cli_usage_error(&c, "unknown command '%s' (import, "
					 "export, ls, rm)", sub);
	cli_close(&c);
	return cli_finish(&c, status);
}
