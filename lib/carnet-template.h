/*
 * carnet-template.h - SMS templates (lib/template.c): the merge-field
 * parser and renderer, and the templates of the store.  Included by
 * carnet.h; not to be included on its own.
 *
 * A sender uses them this way:
 *
 *	cn_template_find(st, "relance", folder, user,
 *			 CN_TPL_FIND_ACTIVE | CN_TPL_FIND_USABLE, &t, &err);
 *	cn_tpl_parse(&tpl, t.body, strlen(t.body), &err);     once
 *	cn_template_sms_opts(cfg, sender, transliterate, &o);  once
 *	for each recipient record:
 *		cn_tpl_preview(&tpl, rec, &env, &o, cfg->sms_max_segments,
 *			       &text, &preview, &err);
 *		preview.text, .encoding and .segments are what is sent
 */
#ifndef CARNET_TEMPLATE_H
#define CARNET_TEMPLATE_H

/* ---------------------------------------------------------------------
 * Merge fields
 *
 * A body is UTF-8 text in which "{{name}}" is replaced by a value when
 * the template is rendered for one recipient.  Spaces around the name are
 * allowed ("{{ first_name }}").  "{{name|text}}" renders text when the
 * recipient has no value for name (trimmed of spaces; may be empty).
 * A literal "{{" is written "{{{{" and a literal "}}" is written "}}}}";
 * a single brace is literal anywhere outside a field.  Inside a field,
 * braces and line breaks are errors.
 *
 * Names: first_name, last_name, phone, email and any contact attribute
 * come from the recipient's record; sender (the sender name of the send)
 * and date (the send date, dd/mm/yyyy, local time) come from the send.
 */

#define CN_TPL_TITLE_MAX 50		/* characters */
#define CN_TPL_BODY_MAX 65536		/* bytes */

enum cn_tpl_kind {
	CN_TPL_RECORD = 0,	/* a value of the recipient's record */
	CN_TPL_SENDER,		/* {{sender}} */
	CN_TPL_DATE,		/* {{date}} */
};

/* One occurrence of a merge field in a body. */
struct cn_tpl_field {
	char *name;		/* trimmed name */
	char *def;		/* the default (trimmed), or NULL when none */
	enum cn_tpl_kind kind;
	unsigned line;		/* where its "{{" is: line (1-based) */
	unsigned column;	/* and column (1-based, in characters) */
	size_t lit_off;		/* private: the literal text before it */
	size_t lit_len;
};

/* A compiled body: literal text and merge fields, in order. */
struct cn_tpl {
	struct cn_tpl_field *fields;	/* every occurrence, in body order */
	size_t nfields;
	char *lit;		/* private: literal text, escapes resolved */
	size_t tail_off;	/* private: the literal text after the last */
	size_t tail_len;	/* field */
};

/* What a send adds to the recipient's record. */
struct cn_tpl_env {
	const char *sender;	/* value of {{sender}}; NULL: missing */
	int64_t date;		/* send time (Unix seconds) for {{date}};
				   0: now */
};

/*
 * Compiles body (UTF-8, len bytes).  Returns 0 and fills t (free with
 * cn_tpl_free), or -1 with err (CN_EDATA) for invalid UTF-8, a NUL byte,
 * an unmatched "}}", an unclosed "{{", an empty field name or a brace or
 * line break inside a field; the message names the line and column, as
 * in "unclosed '{{' at line 2, column 7".  On error t is empty (freeing
 * it is harmless).
 */
int cn_tpl_parse(struct cn_tpl *t, const char *body, size_t len,
		 struct cn_err *err);
void cn_tpl_free(struct cn_tpl *t);

/*
 * Checks that every field of t is a core field (first_name, last_name,
 * phone, email), a send-time field (sender, date) or one of the nknown
 * names of known (borrowed; attribute names, compared exactly).  Returns
 * 0, or -1 with err (CN_EDATA): "unknown merge field 'foo' at line 1,
 * column 12 (known: ...)" for the first unknown one.
 */
