/*
 * carnet-blacklist - opt-outs: STOP, NPAI and manual entries.
 *
 * Option parsing, the calls into libcarnet's blacklist (a batch for the
 * changes, a checker for the filter), and the mapping of the results to
 * output and an exit status.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-blacklist [options] add [-n] [-r REASON] [--note TEXT] ADDRESS...\n"
	"       carnet-blacklist [options] add [-n] [-r REASON] [--note TEXT] [-c COL] -\n"
	"       carnet-blacklist [options] rm [-n] [-f] ADDRESS...\n"
	"       carnet-blacklist [options] ls [-r REASON]\n"
	"       carnet-blacklist [options] check [--drop | --mark] [-c COL] [FILE]\n"
	"\n"
	"An ADDRESS is a phone number, stored in E.164 form like the contacts'\n"
	"numbers, or an email address.  The blacklist is global to the store.\n"
	"\n"
	"Command options:\n"
	"  -r, --reason REASON      add: manual (default), STOP or NPAI;\n"
	"                           ls: only the entries with that reason\n"
	"      --note TEXT          add: a note kept with the entries\n"
	"  -n, --dry-run            add, rm: print what would change, change nothing\n"
	"  -f, --force              rm: remove STOP entries too (with a warning)\n"
	"      --drop               check: leave blacklisted rows out (default)\n"
	"      --mark               check: keep every row, add a 'blacklisted' column\n"
	"                           (the reason, 'invalid' or empty)\n"
	"  -c, --column COL         add -, check: the column of the numbers (default:\n"
	"                           phone, number, mobile, ..., address, email)\n"
	"      --input-format FMT   add -, check: csv, json or auto (default: auto)\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        accepted and ignored: the blacklist has no folder\n"
	"      --user NAME          the acting user, recorded with each change\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no warnings on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  carnet-blacklist add +33612345678 --reason NPAI --note 'number closed'\n"
	"  carnet-blacklist rm '06 12 34 56 78'\n"
	"  carnet-blacklist ls --reason STOP --format json\n"
	"  carnet-contacts export --list clients | carnet-blacklist check > send.csv\n"
	"  carnet-blacklist add --reason STOP - < optouts.csv\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_REASON = 'r',
	OPT_DRYRUN = 'n',
	OPT_FORCE = 'f',
	OPT_COLUMN = 'c',
	OPT_NOTE = OPT_TOOL_BASE,
	OPT_DROP,
	OPT_MARK,
	OPT_INFMT,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"reason", required_argument, NULL, OPT_REASON},
	{"note", required_argument, NULL, OPT_NOTE},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"force", no_argument, NULL, OPT_FORCE},
	{"drop", no_argument, NULL, OPT_DROP},
	{"mark", no_argument, NULL, OPT_MARK},
	{"column", required_argument, NULL, OPT_COLUMN},
	{"input-format", required_argument, NULL, OPT_INFMT},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTS CLI_COMMON_SHORT "r:nfc:"

/* The command options, as bits: which were given, which a command takes. */
enum {
	B_REASON = 1 << 0,
	B_NOTE = 1 << 1,
	B_DRYRUN = 1 << 2,
	B_FORCE = 1 << 3,
	B_DROP = 1 << 4,
	B_MARK = 1 << 5,
	B_COLUMN = 1 << 6,
	B_INFMT = 1 << 7,
};

static const struct {
	unsigned bit;
	const char *name;
} bit_names[] = {
	{B_REASON, "--reason"}, {B_NOTE, "--note"},	{B_DRYRUN, "--dry-run"},
	{B_FORCE, "--force"},	{B_DROP, "--drop"},	{B_MARK, "--mark"},
	{B_COLUMN, "--column"}, {B_INFMT, "--input-format"},
};

