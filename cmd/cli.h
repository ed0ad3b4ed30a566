/*
 * cli.h - what every carnet program shares: common options, the table of
 * tools, exit codes, messages, opening the configuration and the store.
 */
#ifndef CARNET_CLI_H
#define CARNET_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "carnet.h"

/* Options every tool accepts; their getopt_long values. */
enum {
	OPT_STORE = 1000,
	OPT_CONFIG,
	OPT_FOLDER,
	OPT_USER,
	OPT_FORMAT,
	OPT_VERSION,
	OPT_HELP = 'h',
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
	OPT_TOOL_BASE = 1100,	/* tools number their own options from here */
};

#define CLI_COMMON_OPTIONS                                                   \
	{"store", required_argument, NULL, OPT_STORE},                       \
	{"config", required_argument, NULL, OPT_CONFIG},                     \
	{"folder", required_argument, NULL, OPT_FOLDER},                     \
	{"user", required_argument, NULL, OPT_USER},                         \
	{"format", required_argument, NULL, OPT_FORMAT},                     \
	{"quiet", no_argument, NULL, OPT_QUIET},                             \
	{"verbose", no_argument, NULL, OPT_VERBOSE},                         \
	{"help", no_argument, NULL, OPT_HELP},                               \
	{"version", no_argument, NULL, OPT_VERSION}

#define CLI_COMMON_SHORT "hqv"

struct cli {
	const char *prog;	/* "carnet-contacts" */
	const char *store;	/* --store */
	const char *config;	/* --config */
	const char *folder;	/* --folder */
	const char *user;	/* --user */
	enum cn_format format;	/* --format, CN_FMT_AUTO if not given */
	int quiet, verbose;
	struct cn_config cfg;
	int cfg_loaded;
	struct cn_store *st;
	int stop;	/* --help, --version or a bad option: exit now */
	int status;	/* with stop: the exit status */
	char backup_dir[4096];
	struct cn_backup_policy backup;
};

/* One row of the table of tools (the dispatcher's "carnet help"). */
struct cli_tool {
	const char *name;	/* "contacts" */
	const char *job;
};

extern const struct cli_tool cli_tools[];

void cli_init(struct cli *c, const char *prog);
/* Handles a common option; returns 1 if opt was one, 0 if not.  When the
 * program should stop (--help, --version, a bad option or --format), sets
 * c->stop and c->status.  usage() prints the tool's help to fp. */
int cli_common(struct cli *c, int opt, const char *arg,
	       void (*usage)(FILE *fp));
/* Loads the configuration (once) and opens the store.  Returns 0, or
 * prints the error and returns the exit status. */
int cli_open(struct cli *c);
/* The backup policy from the configuration (after cli_open): the
 * directory beside the store actually opened unless backup.dir is set. */
const struct cn_backup_policy *cli_backup_policy(struct cli *c);
/* After a change that took automatic backup id: prunes when the
 * configuration says backup.auto_prune (warnings only). */
void cli_auto_prune(struct cli *c, int64_t backup_id);

/* The effective folder and user (option, else configuration). */
const char *cli_folder(struct cli *c);
const char *cli_user(struct cli *c);
/* The output format: --format, else def (TABLE becomes CSV off a tty). */
enum cn_format cli_format(struct cli *c, enum cn_format def);
void cli_close(struct cli *c);

/* Writes one record on stdout in format f (JSON becomes one NDJSON line).
 * Returns 0 or the exit status of a write error (printed). */
int cli_put_record(struct cli *c, enum cn_format f, const struct cn_record *r);

/* Marks the program to stop with status; returns -1 (for parse loops). */
int cli_stop(struct cli *c, int status);
/* Parses a --delimiter argument: one character, or "tab" / "\t".  On a bad
 * one prints a usage error, marks the program to stop and returns -1. */
int cli_delimiter(struct cli *c, const char *arg, char *out);

/* Parses an --input-format argument: csv, json, ndjson (read as json) or
 * auto.  On a bad one prints a usage error, marks the program to stop
 * and returns -1. */
int cli_input_format(struct cli *c, const char *arg, enum cn_format *out);

/* Prints "prog: message" on stderr. */
void cli_warn(struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the error and returns its exit status. */
int cli_fail(struct cli *c, const struct cn_err *err);
/* Prints a usage error ("prog: msg" and a hint) and returns 64. */
int cli_usage_error(struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The sysexits.h status of an error code. */
int cli_exit_code(enum cn_code code);
/* Flushes and closes stdout; turns a write error into status 73. */
int cli_finish(struct cli *c, int status);

/* A progress line on stderr, only when stderr is a terminal. */
struct cli_progress {
	int on;
	unsigned long long total;	/* bytes, 0 if unknown */
	double last;
	const char *what;
};
void cli_progress_init(struct cli_progress *p, struct cli *c, FILE *in,
		       const char *what);
void cli_progress_show(struct cli_progress *p, unsigned long long bytes,
		       unsigned long long rows);
void cli_progress_end(struct cli_progress *p);

/* A monotonic clock in seconds, for timings. */
double cli_seconds(void);

/* Formats a Unix time as "2026-11-22T08:30:00Z" into buf[21]. */
const char *cli_time(long long t, char buf[21]);

/* Whether CSV written on stdout neutralises spreadsheet formulas
 * (cn_csv_opts.safe): opt is 1 (--safe-csv), 0 (--no-safe-csv) or -1
 * (neither: on when stdout is a regular file whose name ends in .csv). */
int cli_safe_csv(int opt);

#endif