int cn_tpl_check(const struct cn_tpl *t, const char *const *known,
		 size_t nknown, struct cn_err *err);

/*
 * Renders t for one recipient and appends the text to out.  A record
 * field's value is its text (numbers as written, booleans as true or
 * false); a field that is absent, null, or empty or only spaces is
 * missing, and so is {{sender}} when env->sender is NULL or empty.  A
 * missing value takes the field's default; without one it is an error.
 * Send-time fields win over record fields of the same name.  Returns 0,
 * or -1 with err and out unchanged: CN_EDATA "missing value for merge
 * field 'first_name' (template line 1, column 9)", or a JSON object or
 * array as a value; CN_EINTERNAL when out cannot grow.
 */
int cn_tpl_render(const struct cn_tpl *t, const struct cn_record *rec,
		  const struct cn_tpl_env *env, struct cn_buf *out,
		  struct cn_err *err);

/*
 * What the sending tools send to one recipient, in one call: resets text
 * and renders t into it (cn_tpl_render), computes the preview with o
 * (cn_sms_preview: STOP mention, transliteration, encoding, segments),
 * and refuses a text longer than max_segments (0: no limit).  render
 * and the sending tools call it so that their texts and counts agree.
 * Returns 0 and fills p (free with cn_sms_preview_free), or -1 with err
 * (CN_EDATA: a missing value, a text the encoder refuses, "the text is
 * 12 segments long (at most 10: sms.max_segments)"); p is then empty.
 */
int cn_tpl_preview(const struct cn_tpl *t, const struct cn_record *rec,
		   const struct cn_tpl_env *env, const struct cn_sms_opts *o,
		   long max_segments, struct cn_buf *text,
		   struct cn_sms_preview *p, struct cn_err *err);

/* Writes the send date of t (local time) as dd/mm/yyyy into out[11]. */
void cn_tpl_date(int64_t t, char out[11]);

/*
 * Fills o with what the sender adds to every text under cfg (borrowed,
 * as is sender): the sender name (sender, else cfg->sms_sender, else
 * none), the STOP mention and its separator, and transliterate.  render
 * and the sending tools call it so that their counts agree.
 */
void cn_template_sms_opts(const struct cn_config *cfg, const char *sender,
			  int transliterate, struct cn_sms_opts *o);

/* ---------------------------------------------------------------------
 * Templates in the store
 */

enum cn_tpl_scope {
	CN_SCOPE_COMMON = 0,	/* every folder (folder_id NULL) */
	CN_SCOPE_FOLDER,	/* one folder */
	CN_SCOPE_USERS,		/* the listed users, in one folder */
};

enum cn_tpl_reply {
	CN_REPLY_NONE = 0,	/* replies are not handled */
	CN_REPLY_HOURS,		/* for reply_hours after the send */
	CN_REPLY_UNTIL,		/* until reply_until; 0: date given at send */
};

#define CN_REPLY_HOURS_MAX 8760	/* a year */

struct cn_template {
	int64_t id;
	char uuid[37];
	char *folder;		/* folder name; NULL for scope common */
	char *title;
	char *body;
	int active;
	char *context;		/* NULL when none */
	int is_default;		/* the default of its context and scope */
	enum cn_tpl_scope scope;
	char **users;		/* scope users: user names, sorted */
	size_t nusers;
	enum cn_tpl_reply reply;
	int64_t reply_hours;
	int64_t reply_until;	/* Unix time; 0 with CN_REPLY_UNTIL: the date
				   is given when sending */
	char *created_by;	/* user name, or NULL */
	int64_t created_at, updated_at;
};

/* Zeroes t; cn_template_free() releases what it holds and zeroes it. */
void cn_template_init(struct cn_template *t);
void cn_template_free(struct cn_template *t);

/* "common", "folder", "users"; parse returns -1 if unknown. */
int cn_tpl_scope_parse(const char *s, enum cn_tpl_scope *out);
const char *cn_tpl_scope_name(enum cn_tpl_scope s);