struct opts {
	unsigned given;		/* B_* */
	enum cn_bl_reason reason;
	const char *note;
	const char *column;
	enum cn_format infmt;
	int dry_run, force, mark;
};


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
		case OPT_REASON:
			if (cn_blacklist_reason_parse(optarg, &o->reason) < 0)
				return cli_stop(c, cli_usage_error(
						       c, "unknown reason '%s' "
						       "(manual, STOP, NPAI)",
						       optarg));
			o->given |= B_REASON;
			break;
		case OPT_NOTE:
			o->note = optarg;
			o->given |= B_NOTE;
			break;
		case OPT_DRYRUN:
			o->dry_run = 1;
			o->given |= B_DRYRUN;
			break;
		case OPT_FORCE:
			o->force = 1;
			o->given |= B_FORCE;
			break;
		case OPT_DROP:
			o->mark = 0;
			o->given |= B_DROP;
			break;
		case OPT_MARK:
			o->mark = 1;
			o->given |= B_MARK;
			break;
		case OPT_COLUMN:
			if (!*optarg)
				return cli_stop(c, cli_usage_error(
						       c, "empty column name"));
			o->column = optarg;
			o->given |= B_COLUMN;
			break;
		case OPT_INFMT:
			if (cli_input_format(c, optarg, &o->infmt) < 0)
				return -1;
			o->given |= B_INFMT;
			break;
		default:
			return cli_stop(c, cli_usage_error(c, "unexpected option"));
		}
	}
	return 0;
}

/* A usage error for the options a command does not take.  Returns 0 or
 * 64. */
static int
check_options(struct cli *c, const struct opts *o, const char *cmd,
	      unsigned allowed)
{
	unsigned extra = o->given & ~allowed;

	if ((o->given & B_DROP) && (o->given & B_MARK))
		return cli_usage_error(c, "--drop and --mark cannot be "
				       "combined");
	for (size_t i = 0; i < sizeof(bit_names) / sizeof(bit_names[0]); i++)
		if (extra & bit_names[i].bit)
			return cli_usage_error(c, "%s: %s does not apply", cmd,
					       bit_names[i].name);
	return 0;
}

/* ------------------------------------------------------------ columns */

/* Column names that hold the numbers, in order of preference (ASCII case
 * insensitive): a phone first, then a generic address, then an email. */
static const char *const number_columns[] = {
	"phone", "number", "mobile", "mobile_phone", "msisdn", "tel",
	"telephone", "portable", "gsm", "address", "email", "e-mail", "mail",
	"courriel",
};

/*
 * Picks the column of the numbers among names[0..n): the one named by
 * want (exact match first, then without regard to case), else the first
 * known name.  Returns its index, or -1.
 */
static long
pick_column(const char *const *names, size_t n, const char *want)
{
	if (want) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(names[i], want) == 0)
				return (long)i;
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(names[i], want) == 0)
				return (long)i;
		return -1;
	}
	for (size_t k = 0;
	     k < sizeof(number_columns) / sizeof(number_columns[0]); k++)
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(names[i], number_columns[k]) == 0)
				return (long)i;
	return -1;
}

/* "a, b, c" for messages, cut short if long. */
static void
join_names(char *buf, size_t cap, const char *const *names, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len + 8 < cap; i++) {
		int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
				 names[i]);

		if (w < 0 || (size_t)w >= cap - len) {
			snprintf(buf + (cap > 4 ? cap - 4 : 0),
				 cap > 4 ? 4 : cap, "...");
			return;
		}
		len += (size_t)w;
	}
}

/*
 * The column of the numbers of a stream: from the CSV header, or from the
 * first JSON record.  Returns a copy of its name (the caller frees it), or
 * NULL after printing why (the exit status in *status).
 */
static char *
stream_column(struct cli *c, struct cn_reader *rd,
	      const struct cn_record *first, const char *want, int *status)
{
	const char *const *names;
	const char **tmp = NULL;
	size_t n = 0;
	long i;
	char list[256];

	names = cn_reader_header(rd, &n);
	if (!names && first) {
		tmp = calloc(first->nfields + 1, sizeof(*tmp));
		if (!tmp) {
			cli_warn(c, "out of memory");
			*status = EX_SOFTWARE;
			return NULL;
		}
		for (size_t k = 0; k < first->nfields; k++)
			tmp[k] = first->fields[k].name;
		names = tmp;
		n = first->nfields;
	}
	i = names ? pick_column(names, n, want) : -1;
	if (i >= 0 || (!cn_reader_header(rd, NULL) && want)) {
		/* a JSON stream may have the column in later records only */
		char *name = strdup(i >= 0 ? names[i] : want);

		free(tmp);
		if (!name) {
			cli_warn(c, "out of memory");
			*status = EX_SOFTWARE;
		}
		return name;
	}
	join_names(list, sizeof(list), names, n);
	if (want)
		cli_warn(c, "%s:1: no column '%s' (columns: %s)",
			 cn_reader_name(rd), want, list);
	else
		cli_warn(c, "%s:1: no phone, number, address or email column "
			 "(columns: %s); name it with --column",
			 cn_reader_name(rd), list);
	free(tmp);
	*status = EX_DATAERR;
	return NULL;
}

