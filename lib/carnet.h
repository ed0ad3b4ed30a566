/*
 * carnet.h - the public interface of libcarnet.
 *
 * libcarnet holds every use of SQLite, libcsv, cJSON, libyaml and libcurl.
 * It never prints and never exits: each call returns a status and fills a
 * caller-owned struct cn_err.  The programs in cmd/ decide what to print
 * and which exit status to use.
 */
#ifndef CARNET_H
#define CARNET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CN_VERSION "0.1.0"

/* ---------------------------------------------------------------------
 * Errors
 */

/*
 * Error classes.  The values are chosen so that cmd/ can map them to
 * sysexits.h codes with one table; the library itself does not know
 * about exit codes.
 */
enum cn_code {
	CN_OK = 0,
	CN_ECHECK,	/* a check answered "no" (over quota, damaged backup) */
	CN_EUSAGE,	/* bad options or arguments */
	CN_EDATA,	/* bad input data */
	CN_ENOINPUT,	/* input file or named object does not exist */
	CN_EUNAVAIL,	/* gateway or server unavailable */
	CN_EINTERNAL,	/* a bug, an SQLite misuse, out of memory */
	CN_ECANTCREAT,	/* cannot create or write output */
	CN_ETEMP,	/* temporary failure: try again later */
	CN_ENOPERM,	/* credentials refused */
	CN_ECONFIG,	/* configuration error */
};

struct cn_err {
	enum cn_code code;
	char msg[512];	/* one line, no trailing newline */
};

/* Sets err (if not NULL) to code and a printf-style message; returns -1. */
int cn_err_set(struct cn_err *err, enum cn_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Resets err to CN_OK and an empty message. */
void cn_err_clear(struct cn_err *err);
/* A short lower-case name for a code ("data error", ...). */
const char *cn_code_name(enum cn_code code);

/* ---------------------------------------------------------------------
 * Growable buffers (always NUL-terminated, never NULL after init)
 */

struct cn_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;	/* size cap; 0 means the default (1 GiB) */
};

/* Initialises an empty buffer; ptr points to a static "" until growth. */
void cn_buf_init(struct cn_buf *b, size_t max);
/* Frees the memory and re-initialises the buffer. */
void cn_buf_free(struct cn_buf *b);
/* Empties the buffer, keeping its memory. */
void cn_buf_reset(struct cn_buf *b);
/* Appends; each returns 0, or -1 when the cap or memory is exhausted
 * (the buffer is then unchanged). */
