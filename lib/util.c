/*
 * util.c - errors, growable buffers, UUIDs and small parsers shared by
 * every part of libcarnet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "internal.h"

int
cn_err_set(struct cn_err *err, enum cn_code code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* one line: turn any newline into a space */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

void
cn_err_clear(struct cn_err *err)
{
	if (!err)
		return;
	err->code = CN_OK;
	err->msg[0] = '\0';
}

const char *
cn_code_name(enum cn_code code)
{
	static const char *const names[] = {
		[CN_OK] = "ok",
		[CN_ECHECK] = "check failed",
		[CN_EUSAGE] = "usage error",
		[CN_EDATA] = "data error",
		[CN_ENOINPUT] = "no input",
		[CN_EUNAVAIL] = "unavailable",
		[CN_EINTERNAL] = "internal error",
		[CN_ECANTCREAT] = "cannot create output",
		[CN_ETEMP] = "temporary failure",
		[CN_ENOPERM] = "permission denied",
		[CN_ECONFIG] = "configuration error",
	};

	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown error";
}

/* ---------------------------------------------------------------- buf */

static char buf_empty[1];

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

void
cn_buf_init(struct cn_buf *b, size_t max)
{
	b->ptr = buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
}

void
cn_buf_free(struct cn_buf *b)
{
	size_t max = b->max;

	if (b->cap)
		free(b->ptr);
	cn_buf_init(b, max);
}

void
cn_buf_reset(struct cn_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

static int
buf_grow(struct cn_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->cap ? b->ptr : NULL, ncap);
	if (!p)
		return -1;
	if (!b->cap)
		p[0] = '\0';
	b->ptr = p;
	b->cap = ncap;
	return 0;
}

int
cn_buf_add(struct cn_buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) < 0)
		return -1;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int
cn_buf_addc(struct cn_buf *b, char c)
{
	return cn_buf_add(b, &c, 1);
}

int
cn_buf_adds(struct cn_buf *b, const char *s)
{
	return cn_buf_add(b, s, strlen(s));
}

int
cn_buf_addf(struct cn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *
cn_buf_detach(struct cn_buf *b)
{
	char *p = b->cap ? b->ptr : strdup("");

	cn_buf_init(b, b->max);
	return p;
}

/* ---------------------------------------------------------------- uuid */

void
cn_uuid7(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	struct timespec ts;
	uint64_t ms;
	int i, j;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (getrandom(u + 6, 10, 0) != 10) {
		/* fall back on a weak source rather than fail */
		for (i = 6; i < 16; i++)
			u[i] = (unsigned char)(rand() ^ ts.tv_nsec >> i);
	}
	for (i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	u[6] = (unsigned char)(0x70 | (u[6] & 0x0f));
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 15];
	}
	out[j] = '\0';
}

/* ---------------------------------------------------------------- enums */

int
cn_format_parse(const char *s, enum cn_format *out)
{
	static const struct {
		const char *name;
		enum cn_format f;
	} t[] = {
		{"csv", CN_FMT_CSV},	{"json", CN_FMT_JSON},
		{"ndjson", CN_FMT_NDJSON}, {"table", CN_FMT_TABLE},
		{"auto", CN_FMT_AUTO},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].f;
			return 0;
		}
	return -1;
}

const char *
cn_format_name(enum cn_format f)
{
	switch (f) {
	case CN_FMT_CSV: return "csv";
	case CN_FMT_JSON: return "json";
	case CN_FMT_NDJSON: return "ndjson";
	case CN_FMT_TABLE: return "table";
	default: return "auto";
	}
}

int
cn_import_mode_parse(const char *s, enum cn_import_mode *out)
{
	if (strcmp(s, "add") == 0)
		*out = CN_MODE_ADD;
	else if (strcmp(s, "update") == 0)
		*out = CN_MODE_UPDATE;
	else if (strcmp(s, "upsert") == 0)
		*out = CN_MODE_UPSERT;
	else if (strcmp(s, "replace") == 0)
		*out = CN_MODE_REPLACE;
	else
		return -1;
	return 0;
}

int
cn_key_parse(const char *s, enum cn_key *out)
{
	if (strcmp(s, "email") == 0)
		*out = CN_KEY_EMAIL;
	else if (strcmp(s, "phone") == 0)
		*out = CN_KEY_PHONE;
	else if (strcmp(s, "id") == 0)
		*out = CN_KEY_ID;
	else if (strcmp(s, "auto") == 0)
		*out = CN_KEY_AUTO;
	else
		return -1;
	return 0;
}

/* ---------------------------------------------------------------------
 * Secrets
 */

int
cn_secret(const char *env, const char *file, const char *inline_value,
	  char **out, struct cn_err *err)
{
	const char *v = env ? getenv(env) : NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct stat sb;
	FILE *f;

	*out = NULL;
	if (v && *v) {
		if (!(*out = strdup(v)))
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		return 0;
	}
	if (file && *file) {
		if (!(f = fopen(file, "re")))
			return cn_err_set(err, CN_ECONFIG, "%s: %s", file,
					  strerror(errno));
		if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077)) {
			fclose(f);
			return cn_err_set(err, CN_ECONFIG,
					  "%s: holds a secret but is readable by "
					  "others (mode %03o); chmod 600 it",
					  file, (unsigned)(sb.st_mode & 0777));
		}
		n = getline(&line, &cap, f);
		fclose(f);
		if (n <= 0) {
			free(line);
			return cn_err_set(err, CN_ECONFIG, "%s: empty secret file",
					  file);
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0) {
			free(line);
			return cn_err_set(err, CN_ECONFIG, "%s: empty secret file",
					  file);
		}
		*out = line;
		return 0;
	}
	if (inline_value && *inline_value &&
	    !(*out = strdup(inline_value)))
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	return 0;
}

void
cn_secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

int
cn_tls_untrusted(int curl_code)
{
	return curl_code == CURLE_PEER_FAILED_VERIFICATION ||
	       curl_code == CURLE_SSL_CACERT_BADFILE ||
	       curl_code == CURLE_SSL_ISSUER_ERROR;
}
