/*
 * carnet-template - SMS templates with merge fields: add, ls, show, edit,
 * rm, render, import and export.
 *
 * Option parsing, one call into libcarnet per subcommand, and the mapping
 * of the result to output and an exit status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
	"usage: carnet-template [options] add --title TITLE [template options] < BODY\n"
	"       carnet-template [options] ls [--context CTX] [--active | --inactive]\n"
	"       carnet-template [options] show ID\n"
	"       carnet-template [options] edit ID [template options] [< BODY]\n"
	"       carnet-template [options] rm ID [--dry-run]\n"
	"       carnet-template [options] render ID [--sender NAME] [--transliterate] [FILE]\n"
	"       carnet-template [options] import [--dry-run] [FILE]\n"
	"       carnet-template [options] export\n"
	"\n"
	"ID is a template's id, its UUID or its title.  The body is read from\n"
	"standard input; merge fields are {{first_name}}, {{last_name}}, {{phone}},\n"
	"{{email}}, any contact attribute, {{sender}} and {{date}}; {{name|default}}\n"
	"gives a default; write {{{{ and }}}} for literal {{ and }}.\n"
	"\n"
	"Template options (add, edit):\n"
	"  -t, --title TITLE        the title (at most 50 characters)\n"
	"  -c, --context CTX        the usage context (temp-worker, client, order...);\n"
	"                           ls: only the templates of that context\n"
	"      --scope SCOPE        common (every folder), folder (the default) or users\n"
	"      --users LIST         with --scope users: who may use it ('jk,sylvie')\n"
	"      --reply MODE         reply handling: none (the default), hours:N, until\n"
	"                           (the date is given when sending) or until:DATE\n"
	"      --default[=BOOL]     the default of its context and scope (true, false)\n"
	"      --active[=BOOL]      usable for sending (the default: true);\n"
	"                           ls: only the active templates\n"
	"      --inactive           the same as --active=false\n"
	"      --body-stdin         edit: read the body from standard input even from\n"
	"                           a terminal (it is read whenever stdin is not one)\n"
	"  -n, --dry-run            check and report, change nothing (add, edit, rm,\n"
	"                           import)\n"
	"\n"
	"Render options:\n"
	"  -s, --sender NAME        the sender name (default: sms.sender in the config)\n"
	"      --transliterate      replace characters such as ê, ô, ç by e, o, c when\n"
	"                           that brings the text into GSM 7-bit\n"
	"      --input-format FMT   csv, json or auto (render, import; default: auto)\n"
	"\n"
	"Common options:\n"
	"      --store PATH         the store (default from config, $CARNET_STORE)\n"
	"      --config FILE        the configuration file ($CARNET_CONFIG)\n"
	"      --folder NAME        the folder (default from config)\n"
	"      --user NAME          the acting user (default from config, $USER)\n"
	"      --format FMT         output: csv, json, ndjson or table\n"
	"  -q, --quiet              no notes on stderr\n"
	"  -v, --verbose            more detail on stderr\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"Examples:\n"
	"  echo 'Bonjour {{first_name}}, mission demain {{date}} ?' |\n"
	"      carnet-template add --title 'Relance mission' --context temp-worker\n"
	"  carnet-template ls --context temp-worker --active\n"
	"  carnet-template edit 3 --default --reply hours:48 < relance.txt\n"
	"  carnet-contacts export --list interim --format ndjson |\n"
	"      carnet-template render 'Relance mission' --sender ACME\n"
	"  carnet-template export --format json > templates.json\n"
	"  carnet-template import --dry-run < templates.json\n";

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

enum {
	OPT_TITLE = 't',
	OPT_CONTEXT = 'c',
	OPT_DRYRUN = 'n',
	OPT_SENDER = 's',
	OPT_SCOPE = OPT_TOOL_BASE,
	OPT_USERS,
	OPT_REPLY,
	OPT_DEFAULT,
	OPT_ACTIVE,
	OPT_INACTIVE,
	OPT_BODYSTDIN,
	OPT_TRANSLIT,
	OPT_INFMT,
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{"title", required_argument, NULL, OPT_TITLE},
	{"context", required_argument, NULL, OPT_CONTEXT},
	{"scope", required_argument, NULL, OPT_SCOPE},
	{"users", required_argument, NULL, OPT_USERS},
	{"reply", required_argument, NULL, OPT_REPLY},
	{"default", optional_argument, NULL, OPT_DEFAULT},
	{"active", optional_argument, NULL, OPT_ACTIVE},
	{"inactive", no_argument, NULL, OPT_INACTIVE},
	{"body-stdin", no_argument, NULL, OPT_BODYSTDIN},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"sender", required_argument, NULL, OPT_SENDER},
	{"transliterate", no_argument, NULL, OPT_TRANSLIT},
	{"input-format", required_argument, NULL, OPT_INFMT},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTS CLI_COMMON_SHORT "t:c:ns:"

/* Which options were given, to refuse those a command does not take. */
enum {
	G_TITLE = 1 << 0,
	G_CONTEXT = 1 << 1,
	G_SCOPE = 1 << 2,
	G_USERS = 1 << 3,
	G_REPLY = 1 << 4,
	G_DEFAULT = 1 << 5,
	G_ACTIVE = 1 << 6,
	G_BODYSTDIN = 1 << 7,
	G_DRYRUN = 1 << 8,
	G_SENDER = 1 << 9,
	G_TRANSLIT = 1 << 10,
	G_INFMT = 1 << 11,
};

