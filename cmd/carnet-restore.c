/*
 * carnet-restore - restore a backup or an exported file into a list, or a
 * whole-store snapshot into an empty store.
 *
 * A restore is an import: a backup of the list is taken first, then the
 * rows are applied in one transaction with the chosen mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-restore [options] ID [--into NAME] [--mode MODE] [--dry-run [--diff]]\n"
	"       carnet-restore [options] --file FILE --list NAME [--map MAP] [--mode MODE]\n"
	"       carnet-restore [options] --snapshot FILE --store PATH\n"
	"\n"
	"Restores backup ID (see 'carnet-backup ls') into its list, or an exported\n"
	"or edited file into a list, after taking a backup of the list it changes.\n"
	"Rows are matched on id, else email, else phone.\n"
	"\n"
	"Options:\n"
	"  -m, --mode MODE          upsert (refresh and add: the default), add, update,\n"
	"                           or replace (the list becomes exactly the backup)\n"
	"      --into NAME          restore into this list instead of the backup's\n"
	"  -n, --dry-run            print what would change, change nothing\n"
	"      --diff               with --dry-run: print the rows that would change\n"
	"      --file FILE          restore from an exported file ('-' for stdin)\n"
	"  -l, --list NAME          --file: the list to restore into\n"
	"      --map MAP            --file: 'Column=field,...' as for carnet-contacts\n"
	"      --map-file FILE      --file: the same mapping as YAML\n"
	"  -d, --delimiter C        --file: CSV delimiter (default: detected)\n"
	"      --snapshot FILE      restore a whole-store snapshot into --store\n"
	"      --store PATH         the store (--snapshot: the new, empty store)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        the folder (default: the backup's, or from config)\n"
	"      --user NAME          the acting user (default from config, $USER)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no warnings on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  carnet-restore 42 --mode upsert --dry-run\n"
	"  carnet-restore 42 --mode replace\n"
	"  carnet-restore 42 --into clients-restored\n"
	"  carnet-restore --file edited.csv --list clients --map 'Mobile=phone' --mode upsert\n"
	"  carnet-restore --snapshot carnet-2026-11-22.tar.gz --store /new/carnet.db\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_LIST = 'l',
	OPT_MODE = 'm',
	OPT_DRYRUN = 'n',
	OPT_DELIM = 'd',
	OPT_INTO = OPT_TOOL_BASE,
	OPT_DIFF,
	OPT_FILE,
	OPT_MAP,
	OPT_MAPFILE,
	OPT_SNAPSHOT,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"mode", required_argument, NULL, OPT_MODE},
	{"into", required_argument, NULL, OPT_INTO},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"diff", no_argument, NULL, OPT_DIFF},
	{"file", required_argument, NULL, OPT_FILE},
	{"list", required_argument, NULL, OPT_LIST},
	{"map", required_argument, NULL, OPT_MAP},
	{"map-file", required_argument, NULL, OPT_MAPFILE},
	{"delimiter", required_argument, NULL, OPT_DELIM},
	{"snapshot", required_argument, NULL, OPT_SNAPSHOT},
	{NULL, 0, NULL, 0},
};

struct opts {
	enum cn_import_mode mode;
	const char *into, *file, *list, *map, *mapfile, *snapshot;
	int dry_run, diff;
	char delim;
};


static int
parse(struct cli *c, struct opts *o, int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "m:nl:d:",
				  options, NULL)) != -1) {
		if (cli_common(c, opt, optarg, usage)) {
			if (c->stop)
				return -1;
			continue;
		}
		switch (opt) {
		case OPT_INTO: o->into = optarg; break;
		case OPT_DRYRUN: o->dry_run = 1; break;
		case OPT_DIFF: o->diff = 1; break;
		case OPT_FILE: o->file = optarg; break;
		case OPT_LIST: o->list = optarg; break;
		case OPT_MAP: o->map = optarg; break;
		case OPT_MAPFILE: o->mapfile = optarg; break;
		case OPT_SNAPSHOT: o->snapshot = optarg; break;
		case OPT_MODE:
			if (cn_import_mode_parse(optarg, &o->mode) < 0)
				return cli_stop(c, cli_usage_error(
						       c, "unknown mode '%s' "
						       "(add, update, upsert, "
						       "replace)", optarg));
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

/* ----------------------------------------------------------- output */