/* The value of field name in r as a C string ("" when missing or null). */
static const char *
field_text(const struct cn_record *r, const char *name)
{
	const struct cn_field *f = cn_record_get(r, name);

	if (!f || f->type == CN_V_NULL || !f->value)
		return "";
	return f->value;
}

/* 1 if s is empty or only white space. */
static int
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Opens the input of add - and check: FILE, or stdin for none or "-". */
static FILE *
open_input(struct cli *c, const char *file, const char **name, int *status)
{
	FILE *in;

	*name = "<stdin>";
	if (!file || strcmp(file, "-") == 0)
		return stdin;
	in = fopen(file, "rb");
	if (!in) {
		cli_warn(c, "%s: cannot open: %s", file, strerror(errno));
		*status = EX_NOINPUT;
		return NULL;
	}
	*name = file;
	return in;
}

/* ---------------------------------------------------------------- add */

static const char *const action_names[] = {
	[CN_BL_ADDED] = "added",
	[CN_BL_UPGRADED] = "upgraded",
	[CN_BL_UNCHANGED] = "unchanged",
	[CN_BL_REMOVED] = "removed",
	[CN_BL_KEPT] = "kept",
};

static void
add_str(struct cn_record *r, const char *name, const char *v)
{
	if (v && *v)
		cn_record_add(r, name, v, strlen(v), CN_V_STR);
	else
		cn_record_add(r, name, NULL, 0, CN_V_NULL);
}

static void
add_bool(struct cn_record *r, const char *name, int v)
{
	cn_record_add(r, name, v ? "true" : "false", v ? 4 : 5, CN_V_BOOL);
}

/* The line of one change, for add and rm without --format. */
static void
print_line(const struct opts *o, const char *address,
	   const struct cn_blacklist_result *res)
{
	const char *now = cn_blacklist_reason_name(res->reason);
	const char *was = cn_blacklist_reason_name(res->previous);

	switch (res->action) {
	case CN_BL_ADDED:
		printf("%s %s (%s)\n", o->dry_run ? "would add" : "added",
		       address, now);
		break;
	case CN_BL_UPGRADED:
		printf("%s %s (%s -> %s)\n",
		       o->dry_run ? "would upgrade" : "upgraded", address, was,
		       now);
		break;
	case CN_BL_REMOVED:
		printf("%s %s (%s)\n", o->dry_run ? "would remove" : "removed",
		       address, was);
		break;
	default:
		printf("unchanged %s (already %s)\n", address, now);
		break;
	}
}

/*
 * What add or rm did to each address: one line each, or with --format one
 * record each (address, action, reason, previous for add, dry_run) in one
 * CSV, table, JSON array or NDJSON stream.
 */
static int
print_changes(struct cli *c, const struct opts *o,
	      char (*addr)[CN_ADDRESS_MAX],
	      const struct cn_blacklist_result *res, int n, int removal)
{
	static const char *const add_cols[] = {"address", "action", "reason",
					       "previous", "dry_run"};
	static const char *const rm_cols[] = {"address", "action", "reason",
					      "dry_run"};
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	struct cn_writer *w;
	struct cn_record r;
	struct cn_err err;
	int rc = 0;

	if (f == CN_FMT_AUTO) {
		for (int i = 0; i < n; i++)
			print_line(o, addr[i], &res[i]);
		return 0;
	}
	w = cn_writer_open(stdout, f, removal ? rm_cols : add_cols,
			   removal ? 4 : 5, NULL, &err);
	if (!w)
		return cli_fail(c, &err);
	cn_record_init(&r);
	for (int i = 0; i < n && rc == 0; i++) {
		const char *now = cn_blacklist_reason_name(res[i].reason);
		const char *was = cn_blacklist_reason_name(res[i].previous);

		cn_record_reset(&r);
		add_str(&r, "address", addr[i]);
		add_str(&r, "action", action_names[res[i].action]);
		add_str(&r, "reason", removal ? was : now);
		if (!removal)
			add_str(&r, "previous", was);
		add_bool(&r, "dry_run", o->dry_run);
		rc = cn_writer_put(w, &r, &err);
	}
	cn_record_free(&r);
	if (cn_writer_close(w, rc ? NULL : &err) < 0 || rc < 0)
		return cli_fail(c, &err);
	return 0;
}

struct add_stats {
	unsigned long long rows, added, upgraded, unchanged, skipped, bad;
};