static const char *const given_names[] = {
	"--title",  "--context",    "--scope",	       "--users",
	"--reply",  "--default",    "--active",	       "--body-stdin",
	"--dry-run", "--sender",    "--transliterate", "--input-format",
};

struct opts {
	unsigned given;
	const char *title, *context, *scope_s, *users_s, *reply_s, *sender;
	enum cn_tpl_scope scope;
	enum cn_tpl_reply reply;
	int64_t hours, until;
	int is_default;		/* -1: not given */
	int active;		/* -1: not given */
	int dry_run, body_stdin, translit;
	enum cn_format infmt;
};


/* Parses an optional boolean argument; NULL means true. */
static int
bool_arg(const char *s, int *out)
{
	if (!s || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
	    !strcmp(s, "1"))
		*out = 1;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
		 !strcmp(s, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int
parse(struct cli *c, struct opts *o, int argc, char **argv,
      const char *optstring)
{
	struct cn_err err;
	int opt;

	while ((opt = getopt_long(argc, argv, optstring, options, NULL)) !=
	       -1) {
		if (cli_common(c, opt, optarg, usage)) {
			if (c->stop)
				return -1;
			continue;
		}
		switch (opt) {
		case OPT_TITLE:
			o->title = optarg;
			o->given |= G_TITLE;
			break;
		case OPT_CONTEXT:
			o->context = optarg;
			o->given |= G_CONTEXT;
			break;
		case OPT_SCOPE:
			if (cn_tpl_scope_parse(optarg, &o->scope) < 0)
				return cli_stop(c, cli_usage_error(
						       c, "unknown scope '%s' "
						       "(common, folder, users)",
						       optarg));
			o->given |= G_SCOPE;
			break;
		case OPT_USERS:
			o->users_s = optarg;
			o->given |= G_USERS;
			break;
		case OPT_REPLY:
			if (cn_tpl_reply_parse(optarg, &o->reply, &o->hours,
					       &o->until, &err) < 0)
				return cli_stop(c, cli_usage_error(c, "%s",
							       err.msg));
			o->given |= G_REPLY;
			break;
		case OPT_DEFAULT:
			if (bool_arg(optarg, &o->is_default) < 0)
				return cli_stop(c, cli_usage_error(
						       c, "--default: expected "
						       "true or false, got '%s'",
						       optarg));
			o->given |= G_DEFAULT;
			break;
		case OPT_ACTIVE:
		case OPT_INACTIVE:
			if (opt == OPT_INACTIVE)
				o->active = 0;
			else if (bool_arg(optarg, &o->active) < 0)
				return cli_stop(c, cli_usage_error(
						       c, "--active: expected "
						       "true or false, got '%s'",
						       optarg));
			o->given |= G_ACTIVE;
			break;
		case OPT_BODYSTDIN:
			o->body_stdin = 1;
			o->given |= G_BODYSTDIN;
			break;
		case OPT_DRYRUN:
			o->dry_run = 1;
			o->given |= G_DRYRUN;
			break;
		case OPT_SENDER:
			o->sender = optarg;
			o->given |= G_SENDER;
			break;
		case OPT_TRANSLIT:
			o->translit = 1;
			o->given |= G_TRANSLIT;
			break;
		case OPT_INFMT:
			if (cli_input_format(c, optarg, &o->infmt) < 0)
				return -1;
			o->given |= G_INFMT;
			break;
		default:
			return cli_stop(c, cli_usage_error(c, "unexpected option"));
		}
	}
	return 0;
}

/* Refuses the options that command sub does not take.  Returns 0 or 64. */
static int
allowed(struct cli *c, const struct opts *o, const char *sub, unsigned ok)
{
	unsigned bad = o->given & ~ok;

	for (size_t i = 0; bad && i < sizeof(given_names) / sizeof(*given_names);
	     i++)
		if (bad & (1u << i))
			return cli_usage_error(c, "%s: %s does not apply", sub,
					       given_names[i]);
	return 0;
}

/* ------------------------------------------------------------- helpers */

/*
 * Reads a body from fp into b: at most CN_TPL_BODY_MAX bytes, CRLF turned
 * into LF, trailing line breaks removed.  Returns 0, or an exit status
 * (printed).
 */
static int
read_body(struct cli *c, FILE *fp, struct cn_buf *b)
{
	char chunk[4096];
	size_t n;

	cn_buf_reset(b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (chunk[i] == '\n' && b->len &&
			    b->ptr[b->len - 1] == '\r')
				b->len--;
			if (cn_buf_addc(b, chunk[i]) < 0) {
				cli_warn(c, "out of memory");
				return EX_SOFTWARE;
			}
		}
		if (b->len > CN_TPL_BODY_MAX) {
			cli_warn(c, "<stdin>: body longer than %d bytes",
				 CN_TPL_BODY_MAX);
			return EX_DATAERR;
		}
	}
	if (ferror(fp)) {
		cli_warn(c, "<stdin>: read error: %s", strerror(errno));
		return EX_NOINPUT;
	}
	while (b->len && (b->ptr[b->len - 1] == '\n' ||
			  b->ptr[b->len - 1] == '\r'))
		b->len--;
	if (b->cap)
		b->ptr[b->len] = '\0';
	/* the body is a C string from here: a NUL would cut it short */
	if (memchr(b->ptr, '\0', b->len)) {
		const char *nul = memchr(b->ptr, '\0', b->len);
		size_t line = 1;

		for (const char *p = b->ptr; p < nul; p++)
			line += *p == '\n';
		cli_warn(c, "<stdin>:%zu: NUL byte in the body", line);
		return EX_DATAERR;
	}
	/* a byte order mark before the text (an editor's) is not text */
	if (b->len >= 3 && memcmp(b->ptr, "\xef\xbb\xbf", 3) == 0) {
		memmove(b->ptr, b->ptr + 3, b->len - 3 + 1);
		b->len -= 3;
	}
	return 0;
}

/* Splits "a, b,c" into names (pointers into the copy *store). */
static int
split_users(const char *s, char **store, const char ***names, size_t *n)
{
	char *p;
	size_t alloc = 8;

	*n = 0;
	*store = strdup(s);
	*names = malloc(alloc * sizeof(**names));
	if (!*store || !*names)
		return -1;
	p = *store;
	while (*p) {
		char *e = strchr(p, ','), *end;

		if (e)
			*e = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p) {
			if (*n == alloc) {
				const char **q = realloc(
					*names, 2 * alloc * sizeof(*q));

				if (!q)
					return -1;
				*names = q;
				alloc *= 2;
			}
			(*names)[(*n)++] = p;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Fills spec from the options. */
static int
make_spec(struct cli *c, const struct opts *o, struct cn_template_spec *s,
	  char **ustore, const char ***unames)
{
	cn_template_spec_init(s);
	s->title = o->title;
	s->context = o->context;
	s->active = o->given & G_ACTIVE ? o->active : -1;
	s->is_default = o->given & G_DEFAULT ? o->is_default : -1;
	s->scope = o->given & G_SCOPE ? (int)o->scope : -1;
	s->folder = cli_folder(c);
	if (o->given & G_REPLY) {
		s->reply = (int)o->reply;
		s->reply_hours = o->hours;
		s->reply_until = o->until;
	}
	s->dry_run = o->dry_run;
	if (o->users_s) {
		if (split_users(o->users_s, ustore, unames, &s->nusers) < 0) {
			cli_warn(c, "out of memory");
			return EX_SOFTWARE;
		}
		if (!s->nusers)
			return cli_usage_error(c, "--users: no user named");
		s->users = *unames;
	}
	return 0;
}

static void
note_default(struct cli *c, int64_t prev, const char *context, int dry)
{
	if (prev && !c->quiet)
		cli_warn(c, "template %lld %s no longer the default for "
			 "context '%s'", (long long)prev,
			 dry ? "would be" : "is", context ? context : "");
}

/* Opens an input: FILE operand or standard input. */
static FILE *
open_input(struct cli *c, int argc, char **argv, int first,
	   const char **name, int *status)
{
	FILE *in;

	*name = "<stdin>";
	*status = 0;
	if (argc - first > 1) {
		*status = cli_usage_error(c, "one input file at most");
		return NULL;
	}
	if (argc - first == 0 || strcmp(argv[first], "-") == 0)
		return stdin;
	*name = argv[first];
	in = fopen(*name, "rb");
	if (!in) {
		cli_warn(c, "%s: cannot open: %s", *name, strerror(errno));
		*status = EX_NOINPUT;
	}
	return in;
}

/* --------------------------------------------------------------- add */

static int
cmd_add(struct cli *c, struct opts *o)
{
	struct cn_template_spec s;
	struct cn_buf body;
	struct cn_err err;
	char *ustore = NULL;
	const char **unames = NULL;
	int64_t id, prev = 0;
	int status;

	cn_buf_init(&body, 0);
	if (!o->title) {
		status = cli_usage_error(c, "add: --title TITLE is required");
		goto out;
	}
	if ((status = make_spec(c, o, &s, &ustore, &unames)))
		goto out;
	if (isatty(STDIN_FILENO) && !c->quiet)
		cli_warn(c, "reading the body from the terminal (end it with "
			 "Ctrl-D)");
	if ((status = read_body(c, stdin, &body)))
		goto out;
	s.body = body.ptr;
	if ((status = cli_open(c)))
		goto out;
	s.folder = cli_folder(c);	/* the configuration's, now it is read */
	id = cn_template_add(c->st, &s, cli_user(c), &prev, &err);
	if (id < 0) {
		status = cli_fail(c, &err);
		goto out;
	}
	note_default(c, prev, o->context, o->dry_run);
	if (o->dry_run) {
		if (!c->quiet)
			cli_warn(c, "dry run: template '%s' is valid; nothing "
				 "stored", o->title);
		goto out;
	}
	if (cli_format(c, CN_FMT_AUTO) == CN_FMT_AUTO) {
		printf("%lld\n", (long long)id);
	} else {
		struct cn_template t;
		struct cn_record r;

		if (cn_template_get(c->st, id, &t, &err) < 0) {
			status = cli_fail(c, &err);
			goto out;
		}
		cn_record_init(&r);
		cn_template_to_record(&t, &r);
		status = cli_put_record(c, cli_format(c, CN_FMT_AUTO), &r);
		cn_record_free(&r);
		cn_template_free(&t);
	}
out:
	free(ustore);
	free(unames);
	cn_buf_free(&body);
	return status;
}

/* ---------------------------------------------------------------- ls */

static int
preview_plain(const char *text, struct cn_sms_preview *p)
{
	struct cn_sms_opts none;
	struct cn_err err;

	memset(&none, 0, sizeof(none));
	return cn_sms_preview(text, strlen(text), &none, p, &err);
}

struct ls_ctx {
	struct cn_writer *w;
	struct cn_err *err;
	int failed;
};

static int
ls_one(void *ctx, const struct cn_template *t)
{
	struct ls_ctx *l = ctx;
	struct cn_record r;
	struct cn_sms_preview p;
	char id[24], seg[24], reply[40];
	int n = snprintf(id, sizeof(id), "%lld", (long long)t->id);
	int ok = preview_plain(t->body, &p) == 0;

	cn_record_init(&r);
	cn_record_add(&r, "id", id, (size_t)n, CN_V_NUM);
	cn_record_add(&r, "folder", t->folder, t->folder ? strlen(t->folder) : 0,
		      t->folder ? CN_V_STR : CN_V_NULL);
	cn_record_add(&r, "title", t->title, strlen(t->title), CN_V_STR);
	cn_record_add(&r, "context", t->context,
		      t->context ? strlen(t->context) : 0,
		      t->context ? CN_V_STR : CN_V_NULL);
	cn_record_add(&r, "active", t->active ? "true" : "false",
		      t->active ? 4 : 5, CN_V_BOOL);
	cn_record_add(&r, "default", t->is_default ? "true" : "false",
		      t->is_default ? 4 : 5, CN_V_BOOL);
	cn_record_add(&r, "scope", cn_tpl_scope_name(t->scope),
		      strlen(cn_tpl_scope_name(t->scope)), CN_V_STR);
	cn_tpl_reply_format(t->reply, t->reply_hours, t->reply_until, reply);
	cn_record_add(&r, "reply", reply, strlen(reply), CN_V_STR);
	if (ok) {
		const char *e = cn_sms_encoding_name(p.encoding);

		n = snprintf(seg, sizeof(seg), "%zu", p.segments);
		cn_record_add(&r, "encoding", e, strlen(e), CN_V_STR);
		cn_record_add(&r, "segments", seg, (size_t)n, CN_V_NUM);
		cn_sms_preview_free(&p);
	} else {
		cn_record_add(&r, "encoding", NULL, 0, CN_V_NULL);
		cn_record_add(&r, "segments", NULL, 0, CN_V_NULL);
	}
	if (cn_writer_put(l->w, &r, l->err) < 0)
		l->failed = 1;
	cn_record_free(&r);
	return l->failed;
}

static int
cmd_ls(struct cli *c, const struct opts *o)
{
	static const char *const cols[] = {"id",      "folder",	  "title",
					   "context", "active",	  "default",
					   "scope",   "reply",	  "encoding",
					   "segments"};
	struct cn_template_filter f;
	struct cn_err err;
	struct ls_ctx l = {NULL, &err, 0};
	int status;

	if ((status = cli_open(c)))
		return status;
	memset(&f, 0, sizeof(f));
	f.folder = c->folder;
	f.user = c->user;
	f.context = o->context;
	if (o->given & G_ACTIVE) {
		f.active_only = o->active;
		f.inactive_only = !o->active;
	}
	l.w = cn_writer_open(stdout, cli_format(c, CN_FMT_TABLE), cols,
			     sizeof(cols) / sizeof(cols[0]), NULL, &err);
	if (!l.w)
		return cli_fail(c, &err);
	if (cn_templates_each(c->st, &f, ls_one, &l, &err) < 0 || l.failed) {
		cn_writer_close(l.w, NULL);
		return cli_fail(c, &err);
	}
	if (cn_writer_close(l.w, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* -------------------------------------------------------------- show */

static void
add_num(struct cn_record *r, const char *name, size_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%zu", v);

	cn_record_add(r, name, num, (size_t)n, CN_V_NUM);
}

/* Adds the counts of p under names prefixed with pre. */
static void
add_preview(struct cn_record *r, const char *const names[4],
	    const struct cn_sms_preview *p)
{
	const char *e = cn_sms_encoding_name(p->encoding);

	cn_record_add(r, names[0], e, strlen(e), CN_V_STR);
	add_num(r, names[1], p->chars);
	add_num(r, names[2], p->units);
	add_num(r, names[3], p->segments);
}

static int
cmd_show(struct cli *c, const struct opts *o, const char *key)
{
	static const char *const plain[4] = {"encoding", "chars", "units",
					     "segments"};
	static const char *const sent[4] = {"sent_encoding", "sent_chars",
					    "sent_units", "sent_segments"};
	struct cn_template t;
	struct cn_tpl tpl;
	struct cn_err err;
	struct cn_record r;
	struct cn_sms_preview p1, p2;
	struct cn_sms_opts so;
	struct cn_buf fields;
	enum cn_format f;
	int status;

	if ((status = cli_open(c)))
		return status;
	if (cn_template_find(c->st, key, c->folder, NULL, 0, &t, &err) < 0)
		return cli_fail(c, &err);
	cn_record_init(&r);
	cn_buf_init(&fields, 0);
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	cn_template_to_record(&t, &r);
	if (cn_tpl_parse(&tpl, t.body, strlen(t.body), &err) == 0) {
		for (size_t i = 0; i < tpl.nfields; i++) {
			const char *nm = tpl.fields[i].name;
			int dup = 0;

			for (size_t k = 0; k < i && !dup; k++)
				dup = strcmp(tpl.fields[k].name, nm) == 0;
			if (!dup)
				cn_buf_addf(&fields, "%s%s",
					    fields.len ? "," : "", nm);
		}
		cn_tpl_free(&tpl);
	}
	cn_record_add(&r, "fields", fields.ptr, fields.len, CN_V_STR);
	cn_template_sms_opts(&c->cfg, o->sender, o->translit, &so);
	if (preview_plain(t.body, &p1) < 0 ||
	    cn_sms_preview(t.body, strlen(t.body), &so, &p2, &err) < 0) {
		status = cli_fail(c, &err);
		goto out;
	}
	add_preview(&r, plain, &p1);
	add_preview(&r, sent, &p2);
	cn_record_add(&r, "sent_text", p2.text, p2.text_len, CN_V_STR);
	f = cli_format(c, CN_FMT_AUTO);
	if (f != CN_FMT_AUTO) {
		status = cli_put_record(c, f, &r);
		goto out;
	}
	/* text: "name value" lines, then the texts indented below their
	 * names */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r.nfields; i++) {
			const struct cn_field *fd = &r.fields[i];
			const char *v = fd->value ? fd->value : "";
			int block = strchr(v, '\n') ||
				    strcmp(fd->name, "body") == 0 ||
				    strcmp(fd->name, "sent_text") == 0;

			if (block != pass)
				continue;
			if (!block) {
				printf("%-14s %s\n", fd->name, v);
				continue;
			}
			printf("%s:\n", fd->name);
			for (const char *p = v; *p;) {
				const char *e = strchr(p, '\n');
				size_t n = e ? (size_t)(e - p) : strlen(p);

				printf("    %.*s\n", (int)n, p);
				p += n + (e != NULL);
			}
		}
	}
out:
	cn_sms_preview_free(&p1);
	cn_sms_preview_free(&p2);
	cn_buf_free(&fields);
	cn_record_free(&r);
	cn_template_free(&t);
	return status;
}

/* -------------------------------------------------------------- edit */

static int
cmd_edit(struct cli *c, struct opts *o, const char *key)
{
	struct cn_template_spec s;
	struct cn_template t;
	struct cn_buf body;
	struct cn_err err;
	char *ustore = NULL;
	const char **unames = NULL;
	int64_t prev = 0;
	int status, read_stdin = o->body_stdin || !isatty(STDIN_FILENO);

	cn_buf_init(&body, 0);
	cn_template_init(&t);
	if ((status = make_spec(c, o, &s, &ustore, &unames)))
		goto out;
	if (read_stdin) {
		if ((status = read_body(c, stdin, &body)))
			goto out;
		if (body.len || o->body_stdin)
			s.body = body.ptr;
	}
	if (!s.body && !(o->given & ~(G_DRYRUN | G_BODYSTDIN))) {
		status = cli_usage_error(c, "edit: nothing to change (give "
					 "options, or a body on standard "
					 "input)");
		goto out;
	}
	if ((status = cli_open(c)))
		goto out;
	s.folder = cli_folder(c);
	if (cn_template_find(c->st, key, c->folder, NULL, 0, &t, &err) < 0 ||
	    cn_template_edit(c->st, t.id, &s, &prev, &err) < 0) {
		status = cli_fail(c, &err);
		goto out;
	}
	note_default(c, prev, o->context ? o->context : t.context,
		     o->dry_run);
	if (o->dry_run && !c->quiet)
		cli_warn(c, "dry run: template %lld would be changed; nothing "
			 "stored", (long long)t.id);
	else if (c->verbose)
		cli_warn(c, "template %lld changed", (long long)t.id);
out:
	cn_template_free(&t);
	free(ustore);
	free(unames);
	cn_buf_free(&body);
	return status;
}

/* ---------------------------------------------------------------- rm */

static int
cmd_rm(struct cli *c, const struct opts *o, const char *key)
{
	struct cn_template t;
	struct cn_err err;
	enum cn_format f;
	int status;

	if ((status = cli_open(c)))
		return status;
	if (cn_template_find(c->st, key, c->folder, NULL, 0, &t, &err) < 0)
		return cli_fail(c, &err);
	if (cn_template_delete(c->st, t.id, o->dry_run, &err) < 0) {
		cn_template_free(&t);
		return cli_fail(c, &err);
	}
	f = cli_format(c, CN_FMT_AUTO);
	if (f == CN_FMT_AUTO) {
		printf("%s template %lld '%s'\n",
		       o->dry_run ? "would remove" : "removed", (long long)t.id,
		       t.title);
	} else {
		struct cn_record r;
		char id[24];
		int n = snprintf(id, sizeof(id), "%lld", (long long)t.id);

		cn_record_init(&r);
		cn_record_add(&r, "id", id, (size_t)n, CN_V_NUM);
		cn_record_add(&r, "uuid", t.uuid, strlen(t.uuid), CN_V_STR);
		cn_record_add(&r, "title", t.title, strlen(t.title), CN_V_STR);
		cn_record_add(&r, "dry_run", o->dry_run ? "true" : "false",
			      o->dry_run ? 4 : 5, CN_V_BOOL);
		status = cli_put_record(c, f, &r);
		cn_record_free(&r);
	}
	cn_template_free(&t);
	return status;
}

/* ------------------------------------------------------------ render */

static const char *const render_cols[] = {
	"line", "phone", "text", "encoding", "chars",
	"units", "segments", "changes",
};

/* "ê→e, ô→o": what transliteration changed. */
static void
changes_text(const struct cn_sms_preview *p, struct cn_buf *b)
{
	cn_buf_reset(b);
	for (size_t i = 0; i < p->nchanges; i++)
		cn_buf_addf(b, "%s%s\xe2\x86\x92%s", i ? ", " : "",
			    p->changes[i].from, p->changes[i].to);
}

static int
cmd_render(struct cli *c, const struct opts *o, const char *key, int argc,
	   char **argv, int first)
{
	struct cn_template t;
	struct cn_tpl tpl;
	struct cn_err err, rowerr;
	struct cn_reader *rd = NULL;
	struct cn_writer *w = NULL;
	struct cn_sms_opts so;
	struct cn_tpl_env env;
	struct cn_buf text, changes;
	struct cn_record out, *rec;
	const char *name;
	FILE *in;
	unsigned long rendered = 0, rejected = 0;
	int status, r;

	cn_template_init(&t);
	memset(&tpl, 0, sizeof(tpl));
	cn_buf_init(&text, 0);
	cn_buf_init(&changes, 0);
	cn_record_init(&out);
	in = open_input(c, argc, argv, first, &name, &status);
	if (!in)
		return status;
	if ((status = cli_open(c)))
		goto done;
	cn_template_sms_opts(&c->cfg, o->sender, o->translit, &so);
	if (so.sender && cn_sms_sender_check(so.sender, &err) < 0) {
		if (o->sender)
			status = cli_usage_error(c, "--sender: %s", err.msg);
		else {
			cli_warn(c, "sms.sender in the configuration: %s",
				 err.msg);
			status = EX_CONFIG;
		}
		goto done;
	}
	if (cn_template_find(c->st, key, c->folder, NULL, 0, &t, &err) < 0 ||
	    cn_tpl_parse(&tpl, t.body, strlen(t.body), &err) < 0) {
		status = cli_fail(c, &err);
		goto done;
	}
	if (!t.active && !c->quiet)
		cli_warn(c, "note: template %lld is inactive: the sending "
			 "tools will not use it", (long long)t.id);
	memset(&env, 0, sizeof(env));
	env.sender = so.sender;
	env.date = 0;	/* now */
	rd = cn_reader_open(in, name, o->infmt, NULL, &err);
	if (!rd) {
		status = cli_fail(c, &err);
		goto done;
	}
	w = cn_writer_open(stdout, cli_format(c, CN_FMT_NDJSON), render_cols,
			   sizeof(render_cols) / sizeof(render_cols[0]), NULL,
			   &err);
	if (!w) {
		status = cli_fail(c, &err);
		goto done;
	}
	while ((r = cn_reader_next(rd, &rec, &rowerr)) != 0) {
		struct cn_sms_preview p;
		const struct cn_field *ph;
		char num[24];
		int n;

		if (r == -1) {
			status = cli_fail(c, &rowerr);
			goto done;
		}
		if (r == -2) {
			cli_warn(c, "%s", rowerr.msg);
			rejected++;
			continue;
		}
		if (cn_tpl_preview(&tpl, rec, &env, &so,
				   c->cfg.sms_max_segments, &text, &p,
				   &err) < 0) {
			if (err.code != CN_EDATA) {
				status = cli_fail(c, &err);
				goto done;
			}
			cli_warn(c, "%s:%ld: %s", name, rec->line, err.msg);
			rejected++;
			continue;
		}
		cn_record_reset(&out);
		n = snprintf(num, sizeof(num), "%ld", rec->line);
		cn_record_add(&out, "line", num, (size_t)n, CN_V_NUM);
		ph = cn_record_get(rec, "phone");
		if (ph && ph->value && ph->type != CN_V_RAW)
			cn_record_add(&out, "phone", ph->value, ph->len,
				      CN_V_STR);
		else
			cn_record_add(&out, "phone", NULL, 0, CN_V_NULL);
		cn_record_add(&out, "text", p.text, p.text_len, CN_V_STR);
		cn_record_add(&out, "encoding", cn_sms_encoding_name(p.encoding),
			      4, CN_V_STR);
		add_num(&out, "chars", p.chars);
		add_num(&out, "units", p.units);
		add_num(&out, "segments", p.segments);
		changes_text(&p, &changes);
		cn_record_add(&out, "changes", changes.ptr, changes.len,
			      CN_V_STR);
		cn_sms_preview_free(&p);
		if (cn_writer_put(w, &out, &err) < 0) {
			status = cli_fail(c, &err);
			goto done;
		}
		rendered++;
	}
	if (c->verbose)
		cli_warn(c, "%lu records rendered, %lu rejected", rendered,
			 rejected);
	if (rejected)
		status = EX_DATAERR;
done:
	if (w && cn_writer_close(w, status ? NULL : &err) < 0 && !status)
		status = cli_fail(c, &err);
	cn_reader_close(rd);
	if (in && in != stdin)
		fclose(in);
	cn_record_free(&out);
	cn_buf_free(&text);
	cn_buf_free(&changes);
	cn_tpl_free(&tpl);
	cn_template_free(&t);
	return status;
}

/* ----------------------------------------------------- import, export */

struct reject_ctx {
	struct cli *c;
	const char *name;
};

static void
on_reject(void *ctx, const struct cn_record *rec, const char *raw,
	  size_t rawlen, long line, const char *reason)
{
	struct reject_ctx *rc = ctx;

	cli_warn(rc->c, "%s:%ld: %s", rc->name, line, reason);
}

static int
cmd_import(struct cli *c, const struct opts *o, int argc, char **argv,
	   int first)
{
	struct cn_template_import_stats s;
	struct cn_reader *rd = NULL;
	struct cn_err err;
	struct reject_ctx rc;
	enum cn_format f;
	const char *name;
	FILE *in;
	int status;

	in = open_input(c, argc, argv, first, &name, &status);
	if (!in)
		return status;
	if ((status = cli_open(c)))
		goto out;
	rd = cn_reader_open(in, name, o->infmt, NULL, &err);
	if (!rd) {
		status = cli_fail(c, &err);
		goto out;
	}
	rc.c = c;
	rc.name = name;
	if (cn_templates_import(c->st, rd, cli_folder(c), cli_user(c),
				o->dry_run, on_reject, &rc, &s, &err) < 0) {
		status = cli_fail(c, &err);
		goto out;
	}
	if (s.rejected && !c->quiet)
		cli_warn(c, "%s: %llu records rejected: nothing imported",
			 name, (unsigned long long)s.rejected);
	f = cli_format(c, CN_FMT_AUTO);
	if (f == CN_FMT_AUTO) {
		printf("%stemplates: %llu records: %llu added, %llu updated, "
		       "%llu unchanged, %llu rejected\n",
		       o->dry_run ? "dry run: " : "",
		       (unsigned long long)s.records,
		       (unsigned long long)s.added,
		       (unsigned long long)s.updated,
		       (unsigned long long)s.unchanged,
		       (unsigned long long)s.rejected);
	} else {
		static const char *const names[] = {
			"records", "added", "updated", "unchanged",
			"rejected"};
		const uint64_t v[] = {s.records, s.added, s.updated,
				      s.unchanged, s.rejected};
		struct cn_record r;

		cn_record_init(&r);
		for (int i = 0; i < 5; i++)
			add_num(&r, names[i], (size_t)v[i]);
		cn_record_add(&r, "dry_run", o->dry_run ? "true" : "false",
			      o->dry_run ? 4 : 5, CN_V_BOOL);
		cn_record_add(&r, "committed", s.committed ? "true" : "false",
			      s.committed ? 4 : 5, CN_V_BOOL);
		status = cli_put_record(c, f, &r);
		cn_record_free(&r);
	}
	if (!status && s.rejected)
		status = EX_DATAERR;
out:
	cn_reader_close(rd);
	if (in && in != stdin)
		fclose(in);
	return status;
}

static int
cmd_export(struct cli *c)
{
	struct cn_template_filter f;
	struct cn_err err;
	int status;

	if ((status = cli_open(c)))
		return status;
	memset(&f, 0, sizeof(f));
	f.folder = c->folder;
	f.user = c->user;
	if (cn_templates_export(c->st, &f, stdout, cli_format(c, CN_FMT_CSV),
				NULL, &err) < 0)
		return cli_fail(c, &err);
	return 0;
}

/* -------------------------------------------------------------- main */

static const char *const commands =
	"add, ls, show, edit, rm, render, import, export";

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	const char *sub;
	char **args;
	int status, n;

	cli_init(&c, "carnet-template");
	memset(&o, 0, sizeof(o));
	o.is_default = -1;
	o.active = -1;
	if (parse(&c, &o, argc, argv, "+" SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	if (optind >= argc)
		return cli_finish(&c, cli_usage_error(&c, "no command (%s)",
						      commands));
	sub = argv[optind];
	n = argc - optind;
	args = argv + optind;
	args[0] = argv[0];
	optind = 0;
	if (parse(&c, &o, n, args, SHORT_OPTS) < 0)
		return cli_finish(&c, c.status);
	/* operands: args[optind..n) */
	if (strcmp(sub, "add") == 0) {
		status = allowed(&c, &o, sub,
				 G_TITLE | G_CONTEXT | G_SCOPE | G_USERS |
					 G_REPLY | G_DEFAULT | G_ACTIVE |
					 G_DRYRUN | G_BODYSTDIN);
		if (!status && optind < n)
			status = cli_usage_error(&c, "add: unexpected argument "
						 "'%s' (the body is read from "
						 "standard input)",
						 args[optind]);
		if (!status)
			status = cmd_add(&c, &o);
	} else if (strcmp(sub, "ls") == 0) {
		status = allowed(&c, &o, sub, G_CONTEXT | G_ACTIVE);
		if (!status && optind < n)
			status = cli_usage_error(&c, "ls: unexpected argument "
						 "'%s'", args[optind]);
		if (!status)
			status = cmd_ls(&c, &o);
	} else if (strcmp(sub, "export") == 0) {
		status = allowed(&c, &o, sub, 0);
		if (!status && optind < n)
			status = cli_usage_error(&c, "export: unexpected "
						 "argument '%s'", args[optind]);
		if (!status)
			status = cmd_export(&c);
	} else if (strcmp(sub, "import") == 0) {
		status = allowed(&c, &o, sub, G_DRYRUN | G_INFMT);
		if (!status)
			status = cmd_import(&c, &o, n, args, optind);
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "edit") == 0 ||
		   strcmp(sub, "rm") == 0 || strcmp(sub, "render") == 0) {
		unsigned ok = strcmp(sub, "show") == 0	 ? G_SENDER | G_TRANSLIT
			      : strcmp(sub, "rm") == 0	 ? G_DRYRUN
			      : strcmp(sub, "render") == 0 ? G_SENDER | G_TRANSLIT |
								 G_INFMT
			      : G_TITLE | G_CONTEXT | G_SCOPE | G_USERS |
				  G_REPLY | G_DEFAULT | G_ACTIVE | G_DRYRUN |
				  G_BODYSTDIN;

		status = allowed(&c, &o, sub, ok);
		if (!status && optind >= n)
			status = cli_usage_error(&c, "%s: which template? (give "
						 "its id, UUID or title)", sub);
		else if (!status && optind + 1 < n &&
			 strcmp(sub, "render") != 0)
			status = cli_usage_error(&c, "%s: unexpected argument "
						 "'%s'", sub, args[optind + 1]);
		if (status)
			;
		else if (strcmp(sub, "show") == 0)
			status = cmd_show(&c, &o, args[optind]);
		else if (strcmp(sub, "edit") == 0)
			status = cmd_edit(&c, &o, args[optind]);
		else if (strcmp(sub, "rm") == 0)
			status = cmd_rm(&c, &o, args[optind]);
		else
			status = cmd_render(&c, &o, args[optind], n, args,
					    optind + 1);
	} else if (strcmp(sub, "help") == 0) {
		usage(stdout);
		status = 0;
	} else {
		status = cli_usage_error(&c, "unknown command '%s' (%s)", sub,
					 commands);
	}
	cli_close(&c);
	return cli_finish(&c, status);
}
