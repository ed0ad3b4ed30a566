/*
 * cli.c - the glue every carnet program shares: common options, the table
 * of tools, exit codes, messages, configuration and store, progress.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const struct cli_tool cli_tools[] = {
	{"contacts", "import, export, list and delete contact lists"},
	{"backup", "automatic and manual backups of lists; snapshots"},
	{"restore", "restore a backup or an exported file into a list"},
	{"blacklist", "opt-outs: STOP, NPAI and manual entries"},
	{"template", "SMS templates with merge fields"},
	{"quota", "SMS quotas per send and per month; consumption"},
	{"sms-send", "render, check and send SMS; campaigns"},
	{"sms-fetch", "delivery receipts and replies; STOP/START"},
	{"campaign", "campaigns: list, show, send, close, conversations"},
	{"stats", "consumption, delivery and reply rates, charts"},
	{"sync", "two-way sync with a CouchDB-compatible server"},
	{NULL, NULL},
};

void
cli_init(struct cli *c, const char *prog)
{
	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->format = CN_FMT_AUTO;
}

int
cli_common(struct cli *c, int opt, const char *arg, void (*usage)(FILE *fp))
{
	switch (opt) {
	case OPT_STORE: c->store = arg; return 1;
	case OPT_CONFIG: c->config = arg; return 1;
	case OPT_FOLDER: c->folder = arg; return 1;
	case OPT_USER: c->user = arg; return 1;
	case OPT_QUIET: c->quiet = 1; return 1;
	case OPT_VERBOSE: c->verbose++; return 1;
	case OPT_FORMAT:
		if (cn_format_parse(arg, &c->format) < 0 ||
		    c->format == CN_FMT_AUTO) {
			c->status = cli_usage_error(c, "unknown format '%s' "
						    "(csv, json, ndjson, "
						    "table)", arg);
			c->stop = 1;
		}
		return 1;
	case OPT_HELP:
		usage(stdout);
		c->stop = 1;
		return 1;
	case OPT_VERSION:
		printf("%s %s\n", c->prog, CN_VERSION);
		c->stop = 1;
		return 1;
	case '?':
	case ':':
		/* getopt already said why */
		fprintf(stderr, "Try '%s --help' for more information.\n",
			c->prog);
		c->status = EX_USAGE;
		c->stop = 1;
		return 1;
	}
	return 0;
}

int
cli_stop(struct cli *c, int status)
{
	c->stop = 1;
	c->status = status;
	return -1;
}

int
cli_delimiter(struct cli *c, const char *arg, char *out)
{
	if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
		*out = '\t';
	else if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n' &&
		 arg[0] != '\r')
		*out = arg[0];
	else
		return cli_stop(c, cli_usage_error(c, "bad delimiter '%s' (one "
						   "character, or 'tab')",
						   arg));
	return 0;
}

int
cli_input_format(struct cli *c, const char *arg, enum cn_format *out)
{
	if (cn_format_parse(arg, out) < 0 || *out == CN_FMT_TABLE)
		return cli_stop(c, cli_usage_error(c, "unknown input format "
						   "'%s' (csv, json, auto)",
						   arg));
	if (*out == CN_FMT_NDJSON)
		*out = CN_FMT_JSON;
	return 0;
}

int
cli_exit_code(enum cn_code code)
{
	switch (code) {
	case CN_OK: return 0;
	case CN_ECHECK: return 1;
	case CN_EUSAGE: return EX_USAGE;
	case CN_EDATA: return EX_DATAERR;
	case CN_ENOINPUT: return EX_NOINPUT;
	case CN_EUNAVAIL: return EX_UNAVAILABLE;
	case CN_ECANTCREAT: return EX_CANTCREAT;
	case CN_ETEMP: return EX_TEMPFAIL;
	case CN_ENOPERM: return EX_NOPERM;
	case CN_ECONFIG: return EX_CONFIG;
	case CN_EINTERNAL: break;
	}
	return EX_SOFTWARE;
}

void
cli_warn(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_fail(struct cli *c, const struct cn_err *err)
{
	cli_warn(c, "%s", err->msg[0] ? err->msg : cn_code_name(err->code));
	return cli_exit_code(err->code);
}

int
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", c->prog);
	return EX_USAGE;
}

static int
load_config(struct cli *c)
{
	struct cn_err err;

	if (c->cfg_loaded)
		return 0;
	if (cn_config_load(&c->cfg, c->config, &err) < 0)
		return cli_fail(c, &err);
	c->cfg_loaded = 1;
	return 0;
}

int
cli_open(struct cli *c)
{
	struct cn_err err;
	int rc;

	if ((rc = load_config(c)))
		return rc;
	c->st = cn_store_open(c->store ? c->store : c->cfg.store,
			      c->cfg.busy_timeout_ms, &err);
	if (!c->st)
		return cli_fail(c, &err);
	return 0;
}