static void
count(struct add_stats *s, const struct cn_blacklist_result *res)
{
	if (res->action == CN_BL_ADDED)
		s->added++;
	else if (res->action == CN_BL_UPGRADED)
		s->upgraded++;
	else
		s->unchanged++;
}

/* The summary of add -: one line, or one record. */
static int
print_add_stats(struct cli *c, const struct opts *o,
		const struct add_stats *s, int committed)
{
	static const char *const names[] = {"rows", "added", "upgraded",
					    "unchanged", "skipped"};
	const unsigned long long v[] = {s->rows, s->added, s->upgraded,
					s->unchanged, s->skipped};
	enum cn_format f = cli_format(c, CN_FMT_AUTO);
	struct cn_record r;
	char num[5][24];
	int rc;

	if (f == CN_FMT_AUTO) {
		printf("%s%llu rows: %llu added, %llu upgraded, %llu "
		       "unchanged, %llu skipped\n",
		       o->dry_run ? "dry run: " : "", s->rows, s->added,
		       s->upgraded, s->unchanged, s->skipped);
		return 0;
	}
	cn_record_init(&r);
	for (int i = 0; i < 5; i++) {
		int n = snprintf(num[i], sizeof(num[i]), "%llu", v[i]);

		cn_record_add(&r, names[i], num[i], (size_t)n, CN_V_NUM);
	}
	add_bool(&r, "dry_run", o->dry_run);
	add_bool(&r, "committed", committed);
	rc = cli_put_record(c, f, &r);
	cn_record_free(&r);
	return rc;
}