struct run {
	struct cli *c;
	struct opts *o;
	struct cn_writer *diff;	/* --diff rows, or NULL */
	const char *name;	/* input name, for messages */
	unsigned long shown;
	const char *const *cols;	/* flat diff columns, or NULL */
	size_t ncols;
};

static void
on_reject(void *ctx, const struct cn_record *rec, const char *raw,
	  size_t rawlen, long line, const char *reason)
{
	struct run *r = ctx;

	if (!r->c->quiet && r->shown++ < 20)
		cli_warn(r->c, "%s:%ld: %s", r->name, line, reason);
}

static void
on_diff(void *ctx, const char *change, const struct cn_record *rec)
{
	struct run *r = ctx;
	struct cn_record d;

	if (!r->diff)
		return;
	cn_record_init(&d);
	cn_record_add(&d, "change", change, strlen(change), CN_V_STR);
	if (r->cols) {
		/* CSV, table: the backup's columns, in order */
		for (size_t i = 0; i < r->ncols; i++) {
			const struct cn_field *f = cn_record_get(rec,
								 r->cols[i]);

			cn_record_add(&d, r->cols[i], f ? f->value : NULL,
				      f ? f->len : 0, f ? f->type : CN_V_NULL);
		}
	} else {
		for (size_t i = 0; i < rec->nfields; i++)
			cn_record_add(&d, rec->fields[i].name,
				      rec->fields[i].value, rec->fields[i].len,
				      rec->fields[i].type);
	}
	cn_writer_put(r->diff, &d, NULL);
	cn_record_free(&d);
}

/*
 * The result: "added / updated / unchanged / removed", on stdout, or on
 * stderr when stdout carries the --diff rows.
 */
static int
report(struct cli *c, const struct opts *o, const char *what,
       const char *folder, const char *list,
       const struct cn_import_stats *s)
{
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	FILE *fp = o->diff ? stderr : stdout;

	if (f == CN_FMT_AUTO || o->diff) {
		fprintf(fp, "%s%s into list '%s' (folder '%s'): %llu added, "
			"%llu updated, %llu unchanged, %llu removed, %llu "
			"skipped, %llu rejected",
			o->dry_run ? "dry run: " : "", what, list, folder,
			(unsigned long long)s->inserted,
			(unsigned long long)s->updated,
			(unsigned long long)s->unchanged,
			(unsigned long long)s->removed,
			(unsigned long long)s->skipped,
			(unsigned long long)s->rejected);
		if (s->backup_id)
			fprintf(fp, "; backup %lld taken first",
				(long long)s->backup_id);
		fputc('\n', fp);
		return 0;
	} else {
		static const char *const names[] = {"added", "updated",
						    "unchanged", "removed",
						    "skipped", "rejected"};
		const uint64_t v[] = {s->inserted, s->updated, s->unchanged,
				      s->removed,  s->skipped, s->rejected};
		struct cn_record r;
		char num[7][24];
		int rc;

		cn_record_init(&r);
		cn_record_add(&r, "restored", what, strlen(what), CN_V_STR);
		cn_record_add(&r, "folder", folder, strlen(folder), CN_V_STR);
		cn_record_add(&r, "list", list, strlen(list), CN_V_STR);
		for (int i = 0; i < 6; i++) {
			int n = snprintf(num[i], sizeof(num[i]), "%llu",
					 (unsigned long long)v[i]);

			cn_record_add(&r, names[i], num[i], (size_t)n,
				      CN_V_NUM);
		}
		cn_record_add(&r, "dry_run", o->dry_run ? "true" : "false",
			      o->dry_run ? 4 : 5, CN_V_BOOL);
		if (s->backup_id) {
			int n = snprintf(num[6], sizeof(num[6]), "%lld",
					 (long long)s->backup_id);

			cn_record_add(&r, "backup", num[6], (size_t)n,
				      CN_V_NUM);
		} else {
			cn_record_add(&r, "backup", NULL, 0, CN_V_NULL);
		}
		rc = cli_put_record(c, f, &r);
		cn_record_free(&r);
		return rc;
	}
}