const struct cn_backup_policy *
cli_backup_policy(struct cli *c)
{
	struct cn_backup_policy *p = &c->backup;
	const char *dir = c->cfg.backup_dir;
	char def[4096];
	const char *slash;

	/* the default directory follows --store */
	slash = strrchr(c->cfg.store, '/');
	snprintf(def, sizeof(def), "%.*s/backups",
		 slash ? (int)(slash - c->cfg.store) : 1,
		 slash ? c->cfg.store : ".");
	if (c->store && (!dir || strcmp(dir, def) == 0)) {
		slash = strrchr(c->store, '/');
		snprintf(c->backup_dir, sizeof(c->backup_dir), "%.*s/backups",
			 slash ? (int)(slash - c->store) : 1,
			 slash ? c->store : ".");
		dir = c->backup_dir;
	} else if (!dir) {
		snprintf(c->backup_dir, sizeof(c->backup_dir), "%s", def);
		dir = c->backup_dir;
	}
	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->enabled = c->cfg.backup_enabled;
	p->user = cli_user(c);
	p->retention_days = c->cfg.backup_retention_days;
	p->keep_last = c->cfg.backup_keep_last;
	p->auto_prune = c->cfg.backup_auto_prune;
	return p;
}

void
cli_auto_prune(struct cli *c, int64_t backup_id)
{
	struct cn_prune_opts o = {0};
	struct cn_err err;

	if (backup_id <= 0 || !c->cfg.backup_auto_prune)
		return;
	o.days = c->cfg.backup_retention_days > 0
			 ? c->cfg.backup_retention_days
			 : -1;	/* 0: forever */
	o.keep_last = c->cfg.backup_keep_last;
	if (cn_backup_prune(c->st, cli_backup_policy(c), &o, NULL, NULL,
			    &err) < 0)
		cli_warn(c, "automatic prune: %s", err.msg);
}

const char *
cli_folder(struct cli *c)
{
	if (c->folder)
		return c->folder;
	return c->cfg_loaded && c->cfg.folder ? c->cfg.folder : "default";
}

const char *
cli_user(struct cli *c)
{
	if (c->user)
		return c->user;
	return c->cfg_loaded && c->cfg.user ? c->cfg.user : "carnet";
}

enum cn_format
cli_format(struct cli *c, enum cn_format def)
{
	if (c->format != CN_FMT_AUTO)
		return c->format;
	if (def == CN_FMT_TABLE && !isatty(STDOUT_FILENO))
		return CN_FMT_CSV;
	return def;
}

void
cli_close(struct cli *c)
{
	cn_store_close(c->st);
	c->st = NULL;
	if (c->cfg_loaded)
		cn_config_free(&c->cfg);
	c->cfg_loaded = 0;
}

int
cli_finish(struct cli *c, int status)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);

	if (fclose(stdout) != 0)
		bad = 1;
	if (bad && errno != EPIPE) {
		fprintf(stderr, "%s: write error on standard output: %s\n",
			c->prog, strerror(errno));
		if (status == 0)
			status = EX_CANTCREAT;
	}
	return status;
}

int
cli_put_record(struct cli *c, enum cn_format f, const struct cn_record *r)
{
	struct cn_writer *w;
	struct cn_err err;

	w = cn_writer_open(stdout, f == CN_FMT_JSON ? CN_FMT_NDJSON : f, NULL,
			   0, NULL, &err);
	if (!w || cn_writer_put(w, r, &err) < 0 ||
	    cn_writer_close(w, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* ----------------------------------------------------------- progress */

double
cli_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
cli_progress_init(struct cli_progress *p, struct cli *c, FILE *in,
		  const char *what)
{
	struct stat sb;

	memset(p, 0, sizeof(*p));
	p->on = !c->quiet && isatty(STDERR_FILENO);
	p->what = what;
	if (in && fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode))
		p->total = (unsigned long long)sb.st_size;
}

void
cli_progress_show(struct cli_progress *p, unsigned long long bytes,
		  unsigned long long rows)
{
	double t;

	if (!p->on)
		return;
	t = cli_seconds();
	if (t - p->last < 0.1)
		return;
	p->last = t;
	if (p->total) {
		int pct = (int)(bytes * 100 / p->total), i;
		char bar[31];

		if (pct > 100)
			pct = 100;
		for (i = 0; i < 30; i++)
			bar[i] = i < pct * 30 / 100 ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r%s [%s] %3d%% %llu rows", p->what, bar, pct,
			rows);
	} else {
		fprintf(stderr, "\r%s %llu rows", p->what, rows);
	}
}

void
cli_progress_end(struct cli_progress *p)
{
	if (p->on && p->last > 0)
		fprintf(stderr, "\r\033[K");
}

const char *
cli_time(long long t, char buf[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 21, "%lld", t);
	return buf;
}

int
cli_safe_csv(int opt)
{
	char path[4096];
	struct stat sb;
	ssize_t n;

	if (opt >= 0)
		return opt;
	if (fstat(STDOUT_FILENO, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	n = readlink("/proc/self/fd/1", path, sizeof(path) - 1);
	if (n < 4)
		return 0;
	path[n] = '\0';
	return strcasecmp(path + n - 4, ".csv") == 0;
}