/* Reports a bad record of a stream: the first 20 on stderr. */
static void
report_bad(struct cli *c, struct add_stats *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
report_bad(struct cli *c, struct add_stats *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (s->bad++ >= 20 || c->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_warn(c, "%s", msg);
}

/* Ends a batch: commits it, or rolls it back for a dry run. */
static int
batch_end(struct cli *c, const struct opts *o, struct cn_blacklist_batch *b,
	  unsigned long long changes)
{
	struct cn_err err;

	if (o->dry_run) {
		cn_blacklist_batch_abort(b);
		if (c->verbose)
			cli_warn(c, "dry run: %llu changes not written",
				 changes);
		return 0;
	}
	if (cn_blacklist_batch_commit(b, &err) < 0)
		return cli_fail(c, &err);
	if (c->verbose)
		cli_warn(c, "%llu changes committed to %s as '%s'", changes,
			 c->store ? c->store : c->cfg.store, cli_user(c));
	return 0;
}

/* add ADDRESS...: all or nothing; every bad address is reported. */
static int
add_args(struct cli *c, const struct opts *o, int n, char **args)
{
	struct cn_blacklist_batch *b;
	struct cn_blacklist_result *res;
	struct cn_err err;
	char (*addr)[CN_ADDRESS_MAX];
	int status = 0;
	unsigned long long changes = 0;

	res = calloc((size_t)n, sizeof(*res));
	addr = calloc((size_t)n, sizeof(*addr));
	if (!res || !addr) {
		free(res);
		free(addr);
		cli_warn(c, "out of memory");
		return EX_SOFTWARE;
	}
	b = cn_blacklist_batch_open(c->st, &err);
	if (!b) {
		status = cli_fail(c, &err);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (cn_blacklist_normalize(&c->cfg.phone, args[i], addr[i],
					   sizeof(addr[i]), &err) < 0 ||
		    cn_blacklist_batch_add(b, addr[i], o->reason, "operator",
					   o->note, cli_user(c), &res[i],
					   &err) < 0) {
			int rc = cli_fail(c, &err);

			if (!status)
				status = rc;
			if (err.code != CN_EDATA && err.code != CN_EUSAGE)
				break;	/* a store error: stop here */
			continue;
		}
		if (res[i].action != CN_BL_UNCHANGED)
			changes++;
	}
	if (status) {
		cn_blacklist_batch_abort(b);
		goto out;
	}
	if ((status = batch_end(c, o, b, changes)))
		goto out;
	/* print only once the outcome is known */
	status = print_changes(c, o, addr, res, n, 0);
out:
	free(res);
	free(addr);
	return status;
}

/* add -: the addresses of a CSV or JSON stream, all or nothing. */
static int
add_stream(struct cli *c, const struct opts *o, const char *file)
{
	struct cn_blacklist_batch *b = NULL;
	struct cn_blacklist_result res;
	struct cn_reader *rd = NULL;
	struct cn_record *rec;
	struct cn_csv_opts csv = {.delimiter = 0};
	struct add_stats s;
	struct cn_err err;
	const char *name;
	char *col = NULL;
	char addr[CN_ADDRESS_MAX];
	int status = 0, r;
	FILE *in;

	memset(&s, 0, sizeof(s));
	if (!(in = open_input(c, file, &name, &status)))
		return status;
	rd = cn_reader_open(in, name, o->infmt, &csv, &err);
	if (!rd) {
		status = cli_fail(c, &err);
		goto out;
	}
	b = cn_blacklist_batch_open(c->st, &err);
	if (!b) {
		status = cli_fail(c, &err);
		goto out;
	}
	while ((r = cn_reader_next(rd, &rec, &err)) != 0) {
		enum cn_bl_reason reason = o->reason;
		const char *note = o->note, *v;

		if (r == -1) {
			status = cli_fail(c, &err);
			goto out;
		}
		if (r == -2) {
			s.rows++;
			report_bad(c, &s, "%s", err.msg);
			continue;
		}
		if (!col && !(col = stream_column(c, rd, rec, o->column,
						  &status)))
			goto out;
		s.rows++;
		v = field_text(rec, col);
		if (blank(v)) {
			s.skipped++;
			continue;
		}
		/* a reason or note column (the output of ls) applies unless
		 * the option is given */
		if (!(o->given & B_REASON) &&
		    !blank(v = field_text(rec, "reason")) &&
		    cn_blacklist_reason_parse(v, &reason) < 0) {
			report_bad(c, &s, "%s:%ld: unknown reason '%s' "
				   "(manual, STOP, NPAI)", name, rec->line, v);
			continue;
		}
		if (!(o->given & B_NOTE) &&
		    !blank(field_text(rec, "note")))
			note = field_text(rec, "note");
		if (cn_blacklist_normalize(&c->cfg.phone, field_text(rec, col),
					   addr, sizeof(addr), &err) < 0 ||
		    cn_blacklist_batch_add(b, addr, reason, "import", note,
					   cli_user(c), &res, &err) < 0) {
			if (err.code != CN_EDATA && err.code != CN_EUSAGE) {
				status = cli_fail(c, &err);
				goto out;
			}
			report_bad(c, &s, "%s:%ld: %s", name, rec->line,
				   err.msg);
			continue;
		}
		count(&s, &res);
	}
	if (s.bad) {
		if (s.bad > 20 && !c->quiet)
			cli_warn(c, "%s: %llu more bad rows", name,
				 s.bad - 20);
		cli_warn(c, "%s: %llu bad rows: nothing added", name, s.bad);
		status = EX_DATAERR;
		goto out;
	}
	r = batch_end(c, o, b, s.added + s.upgraded);
	b = NULL;
	if (r)
		status = r;
	else
		status = print_add_stats(c, o, &s, !o->dry_run);
out:
	cn_blacklist_batch_abort(b);
	free(col);
	cn_reader_close(rd);
	if (in != stdin)
		fclose(in);
	return status;
}

static int
cmd_add(struct cli *c, struct opts *o, int n, char **args)
{
	int status;
	int stream = n == 1 && strcmp(args[0], "-") == 0;

	if ((status = check_options(c, o, "add",
				    B_REASON | B_NOTE | B_DRYRUN |
					    (stream ? B_COLUMN | B_INFMT
						    : 0))))
		return status;
	if (n == 0)
		return cli_usage_error(c, "add: no address (give numbers or "
				       "emails, or '-' to read a CSV or JSON "
				       "stream)");
	for (int i = 0; i < n && !stream; i++)
		if (strcmp(args[i], "-") == 0)
			return cli_usage_error(c, "add: '-' reads the "
					       "addresses from the standard "
					       "input: give no other");
	if (!(o->given & B_REASON))
		o->reason = CN_BL_MANUAL;
	if ((status = cli_open(c)))
		return status;
	return stream ? add_stream(c, o, NULL) : add_args(c, o, n, args);
}

/* ----------------------------------------------------------------- rm */

static int
cmd_rm(struct cli *c, struct opts *o, int n, char **args)
{
	struct cn_blacklist_batch *b;
	struct cn_blacklist_result *res;
	struct cn_err err;
	char (*addr)[CN_ADDRESS_MAX];
	int status;

	if ((status = check_options(c, o, "rm", B_DRYRUN | B_FORCE)))
		return status;
	if (n == 0)
		return cli_usage_error(c, "rm: no address");
	if ((status = cli_open(c)))
		return status;
	res = calloc((size_t)n, sizeof(*res));
	addr = calloc((size_t)n, sizeof(*addr));
	if (!res || !addr) {
		free(res);
		free(addr);
		cli_warn(c, "out of memory");
		return EX_SOFTWARE;
	}
	b = cn_blacklist_batch_open(c->st, &err);
	if (!b) {
		status = cli_fail(c, &err);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (cn_blacklist_normalize(&c->cfg.phone, args[i], addr[i],
					   sizeof(addr[i]), &err) < 0 ||
		    cn_blacklist_batch_remove(b, addr[i], o->force, &res[i],
					      &err) < 0) {
			int rc;

			if (err.code == CN_ECHECK) {
				cli_warn(c, "%s (--force removes it anyway)",
					 err.msg);
				rc = 1;
			} else {
				rc = cli_fail(c, &err);
			}
			if (!status)
				status = rc;
			if (err.code != CN_EDATA && err.code != CN_ECHECK &&
			    err.code != CN_ENOINPUT)
				break;	/* a store error: stop here */
			res[i].action = 0;
		}
	}
	if (status) {
		cn_blacklist_batch_abort(b);
		goto out;
	}
	if ((status = batch_end(c, o, b, (unsigned long long)n)))
		goto out;
	/* the warning goes out even with --quiet: a person who said STOP
	 * is being sent to again */
	for (int i = 0; i < n; i++)
		if (res[i].previous == CN_BL_STOP)
			cli_warn(c, "warning: %s opted out (STOP): %s "
				 "because of --force", addr[i],
				 o->dry_run ? "would be removed" : "removed");
	status = print_changes(c, o, addr, res, n, 1);
out:
	free(res);
	free(addr);
	return status;
}

/* ----------------------------------------------------------------- ls */

struct ls_ctx {
	struct cn_writer *w;
	struct cn_err *err;
	int failed;
};

static int
ls_one(void *ctx, const struct cn_blacklist_entry *e)
{
	struct ls_ctx *l = ctx;
	struct cn_record r;
	char created[21];

	cn_record_init(&r);
	add_str(&r, "address", e->address);
	add_str(&r, "reason", cn_blacklist_reason_name(e->reason));
	add_str(&r, "source", e->source);
	add_str(&r, "note", e->note);
	add_str(&r, "user", e->user);
	add_str(&r, "created", cli_time(e->created_at, created));
	if (cn_writer_put(l->w, &r, l->err) < 0)
		l->failed = 1;
	cn_record_free(&r);
	return l->failed;
}

static int
cmd_ls(struct cli *c, struct opts *o)
{
	static const char *const cols[] = {"address", "reason", "source",
					   "note",    "user",	"created"};
	struct cn_err err;
	struct ls_ctx l = {NULL, &err, 0};
	int status;

	if ((status = check_options(c, o, "ls", B_REASON)))
		return status;
	if ((status = cli_open(c)))
		return status;
	l.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), cols, 6,
			     NULL, &err);
	if (!l.w)
		return cli_fail(c, &err);
	if (cn_blacklist_each(c->st, (o->given & B_REASON) ? o->reason
							   : CN_BL_NONE,
			      ls_one, &l, &err) < 0 ||
	    l.failed) {
		cn_writer_close(l.w, NULL);
		return cli_fail(c, &err);
	}
	if (cn_writer_close(l.w, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* -------------------------------------------------------------- check */

/*
 * For CSV or table output from JSON input: the columns are the first
 * record's names (copied), and each record is laid out on them.
 */
struct layout {
	char **names;
	size_t n;
};

static int
layout_init(struct layout *l, const struct cn_record *r, int mark)
{
	size_t k = 0;

	l->names = calloc(r->nfields + 2, sizeof(*l->names));
	if (!l->names)
		return -1;
	for (size_t i = 0; i < r->nfields; i++) {
		if (mark && strcmp(r->fields[i].name, "blacklisted") == 0)
			continue;
		if (!(l->names[k++] = strdup(r->fields[i].name)))
			return -1;
	}
	if (mark && !(l->names[k++] = strdup("blacklisted")))
		return -1;
	l->n = k;
	return 0;
}

static void
layout_free(struct layout *l)
{
	for (size_t i = 0; l->names && l->names[i]; i++)
		free(l->names[i]);
	free(l->names);
}

/*
 * Builds the output record of in: its fields (laid out on l when l has
 * names), and with mark the 'blacklisted' field set to mark_value.
 */
static int
build(struct cn_record *out, const struct cn_record *in,
      const struct layout *l, int mark, const char *mark_value)
{
	cn_record_reset(out);
	if (l->names) {
		for (size_t i = 0; i < l->n; i++) {
			const struct cn_field *f;

			if (mark && strcmp(l->names[i], "blacklisted") == 0) {
				if (cn_record_add(out, l->names[i],
						  mark_value,
						  strlen(mark_value),
						  CN_V_STR) < 0)
					return -1;
				continue;
			}
			f = cn_record_get(in, l->names[i]);
			if (cn_record_add(out, l->names[i],
					  f ? f->value : "", f ? f->len : 0,
					  f ? f->type : CN_V_STR) < 0)
				return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < in->nfields; i++) {
		const struct cn_field *f = &in->fields[i];

		if (mark && strcmp(f->name, "blacklisted") == 0)
			continue;
		if (cn_record_add(out, f->name, f->value, f->len, f->type) < 0)
			return -1;
	}
	if (mark && cn_record_add(out, "blacklisted", mark_value,
				  strlen(mark_value), CN_V_STR) < 0)
		return -1;
	return 0;
}

static int
cmd_check(struct cli *c, struct opts *o, int n, char **args)
{
	struct cn_blacklist_checker *ck = NULL;
	struct cn_reader *rd = NULL;
	struct cn_writer *w = NULL;
	struct cn_record *rec, outrec;
	struct cn_csv_opts csv = {.delimiter = 0};
	struct layout lay = {NULL, 0};
	struct add_stats s;
	struct cn_err err;
	const char *name;
	char *col = NULL;
	const char **cols = NULL;
	char addr[CN_ADDRESS_MAX];
	enum cn_format outfmt;
	int status = 0, r, first_byte;
	unsigned long long dropped = 0;
	FILE *in;

	memset(&s, 0, sizeof(s));
	cn_record_init(&outrec);
	if ((status = check_options(c, o, "check",
				    B_DROP | B_MARK | B_COLUMN | B_INFMT)))
		return status;
	if (n > 1)
		return cli_usage_error(c, "check: one input file at most");
	if ((status = cli_open(c)))
		return status;
	if (!(in = open_input(c, n ? args[0] : NULL, &name, &status)))
		return status;
	/* a JSON array in gives a JSON array out; other JSON gives NDJSON */
	first_byte = getc(in);
	if (first_byte != EOF)
		ungetc(first_byte, in);
	rd = cn_reader_open(in, name, o->infmt, &csv, &err);
	if (!rd) {
		status = cli_fail(c, &err);
		goto out;
	}
	if (cn_reader_format(rd) == CN_FMT_CSV) {
		outfmt = CN_FMT_CSV;
		csv.delimiter = cn_reader_delimiter(rd);
	} else {
		outfmt = first_byte == '[' ? CN_FMT_JSON : CN_FMT_NDJSON;
	}
	if (c->format != CN_FMT_AUTO) {
		outfmt = c->format;
		csv.delimiter = 0;	/* a comma, as elsewhere */
	}
	ck = cn_blacklist_checker_open(c->st, &err);
	if (!ck) {
		status = cli_fail(c, &err);
		goto out;
	}
	/* CSV input: the header, with the 'blacklisted' column */
	if (cn_reader_format(rd) == CN_FMT_CSV) {
		size_t nh = 0, k = 0;
		const char *const *h = cn_reader_header(rd, &nh);

		if (!(col = stream_column(c, rd, NULL, o->column, &status)))
			goto out;
		cols = calloc(nh + 1, sizeof(*cols));
		if (!cols) {
			cli_warn(c, "out of memory");
			status = EX_SOFTWARE;
			goto out;
		}
		for (size_t i = 0; i < nh; i++)
			if (!o->mark || strcmp(h[i], "blacklisted") != 0)
				cols[k++] = h[i];
		if (o->mark)
			cols[k++] = "blacklisted";
		w = cn_writer_open(stdout, outfmt, cols, k, &csv, &err);
		if (!w) {
			status = cli_fail(c, &err);
			goto out;
		}
	}
	while ((r = cn_reader_next(rd, &rec, &err)) != 0) {
		enum cn_bl_reason reason = CN_BL_NONE;
		const char *v, *mark = "";
		int listed = 0;

		if (r == -1) {
			status = cli_fail(c, &err);
			goto out;
		}
		s.rows++;
		if (r == -2) {
			/* a row that cannot be written back: it is lost */
			report_bad(c, &s, "%s (row left out)", err.msg);
			status = EX_DATAERR;
			continue;
		}
		if (!col && !(col = stream_column(c, rd, rec, o->column,
						  &status)))
			goto out;
		if (!w) {
			/* JSON input: CSV and tables get the first record's
			 * columns */
			if ((outfmt == CN_FMT_CSV || outfmt == CN_FMT_TABLE) &&
			    layout_init(&lay, rec, o->mark) < 0) {
				cli_warn(c, "out of memory");
				status = EX_SOFTWARE;
				goto out;
			}
			w = cn_writer_open(stdout, outfmt,
					   (const char *const *)lay.names,
					   lay.n, &csv, &err);
			if (!w) {
				status = cli_fail(c, &err);
				goto out;
			}
		}
		v = field_text(rec, col);
		if (!blank(v)) {
			if (cn_blacklist_normalize(&c->cfg.phone, v, addr,
						   sizeof(addr), &err) < 0) {
				report_bad(c, &s, "%s:%ld: %s (kept)", name,
					   rec->line, err.msg);
				mark = "invalid";
			} else if ((listed = cn_blacklist_checker_check(
					    ck, addr, &reason, &err)) < 0) {
				status = cli_fail(c, &err);
				goto out;
			} else if (listed) {
				mark = cn_blacklist_reason_name(reason);
			}
		}
		if (listed && !o->mark) {
			dropped++;
			continue;
		}
		if (o->mark || lay.names) {
			if (build(&outrec, rec, &lay, o->mark, mark) < 0) {
				cli_warn(c, "out of memory");
				status = EX_SOFTWARE;
				goto out;
			}
			r = cn_writer_put(w, &outrec, &err);
		} else {
			r = cn_writer_put(w, rec, &err);
		}
		if (r < 0) {
			status = cli_fail(c, &err);
			goto out;
		}
	}
	if (!w && !(w = cn_writer_open(stdout, outfmt, NULL, 0, &csv, &err))) {
		status = cli_fail(c, &err);
		goto out;
	}
	if (s.bad > 20 && !c->quiet)
		cli_warn(c, "%s: %llu more warnings", name, s.bad - 20);
	if (c->verbose)
		cli_warn(c, "%s: %llu rows, %llu blacklisted rows %s, %llu "
			 "warnings", name, s.rows, dropped,
			 o->mark ? "marked" : "dropped", s.bad);
	r = cn_writer_close(w, &err);
	w = NULL;
	if (r < 0)
		status = cli_fail(c, &err);
out:
	if (w)
		cn_writer_close(w, NULL);
	cn_blacklist_checker_close(ck);
	cn_reader_close(rd);
	if (in != stdin)
		fclose(in);
	cn_record_free(&outrec);
	layout_free(&lay);
	free(cols);
	free(col);
	return status;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	const char *sub;
	char **args;
	int status, n;

	cli_init(&c, "carnet-blacklist");
	memset(&o, 0, sizeof(o));
	/* options before the command: stop at the first operand */
	if (parse(&c, &o, argc, argv, "+" SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (optind >= argc)
		return cli_usage_error(&c, "no command (add, rm, ls, check)");
	sub = argv[optind];
	/* options after it, in any order with the operands */
	n = argc - optind;
	args = argv + optind;
	args[0] = argv[0];	/* getopt's messages name the program */
	optind = 0;
	if (parse(&c, &o, n, args, SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	/* the operands, after getopt moved them to the end */
	args += optind;
	n -= optind;
	if (strcmp(sub, "add") == 0)
		status = cmd_add(&c, &o, n, args);
	else if (strcmp(sub, "rm") == 0)
		status = cmd_rm(&c, &o, n, args);
	else if (strcmp(sub, "check") == 0)
		status = cmd_check(&c, &o, n, args);
	else if (strcmp(sub, "ls") != 0 && strcmp(sub, "help") != 0)
		status = cli_usage_error(&c, "unknown command '%s' (add, rm, "
					 "ls, check)", sub);
	else if (n > 0)
		status = cli_usage_error(&c, "%s: unexpected argument '%s'",
					 sub, args[0]);
	else if (strcmp(sub, "ls") == 0)
		status = cmd_ls(&c, &o);
	else {
		usage(stdout);
		status = 0;
	}
	cli_close(&c);
	return cli_finish(&c, status);
}