/*
 * Parses reply handling: "none", "hours:N" (1 to CN_REPLY_HOURS_MAX),
 * "until" (the date is given when sending) or "until:DATE", DATE in
 * ISO 8601: YYYY-MM-DD (the end of that day, local time) or
 * YYYY-MM-DDTHH:MM[:SS] (local time) followed by nothing, "Z" or an
 * offset (+HH:MM, +HHMM, +HH).  Returns 0, or -1 with err (CN_EUSAGE).
 */
int cn_tpl_reply_parse(const char *s, enum cn_tpl_reply *mode,
		       int64_t *hours, int64_t *until, struct cn_err *err);
/* Formats reply handling the way cn_tpl_reply_parse() reads it ("none",
 * "hours:48", "until", "until:2026-12-01T22:59:59Z": UTC) into buf. */
const char *cn_tpl_reply_format(enum cn_tpl_reply mode, int64_t hours,
				int64_t until, char buf[40]);

/*
 * What cn_template_add() creates and cn_template_edit() changes.  For
 * edit, NULL pointers and -1 numbers mean "unchanged"; for add they mean
 * the default given in brackets.  Strings are borrowed.
 */
struct cn_template_spec {
	const char *title;	/* required by add; at most 50 characters,
				   one line, unique in its folder (the
				   common templates count as one folder) */
	const char *body;	/* required by add; UTF-8, compiled and
				   checked against the known merge fields */
	const char *context;	/* free text [none]; "" removes it */
	int active;		/* 0 or 1 [1] */
	int is_default;		/* 0 or 1 [0]; 1 needs a context, and
				   clears the previous default of the same
				   context, scope and folder */
	int scope;		/* enum cn_tpl_scope [folder] */
	const char *folder;	/* the folder of scope folder or users
				   (created if needed); edit uses it only
				   when scope is given */
	const char *const *users;	/* scope users: the names (created if
					   needed); replaces the list */
	size_t nusers;
	int reply;		/* enum cn_tpl_reply [none] */
	int64_t reply_hours;	/* with reply */
	int64_t reply_until;
	const char *uuid;	/* add: this UUID (import) [a new one] */
	int dry_run;		/* check and roll back */
};

/* Resets s to "nothing given": NULLs and -1s. */
void cn_template_spec_init(struct cn_template_spec *s);

/*
 * Adds a template, acting as user, in one transaction that also records
 * created_at/updated_at and marks the template for sync.  The known merge
 * fields are the core and send-time ones and the attribute columns of
 * the lists of the folder (of every folder for scope common).  Returns
 * the new id (with dry_run, the id it would have had), or -1 with err and
 * the store unchanged: CN_EUSAGE for a missing or contradictory part
 * (no title, users without scope users, default without context);
 * CN_EDATA for bad data (title too long: "title is 51 characters long
 * (at most 50)", body errors of cn_tpl_parse/cn_tpl_check, a duplicate
 * title).  *prev_default (may be NULL) receives the id of the template
 * that stopped being the default, or 0.
 */
int64_t cn_template_add(struct cn_store *st, const struct cn_template_spec *s,
			const char *user, int64_t *prev_default,
			struct cn_err *err);

/*
 * Changes template id as s says, in one transaction (updated_at, sync
 * mark).  The body is checked again when it or the scope changes.
 * Returns 0, or -1 with err (CN_ENOINPUT: no template id; others as for
 * add) and the store unchanged.  *prev_default as for add.
 */
int cn_template_edit(struct cn_store *st, int64_t id,
		     const struct cn_template_spec *s, int64_t *prev_default,
		     struct cn_err *err);

/*
 * Deletes template id (its user list goes with it; campaigns and
 * messages keep their text and lose the link) and marks it deleted for
 * sync, in one transaction.  With dry_run nothing changes.  Returns 0,
 * or -1 with err (CN_ENOINPUT if there is no such template).
 */
int cn_template_delete(struct cn_store *st, int64_t id, int dry_run,
		       struct cn_err *err);

/* Fills out (cn_template_init'ed or freed) with template id, whatever
 * its scope and state.  Returns 0, or -1 with err (CN_ENOINPUT). */