/* Runs the import of rd with the common restore settings. */
static int
restore(struct cli *c, struct opts *o, struct run *r, struct cn_reader *rd,
	struct cn_import_opts *io, const char *what)
{
	struct cn_import_stats stats;
	struct cn_err err;
	int status;

	if (o->diff) {
		enum cn_format f = cli_format(c, CN_FMT_NDJSON);
		const char *cols[256];
		size_t n = 0;

		if (f != CN_FMT_CSV && f != CN_FMT_TABLE)
			r->cols = NULL;
		else if (r->cols && r->ncols < 255) {
			cols[n++] = "change";
			for (size_t i = 0; i < r->ncols; i++)
				cols[n++] = r->cols[i];
		} else
			r->cols = NULL;
		r->diff = cn_writer_open(stdout, f, n ? cols : NULL, n, NULL,
					 &err);
		if (!r->diff)
			return cli_fail(c, &err);
	}
	io->user = cli_user(c);
	io->mode = o->mode;
	io->dry_run = o->dry_run;
	io->phone = &c->cfg.phone;
	io->backup = cli_backup_policy(c);
	io->backup_reason = CN_BACKUP_RESTORE;
	io->on_reject = on_reject;
	io->on_diff = o->diff ? on_diff : NULL;
	io->ctx = r;
	if (cn_contacts_import(c->st, rd, io, &stats, &err) < 0) {
		if (r->diff)
			cn_writer_close(r->diff, NULL);
		return cli_fail(c, &err);
	}
	if (r->diff && cn_writer_close(r->diff, &err) < 0)
		return cli_fail(c, &err);
	status = report(c, o, what, io->folder, io->list, &stats);
	cli_auto_prune(c, stats.backup_id);
	if (!status && stats.rejected)
		status = EX_DATAERR;
	return status;
}

/* ------------------------------------------------------ from a backup */

static int
from_backup(struct cli *c, struct opts *o, const char *arg)
{
	struct cn_err err;
	struct cn_backup_info b;
	struct cn_backup_reader *br;
	struct cn_reader *rd;
	struct cn_import_opts io;
	struct run r = {c, o, NULL, NULL, 0, NULL, 0};
	char what[64], *end;
	long long id;
	int status;

	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || id <= 0)
		return cli_usage_error(c, "'%s' is not a backup id (see "
				       "'carnet-backup ls')", arg);
	if ((status = cli_open(c)))
		return status;
	if (cn_backup_get(c->st, id, &b, &err) < 0)
		return cli_fail(c, &err);
	br = cn_backup_reader_open(c->st, &b, &rd, &err);
	if (!br)
		return cli_fail(c, &err);
	memset(&io, 0, sizeof(io));
	io.folder = c->folder ? c->folder : b.folder;
	io.list = o->into ? o->into : b.list;
	io.key = CN_KEY_RESTORE;
	io.exact = 1;
	io.clear_empty = 1;
	io.expect_rows = b.rows;
	io.fields = cn_backup_reader_fields(br);
	/* ids name contacts of the backup's folder only */
	if (strcmp(io.folder, b.folder) != 0)
		io.map = "id=-";
	r.name = b.file;
	r.cols = cn_backup_reader_columns(br, &r.ncols);
	snprintf(what, sizeof(what), "backup %lld", id);
	if (c->verbose)
		cli_warn(c, "restoring backup %lld (%s, %lld rows, %s) into "
			 "list '%s' of folder '%s', mode %s%s", id, b.list,
			 (long long)b.rows, cn_backup_reason_name(b.reason),
			 io.list, io.folder,
			 (const char *[]){"add", "update", "upsert",
					  "replace"}[o->mode],
			 o->dry_run ? ", dry run" : "");
	status = restore(c, o, &r, rd, &io, what);
	if (cn_backup_reader_close(br, status ? NULL : &err) < 0)
		status = cli_fail(c, &err);
	return status;
}