int cn_buf_add(struct cn_buf *b, const void *data, size_t len);
int cn_buf_addc(struct cn_buf *b, char c);
int cn_buf_adds(struct cn_buf *b, const char *s);
int cn_buf_addf(struct cn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Detaches the contents (malloc'ed, caller frees) and re-initialises. */
char *cn_buf_detach(struct cn_buf *b);

/* ---------------------------------------------------------------------
 * Records and streams
 */

enum cn_format {
	CN_FMT_AUTO = 0,	/* input: sniffed from the first bytes */
	CN_FMT_CSV,
	CN_FMT_JSON,		/* input: an array of objects, or NDJSON */
	CN_FMT_NDJSON,
	CN_FMT_TABLE,		/* output only: aligned columns */
};

/* Parses "csv", "json", "ndjson", "table"; returns -1 if unknown. */
int cn_format_parse(const char *s, enum cn_format *out);
const char *cn_format_name(enum cn_format f);

/* The JSON type of a field value; CSV fields are always strings. */
enum cn_vtype {
	CN_V_NULL = 0,	/* value is NULL */
	CN_V_STR,
	CN_V_NUM,	/* value holds the number's JSON text */
	CN_V_BOOL,	/* value is "true" or "false" */
	CN_V_RAW,	/* value holds JSON text (object or array) */
};

struct cn_field {
	const char *name;	/* borrowed from the reader or the caller */
	char *value;		/* NUL-terminated; NULL for CN_V_NULL */
	size_t len;		/* strlen(value), values may hold NUL bytes */
	enum cn_vtype type;
};

/*
 * A record: an ordered set of named fields.  Records returned by a reader
 * are owned by the reader and valid until the next cn_reader_next() or
 * cn_reader_close().
 */
struct cn_record {
	struct cn_field *fields;
	size_t nfields;
	size_t alloc;
	long line;	/* first input line of the record (1-based), 0 if none */
};

void cn_record_init(struct cn_record *r);
void cn_record_free(struct cn_record *r);
/* Removes every field (values freed), keeps the memory. */
void cn_record_reset(struct cn_record *r);
/* Appends a copy of value (len bytes; value NULL means CN_V_NULL).
 * name is borrowed and must outlive the record. Returns 0 or -1. */
int cn_record_add(struct cn_record *r, const char *name, const char *value,
		  size_t len, enum cn_vtype type);
/* Returns the field named name (exact match), or NULL. */
const struct cn_field *cn_record_get(const struct cn_record *r,
				     const char *name);

struct cn_csv_opts {
	char delimiter;	/* 0: auto-detect from the header (',' ';' '\t') */
	char quote;	/* 0: '"' */
	int safe;	/* writer: neutralise spreadsheet formulas (a cell
			   starting with = + - @, tab or CR that is not an
			   E.164 number gets a leading "'"); see
			   cn_csv_formula_cell() */
};

/* Whether the cell s[0, n) would be read as a formula by a spreadsheet:
 * it starts with '=', '+', '-', '@', a tab or a CR and is not a phone
 * number in E.164 form ("+" then 7 to 15 digits). */
int cn_csv_formula_cell(const char *s, size_t n);

struct cn_reader;

/*
 * Opens a record reader on fp (borrowed; not closed by the reader).
 * name is used in error messages ("clients.csv", "<stdin>").
 * For CSV, the first row is the header and gives field names; a UTF-8 BOM
 * before it is skipped; CRLF and quoted newlines are accepted.  For JSON,
 * the input is one array of objects or a stream of objects (NDJSON);
 * nested values come back as CN_V_RAW.  Memory stays bounded whatever the
 * input size.  Returns NULL and fills err on failure (an empty input is
 * CN_ENOINPUT: "<name>: empty input").
 */
struct cn_reader *cn_reader_open(FILE *fp, const char *name,
				 enum cn_format fmt,
				 const struct cn_csv_opts *opts,
				 struct cn_err *err);
/*
 * Reads the next record into *out (owned by the reader).  Returns 1 when a
 * record was read, 0 at end of input, -1 on error (err says
 * "<name>:<line>: <problem>", code CN_EDATA).  After an error the reader
 * can not go on.  Fields of a CSV row hold the header's names; a row with
 * fewer fields than the header is padded with empty strings; a row with
 * more fields is an error of that record only: next() returns -2, fills
 * err, and the following call goes on with the next row.
 */
int cn_reader_next(struct cn_reader *rd, struct cn_record **out,
		   struct cn_err *err);
/* The header names (CSV) or NULL (JSON); valid until close. */
const char *const *cn_reader_header(struct cn_reader *rd, size_t *n);
/* The format actually read (after sniffing), and the CSV delimiter used. */
enum cn_format cn_reader_format(struct cn_reader *rd);
char cn_reader_delimiter(struct cn_reader *rd);
/* The name given to cn_reader_open(), for messages. */
const char *cn_reader_name(struct cn_reader *rd);
/* Bytes consumed so far, for progress reports. */
uint64_t cn_reader_offset(struct cn_reader *rd);
/* The raw text of the last record as read (CSV row or JSON object),
 * without the line terminator; for rejects reports. */
const char *cn_reader_raw(struct cn_reader *rd, size_t *len);
void cn_reader_close(struct cn_reader *rd);

struct cn_writer;

/*
 * Opens a record writer on fp (borrowed).  columns (borrowed, may be NULL)
 * gives the header for CSV and table output; when NULL the first record's
 * names are used.  CSV quotes fields only when needed and ends lines with
 * "\n"; JSON writes one array; NDJSON one object per line; TABLE pads
 * columns for a terminal (it buffers at most 1000 rows to size them).
 * Fields are written in record order.  Returns NULL and fills err on
 * failure.
 */
struct cn_writer *cn_writer_open(FILE *fp, enum cn_format fmt,
				 const char *const *columns, size_t ncolumns,
				 const struct cn_csv_opts *opts,
				 struct cn_err *err);
/* Writes one record.  Returns 0, or -1 on a write error (CN_ECANTCREAT). */
int cn_writer_put(struct cn_writer *w, const struct cn_record *r,
		  struct cn_err *err);
/* Writes what is pending (the closing "]" for JSON, buffered table rows),
 * frees the writer.  Returns 0 or -1 on a write error. */
int cn_writer_close(struct cn_writer *w, struct cn_err *err);

/* ---------------------------------------------------------------------
 * Validation and normalisation
 */

/* Returns 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates,
 * no NUL byte), else 0 and sets *bad to the offset of the first bad byte. */
int cn_utf8_valid(const char *s, size_t len, size_t *bad);

/*
 * Normalises an email address into out (cap bytes): trims spaces,
 * lower-cases the domain, requires exactly one '@', a non-empty local part
 * and a domain with a dot and no empty label.  Returns 0, or -1 with
 * err ("invalid email 'x': <why>", CN_EDATA).
 */
int cn_email_normalize(const char *in, char *out, size_t cap,
		       struct cn_err *err);

/* Phone number rules: the default country and national prefixes that
 * map to another calling code (French overseas departments). */
struct cn_phone_overseas {
	char prefix[16];	/* national prefix, e.g. "0690" */
	char code[8];		/* calling code without '+', e.g. "590" */
};

struct cn_phone_rules {
	char country[3];	/* ISO 3166 alpha-2, e.g. "FR" */
	struct cn_phone_overseas *overseas;
	size_t noverseas;
};

/* Fills r with the rules for country (ISO alpha-2) and, for FR, the
 * overseas departments' mobile prefixes.  Returns -1 if the country is
 * unknown.  cn_phone_rules_free() releases the overseas table. */
int cn_phone_rules_init(struct cn_phone_rules *r, const char *country,
			struct cn_err *err);
void cn_phone_rules_free(struct cn_phone_rules *r);

/*
 * Normalises a phone number to E.164 ("+33612345678") into out (cap >= 17).
 * Accepts spaces, dots, dashes, parentheses, "(0)", a leading "+" or "00",
 * and national numbers of the rules' country (trunk prefix "0" or as the
 * country has it).  Returns 0, or -1 with err ("invalid phone '06 12':
 * <why>", CN_EDATA).
 */
int cn_phone_normalize(const struct cn_phone_rules *rules, const char *in,
		       char *out, size_t cap, struct cn_err *err);

/* ---------------------------------------------------------------------
 * Configuration
 */

struct cn_config {
	char *path;		/* the file read, or NULL if none */
	char *store;		/* store path (expanded) */
	char *folder;		/* default folder ("default") */
	char *user;		/* default user ($USER, else "carnet") */
	long busy_timeout_ms;	/* SQLite busy timeout (60000) */
	struct cn_phone_rules phone;	/* phone.default_country, overseas */
	int backup_enabled;	/* backup.enabled (1) */
	char *backup_dir;	/* backup.dir (beside the store) */
	long backup_retention_days;	/* backup.retention_days (30) */
	long http_timeout_s;	/* sms.http_timeout (0 means 20) */
	int has_secrets;	/* the file holds a secret (password, token) */

	/*
	 * Settings of the later tools: parsed and type-checked by
	 * cn_config_load now, used by the tools that need them.  Strings are
	 * NULL when unset unless a default is given; paths are expanded like
	 * store; enumerated values hold one of the names listed.  See
	 * carnet.yaml(5).
	 */
	long backup_keep_last;		/* backup.keep_last (0: none) */
	int backup_auto_prune;		/* backup.auto_prune (0) */

	char *sms_driver;		/* sms.driver: kannel, twilio, http,
					   simulate (NULL: none configured) */
	char *sms_sender;		/* sms.sender (NULL) */
	char *sms_stop_mention;		/* sms.stop_mention (NULL) */
	char *sms_stop_separator;	/* sms.stop_separator: space, newline
					   ("space") */
	long sms_max_segments;		/* sms.max_segments (10) */
	long sms_warn_threshold;	/* sms.warn_threshold (0: none) */
	int sms_skip_blacklisted;	/* sms.skip_blacklisted (1) */
	long sms_npai_failures;		/* sms.npai_failures (3; 0: never) */
	long sms_reply_window_hours;	/* sms.reply_window_hours (48) */
	long sms_campaign_close_hours;	/* sms.campaign_close_hours (72) */
	char *sms_kannel_url;		/* sms.kannel.url */
	char *sms_kannel_username;	/* sms.kannel.username */
	char *sms_kannel_password;	/* sms.kannel.password (a secret) */
	char *sms_kannel_password_file;	/* sms.kannel.password_file */
	char *sms_kannel_dlr_url;	/* sms.kannel.dlr_url */
	char *sms_twilio_base_url;	/* sms.twilio.base_url
					   ("https://api.twilio.com") */
	char *sms_twilio_account_sid;	/* sms.twilio.account_sid */
	char *sms_twilio_auth_token;	/* sms.twilio.auth_token (a secret) */
	char *sms_twilio_auth_token_file; /* sms.twilio.auth_token_file */
	char *sms_http_url;		/* sms.http.url */
	char *sms_http_method;		/* sms.http.method ("POST") */
	char **sms_http_headers;	/* sms.http.headers, "Name: value" */
	size_t sms_http_nheaders;
	char *sms_http_body;		/* sms.http.body */
	char *sms_http_success_regex;	/* sms.http.success_regex */
	char *sms_http_id_path;		/* sms.http.id_path */
	char *sms_http_id_regex;	/* sms.http.id_regex */
	char *sms_callback_listen;	/* sms.callback.listen
					   ("127.0.0.1:13080") */
	char *sms_callback_token;	/* sms.callback.token (a secret) */
	char *sms_callback_token_file;	/* sms.callback.token_file */

	char *quota_mode;		/* quota.mode: block, warn ("block") */

	int sync_enabled;		/* sync.enabled (1) */
	char *sync_url;			/* sync.url */
	char *sync_database;		/* sync.database ("carnet") */
	char *sync_username;		/* sync.username */
	char *sync_password;		/* sync.password (a secret) */
	char *sync_password_file;	/* sync.password_file */
	long sync_interval_s;		/* sync.interval (300) */
	char *sync_kinds;		/* sync.kinds, comma-separated
					   ("lists,contacts,blacklists,
					   templates,campaigns") */
	char *sync_conflict_policy;	/* sync.conflict_policy: newest, local,
					   remote, ask ("newest") */
	long sync_delete_max_percent;	/* sync.delete_max_percent (50) */
	long sync_delete_max;		/* sync.delete_max (1000) */
	char *sync_device;		/* sync.device (NULL: the host name) */
};

/*
 * Loads the configuration: defaults, then the file (path, else
 * $CARNET_CONFIG, else $XDG_CONFIG_HOME/carnet/config.yaml if it exists),
 * then environment overrides (CARNET_STORE, CARNET_FOLDER, CARNET_USER).
 * A file that holds secrets and is readable by group or others is refused
 * (CN_ECONFIG).  YAML errors name file, line and column.  Unknown keys are
 * errors.  On error returns -1, fills err and leaves cfg freed.
 */
int cn_config_load(struct cn_config *cfg, const char *path,
		   struct cn_err *err);
void cn_config_free(struct cn_config *cfg);

/*
 * Reads a secret: the environment variable env if set and not empty, else
 * the first line of file (refused with CN_ECONFIG if the file is readable
 * by group or others), else inline (from the config file, already checked
 * to be private).  *out is a malloc'ed copy (NULL when none is set: not an
 * error).  Error messages name the file, never the secret.  Free the copy
 * with cn_secret_free (it wipes it).  Returns 0 or -1.
 */
int cn_secret(const char *env, const char *file, const char *inline_value,
	      char **out, struct cn_err *err);
void cn_secret_free(char *secret);

/*
 * Loads a field map file: a YAML mapping of "source column: target".
 * Appends to *map in the same form as --map ("a=b,c=d").  Returns 0 or -1.
 */
int cn_mapfile_load(const char *path, struct cn_buf *map, struct cn_err *err);

/* ---------------------------------------------------------------------
 * The store
 */

struct cn_store;

#define CN_SCHEMA_VERSION 4

/*
 * Opens (creating if needed, mode 0600, parent directories 0700) the
 * SQLite store at path, sets WAL, the busy timeout and foreign keys, and
 * applies pending migrations.  Returns NULL and fills err on failure.
 */
struct cn_store *cn_store_open(const char *path, long busy_timeout_ms,
			       struct cn_err *err);
void cn_store_close(struct cn_store *st);
/* The schema version of an open store. */
int cn_store_version(struct cn_store *st);
/* The underlying sqlite3 handle, for library code only. */
struct sqlite3 *cn_store_db(struct cn_store *st);

/* Returns the id of the folder/user named name, creating it if needed.
 * Returns 0 and fills err on failure. */
int64_t cn_folder_id(struct cn_store *st, const char *name, int create,
		     struct cn_err *err);
int64_t cn_user_id(struct cn_store *st, const char *name,
		   struct cn_err *err);

/* Writes a new UUID (version 7: time-ordered) into out[37]. */
void cn_uuid7(char out[37]);

/* ---------------------------------------------------------------------
 * Contacts and lists
 */

enum cn_import_mode {
	CN_MODE_ADD = 0,	/* new members only; never changes a contact */
	CN_MODE_UPDATE,		/* existing members only */
	CN_MODE_UPSERT,		/* refresh and add */
	CN_MODE_REPLACE,	/* the list becomes exactly the input */
};

enum cn_key {
	CN_KEY_AUTO = 0,	/* email if mapped, else phone, else id */
	CN_KEY_EMAIL,
	CN_KEY_PHONE,
	CN_KEY_ID,
	CN_KEY_RESTORE,		/* id, else email, else phone (restores) */
};

int cn_import_mode_parse(const char *s, enum cn_import_mode *out);
int cn_key_parse(const char *s, enum cn_key *out);

struct cn_import_stats {
	uint64_t rows;		/* records read */
	uint64_t inserted;	/* new members of the list */
	uint64_t updated;	/* existing members whose data changed */
	uint64_t unchanged;	/* existing members, same data */
	uint64_t skipped;	/* not applied because of the mode */
	uint64_t rejected;	/* invalid rows (reported) */
	uint64_t removed;	/* members removed (replace) */
	int committed;		/* 1 if the transaction was committed */
	int64_t backup_id;	/* the automatic backup taken first, or 0 */
};

/* Called for each rejected row: its line, the reason, and its raw text. */
typedef void (*cn_reject_fn)(void *ctx, const struct cn_record *rec,
			     const char *raw, size_t rawlen, long line,
			     const char *reason);
/* Called now and then with bytes read so far. */
typedef void (*cn_progress_fn)(void *ctx, uint64_t bytes, uint64_t rows);
/* Called for each member an import adds, updates or removes ("add",
 * "update", "remove"), with the row as it will be (removed: as it was). */
typedef void (*cn_diff_fn)(void *ctx, const char *change,
			   const struct cn_record *rec);
struct cn_backup_policy;

struct cn_import_opts {
	const char *folder;	/* folder name */
	const char *user;	/* acting user */
	const char *list;	/* list name (created if missing, unless
				   mode is update) */
	enum cn_import_mode mode;
	enum cn_key key;
	const char *map;	/* "Source=target,..." or NULL */
	int dry_run;		/* compute counts, then roll back */
	int atomic;		/* any reject rolls everything back */
	int clear_empty;	/* an empty cell clears the field */
	int exact;		/* restore: every field and attribute becomes
				   exactly the record's (implies clear_empty) */
	int64_t expect_rows;	/* if > 0: fail unless exactly this many
				   records were read (a backup's count) */
	const char *fields;	/* with exact: the list's attribute columns
				   (JSON array) to set */
	const struct cn_phone_rules *phone;
	/* automatic backup of an existing list before it changes (NULL:
	 * none); why it is taken (CN_BACKUP_IMPORT or CN_BACKUP_RESTORE) */
	const struct cn_backup_policy *backup;
	int backup_reason;
	cn_reject_fn on_reject;
	cn_progress_fn on_progress;
	cn_diff_fn on_diff;
	void *ctx;
};

/*
 * Imports the records of rd into a list, in one transaction.  Returns 0
 * when the input was read to the end (rejected rows are counted in stats,
 * and reported through on_reject), or -1 with err on a fatal error
 * (unreadable input, bad map, missing key column, store error); after -1
 * the store is unchanged.  With dry_run, or atomic and a reject, the
 * transaction is rolled back and stats say what would have happened.
 */
int cn_contacts_import(struct cn_store *st, struct cn_reader *rd,
		       const struct cn_import_opts *opts,
		       struct cn_import_stats *stats, struct cn_err *err);

/*
 * Writes the members of list (in folder) to w, one record each, fields:
 * id, email, phone, first_name, last_name, then the list's attribute
 * columns (CSV/table) or every attribute (JSON).  Returns the number of
 * records written, or -1 with err (CN_ENOINPUT if no such list).
 */
int64_t cn_contacts_export(struct cn_store *st, const char *folder,
			   const char *list, FILE *out, enum cn_format fmt,
			   const struct cn_csv_opts *csv, struct cn_err *err);

struct cn_list_info {
	int64_t id;
	char folder[128];
	char name[256];
	int64_t members;
	int backup;
	int64_t created_at, updated_at;
};

typedef int (*cn_list_fn)(void *ctx, const struct cn_list_info *li);

/* Calls fn for each list (of folder, or of every folder when NULL),
 * ordered by folder then name.  Stops early when fn returns non-zero.
 * Returns 0 or -1 with err. */
int cn_lists_each(struct cn_store *st, const char *folder, cn_list_fn fn,
		  void *ctx, struct cn_err *err);

/*
 * Deletes a list, its memberships, and the contacts that belong to no
 * other list, in one transaction, after taking a backup of it (policy bp,
 * may be NULL; *backup_id receives its id or 0).  *members and *contacts
 * (may be NULL) receive what was (or, with dry_run, would be) removed.
 * Returns 0, or -1 with err (CN_ENOINPUT if there is no such list; the
 * store unchanged).
 */
int cn_list_delete(struct cn_store *st, const char *folder, const char *list,
		   int dry_run, const struct cn_backup_policy *bp,
		   int64_t *backup_id, int64_t *members, int64_t *contacts,
		   struct cn_err *err);

#include "carnet-sms.h"
#include "carnet-template.h"
#include "carnet-blacklist.h"
#include "carnet-quota.h"
#include "carnet-backup.h"
#include "carnet-sync.h"
#include "carnet-stats.h"
#include "carnet-fetch.h"
#include "carnet-send.h"

#endif /* CARNET_H */