int cn_template_get(struct cn_store *st, int64_t id, struct cn_template *out,
		    struct cn_err *err);

#define CN_TPL_FIND_ACTIVE 1	/* an inactive template is not found */
#define CN_TPL_FIND_USABLE 2	/* only templates user may use in folder */

/*
 * Finds a template by key: its id (digits), its UUID, or its exact title.
 * Titles are looked for among the templates of folder and the common
 * ones (every folder when folder is NULL); a title of folder wins over a
 * common one.  With CN_TPL_FIND_USABLE, a template of scope users must
 * list user, and one of another folder is not found.  Returns 0 and
 * fills out (as for get), or -1 with err: CN_ENOINPUT "no template
 * 'x'", "template 'x' is inactive", "template 'x' is not available to
 * user 'u'"; CN_EUSAGE when a title names several templates.
 */
int cn_template_find(struct cn_store *st, const char *key, const char *folder,
		     const char *user, unsigned flags,
		     struct cn_template *out, struct cn_err *err);

/*
 * Finds the active default template of context that user may use in
 * folder; the most specific wins: scope users, then folder, then common.
 * Returns 1 and fills out, 0 if there is none, -1 with err.
 */
int cn_template_default(struct cn_store *st, const char *context,
			const char *folder, const char *user,
			struct cn_template *out, struct cn_err *err);

struct cn_template_filter {
	const char *folder;	/* NULL: every template; else those usable
				   in folder (its own and the common ones) */
	const char *user;	/* NULL: any; else scope users only if they
				   list user */
	const char *context;	/* NULL: any */
	int active_only;	/* only the active templates */
	int inactive_only;	/* only the inactive ones */
};

typedef int (*cn_template_fn)(void *ctx, const struct cn_template *t);

/* Calls fn for each template that f (may be NULL) selects, ordered by
 * context, then title, then id; t is valid during the call only.  Stops
 * early when fn returns non-zero.  Returns 0 or -1 with err. */
int cn_templates_each(struct cn_store *st, const struct cn_template_filter *f,
		      cn_template_fn fn, void *ctx, struct cn_err *err);

/*
 * Appends the fields of t to r as export writes them: id, uuid, folder
 * (empty for common), title, context, active, default, scope, users
 * (comma-separated), reply (as cn_tpl_reply_format), body, created_at,
 * updated_at (UTC, ISO 8601).  Values are copied.  Returns 0 or -1.
 */
int cn_template_to_record(const struct cn_template *t, struct cn_record *r);

/* The export columns, in order, and their number. */
extern const char *const cn_template_columns[];
extern const size_t cn_template_ncolumns;

/*
 * Writes the templates f selects to out in fmt, one record each (see
 * cn_template_to_record).  Returns the number written, or -1 with err.
 */
int64_t cn_templates_export(struct cn_store *st,
			    const struct cn_template_filter *f, FILE *out,
			    enum cn_format fmt, const struct cn_csv_opts *csv,
			    struct cn_err *err);

struct cn_template_import_stats {
	uint64_t records;	/* records read */
	uint64_t added;
	uint64_t updated;
	uint64_t unchanged;
	uint64_t rejected;
	int committed;		/* 1 if the changes were written */
};

/*
 * Imports templates from rd in one transaction, all or nothing: fields
 * title and body (required), context, active, default, scope, folder
 * (empty: folder), users, reply, uuid; others (id, created_at, ...) are
 * ignored.  A record matches the template of the same uuid, else of the
 * same title in the same folder: it updates it, else adds one.  Each bad
 * record is reported through on_reject (its line and the reason) and
 * counted; if any is rejected, everything is rolled back and the other
 * counts are 0; with dry_run, everything is rolled back and the counts
 * say what would have been done.  Returns 0 when the input was read to the end (see stats), or -1
 * with err on a fatal error (unreadable input, store error).
 */
int cn_templates_import(struct cn_store *st, struct cn_reader *rd,
			const char *folder, const char *user, int dry_run,
			cn_reject_fn on_reject, void *ctx,
			struct cn_template_import_stats *stats,
			struct cn_err *err);

#endif