/* -------------------------------------------------------- from a file */

static int
from_file(struct cli *c, struct opts *o)
{
	struct cn_err err;
	struct cn_reader *rd;
	struct cn_import_opts io;
	struct cn_csv_opts csv = {.delimiter = o->delim};
	struct cn_buf map;
	struct run r = {c, o, NULL, o->file, 0, NULL, 0};
	FILE *in = stdin;
	int status;

	if (!o->list)
		return cli_usage_error(c, "--file: --list NAME is required");
	if (o->map && o->mapfile)
		return cli_usage_error(c, "--map and --map-file cannot be "
				       "combined");
	if (strcmp(o->file, "-") != 0 && !(in = fopen(o->file, "rb"))) {
		cli_warn(c, "%s: cannot open: %s", o->file, strerror(errno));
		return EX_NOINPUT;
	}
	cn_buf_init(&map, 0);
	if (o->mapfile && cn_mapfile_load(o->mapfile, &map, &err) < 0) {
		status = cli_fail(c, &err);
		goto out;
	}
	if ((status = cli_open(c)))
		goto out;
	rd = cn_reader_open(in, strcmp(o->file, "-") ? o->file : "<stdin>",
			    CN_FMT_AUTO, &csv, &err);
	if (!rd) {
		status = cli_fail(c, &err);
		goto out;
	}
	memset(&io, 0, sizeof(io));
	io.folder = cli_folder(c);
	io.list = o->list;
	io.key = CN_KEY_RESTORE;
	io.map = o->mapfile ? map.ptr : o->map;
	status = restore(c, o, &r, rd, &io, o->file);
	cn_reader_close(rd);
out:
	if (in != stdin)
		fclose(in);
	cn_buf_free(&map);
	return status;
}

/* ---------------------------------------------------- from a snapshot */

static int
from_snapshot(struct cli *c, struct opts *o)
{
	struct cn_err err;

	if (!c->store)
		return cli_usage_error(c, "--snapshot: --store PATH (the new "
				       "store) is required");
	if (o->dry_run || o->into || o->file || o->list)
		return cli_usage_error(c, "--snapshot takes only --store");
	if (cn_snapshot_restore(o->snapshot, c->store, &err) < 0)
		return cli_fail(c, &err);
	printf("restored snapshot %s into %s\n", o->snapshot, c->store);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	int status;

	cli_init(&c, "carnet-restore");
	memset(&o, 0, sizeof(o));
	o.mode = CN_MODE_UPSERT;
	if (parse(&c, &o, argc, argv) < 0)
		return cli_finish(&c, c.status);
	if (o.diff && !o.dry_run)
		status = cli_usage_error(&c, "--diff goes with --dry-run");
	else if ((!!o.snapshot + !!o.file + (optind < argc)) != 1)
		status = cli_usage_error(&c, "restore what? a backup ID, "
					 "--file FILE or --snapshot FILE");
	else if (optind + 1 < argc)
		status = cli_usage_error(&c, "unexpected argument '%s'",
					 argv[optind + 1]);
	else if (o.snapshot)
		status = from_snapshot(&c, &o);
	else if (o.file)
		status = from_file(&c, &o);
	else
		status = from_backup(&c, &o, argv[optind]);
	cli_close(&c);
	return cli_finish(&c, status);
}
